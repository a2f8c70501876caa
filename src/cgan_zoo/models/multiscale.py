"""pix2pixHD-style multi-scale discriminator."""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_image_tensor, module_dtype
from ..errors import InvalidConfigError
from ..hub import HubModel
from .patch_discriminator import PatchDiscriminator

__all__ = ["MultiScaleDiscriminator"]


class MultiScaleDiscriminator(HubModel):
    """Several :class:`PatchDiscriminator` s, each on a 2× smaller copy of the input.

    Following pix2pixHD (Wang et al., 2018), scale ``i`` sees the input average-pooled
    ``i`` times (3×3, stride 2), so coarse scales judge global structure and fine
    scales judge texture. Each scale can return its intermediate features for a
    feature-matching loss.

    Args:
        in_channels: Channels of the (condition, image) pair.
        num_scales: Number of discriminators.
        receptive_field: Receptive field of each discriminator (at its own scale).
        base_channels: ``base_channels`` of each discriminator.
        norm: Norm of each discriminator.
        spectral_norm: Spectral normalisation in every conv.

    Shape:
        - Input: ``(B, in_channels, H, W)``.
        - Output: a list of ``num_scales`` logit maps ``(B, 1, H_i, W_i)``, finest first.

    Example:
        >>> import torch
        >>> d = MultiScaleDiscriminator(in_channels=3, num_scales=2, base_channels=8)
        >>> [tuple(o.shape) for o in d(torch.randn(1, 3, 128, 128))]
        [(1, 1, 14, 14), (1, 1, 6, 6)]
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_scales: int = 3,
        receptive_field: int = 70,
        base_channels: int = 64,
        norm: str = "instance",
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(num_scales, int) or isinstance(num_scales, bool) or num_scales < 1:
            raise InvalidConfigError(f"num_scales must be an integer >= 1, got {num_scales!r}.")
        self.in_channels = in_channels
        self.discriminators = nn.ModuleList(
            PatchDiscriminator(in_channels, receptive_field, base_channels, norm, spectral_norm)
            for _ in range(num_scales)
        )
        for disc in self.discriminators:  # the input is checked once, here, for every scale
            cast(PatchDiscriminator, disc).checks_input = False

    @property
    def min_input_size(self) -> int:
        """Smallest input side for which the coarsest scale still gives a 1×1 logit map."""
        # each 3x3 stride-2 average pool maps a side n to ceil(n / 2)
        first = cast(PatchDiscriminator, self.discriminators[0])
        return (first.min_input_size - 1) * 2 ** (len(self.discriminators) - 1) + 1

    def forward(self, x: torch.Tensor, return_features: bool = False):
        """Score patches at every scale.

        Returns:
            A list of logits per scale, or a list of ``(logits, features)`` pairs when
            ``return_features`` is true.
        """
        check_image_tensor(
            x,
            name="MultiScaleDiscriminator input",
            channels=self.in_channels,
            min_size=self.min_input_size,
            dtype=module_dtype(self),
            allow_non_finite=True,  # shapes and dtypes only: reading values would sync the device
        )
        outputs = []
        for i, disc in enumerate(self.discriminators):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            outputs.append(disc(x, return_features=return_features))
        return outputs
