"""Registered model variants: tiny factories that merge defaults with user kwargs.

Registering them imports no torch (each factory imports its class when called), so
``cgan-zoo models`` lists them fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._registry import register_model

if TYPE_CHECKING:
    from .multiscale import MultiScaleDiscriminator
    from .patch_discriminator import PatchDiscriminator
    from .resnet import ResnetGenerator
    from .timm_unet import TimmUNet
    from .unet import UNetGenerator


def _merge(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    return {**defaults, **overrides}


@register_model
def pix2pix_unet256(**kwargs: Any) -> UNetGenerator:
    """The paper's 256×256 U-Net (8 downsamplings), L → ab by default."""
    from .unet import UNetGenerator

    return UNetGenerator(**_merge({"num_downs": 8}, kwargs))


@register_model
def pix2pix_unet128(**kwargs: Any) -> UNetGenerator:
    """The paper's 128×128 U-Net (7 downsamplings)."""
    from .unet import UNetGenerator

    return UNetGenerator(**_merge({"num_downs": 7}, kwargs))


@register_model
def pix2pix_unet256_half(**kwargs: Any) -> UNetGenerator:
    """The 256 U-Net at half width (base 32, cap 256): about 4× cheaper."""
    from .unet import UNetGenerator

    return UNetGenerator(
        **_merge({"num_downs": 8, "base_channels": 32, "max_channels": 256}, kwargs)
    )


@register_model
def unet_tiny(**kwargs: Any) -> UNetGenerator:
    """A tiny U-Net (base 8, 4 downsamplings) for tests and examples."""
    from .unet import UNetGenerator

    return UNetGenerator(**_merge({"num_downs": 4, "base_channels": 8, "max_channels": 32}, kwargs))


@register_model
def pix2pix_resnet9(**kwargs: Any) -> ResnetGenerator:
    """The reference ``resnet_9blocks`` generator (CycleGAN's default), L → ab by default."""
    from .resnet import ResnetGenerator

    return ResnetGenerator(**_merge({"num_blocks": 9}, kwargs))


@register_model
def pix2pix_resnet6(**kwargs: Any) -> ResnetGenerator:
    """The reference ``resnet_6blocks`` generator (for 128×128 images in CycleGAN)."""
    from .resnet import ResnetGenerator

    return ResnetGenerator(**_merge({"num_blocks": 6}, kwargs))


@register_model
def unet_efficientnet_lite0(**kwargs: Any) -> TimmUNet:
    """U-Net over timm's ``tf_efficientnet_lite0`` encoder (2.96 M encoder parameters)."""
    from .timm_unet import TimmUNet

    return TimmUNet(**_merge({"encoder_name": "tf_efficientnet_lite0"}, kwargs))


@register_model
def unet_resnet18(**kwargs: Any) -> TimmUNet:
    """U-Net over timm's ``resnet18`` encoder."""
    from .timm_unet import TimmUNet

    return TimmUNet(**_merge({"encoder_name": "resnet18"}, kwargs))


@register_model
def timm_unet_tiny(**kwargs: Any) -> TimmUNet:
    """A small timm-encoder U-Net (``tf_efficientnet_lite0``, narrow decoder) for tests."""
    from .timm_unet import TimmUNet

    return TimmUNet(
        **_merge(
            {"encoder_name": "tf_efficientnet_lite0", "decoder_channels": [32, 24, 16, 16, 8]},
            kwargs,
        )
    )


def _patchgan(rf: int):
    def factory(**kwargs: Any) -> PatchDiscriminator:
        from .patch_discriminator import PatchDiscriminator

        return PatchDiscriminator(**_merge({"receptive_field": rf}, kwargs))

    factory.__name__ = f"patchgan_{rf}"
    factory.__doc__ = f"PatchGAN discriminator with a {rf}×{rf} receptive field."
    return register_model(factory)


for _rf in (1, 16, 34, 70, 142, 286):
    _patchgan(_rf)


@register_model
def patchgan_tiny(**kwargs: Any) -> PatchDiscriminator:
    """A narrow 34×34 PatchGAN for tests."""
    from .patch_discriminator import PatchDiscriminator

    return PatchDiscriminator(**_merge({"receptive_field": 34, "base_channels": 8}, kwargs))


@register_model
def multiscale_patchgan(**kwargs: Any) -> MultiScaleDiscriminator:
    """pix2pixHD multi-scale discriminator: 3 scales of 70×70 PatchGANs."""
    from .multiscale import MultiScaleDiscriminator

    return MultiScaleDiscriminator(**kwargs)


@register_model
def multiscale_patchgan_tiny(**kwargs: Any) -> MultiScaleDiscriminator:
    """A narrow 2-scale discriminator for tests."""
    from .multiscale import MultiScaleDiscriminator

    return MultiScaleDiscriminator(
        **_merge({"num_scales": 2, "receptive_field": 34, "base_channels": 8}, kwargs)
    )
