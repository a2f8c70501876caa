"""``Pix2PixTrainer``: the pix2pix objective with resumable, observable training.

The trainer holds the run's state and drives the loop; the parts live next to it:

* :mod:`~cgan_zoo.training.build`: models, optimisers, losses and datasets from the config;
* :mod:`~cgan_zoo.training.step`: one optimiser step, and skipping a non-finite one;
* :mod:`~cgan_zoo.training.callbacks`: logging, validation and sample grids at step boundaries;
* :mod:`~cgan_zoo.training.checkpoint`: checkpoints, RNG and optimiser states.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import warnings
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn
from torch.utils.data import Dataset

from ..color import input_to_rgb, to_rgb
from ..errors import InvalidConfigError, WeightsError
from ..models.base import require_generator_like
from ..serialization import load_state_dict_strict
from . import build
from . import distributed as dist_utils
from . import step as step_impl
from .callbacks import (
    HEADER_HEIGHT,
    Callback,
    CSVLogger,
    SampleGridCallback,
    TensorBoardLogger,
    ValidationCallback,
    column_header,
    validation_metrics,
    write_sample_grid,
)
from .checkpoint import (
    checkpoint_info,
    latest_checkpoint,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from .config import Pix2PixConfig
from .ema import ModelEMA
from .step import NonFiniteLossError
from .stream import make_loader

# to_rgb, input_to_rgb, column_header and HEADER_HEIGHT lived here before; they are
# re-exported so that ``from cgan_zoo.training.trainer import to_rgb`` keeps working
__all__ = [
    "Pix2PixTrainer",
    "NonFiniteLossError",
    "to_rgb",
    "input_to_rgb",
    "column_header",
    "HEADER_HEIGHT",
]

#: how many recent step logs :attr:`Pix2PixTrainer.history` keeps
HISTORY_WINDOW = 1000


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

        gen = generator if generator is not None else build.build_generator(config, self._log_line)
        self.generator = gen.to(self.device)
        if discriminator is None:
            discriminator = build.build_discriminator(config, self.generator)
        self.discriminator = discriminator.to(self.device)
        if config.channels_last:
            self.generator.to(memory_format=torch.channels_last)
            self.discriminator.to(memory_format=torch.channels_last)
        dist_utils.broadcast_module(self.generator)
        dist_utils.broadcast_module(self.discriminator)

        self.task = config.task
        self.ab_scale = float(require_generator_like(self.generator, "Pix2PixTrainer").ab_scale)
        train_data = (
            train_dataset
            if train_dataset is not None
            else build.build_dataset(config, True, self.ab_scale)
        )
        if train_data is None:
            raise InvalidConfigError(
                "no training data: set config.data_dir or pass train_dataset=..."
            )
        self.train_dataset: Dataset = train_data
        self.val_dataset = (
            val_dataset
            if val_dataset is not None
            else build.build_dataset(config, False, self.ab_scale)
        )
        self.uses_bins = getattr(self.generator, "color_head", "regression") == "bins"
        if self.uses_bins:
            build.init_bin_weights(
                self.generator, self.train_dataset, config.bin_rebalance, self._log_line
            )

        self.opt_g, self.opt_d = build.build_optimizers(config, self.generator, self.discriminator)
        self.ema = ModelEMA(self.generator, config.ema_decay) if config.ema_decay > 0 else None
        use_fp16 = config.amp and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=use_fp16)
        self.amp_dtype = (torch.float16 if use_fp16 else torch.bfloat16) if config.amp else None
        self.adv_loss, self.fm_loss, self.perceptual = build.build_losses(config, self.device)
        self._buffer_guard = step_impl.BufferGuard([self.generator, self.discriminator])

        self.step = 0
        self.samples_seen = 0
        self.nonfinite_total = 0
        self.nonfinite_streak = 0
        self.first_bad: str | None = None
        #: the logs of the latest steps (at most :data:`HISTORY_WINDOW`), oldest first
        self.history: deque[dict[str, float]] = deque(maxlen=HISTORY_WINDOW)
        #: the first batch of the current :meth:`fit`, shown in sample grids without a validation set
        self.sample_batch: dict[str, torch.Tensor] | None = None
        self._stop_requested = False
        self._stop_everywhere: bool | None = None  # set by each step under torchrun
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
        self.callbacks += [ValidationCallback(), SampleGridCallback()]

    def _log_line(self, text: str) -> None:
        if self.rank == 0:
            print(f"cgan-zoo train: {text}", flush=True)

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

    def train_step(self, micro_batches: list[dict[str, torch.Tensor]]) -> dict[str, float]:
        """One optimiser step over ``grad_accum`` micro-batches; returns scalar logs.

        See :func:`cgan_zoo.training.step.train_step`: the step waits for the device
        twice (the input check and one transfer of all losses and gradient norms).
        """
        return step_impl.train_step(self, micro_batches)

    # ------------------------------------------------------------------ validation
    def _eval_model(self) -> nn.Module:
        return self.ema.module if self.ema is not None else self.generator

    def validate(self, max_batches: int | None = None) -> dict[str, float]:
        """L1, PSNR and colorfulness ratio of the (EMA) generator on the validation set."""
        if self.val_dataset is None:
            return {}
        return validation_metrics(
            self._eval_model(),
            self.val_dataset,
            task=self.task,
            ab_scale=self.ab_scale,
            batch_size=self.config.batch_size,
            max_batches=max_batches if max_batches is not None else self.config.val_batches,
            prepare=self._to_device,
            autocast=self._autocast,
        )

    def save_samples(
        self, path: str | os.PathLike, batch: dict[str, torch.Tensor], max_images: int = 4
    ) -> Path:
        """Write a PNG grid with one row per image under a header row: input | output | target."""
        return write_sample_grid(
            path,
            self._eval_model(),
            batch,
            task=self.task,
            ab_scale=self.ab_scale,
            max_images=max_images,
        )

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where training stopped."""
        return {
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": rng_state(),
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
        load_state_dict_strict(
            self.discriminator, state["discriminator"], source="checkpoint discriminator"
        )
        if self.ema is not None and state.get("ema") is not None:
            load_state_dict_strict(self.ema.module, state["ema"], source="checkpoint EMA")
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        set_rng_state(state["rng"])
        self.step = int(state["step"])
        self.samples_seen = int(state["samples_seen"])
        self.nonfinite_total = int(state.get("nonfinite_total", 0))

    def save_checkpoint(self) -> Path | None:
        """Write ``out_dir/checkpoints/ckpt-<step>.safetensors`` atomically (main process only)."""
        if not self.is_main:
            return None
        path = save_checkpoint(
            self.state_dict(),
            self.out_dir / "checkpoints",
            self.step,
            keep=self.config.keep_checkpoints,
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
            raise WeightsError(
                f"checkpoint {str(path)!r} was trained for task {state['config'].get('task')!r}."
            )
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
            theirs_name = (info.get("config") or {}).get("init") or (info.get("config") or {}).get(
                "generator"
            )
            ours_name = self.config.init or self.config.generator
            raise InvalidConfigError(
                f"run folder {str(self.out_dir)!r} holds checkpoints of another model "
                f"({theirs_class} {theirs_name!r} at step {info.get('step')}), but this run trains "
                f"{ours_class} {ours_name!r}; mixing them would corrupt the run. Use another output "
                "folder (--out), or the same model to continue it."
            )

    def save_generator(self, folder: str | os.PathLike | None = None, use_ema: bool = True) -> Path:
        """Save the (EMA) generator as a ``save_pretrained`` folder (config + safetensors).

        Args:
            folder: Where to write; default ``out_dir/generator``.
            use_ema: Save the EMA weights when the run keeps them.

        Returns:
            The folder, loadable with :meth:`cgan_zoo.HubModel.from_pretrained` and
            :class:`~cgan_zoo.pipelines.Colorizer`. (To write ONNX or TorchScript, see
            :func:`cgan_zoo.export.export_generator`.)
        """
        folder = Path(folder) if folder is not None else self.out_dir / "generator"
        model = self.ema.module if (use_ema and self.ema is not None) else self.generator
        model = model.to(memory_format=torch.contiguous_format)
        cast(Any, model).save_pretrained(folder)
        if self.config.channels_last:
            model.to(memory_format=torch.channels_last)
        return folder

    def export_generator(
        self, folder: str | os.PathLike | None = None, use_ema: bool = True
    ) -> Path:
        """Deprecated alias of :meth:`save_generator` (removed in the next release).

        ``cgan_zoo.export.export_generator`` writes ONNX/TorchScript files; this method
        writes a ``save_pretrained`` folder, hence the new name.
        """
        warnings.warn(
            "Pix2PixTrainer.export_generator() is deprecated and will be removed in the next release; "
            "use Pix2PixTrainer.save_generator(), which writes the same save_pretrained folder.",
            FutureWarning,
            stacklevel=2,
        )
        return self.save_generator(folder, use_ema=use_ema)

    # ------------------------------------------------------------------ fit
    def fit(
        self, steps: int | None = None, resume: bool = False, progress: bool = True
    ) -> list[dict[str, float]]:
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
            self.train_dataset,
            global_batch=global_batch,
            seed=cfg.seed,
            start=self.samples_seen,
            rank=self.rank,
            world_size=self.world_size,
            num_workers=cfg.num_workers,
        )
        self.sample_batch = None
        self._stop_everywhere = None
        stopped_early = False
        restore = self._install_signal_handlers()
        bar = tqdm(
            total=total,
            initial=self.step,
            disable=not (progress and self.is_main),
            dynamic_ncols=True,
        )
        try:
            it = iter(loader)
            while self.step < total and not self._should_stop():
                micro = [self._to_device(next(it)) for _ in range(cfg.grad_accum)]
                self.samples_seen += global_batch * cfg.grad_accum
                if self.sample_batch is None:
                    self.sample_batch = micro[0]
                logs = self.train_step(micro)
                history.append(logs)
                self.history.append(logs)
                # the postfix first: update() redraws, so the bar shows this step's losses
                bar.set_postfix(
                    {k: f"{v:.3g}" for k, v in logs.items() if k.startswith("loss")}, refresh=False
                )
                bar.update(1)
                for cb in self.callbacks:  # logging, validation, sample grids, the user's
                    cb.on_step_end(self, self.step, logs)
                if cfg.ckpt_every and self.step % cfg.ckpt_every == 0:
                    self.save_checkpoint()
            stopped_early = self.step < total
            if stopped_early or cfg.ckpt_every:
                self.save_checkpoint()
        finally:
            bar.close()
            restore()
        if stopped_early and self._stop_requested:
            self.stop_signal = self._stop_signum
            if self.is_main:
                name = (
                    "request_stop()"
                    if self.stop_signal is None
                    else signal.Signals(self.stop_signal).name
                )
                print(
                    f"cgan-zoo: stopped by {name} at step {self.step} of {total}; checkpoint written "
                    f"to {str(self.out_dir / 'checkpoints')!r}. To continue, {self.resume_hint}.",
                    file=sys.stderr,
                )
        for cb in self.callbacks:
            cb.on_fit_end(self)
        return history

    def _should_stop(self) -> bool:
        """Whether any process was asked to stop (all ranks agree, so none hangs).

        Under torchrun each step's own all-reduce carries the stop flags; only before
        the first step (or after a step that did not reduce) is a separate one needed.
        """
        if self.world_size <= 1:
            return self._stop_requested
        if self._stop_everywhere is not None:
            stop, self._stop_everywhere = self._stop_everywhere, None
            return stop
        return dist_utils.any_rank(self._stop_requested, self.world_size, self.device)

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
