"""Training: ``Pix2PixConfig``, ``Pix2PixTrainer``, checkpoints and callbacks."""

from .callbacks import Callback, CSVLogger, LambdaCallback, TensorBoardLogger
from .checkpoint import (
    generator_from_checkpoint,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)
from .config import Pix2PixConfig
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
