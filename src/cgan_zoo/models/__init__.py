"""Generators and discriminators, one file per architecture."""

from . import zoo as _zoo  # noqa: F401  (registers the variants)
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
