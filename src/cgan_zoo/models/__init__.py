"""Generators and discriminators, one file per architecture.

The variants of :mod:`cgan_zoo.models.zoo` are registered without importing torch; the
classes below are imported on first use.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from . import zoo as _zoo  # noqa: F401  (registers the variants)

if TYPE_CHECKING:
    from .encoder_weights import (
        adapt_input_conv_weight,
        load_encoder_weights,
        map_efficientnet_lite0_keys,
    )
    from .multiscale import MultiScaleDiscriminator
    from .patch_discriminator import RECEPTIVE_FIELDS, PatchDiscriminator
    from .resnet import ResnetGenerator
    from .timm_unet import TimmUNet
    from .unet import UNetGenerator

__all__ = [
    "UNetGenerator",
    "ResnetGenerator",
    "TimmUNet",
    "PatchDiscriminator",
    "MultiScaleDiscriminator",
    "RECEPTIVE_FIELDS",
    "load_encoder_weights",
    "map_efficientnet_lite0_keys",
    "adapt_input_conv_weight",
]

_LAZY = {
    "UNetGenerator": ".unet",
    "ResnetGenerator": ".resnet",
    "TimmUNet": ".timm_unet",
    "PatchDiscriminator": ".patch_discriminator",
    "RECEPTIVE_FIELDS": ".patch_discriminator",
    "MultiScaleDiscriminator": ".multiscale",
    "load_encoder_weights": ".encoder_weights",
    "map_efficientnet_lite0_keys": ".encoder_weights",
    "adapt_input_conv_weight": ".encoder_weights",
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, [])
