"""``Pix2PixTrainer``: the pix2pix objective with resumable, observable training."""

from __future__ import annotations

import os
import random
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from .._registry import create_model
from ..color import model_lab_to_rgb
from ..errors import CganZooError, InvalidConfigError, WeightsError
from ..models.base import require_generator_like
from ..serialization import load_state_dict_strict
from . import distributed as dist_utils
from .callbacks import Callback, CSVLogger, TensorBoardLogger
from .checkpoint import checkpoint_info, latest_checkpoint, load_checkpoint, save_checkpoint
from .config import TASKS, Pix2PixConfig
from .ema import ModelEMA
from .stream import make_loader

__all__ = ["Pix2PixTrainer", "NonFiniteLossError", "to_rgb", "column_header"]


class NonFiniteLossError(CganZooError, RuntimeError):
    """Training produced non-finite losses or gradients too many steps in a row.

    The trainer skips a step whose loss or gradients are NaN/Inf; after
    ``Pix2PixConfig.max_nonfinite`` skipped steps in a row it raises this error, naming
    the first module where a non-finite value appeared.

    Example:
        >>> from cgan_zoo.errors import CganZooError
        >>> issubclass(NonFiniteLossError, CganZooError), issubclass(NonFiniteLossError, RuntimeError)
        (True, True)
    """


def to_rgb(task: str, inputs: torch.Tensor, output: torch.Tensor, ab_scale: float) -> torch.Tensor:
    """Turn a generator output (or target) into RGB in [0, 1] for metrics and grids.

    Shape:
        - inputs: ``(B, C_in, H, W)``; output: ``(B, C_out, H, W)``; returns ``(B, 3, H, W)``.

    Example:
        >>> import torch
        >>> to_rgb("colorize", torch.zeros(1, 1, 4, 4), torch.zeros(1, 2, 4, 4), 110.0).shape
        torch.Size([1, 3, 4, 4])
    """
    output = output.float()
    if task == "colorize":
        return model_lab_to_rgb(inputs[:, :1].float(), output, ab_scale)
    if task == "colorize-missing":
        return model_lab_to_rgb(output[:, :1], output[:, 1:], ab_scale)
    return ((output[:, :3] + 1) / 2).clamp(0, 1)


def input_to_rgb(task: str, inputs: torch.Tensor) -> torch.Tensor:
    """Show the generator input as RGB (gray L; masked L with holes; RGB A)."""
    if task in ("colorize", "colorize-missing"):
        gray = ((inputs[:, :1].float() + 1) / 2).clamp(0, 1)
        return gray.expand(-1, 3, -1, -1)
    return ((inputs[:, :3].float() + 1) / 2).clamp(0, 1)


#: height in pixels of the label row above sample grids
HEADER_HEIGHT = 14


def column_header(labels: Sequence[str], column_width: int) -> np.ndarray:
    """A white-on-black label row, one label centred over each column of a sample grid.

    Example:
        >>> column_header(("input", "output"), 40).shape
        (14, 80, 3)
    """
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (column_width * len(labels), HEADER_HEIGHT))
    draw = ImageDraw.Draw(image)
    for i, label in enumerate(labels):
        left, top, right, bottom = draw.textbbox((0, 0), label)
        x = i * column_width + max(0, (column_width - (right - left)) // 2)
        draw.text((x, (HEADER_HEIGHT - (bottom - top)) // 2 - top), label, fill=(255, 255, 255))
    return np.asarray(image)


def _requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


class Pix2PixTrainer:
    """Train a pix2pix generator and discriminator, with exact resume.

    One step is the paper's: a D step on ``(input, target)`` vs ``(input, G(input))``,
    then a G step on ``λ_gan·GAN + λ_l1·L1`` (plus optional feature matching,
    perceptual and hole-weighted L1 terms). During ``warmup_steps`` only the
    reconstruction terms train G and D is left alone.

    Everything that determines the next step is in the checkpoint: G, D, EMA, both
    optimisers, the AMP scaler, RNG states and the data position. On CPU, ``k`` steps,
    a resume, and ``m`` more steps give weights bit-identical to ``k + m`` steps in
    one go. SIGTERM and SIGINT (Ctrl-C) stop at the next step boundary after writing a
    checkpoint of the last completed step; :attr:`stop_signal` then names the signal (a
    second Ctrl-C interrupts at once). A run folder holding checkpoints of another
    generator is refused.

    Under ``torchrun`` (``WORLD_SIZE > 1``) each process takes a disjoint slice of every
    global batch and gradients are averaged across processes before each update.

    Args:
        config: The run's :class:`Pix2PixConfig`.
        generator: A generator to train instead of ``config.generator``.
        discriminator: A discriminator instead of ``config.discriminator``.
        train_dataset: A dataset instead of the one built from ``config.data_dir``;
            items are dicts with ``"input"``, ``"target"`` and optionally ``"mask"``.
        val_dataset: Held-out dataset for validation metrics.
        callbacks: Extra :class:`~cgan_zoo.training.Callback` objects.

    Example:
        >>> import tempfile, torch
        >>> from torch.utils.data import Dataset
        >>> class Toy(Dataset):
        ...     def __len__(self): return 4
        ...     def __getitem__(self, i):
        ...         x = torch.rand(1, 32, 32) * 2 - 1
        ...         return {"input": x, "target": torch.cat([x, -x]) * 0.1}
        >>> cfg = Pix2PixConfig(out_dir=tempfile.mkdtemp(), generator="unet_tiny",
        ...                     discriminator="patchgan_tiny", steps=2, batch_size=2,
        ...                     crop_size=32, log_every=1, tensorboard=False)
        >>> history = Pix2PixTrainer(cfg, train_dataset=Toy()).fit(progress=False)
        >>> len(history)
        2
    """

    def __init__(
        self,
        config: Pix2PixConfig,
        generator: nn.Module | None = None,
        discriminator: nn.Module | None = None,
        train_dataset: Dataset | None = None,
        val_dataset: Dataset | None = None,
        callbacks: Sequence[Callback] = (),
    ) -> None:
        self.config = config
        self.out_dir = Path(config.out_dir)
        self.rank, self.world_size = dist_utils.init_from_env(config.device)
        self.device = dist_utils.pick_device(config.device, self.rank)
        self.is_main = self.rank == 0
        torch.manual_seed(config.seed)

        self.generator = (generator if generator is not None else self._build_generator()).to(self.device)
        contract = require_generator_like(self.generator, "Pix2PixTrainer")
        g_in, g_out = int(contract.in_channels), int(contract.out_channels)
        if discriminator is None:
            d_kwargs = {"in_channels": g_in + g_out, **config.discriminator_kwargs}
            discriminator = create_model(config.discriminator, **d_kwargs)
        self.discriminator = discriminator.to(self.device)
        if config.channels_last:
            self.generator.to(memory_format=torch.channels_last)
            self.discriminator.to(memory_format=torch.channels_last)
        dist_utils.broadcast_module(self.generator)
        dist_utils.broadcast_module(self.discriminator)

        self.task = config.task
        self.ab_scale = float(contract.ab_scale)
        train_data = train_dataset if train_dataset is not None else self._build_dataset(train=True)
        if train_data is None:
            raise InvalidConfigError("no training data: set config.data_dir or pass train_dataset=...")
        self.train_dataset: Dataset = train_data
        self.val_dataset = val_dataset if val_dataset is not None else self._build_dataset(train=False)
        self.uses_bins = getattr(self.generator, "color_head", "regression") == "bins"
        if self.uses_bins:
            self._init_bin_weights()

        g_params = [p for p in self.generator.parameters() if p.requires_grad]
        self.opt_g = torch.optim.Adam(g_params, lr=config.lr_g, betas=(config.beta1, config.beta2), foreach=True)
        self.opt_d = torch.optim.Adam(
            self.discriminator.parameters(), lr=config.lr_d, betas=(config.beta1, config.beta2), foreach=True
        )
        self.ema = ModelEMA(self.generator, config.ema_decay) if config.ema_decay > 0 else None
        use_fp16 = config.amp and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=use_fp16)
        self.amp_dtype = (torch.float16 if use_fp16 else torch.bfloat16) if config.amp else None

        from ..losses import AdversarialLoss, FeatureMatchingLoss

        self.adv_loss = AdversarialLoss(config.gan_mode).to(self.device)
        self.fm_loss = FeatureMatchingLoss()
        self.perceptual = None
        if config.lambda_perceptual > 0:
            from ..losses import PerceptualLoss

            self.perceptual = PerceptualLoss(
                encoder_name=config.perceptual_encoder,
                weights_path=config.perceptual_weights,
                key_map=config.perceptual_key_map,
            ).to(self.device)

        self.step = 0
        self.samples_seen = 0
        self.nonfinite_total = 0
        self.nonfinite_streak = 0
        self.first_bad: str | None = None
        self.history: list[dict[str, float]] = []
        self._stop_requested = False
        #: the signal number that stopped the last :meth:`fit` early, or ``None``
        self.stop_signal: int | None = None
        self._stop_signum: int | None = None
        #: how the stop message tells the user to continue (the CLI names its --resume flag)
        self.resume_hint = "call fit(resume=True) with the same config"
        self.callbacks: list[Callback] = list(callbacks)
        if self.is_main:
            self.callbacks.insert(0, CSVLogger(self.out_dir))
            if config.tensorboard:
                try:
                    self.callbacks.insert(1, TensorBoardLogger(self.out_dir))
                except ImportError:
                    pass

    # ------------------------------------------------------------------ building
    def _build_generator(self) -> nn.Module:
        cfg = self.config
        gen: nn.Module
        if cfg.init and not cfg.init_strict:
            gen = self._generator_from_config()
            self._copy_matching_weights(gen, self._load_init())
        elif cfg.init:
            gen = self._load_init(**cfg.generator_kwargs)
        else:
            gen = self._generator_from_config()
        task = require_generator_like(gen, "Pix2PixTrainer").task
        if task != TASKS[cfg.task]:
            raise InvalidConfigError(
                f"generator task {task!r} does not match training task {cfg.task!r}; "
                "initialise from weights trained for the same task."
            )
        if cfg.freeze_encoder:
            encoder = getattr(gen, "encoder", None)
            if encoder is None:
                raise InvalidConfigError(
                    f"freeze_encoder=True needs a generator with a pretrained encoder (e.g. a TimmUNet); "
                    f"{type(gen).__name__} has none."
                )
            _requires_grad(encoder, False)
        return gen

    def _load_init(self, **kwargs: Any) -> nn.Module:
        cfg = self.config
        from .._registry import get_pretrained_cfg
        from ..hub import HubModel

        assert cfg.init is not None
        gen: nn.Module
        if Path(cfg.init).is_dir() or "/" in cfg.init:
            gen = HubModel.from_pretrained(cfg.init, **kwargs)
        else:
            get_pretrained_cfg(cfg.init)
            gen = create_model(cfg.init, pretrained=True, **kwargs)
        gen.train()
        return gen

    def _generator_from_config(self) -> nn.Module:
        cfg = self.config
        kwargs = {"task": TASKS[cfg.task], **cfg.generator_kwargs}
        if TASKS[cfg.task] != "generic":
            kwargs.setdefault("ab_scale", cfg.ab_scale)
        if cfg.task == "colorize-missing":
            kwargs.setdefault("in_channels", 2)
            kwargs.setdefault("out_channels", 3)
        elif cfg.task == "paired":
            kwargs.setdefault("in_channels", 3)
            kwargs.setdefault("out_channels", 3)
        if cfg.encoder_weights:
            kwargs["encoder_weights"] = cfg.encoder_weights
            kwargs["encoder_key_map"] = cfg.encoder_key_map
        return create_model(cfg.generator, **kwargs)

    def _copy_matching_weights(self, gen: nn.Module, source: nn.Module) -> None:
        """Copy the tensors of ``source`` whose name and shape match ``gen`` (``init_strict=False``)."""
        own = gen.state_dict()
        theirs = source.state_dict()
        copied = [k for k, v in theirs.items() if k in own and own[k].shape == v.shape]
        with torch.no_grad():
            for k in copied:
                own[k].copy_(theirs[k])
        fresh = sorted(set(own) - set(copied))
        dropped = sorted(set(theirs) - set(copied))
        self._log_line(
            f"init {self.config.init!r} (init_strict=False): copied {len(copied)} tensors; "
            f"{len(fresh)} new ({', '.join(fresh[:4])}{', ...' if len(fresh) > 4 else ''}); "
            f"{len(dropped)} unused ({', '.join(dropped[:4])}{', ...' if len(dropped) > 4 else ''})"
        )

    def _log_line(self, text: str) -> None:
        if self.rank == 0:
            print(f"cgan-zoo train: {text}", flush=True)

    def _init_bin_weights(self, max_images: int = 192) -> None:
        """Estimate the bin prior from the training photos and set the rebalancing weights."""
        from ..color_bins import bin_histogram, rebalancing_weights

        gen: Any = self.generator
        centers = gen.bin_centers
        counts = torch.zeros(centers.shape[0], dtype=torch.float64)
        n = len(self.train_dataset)  # type: ignore[arg-type]
        for i in sorted({round(k * n / max_images) for k in range(max_images)} & set(range(n))):
            target = self.train_dataset[i]["target"]
            counts += bin_histogram(target[None].to(centers.device), centers)
        with torch.no_grad():
            gen.bin_weights.copy_(rebalancing_weights(counts, centers.cpu(), mix=self.config.bin_rebalance))
        self._log_line(
            f"bin prior from {min(n, max_images)} photos: {int((counts > 0).sum())}/{len(counts)} bins seen, "
            f"rebalancing weights {float(gen.bin_weights.min()):.2f}..{float(gen.bin_weights.max()):.2f}"
        )

    def _build_dataset(self, train: bool) -> Dataset | None:
        cfg = self.config
        root: Any = cfg.data_dir if train else cfg.val_dir
        files = cfg.train_files if train else cfg.val_files
        if not root and not files:
            return None
        from ..data import ColorizationDataset, MissingRegionsDataset, PairedDataset

        if cfg.task == "paired":
            return PairedDataset(
                root, layout=cfg.paired_layout, direction=cfg.direction, crop_size=cfg.crop_size,
                load_size=cfg.load_size, train=train, flip=cfg.flip,
            )
        common: dict[str, Any] = dict(crop_size=cfg.crop_size, scales=tuple(cfg.scales), flip=cfg.flip, train=train,
                      ab_scale=self.ab_scale, files=files)
        source = root if root else files
        if cfg.task == "colorize-missing":
            return MissingRegionsDataset(source, missing_fraction=cfg.missing_fraction, **common)
        return ColorizationDataset(source, **common)

    # ------------------------------------------------------------------ schedule
    def lr_factor(self, step: int) -> float:
        """Linear-decay factor at ``step``: 1 until ``decay_start·steps``, then down to 0."""
        total = self.config.steps
        start = int(self.config.decay_start * total)
        if step < start or total <= start:
            return 1.0
        return max(0.0, 1.0 - (step - start) / float(total - start + 1))

    def _set_lr(self) -> None:
        f = self.lr_factor(self.step)
        for group in self.opt_g.param_groups:
            group["lr"] = self.config.lr_g * f
        for group in self.opt_d.param_groups:
            group["lr"] = self.config.lr_d * f

    # ------------------------------------------------------------------ step
    def _to_device(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        mf = torch.channels_last if self.config.channels_last else torch.contiguous_format
        out = {}
        for k, v in batch.items():
            if isinstance(v, torch.Tensor):
                v = v.to(self.device, non_blocking=True)
                if v.ndim == 4:
                    v = v.contiguous(memory_format=mf)
            out[k] = v
        return out

    def _autocast(self):
        if self.amp_dtype is None:
            return torch.autocast(self.device.type, enabled=False)
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _l1_weight(self, batch: dict[str, torch.Tensor]) -> torch.Tensor | None:
        if self.config.hole_weight != 1.0 and "mask" in batch:
            from ..losses import hole_weight_map

            return hole_weight_map(batch["mask"], self.config.hole_weight)
        return None

    def _grads_finite(self, module: nn.Module) -> bool:
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if not grads:
            return True
        norms = torch._foreach_norm(grads)
        return bool(torch.isfinite(torch.stack(norms)).all())

    def _first_bad_module(self, batch: dict[str, torch.Tensor]) -> str:
        """Find the first module whose forward output or parameters are non-finite."""
        for prefix, model in (("generator", self.generator), ("discriminator", self.discriminator)):
            for name, p in model.named_parameters():
                if not torch.isfinite(p).all():
                    return f"{prefix}.{name} (parameter)"
                if p.grad is not None and not torch.isfinite(p.grad).all():
                    return f"{prefix}.{name.rsplit('.', 1)[0]} (gradient)"
        found: list[str] = []
        hooks = []
        for name, module in self.generator.named_modules():
            def hook(mod, inp, out, name=name):
                if not found and isinstance(out, torch.Tensor) and not torch.isfinite(out).all():
                    found.append(f"generator.{name or type(mod).__name__} (output)")
            hooks.append(module.register_forward_hook(hook))
        try:
            with torch.no_grad():
                self.generator(batch["input"])
        finally:
            for h in hooks:
                h.remove()
        if found:
            return found[0]
        if not torch.isfinite(batch["input"]).all() or not torch.isfinite(batch["target"]).all():
            return "the input batch (data)"
        return "the loss computation"

    def train_step(self, micro_batches: list[dict[str, torch.Tensor]]) -> dict[str, float]:
        """One optimiser step over ``grad_accum`` micro-batches; returns scalar logs."""
        cfg = self.config
        G, D = self.generator, self.discriminator
        gan_phase = self.step >= cfg.warmup_steps and cfg.lambda_gan > 0
        n = len(micro_batches)
        logs: dict[str, float] = {}
        skipped = False
        self._set_lr()
        G.train()
        D.train()
        if cfg.freeze_encoder and hasattr(G, "encoder"):
            cast(nn.Module, G.encoder).eval()  # frozen: keep its BatchNorm statistics too

        # BatchNorm statistics change during the forward passes; keep a copy so that a
        # skipped (non-finite) step leaves no trace in them, nor in the EMA that copies them
        self._buffer_snapshot = [b.detach().clone() for b in self._all_buffers()]
        if not all(torch.isfinite(mb["input"]).all() and torch.isfinite(mb["target"]).all() for mb in micro_batches):
            return self._skip_step(micro_batches, "the input batch (data)")

        fakes, bin_logits = [], []
        for mb in micro_batches:
            with self._autocast():
                if self.uses_bins:
                    fake, logits = cast(Any, G).forward_with_logits(mb["input"])
                    fakes.append(fake)
                    bin_logits.append(logits)
                else:
                    fakes.append(G(mb["input"]))
        if not all(bool(torch.isfinite(f).all()) for f in fakes):
            return self._skip_step(micro_batches)

        # ---- D step
        if gan_phase:
            _requires_grad(D, True)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d_total = 0.0
            for mb, fake in zip(micro_batches, fakes):
                x, y = mb["input"], mb["target"]
                with self._autocast():
                    real_pair = torch.cat([x, y], 1)
                    fake_pair = torch.cat([x, fake.detach()], 1)
                    loss_real = self.adv_loss(D(real_pair), True, for_discriminator=True)
                    loss_fake = self.adv_loss(D(fake_pair), False, for_discriminator=True)
                    loss_d = 0.5 * (loss_real + loss_fake)
                if cfg.gp_mode != "none":
                    from ..losses import r1_penalty, wgan_gp_penalty

                    if cfg.gp_mode == "wgan-gp":
                        loss_d = loss_d + wgan_gp_penalty(D, real_pair.float(), fake_pair.float(), cfg.lambda_gp)
                    else:
                        loss_d = loss_d + r1_penalty(D, real_pair.float(), cfg.lambda_gp)
                if not torch.isfinite(loss_d):
                    skipped = True
                    break
                self.scaler.scale(loss_d / n).backward()
                loss_d_total += float(loss_d.detach()) / n
            dist_utils.all_reduce_grads(D, self.world_size)
            if not skipped and not self._grads_finite(D):
                skipped = True
            logs["loss_d"] = loss_d_total

        # ---- G step
        self.opt_g.zero_grad(set_to_none=True)
        if not skipped:
            if gan_phase:
                _requires_grad(D, False)
            totals: dict[str, float] = {}
            for i, (mb, fake) in enumerate(zip(micro_batches, fakes)):
                x, y = mb["input"], mb["target"]
                with self._autocast():
                    terms: dict[str, torch.Tensor] = {}
                    from ..losses import bin_cross_entropy_loss, weighted_l1_loss

                    terms["l1"] = cfg.lambda_l1 * weighted_l1_loss(fake.float(), y.float(), self._l1_weight(mb))
                    if self.uses_bins:
                        gen_any = cast(Any, G)
                        terms["bins"] = cfg.lambda_bins * bin_cross_entropy_loss(
                            bin_logits[i], y.float(), gen_any.bin_centers, gen_any.bin_weights
                        )
                    if gan_phase:
                        fake_pair = torch.cat([x, fake], 1)
                        if cfg.lambda_fm > 0:
                            pred_fake, feats_fake = self._d_with_features(fake_pair)
                            with torch.no_grad():
                                _, feats_real = self._d_with_features(torch.cat([x, y], 1))
                            terms["fm"] = cfg.lambda_fm * self.fm_loss(feats_real, feats_fake)
                        else:
                            pred_fake = D(fake_pair)
                        terms["gan"] = cfg.lambda_gan * self.adv_loss(pred_fake, True, for_discriminator=False)
                    if self.perceptual is not None:
                        rgb_fake = to_rgb(self.task, x, fake, self.ab_scale)
                        rgb_real = to_rgb(self.task, x, y, self.ab_scale)
                        terms["perceptual"] = cfg.lambda_perceptual * self.perceptual(rgb_fake, rgb_real)
                    loss_g = torch.stack(list(terms.values())).sum()
                if not torch.isfinite(loss_g):
                    skipped = True
                    break
                self.scaler.scale(loss_g / n).backward()
                for k, v in terms.items():
                    totals[f"loss_{k}"] = totals.get(f"loss_{k}", 0.0) + float(v.detach()) / n
                totals["loss_g"] = totals.get("loss_g", 0.0) + float(loss_g.detach()) / n
            dist_utils.all_reduce_grads(G, self.world_size)
            if not skipped and not self._grads_finite(G):
                skipped = True
            logs.update(totals)
            if gan_phase:
                _requires_grad(D, True)

        if skipped:
            return self._skip_step(micro_batches)
        self.nonfinite_streak = 0
        self.first_bad = None
        if gan_phase:
            self.scaler.step(self.opt_d)
        self.scaler.step(self.opt_g)
        self.scaler.update()
        if self.ema is not None:
            self.ema.update(self.generator)
        logs["skipped"] = 0.0
        logs["lr"] = self.config.lr_g * self.lr_factor(self.step)
        self.step += 1
        return logs

    def _skip_step(self, micro_batches: list[dict[str, torch.Tensor]], reason: str | None = None) -> dict[str, float]:
        """Drop this step's gradients, count it, and abort after too many in a row."""
        cfg = self.config
        self.opt_g.zero_grad(set_to_none=True)
        self.opt_d.zero_grad(set_to_none=True)
        _requires_grad(self.discriminator, True)
        self.nonfinite_total += 1
        self.nonfinite_streak += 1
        if self.first_bad is None:
            self.first_bad = reason or self._first_bad_module(micro_batches[0])
        with torch.no_grad():
            for buf, saved in zip(self._all_buffers(), getattr(self, "_buffer_snapshot", [])):
                buf.copy_(saved)
        warnings.warn(
            f"step {self.step}: non-finite loss or gradient, step skipped "
            f"({self.nonfinite_streak} in a row; first bad: {self.first_bad})",
            RuntimeWarning,
            stacklevel=3,
        )
        if self.nonfinite_streak >= cfg.max_nonfinite:
            raise NonFiniteLossError(
                f"{self.nonfinite_streak} consecutive steps had non-finite losses or gradients "
                f"(limit max_nonfinite={cfg.max_nonfinite}); the first bad value appeared in "
                f"{self.first_bad}. Lower the learning rate or check the data and the model."
            )
        self.step += 1
        return {"skipped": 1.0, "lr": cfg.lr_g * self.lr_factor(self.step - 1)}

    def _all_buffers(self) -> list[torch.Tensor]:
        return [
            b for m in (self.generator, self.discriminator) for b in m.buffers()
        ]

    def _d_with_features(self, pair: torch.Tensor) -> tuple[Any, Any]:
        out = self.discriminator(pair, return_features=True)
        if isinstance(out, list):  # multi-scale: list of (logits, feats)
            return [o[0] for o in out], [o[1] for o in out]
        return out

    # ------------------------------------------------------------------ validation
    @torch.no_grad()
    def validate(self, max_batches: int | None = None) -> dict[str, float]:
        """L1, PSNR and colorfulness ratio of the (EMA) generator on the validation set."""
        from torch.utils.data import DataLoader

        from ..metrics import colorfulness, psnr

        if self.val_dataset is None:
            return {}
        model = self.ema.module if self.ema is not None else self.generator
        model.eval()
        loader = DataLoader(self.val_dataset, batch_size=self.config.batch_size, shuffle=False)
        l1s, psnrs, cf_out, cf_ref = [], [], [], []
        limit = max_batches if max_batches is not None else self.config.val_batches
        for i, batch in enumerate(loader):
            if limit and i >= limit:
                break
            batch = self._to_device(batch)
            x, y = batch["input"], batch["target"]
            with self._autocast():
                fake = model(x).float()
            l1s.append((fake - y).abs().mean(dim=(1, 2, 3)))
            rgb_fake, rgb_real = to_rgb(self.task, x, fake, self.ab_scale), to_rgb(self.task, x, y, self.ab_scale)
            psnrs.append(psnr(rgb_fake, rgb_real))
            cf_out.append(colorfulness(rgb_fake))
            cf_ref.append(colorfulness(rgb_real))
        if not l1s:
            return {}
        ref = torch.cat(cf_ref).mean()
        return {
            "val_l1": float(torch.cat(l1s).mean()),
            "val_psnr": float(torch.cat(psnrs).mean()),
            "val_colorfulness_ratio": float(torch.cat(cf_out).mean() / ref) if ref > 0 else float("nan"),
        }

    @torch.no_grad()
    def save_samples(self, path: str | os.PathLike, batch: dict[str, torch.Tensor], max_images: int = 4) -> Path:
        """Write a PNG grid with one row per image under a header row: input | output | target."""
        from PIL import Image

        model = self.ema.module if self.ema is not None else self.generator
        model.eval()
        x, y = batch["input"][:max_images], batch["target"][:max_images]
        fake = model(x).float()
        rows = torch.cat(
            [input_to_rgb(self.task, x), to_rgb(self.task, x, fake, self.ab_scale), to_rgb(self.task, x, y, self.ab_scale)],
            dim=3,
        )
        grid = torch.cat(list(rows), dim=1)  # (3, rows*H, 3*W)
        array = (grid.clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype(np.uint8)
        header = column_header(("input", "output", "target"), column_width=x.shape[-1])
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate([header, array], axis=0)).save(path)
        return path

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where training stopped."""
        rng: dict[str, Any] = {
            "torch": torch.get_rng_state(),
            "python": _python_rng_state(),
            "numpy": _numpy_rng_state(),
        }
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return {
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": rng,
            "step": self.step,
            "samples_seen": self.samples_seen,
            "nonfinite_total": self.nonfinite_total,
            "config": self.config.to_dict(),
            "generator_config": getattr(self.generator, "config", None),
            "generator_class": type(self.generator).__name__,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (strictly)."""
        load_state_dict_strict(self.generator, state["generator"], source="checkpoint generator")
        load_state_dict_strict(self.discriminator, state["discriminator"], source="checkpoint discriminator")
        if self.ema is not None and state.get("ema") is not None:
            load_state_dict_strict(self.ema.module, state["ema"], source="checkpoint EMA")
        self.opt_g.load_state_dict(_fix_optimizer_state(state["opt_g"]))
        self.opt_d.load_state_dict(_fix_optimizer_state(state["opt_d"]))
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        rng = state["rng"]
        torch.set_rng_state(rng["torch"])
        random.setstate(_to_tuple(rng["python"]))
        np.random.set_state(_numpy_state_from(rng["numpy"]))
        if "cuda" in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        self.step = int(state["step"])
        self.samples_seen = int(state["samples_seen"])
        self.nonfinite_total = int(state.get("nonfinite_total", 0))

    def save_checkpoint(self) -> Path | None:
        """Write ``out_dir/checkpoints/ckpt-<step>.safetensors`` atomically (main process only)."""
        if not self.is_main:
            return None
        path = save_checkpoint(
            self.state_dict(), self.out_dir / "checkpoints", self.step, keep=self.config.keep_checkpoints
        )
        for cb in self.callbacks:
            cb.on_checkpoint(self, path)
        return path

    def resume(self, path: str | os.PathLike | None = None) -> bool:
        """Load ``path`` or the newest intact checkpoint in ``out_dir``; return whether one was found."""
        if path is None:
            path = latest_checkpoint(self.out_dir / "checkpoints")
            if path is None:
                return False
        self.check_run_folder(path)
        state = load_checkpoint(path)
        if state["config"].get("task") != self.config.task:
            raise WeightsError(f"checkpoint {str(path)!r} was trained for task {state['config'].get('task')!r}.")
        self.load_state_dict(state)
        return True

    def _generator_signature(self) -> tuple[str, Any]:
        return type(self.generator).__name__, getattr(self.generator, "config", None)

    def check_run_folder(self, path: str | os.PathLike | None = None) -> None:
        """Refuse a run folder whose checkpoints belong to another generator.

        Args:
            path: A checkpoint to compare with; default the newest one in ``out_dir``.

        Raises:
            InvalidConfigError: If the checkpoint's generator class or configuration
                differs from this trainer's, naming both and the fix.
        """
        if path is None:
            path = latest_checkpoint(self.out_dir / "checkpoints")
            if path is None:
                return
        info = checkpoint_info(path)
        theirs_class, theirs_config = info.get("generator_class"), info.get("generator_config")
        ours_class, ours_config = self._generator_signature()
        if theirs_class is None:  # checkpoints of older versions do not record it
            return
        if theirs_class != ours_class or (
            theirs_config is not None and ours_config is not None and theirs_config != ours_config
        ):
            theirs_name = (info.get("config") or {}).get("init") or (info.get("config") or {}).get("generator")
            ours_name = self.config.init or self.config.generator
            raise InvalidConfigError(
                f"run folder {str(self.out_dir)!r} holds checkpoints of another model "
                f"({theirs_class} {theirs_name!r} at step {info.get('step')}), but this run trains "
                f"{ours_class} {ours_name!r}; mixing them would corrupt the run. Use another output "
                "folder (--out), or the same model to continue it."
            )

    def export_generator(self, folder: str | os.PathLike | None = None, use_ema: bool = True) -> Path:
        """Save the (EMA) generator as a ``save_pretrained`` folder (config + safetensors)."""
        folder = Path(folder) if folder is not None else self.out_dir / "generator"
        model = self.ema.module if (use_ema and self.ema is not None) else self.generator
        model = model.to(memory_format=torch.contiguous_format)
        cast(Any, model).save_pretrained(folder)
        if self.config.channels_last:
            model.to(memory_format=torch.channels_last)
        return folder

    # ------------------------------------------------------------------ fit
    def fit(self, steps: int | None = None, resume: bool = False, progress: bool = True) -> list[dict[str, float]]:
        """Train until ``steps`` (default ``config.steps``) total steps have run.

        Args:
            steps: Total step budget; a resumed run continues up to the same total.
            resume: Continue from the newest checkpoint in ``out_dir`` if there is one.
            progress: Show a tqdm progress bar with the losses.

        Returns:
            The per-step logs of this call.
        """
        from tqdm.auto import tqdm

        cfg = self.config
        total = steps if steps is not None else cfg.steps
        self.stop_signal = None
        self._stop_requested = False
        if resume:
            if not self.resume() and self.is_main:
                print(
                    f"cgan-zoo: no checkpoint in {str(self.out_dir / 'checkpoints')!r} to resume "
                    f"from; starting a new run at step 0 (of {total})."
                )
        elif self.is_main:
            self.check_run_folder()
        history: list[dict[str, float]] = []
        for cb in self.callbacks:
            cb.on_fit_start(self)
        global_batch = cfg.batch_size * self.world_size
        loader = make_loader(
            self.train_dataset, global_batch=global_batch, seed=cfg.seed, start=self.samples_seen,
            rank=self.rank, world_size=self.world_size, num_workers=cfg.num_workers,
        )
        sample_batch = None
        stopped_early = False
        restore = self._install_signal_handlers()
        bar = tqdm(total=total, initial=self.step, disable=not (progress and self.is_main), dynamic_ncols=True)
        try:
            it = iter(loader)
            while self.step < total and not self._should_stop():
                micro = [self._to_device(next(it)) for _ in range(cfg.grad_accum)]
                self.samples_seen += global_batch * cfg.grad_accum
                if sample_batch is None:
                    sample_batch = micro[0]
                logs = self.train_step(micro)
                history.append(logs)
                self.history.append(logs)
                # the postfix first: update() redraws, so the bar shows this step's losses
                bar.set_postfix({k: f"{v:.3g}" for k, v in logs.items() if k.startswith("loss")}, refresh=False)
                bar.update(1)
                for cb in self.callbacks:
                    cb.on_step_end(self, self.step, logs)
                if cfg.val_every and self.step % cfg.val_every == 0 and self.val_dataset is not None:
                    # every rank joins the all-reduce; only rank 0 then evaluates
                    dist_utils.average_buffers(self.generator, self.world_size)
                if self.is_main:
                    self._periodic(sample_batch)
            stopped_early = self.step < total
            if stopped_early or cfg.ckpt_every:
                self.save_checkpoint()
        finally:
            bar.close()
            restore()
        if stopped_early and self._stop_requested:
            self.stop_signal = self._stop_signum
            if self.is_main:
                name = "request_stop()" if self.stop_signal is None else signal.Signals(self.stop_signal).name
                print(
                    f"cgan-zoo: stopped by {name} at step {self.step} of {total}; checkpoint written "
                    f"to {str(self.out_dir / 'checkpoints')!r}. To continue, {self.resume_hint}.",
                    file=sys.stderr,
                )
        for cb in self.callbacks:
            cb.on_fit_end(self)
        return history

    def _periodic(self, sample_batch: dict[str, torch.Tensor]) -> None:
        cfg, s = self.config, self.step
        if cfg.val_every and s % cfg.val_every == 0 and self.val_dataset is not None:
            metrics = self.validate()
            if metrics:
                from tqdm.auto import tqdm

                tqdm.write(
                    f"step {s}: " + "  ".join(f"{k}={v:.4g}" for k, v in metrics.items())
                )
            for cb in self.callbacks:
                cb.on_validation_end(self, s, metrics)
        if cfg.sample_every and s % cfg.sample_every == 0:
            batch = sample_batch
            if self.val_dataset is not None:
                from torch.utils.data import DataLoader

                batch = self._to_device(next(iter(DataLoader(self.val_dataset, batch_size=4))))
            self.save_samples(self.out_dir / "samples" / f"step_{s:08d}.png", batch)
        if cfg.ckpt_every and s % cfg.ckpt_every == 0:
            self.save_checkpoint()

    def _should_stop(self) -> bool:
        """Whether any process was asked to stop (all ranks agree, so none hangs)."""
        return dist_utils.any_rank(self._stop_requested, self.world_size)

    def _install_signal_handlers(self):
        """SIGTERM and the first SIGINT stop at the next step boundary; a second SIGINT interrupts."""
        self._stop_signum = None
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum, frame):
            if signum == signal.SIGINT and self._stop_requested:
                raise KeyboardInterrupt
            self._stop_requested = True
            self._stop_signum = signum
            if signum == signal.SIGINT and self.is_main:
                print(
                    f"\ncgan-zoo: Ctrl-C: stopping after step {self.step + 1} and writing a "
                    "checkpoint (press Ctrl-C again to quit without one)",
                    file=sys.stderr,
                )

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}

        def restore() -> None:
            for sig, old in previous.items():
                signal.signal(sig, old)

        return restore

    def request_stop(self) -> None:
        """Stop at the next step boundary (what SIGTERM does)."""
        self._stop_requested = True


# ---------------------------------------------------------------------- RNG state helpers
def _python_rng_state() -> list[Any]:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def _to_tuple(state: list[Any]) -> tuple:
    version, internal, gauss = state
    return (int(version), tuple(int(v) for v in internal), gauss)


def _numpy_rng_state() -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"name": name, "keys": torch.from_numpy(np.asarray(keys).astype(np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached": float(cached)}


def _numpy_state_from(state: dict[str, Any]) -> tuple:
    keys = state["keys"].numpy().astype(np.uint32)
    return (state["name"], keys, int(state["pos"]), int(state["has_gauss"]), float(state["cached"]))


def _fix_optimizer_state(state: dict[str, Any]) -> dict[str, Any]:
    """JSON turns integer param ids into strings; turn them back."""
    return {
        "state": {int(k): v for k, v in state["state"].items()},
        "param_groups": [
            {**g, "params": [int(p) for p in g["params"]], "betas": tuple(g["betas"])} if "betas" in g else g
            for g in state["param_groups"]
        ],
    }

