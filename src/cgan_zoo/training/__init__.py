"""Training: ``Pix2PixConfig``, ``Pix2PixTrainer``, checkpoints and callbacks.

Everything but the torch-free :class:`Pix2PixConfig` is imported on first use, so the
CLI builds ``cgan-zoo train --help`` without importing torch.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from .config import Pix2PixConfig

if TYPE_CHECKING:
    from .callbacks import Callback, CSVLogger, LambdaCallback, TensorBoardLogger
    from .checkpoint import (
        generator_from_checkpoint,
        latest_checkpoint,
        list_checkpoints,
        load_checkpoint,
        save_checkpoint,
    )
    from .ema import ModelEMA
    from .trainer import NonFiniteLossError, Pix2PixTrainer

__all__ = [
    "Pix2PixConfig",
    "Pix2PixTrainer",
    "NonFiniteLossError",
    "Callback",
    "LambdaCallback",
    "CSVLogger",
    "TensorBoardLogger",
    "ModelEMA",
    "save_checkpoint",
    "load_checkpoint",
    "latest_checkpoint",
    "list_checkpoints",
    "generator_from_checkpoint",
]

_LAZY = {
    "Pix2PixTrainer": ".trainer",
    "NonFiniteLossError": ".trainer",
    "Callback": ".callbacks",
    "LambdaCallback": ".callbacks",
    "CSVLogger": ".callbacks",
    "TensorBoardLogger": ".callbacks",
    "ModelEMA": ".ema",
    "save_checkpoint": ".checkpoint",
    "load_checkpoint": ".checkpoint",
    "latest_checkpoint": ".checkpoint",
    "list_checkpoints": ".checkpoint",
    "generator_from_checkpoint": ".checkpoint",
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, ["Pix2PixConfig"])
