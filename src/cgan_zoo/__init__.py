"""cgan-zoo: a model zoo for pix2pix-style conditional GANs.

Example:
    >>> import torch, cgan_zoo
    >>> g = cgan_zoo.create_model("unet_tiny")
    >>> g(torch.randn(1, 1, 32, 32)).shape
    torch.Size([1, 2, 32, 32])
"""

from ._pretrained import PretrainedCfg
from ._registry import (
    create_model,
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
from .weights import register_bundled_weights as _register_bundled_weights
from .weights import register_weight_packages as _register_weight_packages

_register_bundled_weights()
_register_weight_packages()

__all__ = [
    "__version__",
    # registry
    "create_model",
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
