"""A U-Net whose encoder is any timm ``features_only`` backbone."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..color_bins import ab_bin_centers, annealed_mean, check_temperature
from ..errors import InvalidConfigError
from ..layers.factories import make_activation, make_norm, uses_bias
from ..layers.hole_fill import pyramid_fill
from .base import BaseGenerator
from .encoder_weights import adapt_input_conv_weight, load_encoder_weights

__all__ = ["TimmUNet"]


class ConvBlock(nn.Sequential):
    """Two 3×3 conv → norm → ReLU layers."""

    def __init__(self, in_ch: int, out_ch: int, norm: str) -> None:
        bias = uses_bias(norm)
        super().__init__(
            nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=bias),
            make_norm(norm, out_ch),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=bias),
            make_norm(norm, out_ch),
            nn.ReLU(inplace=True),
        )


class TimmUNet(BaseGenerator):
    """U-Net with a timm ``features_only`` encoder and a configurable decoder.

    The decoder upsamples the deepest feature map ×2 per stage, concatenates the skip
    feature of the same stride, and applies two 3×3 conv-norm-ReLU layers. A last
    full-resolution stage concatenates the input itself, because timm encoders' finest
    features are at stride 2.

    Inputs with other than 3 channels adapt the stem conv: the first input channel gets
    the sum of the RGB kernels (a gray image then gives the same response as the
    equivalent RGB image), extra channels start at zero. Pretrained encoder weights are
    loaded afterwards with :func:`cgan_zoo.load_encoder_weights`, never downloaded.

    Args:
        encoder_name: Any timm model that supports ``features_only=True``, for example
            ``"tf_efficientnet_lite0"`` or ``"resnet18"``.
        in_channels: Input channels.
        out_channels: Output channels.
        decoder_channels: Channels of each decoder stage, deepest first; one entry per
            encoder feature level (5 for most encoders). Stage ``i`` upsamples ×2 and joins
            the skip of the next finer level; the last stage joins the input itself.
        norm: Norm of the decoder convs.
        final_activation: ``"tanh"``, ``"sigmoid"`` or ``"none"``.
        dropout: Dropout before the head (0 disables it).
        task: ``"colorize"``, ``"colorize-missing"`` or ``"generic"``; ``None`` (the
            default) takes the one the channel counts fit (see :class:`UNetGenerator`).
        ab_scale: a/b normalisation of the colour contract (see :mod:`cgan_zoo.color`).
        color_head: ``"regression"`` (the head outputs ``out_channels`` values per pixel)
            or ``"bins"`` (colorization only: the head predicts a distribution over
            quantised ab bins at stride 4, decoded by the annealed mean at
            :attr:`temperature` and upsampled to the input size; see
            :mod:`cgan_zoo.color_bins`). With ``"bins"`` the decoder stops at stride 4, so
            ``decoder_channels`` has two entries fewer (3 for most encoders) and
            ``final_activation`` is unused.
        bin_size: ab cell width in Lab units of the ``"bins"`` head.
        temperature: Default annealed-mean temperature of the ``"bins"`` head, in (0, 1]:
            1 is the mean (muted where unsure), small values approach the mode (vivid).
            Change it at any time through the :attr:`temperature` attribute.
        hole_fill: ``"none"`` or ``"pyramid"`` (``task="colorize-missing"`` only): before
            the encoder, replace the holes of the masked L (channel 0, holes marked by the
            mask in channel 1) with a classical push-pull fill
            (:func:`cgan_zoo.layers.hole_fill.pyramid_fill`), so the network starts from a
            smooth guess instead of a flat gray. Part of the model, so every pipeline and
            export gets it.
        encoder_weights: Optional local safetensors file of ImageNet weights for the
            encoder, loaded at the end of construction with
            :func:`cgan_zoo.load_encoder_weights` (the stem adapted to ``in_channels``).
            Only a starting point: it is not part of :attr:`config` or ``config.json``,
            whose ``model.safetensors`` holds the trained weights anyway.
        encoder_key_map: Key map for ``encoder_weights``: a name in
            :data:`cgan_zoo.models.encoder_weights.KEY_MAPS` (``"identity"``,
            ``"efficientnet_lite0"``) or a function; not saved either.

    Shape:
        - Input: ``(B, in_channels, H, W)`` with H, W divisible by :attr:`stride` (32 for most encoders).
        - Output: ``(B, out_channels, H, W)``.

    Example:
        >>> import torch
        >>> g = TimmUNet("tf_efficientnet_lite0", decoder_channels=[64, 32, 24, 16, 16])
        >>> g(torch.randn(1, 1, 64, 96)).shape
        torch.Size([1, 2, 64, 96])
        >>> b = TimmUNet("tf_efficientnet_lite0", decoder_channels=[64, 32, 24], color_head="bins")
        >>> ab, logits = b.forward_with_logits(torch.randn(1, 1, 64, 96))
        >>> ab.shape, logits.shape
        (torch.Size([1, 2, 64, 96]), torch.Size([1, 262, 16, 24]))
    """

    _build_only_args = ("encoder_weights", "encoder_key_map")

    def __init__(
        self,
        encoder_name: str = "tf_efficientnet_lite0",
        in_channels: int = 1,
        out_channels: int = 2,
        decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
        norm: str = "batch",
        final_activation: str = "tanh",
        dropout: float = 0.0,
        task: str | None = None,
        ab_scale: float = 110.0,
        color_head: str = "regression",
        bin_size: float = 10.0,
        temperature: float = 0.38,
        hole_fill: str = "none",
        encoder_weights: str | os.PathLike | None = None,
        encoder_key_map: str | Callable[..., dict[str, torch.Tensor]] = "identity",
    ) -> None:
        super().__init__(
            task=task,
            in_channels=in_channels,
            out_channels=out_channels,
            dropout=dropout,
            ab_scale=ab_scale,
            final_activation=final_activation,
        )
        import timm

        task = self.task
        make_activation(final_activation)
        make_norm(norm, 1)
        try:
            self.encoder = timm.create_model(encoder_name, features_only=True, pretrained=False)
        except RuntimeError as exc:
            raise InvalidConfigError(
                f"encoder_name={encoder_name!r} is not a timm model with features_only support: {exc}. "
                "See timm.list_models() for names."
            ) from None
        feature_info: Any = self.encoder.feature_info
        enc_channels = list(feature_info.channels())
        reductions = list(feature_info.reduction())
        if color_head not in ("regression", "bins"):
            raise InvalidConfigError(
                f"color_head must be 'regression' or 'bins', got {color_head!r}."
            )
        if color_head == "bins" and (task != "colorize" or out_channels != 2):
            raise InvalidConfigError(
                "color_head='bins' predicts the ab colour of an L input: it needs task='colorize' "
                f"and out_channels=2, got task={task!r} and out_channels={out_channels!r}."
            )
        self.color_head = color_head
        if hole_fill not in ("none", "pyramid"):
            raise InvalidConfigError(f"hole_fill must be 'none' or 'pyramid', got {hole_fill!r}.")
        if hole_fill != "none" and (task != "colorize-missing" or in_channels < 2):
            raise InvalidConfigError(
                f"hole_fill={hole_fill!r} fills the holes of a masked L input: it needs "
                f"task='colorize-missing' (masked L + mask), got task={task!r} with "
                f"in_channels={in_channels!r}. Use hole_fill='none'."
            )
        self.hole_fill = hole_fill
        n_stages = len(enc_channels) - (2 if color_head == "bins" else 0)
        decoder_channels = [int(c) for c in decoder_channels]
        if color_head == "bins" and len(decoder_channels) != n_stages:
            raise InvalidConfigError(
                f"color_head='bins' stops the decoder at stride 4, so decoder_channels needs "
                f"{n_stages} entries for encoder {encoder_name!r}, got {len(decoder_channels)}."
            )
        if color_head == "regression" and len(decoder_channels) != len(enc_channels):
            raise InvalidConfigError(
                f"decoder_channels needs {len(enc_channels)} entries for encoder {encoder_name!r} "
                f"(one per feature level; the last stage runs at full resolution), got {len(decoder_channels)}."
            )
        if reductions != [2 ** (i + 1) for i in range(len(reductions))]:
            raise InvalidConfigError(
                f"encoder {encoder_name!r} has feature strides {reductions}; TimmUNet needs strides "
                "2, 4, 8, ... (one per level)."
            )
        self._adapt_stem(in_channels)
        self._stride = reductions[-1]

        # Skip sources for each decoder stage, deepest first: encoder levels then the input.
        skip_channels = enc_channels[-2::-1] + [in_channels]
        blocks = []
        prev = enc_channels[-1]
        for skip, out in zip(skip_channels, decoder_channels):
            blocks.append(ConvBlock(prev + skip, out, norm))
            prev = out
        self.decoder_blocks = nn.ModuleList(blocks)
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        if color_head == "bins":
            centers = ab_bin_centers(bin_size, ab_scale)
            self.bin_size = float(bin_size)
            self.temperature = check_temperature(temperature)
            #: (Q, 2) bin centres in normalised ab units
            self.register_buffer("bin_centers", centers)
            #: (Q,) class-rebalancing weights the model was trained with (ones = none)
            self.register_buffer("bin_weights", torch.ones(len(centers)))
            self.head = nn.Sequential(
                nn.Conv2d(prev, prev, 3, padding=1, bias=uses_bias(norm)),
                make_norm(norm, prev),
                nn.ReLU(inplace=True),
                nn.Conv2d(prev, len(centers), 1),
            )
        else:
            self.head = nn.Sequential(
                nn.Conv2d(prev, out_channels, 3, padding=1), make_activation(final_activation)
            )
        if encoder_weights is not None:
            load_encoder_weights(self, encoder_weights, key_map=encoder_key_map)

    def _adapt_stem(self, in_channels: int) -> None:
        stem = None
        for name, module in self.encoder.named_modules():
            if isinstance(module, nn.Conv2d):
                stem = (name, module)
                break
        if stem is None or in_channels == stem[1].in_channels:
            return
        name, old = stem
        new = copy.deepcopy(old)
        new.in_channels = in_channels
        with torch.no_grad():
            new.weight = nn.Parameter(adapt_input_conv_weight(old.weight, in_channels))
        parent = self.encoder
        *path, leaf = name.split(".")
        for part in path:
            parent = getattr(parent, part)
        setattr(parent, leaf, new)

    @property
    def stride(self) -> int:
        """H and W must be divisible by this (the encoder's total reduction)."""
        return self._stride

    @property
    def output_range(self) -> tuple[float, float]:
        """Closed range of the output values, set by ``final_activation`` (the ab range for bins)."""
        if self.color_head == "bins":
            return (-1.0, 1.0)
        return super().output_range

    def forward_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Bin logits of a ``color_head="bins"`` model.

        Shape:
            - x: ``(B, in_channels, H, W)``.
            - returns: ``(B, Q, H / 4, W / 4)``.
        """
        if self.color_head != "bins":
            raise InvalidConfigError("forward_logits needs a color_head='bins' model.")
        return self._features(x)

    def forward_with_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoded ab (as :meth:`forward`) and the bin logits, from one pass.

        Shape:
            - x: ``(B, 1, H, W)``.
            - returns: ``(B, 2, H, W)`` and ``(B, Q, H / 4, W / 4)``.
        """
        logits = self.forward_logits(x)
        return self._decode(logits, x.shape[-2:]), logits

    def _decode(self, logits: torch.Tensor, size: Any) -> torch.Tensor:
        centers: Any = self.bin_centers
        ab = annealed_mean(logits, centers, self.temperature)
        return F.interpolate(ab, size=tuple(size), mode="bilinear", align_corners=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.color_head == "bins":
            return self._decode(self._features(x), x.shape[-2:])
        return self._features(x)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        if self.hole_fill == "pyramid":
            x = torch.cat([pyramid_fill(x[:, :1], x[:, 1:2]), x[:, 1:]], dim=1)
        feats = self.encoder(x)
        skips = (feats[-2::-1] + [x])[: len(self.decoder_blocks)]
        h = feats[-1]
        for block, skip in zip(self.decoder_blocks, skips):
            h = F.interpolate(h, size=skip.shape[-2:], mode="nearest")
            h = block(torch.cat([h, skip], dim=1))
        return self.head(self.dropout(h))
