"""PatchGAN discriminators parameterised by their receptive field."""

from __future__ import annotations

import torch
from torch import nn

from .._validation import check_image_tensor, module_dtype
from ..errors import InvalidConfigError
from ..hub import HubModel
from ..layers.factories import make_norm, uses_bias

__all__ = ["PatchDiscriminator", "RECEPTIVE_FIELDS", "receptive_field_of", "output_size_of"]

#: receptive field in pixels -> number of stride-2 layers (the pix2pix ``n_layers``)
RECEPTIVE_FIELDS: dict[int, int] = {1: 0, 16: 1, 34: 2, 70: 3, 142: 4, 286: 5}


def _convs(module: nn.Module) -> list[nn.Conv2d]:
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)]


def receptive_field_of(module: nn.Module) -> int:
    """Receptive field of a plain stack of convs, computed from the layers themselves.

    ``r = 1 + sum_i (k_i - 1) * prod_{j<i} s_j`` over the convs in order.

    Example:
        >>> receptive_field_of(PatchDiscriminator(3, receptive_field=70))
        70
    """
    rf, jump = 1, 1
    for conv in _convs(module):
        rf += (int(conv.kernel_size[0]) - 1) * int(conv.dilation[0]) * jump
        jump *= int(conv.stride[0])
    return rf


def output_size_of(module: nn.Module, size: int) -> int:
    """Spatial output size of a stack of convs for an input of ``size`` pixels.

    Each conv maps ``n -> floor((n + 2p - k) / s) + 1``.

    Example:
        >>> output_size_of(PatchDiscriminator(3, receptive_field=70), 256)
        30
    """
    for conv in _convs(module):
        k, s, p = int(conv.kernel_size[0]), int(conv.stride[0]), int(conv.padding[0])
        size = (size + 2 * p - k) // s + 1
    return size


class PatchDiscriminator(HubModel):
    """PatchGAN discriminator (pix2pix), chosen by receptive field.

    Each output logit judges one ``receptive_field × receptive_field`` patch as real or
    fake. ``receptive_field=1`` is the PixelGAN (1×1 convs, the reference's
    ``--netD pixel``; its head has no bias with batch norm); 16, 34, 70 (default),
    142 and 286 stack 1–5 stride-2 4×4 convs, then a stride-1 4×4 conv and a 1-channel
    4×4 output conv, with channels doubling from ``base_channels`` up to 8×.

    For ``receptive_field > 1`` the output map has side
    ``floor(H / 2**n) - 2`` for an input of side H divisible by ``2**n``, where ``n`` is
    the number of stride-2 layers: a 256×256 input at 70 gives 30×30.

    Args:
        in_channels: Channels of the (condition, image) pair, e.g. 1 + 2 = 3 for L + ab.
        receptive_field: One of 1, 16, 34, 70, 142, 286.
        base_channels: Channels of the first conv (the paper's ``ndf``).
        norm: ``"batch"``, ``"instance"``, ``"group"`` or ``"none"``.
        spectral_norm: Wrap every conv in spectral normalisation.
        instance_running_stats: With ``norm="instance"``, keep running statistics and
            normalise with them in eval mode (the reference code's instance norm until 2018).

    Shape:
        - Input: ``(B, in_channels, H, W)``.
        - Output: ``(B, 1, H', W')`` logits (no sigmoid).

    Example:
        >>> import torch
        >>> d = PatchDiscriminator(in_channels=3, receptive_field=70)
        >>> d(torch.randn(1, 3, 256, 256)).shape
        torch.Size([1, 1, 30, 30])
        >>> d.receptive_field
        70
    """

    def __init__(
        self,
        in_channels: int = 3,
        receptive_field: int = 70,
        base_channels: int = 64,
        norm: str = "batch",
        spectral_norm: bool = False,
        instance_running_stats: bool = False,
    ) -> None:
        super().__init__()
        if receptive_field not in RECEPTIVE_FIELDS:
            raise InvalidConfigError(
                f"receptive_field={receptive_field!r} is not supported; choose one of "
                f"{sorted(RECEPTIVE_FIELDS)} (the pix2pix layer recipe)."
            )
        for name, value in (("in_channels", in_channels), ("base_channels", base_channels)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidConfigError(f"{name} must be a positive integer, got {value!r}.")
        make_norm(norm, 1, instance_running_stats)
        self.in_channels = in_channels
        n_layers = RECEPTIVE_FIELDS[receptive_field]
        bias = uses_bias(norm)

        def conv(cin: int, cout: int, k: int, s: int, p: int, b: bool = True) -> nn.Module:
            c = nn.Conv2d(cin, cout, k, s, p, bias=b)
            return nn.utils.spectral_norm(c) if spectral_norm else c

        blocks: list[nn.Module] = []
        if n_layers == 0:
            blocks.append(
                nn.Sequential(conv(in_channels, base_channels, 1, 1, 0), nn.LeakyReLU(0.2))
            )
            blocks.append(
                nn.Sequential(
                    conv(base_channels, base_channels * 2, 1, 1, 0, bias),
                    make_norm(norm, base_channels * 2, instance_running_stats),
                    nn.LeakyReLU(0.2),
                )
            )
            # as in the reference PixelDiscriminator, the 1x1 head has a bias only when
            # the norm has no shift of its own (8,832 parameters for 3 channels, ndf 64)
            head = conv(base_channels * 2, 1, 1, 1, 0, bias)
        else:
            blocks.append(
                nn.Sequential(conv(in_channels, base_channels, 4, 2, 1), nn.LeakyReLU(0.2))
            )
            mult = 1
            for n in range(1, n_layers + 1):
                prev, mult = mult, min(2**n, 8)
                stride = 2 if n < n_layers else 1
                blocks.append(
                    nn.Sequential(
                        conv(base_channels * prev, base_channels * mult, 4, stride, 1, bias),
                        make_norm(norm, base_channels * mult, instance_running_stats),
                        nn.LeakyReLU(0.2),
                    )
                )
            head = conv(base_channels * mult, 1, 4, 1, 1)
        self.blocks = nn.ModuleList(blocks)
        self.head = head
        # smallest side whose logit map is at least 1x1: floor(H / 2**n) - 2 >= 1
        self._min_input_size = 1 if n_layers == 0 else 3 * 2**n_layers

    #: whether ``forward`` checks its input; a :class:`MultiScaleDiscriminator` checks once
    #: for all its scales and turns it off in its own discriminators
    checks_input: bool = True

    @property
    def min_input_size(self) -> int:
        """Smallest input side that still gives a 1×1 logit map (``3 * 2**n``, 1 for the PixelGAN)."""
        return self._min_input_size

    @property
    def receptive_field(self) -> int:
        """Receptive field in pixels, computed from the convs that were built."""
        return receptive_field_of(self)

    def output_size(self, size: int) -> int:
        """Side of the logit map for an input of side ``size``."""
        return output_size_of(self, size)

    def forward(self, x: torch.Tensor, return_features: bool = False):
        """Score patches.

        Args:
            x: Condition and image concatenated on channels.
            return_features: Also return each block's activations (for feature matching).

        Returns:
            Logits ``(B, 1, H', W')``, or ``(logits, [features...])``.
        """
        if self.checks_input:
            check_image_tensor(
                x,
                name="PatchDiscriminator input",
                channels=self.in_channels,
                min_size=self.min_input_size,
                dtype=module_dtype(self),
                allow_non_finite=True,  # shapes and dtypes only: reading values would sync the device
            )
        feats = []
        h = x
        for block in self.blocks:
            h = block(h)
            feats.append(h)
        out = self.head(h)
        return (out, feats) if return_features else out
