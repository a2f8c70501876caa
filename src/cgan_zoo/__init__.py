"""cgan-zoo: a model zoo for pix2pix-style conditional GANs.

Names that need torch (models, pipelines, training, ``HubModel``) are imported on first
use, so ``import cgan_zoo`` and the ``cgan-zoo`` command start fast.

Example:
    >>> import torch, cgan_zoo
    >>> g = cgan_zoo.create_model("unet_tiny")
    >>> g(torch.randn(1, 1, 32, 32)).shape
    torch.Size([1, 2, 32, 32])
"""

from typing import TYPE_CHECKING

from ._factory import create_model, load_generator
from ._lazy import lazy_attributes
from ._pretrained import PretrainedCfg
from ._registry import (
    get_pretrained_cfg,
    list_models,
    list_pretrained,
    register_model,
    register_pretrained,
)
from ._version import __version__
from .errors import (
    CganZooError,
    ChecksumError,
    InvalidConfigError,
    InvalidInputError,
    MissingExtraError,
    UnsafeWeightsError,
    WeightsError,
)

if TYPE_CHECKING:
    from .hub import HubModel
    from .layers.padding import crop_padding, pad_to_multiple, run_padded
    from .models import (
        MultiScaleDiscriminator,
        PatchDiscriminator,
        ResnetGenerator,
        TimmUNet,
        UNetGenerator,
        load_encoder_weights,
        map_efficientnet_lite0_keys,
    )
    from .pipelines import Colorizer, colorize_video
    from .training import Pix2PixConfig, Pix2PixTrainer

__all__ = [
    "__version__",
    # registry
    "create_model",
    "load_generator",
    "list_models",
    "list_pretrained",
    "get_pretrained_cfg",
    "register_model",
    "register_pretrained",
    "PretrainedCfg",
    "HubModel",
    # models
    "UNetGenerator",
    "ResnetGenerator",
    "TimmUNet",
    "PatchDiscriminator",
    "MultiScaleDiscriminator",
    "load_encoder_weights",
    "map_efficientnet_lite0_keys",
    # training and inference
    "Pix2PixConfig",
    "Pix2PixTrainer",
    "Colorizer",
    "colorize_video",
    # helpers
    "pad_to_multiple",
    "crop_padding",
    "run_padded",
    # errors
    "CganZooError",
    "InvalidInputError",
    "InvalidConfigError",
    "WeightsError",
    "UnsafeWeightsError",
    "ChecksumError",
    "MissingExtraError",
]

_LAZY = {
    "HubModel": ".hub",
    "pad_to_multiple": ".layers.padding",
    "crop_padding": ".layers.padding",
    "run_padded": ".layers.padding",
    "UNetGenerator": ".models",
    "ResnetGenerator": ".models",
    "TimmUNet": ".models",
    "PatchDiscriminator": ".models",
    "MultiScaleDiscriminator": ".models",
    "load_encoder_weights": ".models",
    "map_efficientnet_lite0_keys": ".models",
    "Pix2PixConfig": ".training",
    "Pix2PixTrainer": ".training",
    "Colorizer": ".pipelines",
    "colorize_video": ".pipelines",
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, [n for n in __all__ if n not in _LAZY])
