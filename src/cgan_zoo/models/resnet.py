"""The ResNet generator of pix2pix and CycleGAN (Johnson et al., 2016)."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ..layers.factories import check_choice, make_activation, make_norm, uses_bias
from .base import BaseGenerator

__all__ = ["ResnetGenerator", "PADDING_MODES"]

#: padding of the stride-1 convs: reflect (the reference), replicate or zeros
PADDING_MODES = ("reflect", "replicate", "zeros")


def _padded_conv(
    in_ch: int, out_ch: int, kernel: int, padding_mode: str, bias: bool
) -> list[tuple[str, nn.Module]]:
    """A stride-1 conv that keeps H and W, with its padding as a layer of its own."""
    pad = kernel // 2
    if padding_mode == "zeros":
        return [("conv", nn.Conv2d(in_ch, out_ch, kernel, padding=pad, bias=bias))]
    layer = nn.ReflectionPad2d(pad) if padding_mode == "reflect" else nn.ReplicationPad2d(pad)
    return [("pad", layer), ("conv", nn.Conv2d(in_ch, out_ch, kernel, bias=bias))]


class ResidualBlock(nn.Module):
    """``x + norm(conv(relu(norm(conv(x)))))`` with 3×3 convs that keep the size.

    Args:
        channels: Input and output channels.
        norm: Norm name (see :func:`cgan_zoo.layers.factories.make_norm`).
        dropout: Dropout between the two convs (0 disables it).
        padding_mode: ``"reflect"``, ``"replicate"`` or ``"zeros"``.
        instance_running_stats: Passed to the instance norms.

    Shape:
        - Input: ``(B, channels, H, W)``.
        - Output: ``(B, channels, H, W)``.

    Example:
        >>> import torch
        >>> block = ResidualBlock(8, "instance", 0.0, "reflect")
        >>> block(torch.randn(1, 8, 5, 5)).shape
        torch.Size([1, 8, 5, 5])
    """

    def __init__(
        self,
        channels: int,
        norm: str,
        dropout: float,
        padding_mode: str,
        instance_running_stats: bool = False,
    ) -> None:
        super().__init__()
        bias = uses_bias(norm)
        for i in (1, 2):
            for name, layer in _padded_conv(channels, channels, 3, padding_mode, bias):
                self.add_module(f"{name}{i}", layer)
            self.add_module(f"norm{i}", make_norm(norm, channels, instance_running_stats))
            if i == 1:
                self.relu = nn.ReLU()
                self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def _half(self, x: torch.Tensor, i: int) -> torch.Tensor:
        pad = getattr(self, f"pad{i}", None)
        if pad is not None:
            x = pad(x)
        return getattr(self, f"norm{i}")(getattr(self, f"conv{i}")(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.dropout(self.relu(self._half(x, 1)))
        return x + self._half(h, 2)


class ResnetGenerator(BaseGenerator):
    """The ResNet generator of pix2pix and CycleGAN (Johnson et al., 2016).

    A 7×7 stride-1 stem to ``base_channels``, two 3×3 stride-2 convs (channels ×2 each),
    ``num_blocks`` residual blocks at 4 × ``base_channels``, two 3×3 stride-2 transposed
    convs back to full size, and a 7×7 conv to ``out_channels`` with the final activation.
    Every conv but the head is followed by the norm and a ReLU; convs followed by batch
    norm have no bias. The stride-1 convs pad with ``padding_mode`` (reflection in the
    paper), the strided ones with zeros.

    With the defaults of the reference code (``base_channels=64``, 3 → 3 channels,
    instance norm, no dropout) this is CycleGAN's ``resnet_9blocks`` (11,378,179
    parameters) or, with ``num_blocks=6``, ``resnet_6blocks`` (7,837,699). As in the
    other cgan-zoo generators, the default channels are the colorization contract (1 → 2,
    so the task is ``"colorize"``) and the norm is batch norm, the pix2pix choice.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        base_channels: Channels of the stem (the reference's ``ngf``).
        num_blocks: Residual blocks at the bottleneck (9 or 6 in the reference).
        norm: ``"batch"``, ``"instance"``, ``"group"`` or ``"none"``.
        dropout: Dropout inside every residual block, between its two convs (the
            reference's ``use_dropout`` is 0.5).
        padding_mode: ``"reflect"``, ``"replicate"`` or ``"zeros"``.
        final_activation: ``"tanh"``, ``"sigmoid"`` or ``"none"``.
        task: Data contract stored in the config (see :class:`~cgan_zoo.UNetGenerator`):
            ``"colorize"`` (1 → 2), ``"colorize-missing"`` (2 → 3) or ``"generic"`` (any
            channels); ``None`` (the default) takes the one the channel counts fit.
        ab_scale: Lab a/b normalisation of the colour contract, stored in the config.
        instance_running_stats: With ``norm="instance"``, keep running statistics and
            normalise with them in eval mode (the reference's instance norm until 2018).

    Shape:
        - Input: ``(B, in_channels, H, W)`` with H, W divisible by 4 and at least 8, so that
          the bottleneck has at least 2×2 pixels to reflect and normalise.
        - Output: ``(B, out_channels, H, W)`` inside the final activation's range.

    Example:
        >>> import torch
        >>> g = ResnetGenerator(in_channels=3, out_channels=3, base_channels=8, num_blocks=2)
        >>> g.task, g(torch.randn(2, 3, 32, 48)).shape
        ('generic', torch.Size([2, 3, 32, 48]))
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 2,
        base_channels: int = 64,
        num_blocks: int = 9,
        norm: str = "batch",
        dropout: float = 0.0,
        padding_mode: str = "reflect",
        final_activation: str = "tanh",
        task: str | None = None,
        ab_scale: float = 110.0,
        instance_running_stats: bool = False,
    ) -> None:
        super().__init__(
            task=task,
            in_channels=in_channels,
            out_channels=out_channels,
            dropout=dropout,
            ab_scale=ab_scale,
            final_activation=final_activation,
            integers=(("base_channels", base_channels, 1), ("num_blocks", num_blocks, 0)),
        )
        check_choice("padding_mode", padding_mode, PADDING_MODES)
        make_norm(norm, 1, instance_running_stats)  # validates the name and the flag
        make_activation(final_activation)
        self.padding_mode = padding_mode
        bias = uses_bias(norm)

        def norm_layer(channels: int) -> nn.Module:
            return make_norm(norm, channels, instance_running_stats)

        c = base_channels
        self.stem = nn.Sequential(
            OrderedDict(
                [
                    *_padded_conv(in_channels, c, 7, padding_mode, bias),
                    ("norm", norm_layer(c)),
                    ("relu", nn.ReLU()),
                ]
            )
        )
        self.down_blocks = nn.ModuleList(
            nn.Sequential(
                OrderedDict(
                    conv=nn.Conv2d(c * 2**i, c * 2 ** (i + 1), 3, stride=2, padding=1, bias=bias),
                    norm=norm_layer(c * 2 ** (i + 1)),
                    relu=nn.ReLU(),
                )
            )
            for i in range(2)
        )
        self.res_blocks = nn.ModuleList(
            ResidualBlock(4 * c, norm, float(dropout), padding_mode, instance_running_stats)
            for _ in range(num_blocks)
        )
        self.up_blocks = nn.ModuleList(
            nn.Sequential(
                OrderedDict(
                    conv=nn.ConvTranspose2d(
                        c * 2 ** (2 - i),
                        c * 2 ** (1 - i),
                        3,
                        stride=2,
                        padding=1,
                        output_padding=1,
                        bias=bias,
                    ),
                    norm=norm_layer(c * 2 ** (1 - i)),
                    relu=nn.ReLU(),
                )
            )
            for i in range(2)
        )
        self.head = nn.Sequential(
            OrderedDict(
                [
                    *_padded_conv(c, out_channels, 7, padding_mode, True),
                    ("act", make_activation(final_activation)),
                ]
            )
        )

    @property
    def stride(self) -> int:
        """H and W must be divisible by this (4: two stride-2 downsamplings)."""
        return 4

    @property
    def min_input_size(self) -> int:
        """Smallest H and W: 8, a 2×2 bottleneck (reflection and instance norm need 2 pixels)."""
        return 8

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x, min_size=self.min_input_size)
        h = self.stem(x)
        for block in self.down_blocks:
            h = block(h)
        for block in self.res_blocks:
            h = block(h)
        for block in self.up_blocks:
            h = block(h)
        return self.head(h)
