"""``Pix2PixConfig``: every knob of a training run, as one JSON-friendly dataclass."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import InvalidConfigError
from ..losses.modes import ADVERSARIAL_MODES, GRADIENT_PENALTY_MODES
from ..tasks import TRAINING_TASKS

__all__ = ["Pix2PixConfig", "TASKS"]

#: training task -> generator task recorded in the model config (from :mod:`cgan_zoo.tasks`)
TASKS = TRAINING_TASKS
#: the adversarial and gradient-penalty modes (from :mod:`cgan_zoo.losses.modes`)
GAN_MODES = ADVERSARIAL_MODES
GP_MODES = GRADIENT_PENALTY_MODES


@dataclass
class Pix2PixConfig:
    """Configuration of a :class:`~cgan_zoo.training.Pix2PixTrainer` run.

    The defaults are the paper's recipe: a D step on (input, target) vs
    (input, G(input)), then a G step with GAN + 100·L1, Adam(2e-4, β=(0.5, 0.999)),
    constant learning rate for the first half of the steps, then linear decay to 0.

    Attributes:
        data_dir: Folder of training photos (or A/B pairs for ``task="paired"``).
        out_dir: Where checkpoints, logs, sample grids and the exported model go.
        task: ``"colorize"`` (L → ab), ``"colorize-missing"`` (masked L + mask → Lab)
            or ``"paired"`` (RGB A → RGB B).
        val_dir: Folder of held-out photos; ``val_files`` lists files instead.
        generator: Registered generator name; ``generator_kwargs`` override its defaults.
        discriminator: Registered discriminator name; ``in_channels`` is set automatically.
        init: Pretrained name or ``save_pretrained`` folder to start G from (fine-tuning).
        init_strict: With ``init``, require the generator built from ``generator`` and
            ``generator_kwargs`` to match the initial weights exactly. ``False`` builds
            that generator and copies every tensor of the initial weights whose name and
            shape match (for example a new head on a pretrained encoder and decoder); the
            copied and left-out names are logged.
        encoder_weights: Local safetensors ImageNet weights for a timm encoder.
        encoder_key_map: Key map for ``encoder_weights`` (``"identity"``, ``"efficientnet_lite0"``).
        freeze_encoder: Keep the timm encoder's weights fixed.
        gan_mode: ``"vanilla"``, ``"lsgan"``, ``"hinge"`` or ``"wgan"``.
        lambda_gan / lambda_l1 / lambda_fm / lambda_perceptual: Loss weights.
        lambda_bins: Weight of the class-rebalanced bin cross-entropy of ``color_head="bins"``
            generators (:func:`cgan_zoo.losses.bin_cross_entropy_loss`; unused otherwise).
        bin_rebalance: Mix λ of the bin rebalancing ``1 / ((1 - λ)·p̃ + λ / Q)``, with
            ``p̃`` estimated from the training photos at the start of the run (1 = no
            rebalancing, Zhang et al. use 0.5).
        perceptual_weights: Local safetensors weights of the perceptual backbone.
        hole_weight: L1 weight inside missing regions (1 = plain L1).
        gp_mode / lambda_gp: Gradient penalty on D (``"none"``, ``"wgan-gp"``, ``"r1"``).
        warmup_steps: Reconstruction-only steps (no GAN, no D updates) before the GAN phase.
        steps: Total step budget of the run (a resumed run finishes the same budget).
        batch_size: Per-process batch size; ``grad_accum`` micro-batches make one step.
        lr_g / lr_d / beta1 / beta2: Adam settings.
        decay_start: Fraction of ``steps`` after which the LR decays linearly to 0.
        ema_decay: Decay of the generator's EMA copy (0 disables it).
        amp: Mixed precision (bf16 on CPU, fp16 with loss scaling on CUDA).
        channels_last: Use the channels-last memory format.
        seed: Seed of weights, data order, augmentation and masks.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        num_workers: DataLoader workers (results do not depend on it).
        crop_size / scales / flip: Augmentation of the photo datasets.
        missing_fraction: Share of the image removed for ``colorize-missing``.
        paired_layout / direction / load_size: Options of the paired dataset.
        ab_scale: a/b normalisation (``cgan_zoo.color``), stored in the exported model.
        log_every / val_every / sample_every / ckpt_every: Intervals in steps (0 = never).
        val_batches: Maximum number of validation batches per evaluation.
        keep_checkpoints: How many recent checkpoints to keep.
        max_nonfinite: Consecutive skipped (non-finite) steps before training aborts.
        tensorboard: Also log to TensorBoard when it is installed.

    Example:
        >>> cfg = Pix2PixConfig(data_dir="photos", out_dir="runs/a", steps=10)
        >>> Pix2PixConfig.from_dict(cfg.to_dict()) == cfg
        True
    """

    data_dir: str = ""
    out_dir: str = "runs/pix2pix"
    task: str = "colorize"
    val_dir: str | None = None
    val_files: list[str] | None = None
    train_files: list[str] | None = None
    generator: str = "pix2pix_unet256"
    generator_kwargs: dict[str, Any] = field(default_factory=dict)
    discriminator: str = "patchgan_70"
    discriminator_kwargs: dict[str, Any] = field(default_factory=dict)
    init: str | None = None
    init_strict: bool = True
    encoder_weights: str | None = None
    encoder_key_map: str = "identity"
    freeze_encoder: bool = False
    gan_mode: str = "vanilla"
    lambda_gan: float = 1.0
    lambda_l1: float = 100.0
    lambda_fm: float = 0.0
    lambda_perceptual: float = 0.0
    lambda_bins: float = 1.0
    bin_rebalance: float = 0.5
    perceptual_weights: str | None = None
    perceptual_encoder: str = "tf_efficientnet_lite0"
    perceptual_key_map: str = "identity"
    hole_weight: float = 1.0
    gp_mode: str = "none"
    lambda_gp: float = 10.0
    warmup_steps: int = 0
    steps: int = 1000
    batch_size: int = 4
    grad_accum: int = 1
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    decay_start: float = 0.5
    ema_decay: float = 0.999
    amp: bool = False
    channels_last: bool = True
    seed: int = 0
    device: str = "cpu"
    num_workers: int = 0
    crop_size: int = 256
    scales: list[float] = field(default_factory=lambda: [0.6, 1.0])
    flip: bool = True
    missing_fraction: float = 0.3
    paired_layout: str = "side_by_side"
    direction: str = "AtoB"
    load_size: int = 286
    ab_scale: float = 110.0
    log_every: int = 10
    val_every: int = 200
    sample_every: int = 200
    ckpt_every: int = 200
    val_batches: int = 8
    keep_checkpoints: int = 2
    max_nonfinite: int = 10
    tensorboard: bool = True

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`~cgan_zoo.errors.InvalidConfigError` for out-of-range values."""
        if self.task not in TASKS:
            raise InvalidConfigError(f"task={self.task!r} is not supported; choose one of {list(TASKS)}.")
        if self.gan_mode not in GAN_MODES:
            raise InvalidConfigError(f"gan_mode={self.gan_mode!r} is not supported; choose one of {list(GAN_MODES)}.")
        if self.gp_mode not in GP_MODES:
            raise InvalidConfigError(f"gp_mode={self.gp_mode!r} is not supported; choose one of {list(GP_MODES)}.")
        for name in ("steps", "batch_size", "grad_accum", "crop_size", "keep_checkpoints", "max_nonfinite"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidConfigError(f"{name} must be a positive integer, got {value!r}.")
        for name in ("warmup_steps", "log_every", "val_every", "sample_every", "ckpt_every", "num_workers", "val_batches"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidConfigError(f"{name} must be an integer >= 0, got {value!r}.")
        if not 0.0 <= self.ema_decay < 1.0:
            raise InvalidConfigError(f"ema_decay must be in [0, 1), got {self.ema_decay!r}.")
        if not 0.0 <= self.decay_start <= 1.0:
            raise InvalidConfigError(f"decay_start must be in [0, 1], got {self.decay_start!r}.")
        if not 0.0 <= self.missing_fraction <= 0.95:
            raise InvalidConfigError(f"missing_fraction must be in [0, 0.95], got {self.missing_fraction!r}.")
        for name in ("lr_g", "lr_d", "lambda_gan", "lambda_l1", "lambda_fm", "lambda_perceptual", "lambda_gp", "hole_weight", "lambda_bins"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise InvalidConfigError(f"{name} must be a number >= 0, got {value!r}.")

        if not isinstance(self.bin_rebalance, (int, float)) or not 0.0 <= self.bin_rebalance <= 1.0:
            raise InvalidConfigError(f"bin_rebalance must be in [0, 1], got {self.bin_rebalance!r}.")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly copy."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pix2PixConfig:
        """Build a config from a dict, rejecting unknown keys with the valid ones listed."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            from .._registry import did_you_mean

            hints = "".join(did_you_mean(k, sorted(known)) for k in unknown)
            raise InvalidConfigError(f"unknown config keys {unknown};{hints} valid keys: {sorted(known)}.")
        return cls(**data)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> Pix2PixConfig:
        """Load a JSON recipe file (keys as in this class; ``//`` comments are not allowed)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidConfigError(f"cannot read config file {str(path)!r}: {exc}") from None
        if not isinstance(data, dict):
            raise InvalidConfigError(f"config file {str(path)!r} must hold a JSON object.")
        data.pop("_comment", None)
        return cls.from_dict(data)

    def replace(self, **changes: Any) -> Pix2PixConfig:
        """A copy with some fields changed (validated)."""
        return type(self).from_dict({**self.to_dict(), **changes})
