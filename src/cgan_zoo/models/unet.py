"""The pix2pix U-Net generator, configurable in every dimension."""

from __future__ import annotations

import torch
from torch import nn

from ..layers.factories import check_choice, make_activation, make_norm, uses_bias
from .base import BaseGenerator

__all__ = ["UNetGenerator"]

UPSAMPLE_CHOICES = ("transpose", "resize")


def _up_conv(in_ch: int, out_ch: int, upsample: str, bias: bool) -> nn.Module:
    if upsample == "transpose":
        return nn.ConvTranspose2d(in_ch, out_ch, kernel_size=4, stride=2, padding=1, bias=bias)
    # resize + conv avoids the checkerboard artefacts of strided transposed convs
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(in_ch, out_ch, kernel_size=3, stride=1, padding=1, bias=bias),
    )


class UNetGenerator(BaseGenerator):
    """The pix2pix U-Net generator (Isola et al., 2017), with every part configurable.

    The defaults build the paper's 256×256 generator: encoder
    C64-C128-C256-C512-C512-C512-C512-C512 (4×4 stride-2 convs, LeakyReLU 0.2,
    BatchNorm on all but the first layer), decoder C512-CD512-CD512-CD512-C256-C128-C64
    (4×4 stride-2 transposed convs, skip connections concatenated, BatchNorm, ReLU,
    dropout 0.5 in the three blocks after the bottleneck's own up conv) and a final
    transposed conv to ``out_channels`` with tanh. A 256×256 input reaches a 1×1×512
    bottleneck.

    Dropout sits where the authors' reference code puts it: counting decoder blocks from
    the bottleneck (block 0 is the innermost up conv, which never has dropout), blocks
    1 to ``dropout_blocks`` use it. So the same seed gives the same dropout masks as a
    reference ``unet_256`` (the reference ``unet_128`` has ``dropout_blocks=2``).

    As in the authors' reference code, the innermost (bottleneck) conv has no norm:
    at batch size 1 a 1×1 map cannot be batch-normalised. With 3 input and 3 output
    channels this is the reference ``unet_256`` with 54,413,955 parameters (the
    "54.414 M" its code prints); the colorization seed (1 → 2 channels) has 54,409,858.

    Args:
        in_channels: Input channels (1 for L, 2 for masked L + mask, 3 for RGB).
        out_channels: Output channels (2 for ab, 3 for Lab or RGB).
        base_channels: Channels of the first conv (the paper's ``ngf``).
        num_downs: Number of stride-2 downsamplings; H and W must be divisible by
            ``2 ** num_downs``.
        max_channels: Cap on the channel count (512 in the paper).
        norm: ``"batch"``, ``"instance"``, ``"group"`` or ``"none"``.
        dropout: Dropout probability in the first decoder blocks (the paper's noise).
        dropout_blocks: How many decoder blocks use dropout: blocks 1 to
            ``dropout_blocks``, counted from the bottleneck's up conv (block 0).
        upsample: ``"transpose"`` (paper) or ``"resize"`` (nearest upsample + 3×3 conv).
        final_activation: ``"tanh"``, ``"sigmoid"`` or ``"none"``.
        task: Data contract stored in the config so inference matches training:
            ``"colorize"`` (L → ab, 1 → 2 channels), ``"colorize-missing"`` (masked L +
            mask → L, ab; 2 → 3) or ``"generic"`` (any paired A → B, any channels). ``None``
            (the default) takes the task the channel counts fit, so ``in_channels=3,
            out_channels=3`` builds a generic model (see :mod:`cgan_zoo.tasks`).
        ab_scale: Lab a/b values are divided by this to reach [-1, 1] (the colour
            contract of :mod:`cgan_zoo.color`, stored so inference matches training).
        instance_running_stats: With ``norm="instance"``, keep running statistics and
            normalise with them in eval mode (the reference code's instance norm until
            2018; :func:`cgan_zoo.convert.from_reference` sets it for such checkpoints).

    Shape:
        - Input: ``(B, in_channels, H, W)`` with H, W divisible by ``2 ** num_downs``.
        - Output: ``(B, out_channels, H, W)`` inside the final activation's range.

    Example:
        >>> import torch
        >>> g = UNetGenerator(in_channels=1, out_channels=2, base_channels=8, num_downs=5)
        >>> g(torch.randn(2, 1, 64, 96)).shape
        torch.Size([2, 2, 64, 96])
        >>> facades = UNetGenerator(in_channels=3, out_channels=3, base_channels=8, num_downs=5)
        >>> facades.task, facades(torch.randn(1, 3, 32, 32)).shape
        ('generic', torch.Size([1, 3, 32, 32]))
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 2,
        base_channels: int = 64,
        num_downs: int = 8,
        max_channels: int = 512,
        norm: str = "batch",
        dropout: float = 0.5,
        dropout_blocks: int = 3,
        upsample: str = "transpose",
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
            integers=(
                ("base_channels", base_channels, 1),
                ("num_downs", num_downs, 2),
                ("max_channels", max_channels, 1),
                ("dropout_blocks", dropout_blocks, 0),
            ),
        )
        check_choice("upsample", upsample, UPSAMPLE_CHOICES)
        make_norm(norm, 1, instance_running_stats)  # validates the name and the flag
        make_activation(final_activation)

        self.num_downs = num_downs
        bias = uses_bias(norm)

        def norm_layer(channels: int) -> nn.Module:
            return make_norm(norm, channels, instance_running_stats)

        ch = [min(base_channels * 2**i, max_channels) for i in range(num_downs)]

        downs: list[nn.Module] = [nn.Conv2d(in_channels, ch[0], 4, 2, 1, bias=bias)]
        for i in range(1, num_downs):
            innermost = i == num_downs - 1
            downs.append(
                nn.Sequential(
                    nn.LeakyReLU(0.2),
                    nn.Conv2d(ch[i - 1], ch[i], 4, 2, 1, bias=bias),
                    nn.Identity() if innermost else norm_layer(ch[i]),
                )
            )
        self.down_blocks = nn.ModuleList(downs)

        ups: list[nn.Module] = []
        for j in range(num_downs - 1):
            src = ch[num_downs - 1 - j] * (1 if j == 0 else 2)
            dst = ch[num_downs - 2 - j]
            ups.append(
                nn.Sequential(
                    nn.ReLU(),
                    _up_conv(src, dst, upsample, bias),
                    norm_layer(dst),
                    nn.Dropout(dropout)
                    if 1 <= j <= dropout_blocks and dropout > 0
                    else nn.Identity(),
                )
            )
        self.up_blocks = nn.ModuleList(ups)
        self.head = nn.Sequential(
            nn.ReLU(),
            _up_conv(2 * ch[0], out_channels, upsample, True),
            make_activation(final_activation),
        )

    @property
    def stride(self) -> int:
        """H and W must be divisible by this (``2 ** num_downs``)."""
        return 2**self.num_downs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        skips = []
        h = x
        for block in self.down_blocks:
            h = block(h)
            skips.append(h)
        h = self.up_blocks[0](skips[-1])
        for j in range(1, len(self.up_blocks)):
            h = self.up_blocks[j](torch.cat([skips[-1 - j], h], dim=1))
        return self.head(torch.cat([skips[0], h], dim=1))
