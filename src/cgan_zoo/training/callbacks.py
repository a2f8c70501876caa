"""Training callbacks: the hooks, the loggers (CSV, TensorBoard), validation and sample grids.

:class:`~cgan_zoo.training.Pix2PixTrainer` calls every callback at step boundaries. It
adds the built-in ones itself: :class:`CSVLogger`, :class:`TensorBoardLogger` (when
enabled), :class:`ValidationCallback` (every ``val_every`` steps) and
:class:`SampleGridCallback` (every ``sample_every`` steps).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch
    from torch import nn
    from torch.utils.data import Dataset

    from .trainer import Pix2PixTrainer

__all__ = [
    "Callback",
    "LambdaCallback",
    "CSVLogger",
    "TensorBoardLogger",
    "ValidationCallback",
    "SampleGridCallback",
    "validation_metrics",
    "write_sample_grid",
    "column_header",
]


class Callback:
    """Base class: override any hook. Every hook receives the trainer.

    Example:
        >>> class PrintLoss(Callback):
        ...     def on_step_end(self, trainer, step, logs):
        ...         if step % 100 == 0:
        ...             print(step, logs["loss_g"])
    """

    def on_fit_start(self, trainer: Pix2PixTrainer) -> None:
        """Called once before the first step of :meth:`Pix2PixTrainer.fit`."""

    def on_step_end(self, trainer: Pix2PixTrainer, step: int, logs: dict[str, float]) -> None:
        """Called after every step with that step's scalar logs."""

    def on_validation_end(
        self, trainer: Pix2PixTrainer, step: int, metrics: dict[str, float]
    ) -> None:
        """Called after each validation pass."""

    def on_checkpoint(self, trainer: Pix2PixTrainer, path: Path) -> None:
        """Called after a checkpoint has been written."""

    def on_fit_end(self, trainer: Pix2PixTrainer) -> None:
        """Called once when :meth:`Pix2PixTrainer.fit` returns."""


class LambdaCallback(Callback):
    """A callback built from plain functions, e.g. ``LambdaCallback(on_step_end=f)``.

    Example:
        >>> cb = LambdaCallback(on_step_end=lambda trainer, step, logs: print(step, logs["loss_g"]))
        >>> cb.on_step_end(None, 3, {"loss_g": 0.5})
        3 0.5
    """

    def __init__(self, **hooks: Any) -> None:
        for name, fn in hooks.items():
            if not hasattr(Callback, name):
                raise TypeError(
                    f"unknown callback hook {name!r}; valid hooks: "
                    f"{[n for n in dir(Callback) if n.startswith('on_')]}"
                )
            setattr(self, name, fn)


class CSVLogger(Callback):
    """Append step logs to ``out_dir/metrics.csv`` and validation to ``val_metrics.csv``.

    New columns are added by rewriting the header when a new key appears.
    :class:`~cgan_zoo.training.Pix2PixTrainer` adds one for its ``out_dir`` itself.

    Example:
        >>> import tempfile, types
        >>> folder = tempfile.mkdtemp()
        >>> trainer = types.SimpleNamespace(config=types.SimpleNamespace(log_every=1))
        >>> CSVLogger(folder).on_step_end(trainer, 1, {"loss_g": 0.5})
        >>> print(open(folder + "/metrics.csv").read().strip())
        step,loss_g
        1,0.5
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def _append(self, name: str, row: dict[str, Any]) -> None:
        path = self.folder / name
        self.folder.mkdir(parents=True, exist_ok=True)
        rows: list[dict[str, Any]] = []
        fieldnames: list[str] = []
        if path.exists():
            with open(path, newline="") as fh:
                reader = csv.DictReader(fh)
                fieldnames = list(reader.fieldnames or [])
                if any(k not in fieldnames for k in row):
                    rows = list(reader)
        new_keys = [k for k in row if k not in fieldnames]
        if new_keys and path.exists():
            fieldnames += new_keys
            with open(path, "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=fieldnames)
                writer.writeheader()
                writer.writerows(rows)
        elif not path.exists():
            fieldnames = list(row)
            with open(path, "w", newline="") as fh:
                csv.DictWriter(fh, fieldnames=fieldnames).writeheader()
        with open(path, "a", newline="") as fh:
            csv.DictWriter(fh, fieldnames=fieldnames).writerow(row)

    def on_step_end(self, trainer: Pix2PixTrainer, step: int, logs: dict[str, float]) -> None:
        every = trainer.config.log_every
        if every and step % every == 0:
            self._append("metrics.csv", {"step": step, **logs})

    def on_validation_end(
        self, trainer: Pix2PixTrainer, step: int, metrics: dict[str, float]
    ) -> None:
        self._append("val_metrics.csv", {"step": step, **metrics})


class TensorBoardLogger(Callback):
    """Log scalars to TensorBoard under ``out_dir/tb`` (needs the ``tensorboard`` package).

    :class:`~cgan_zoo.training.Pix2PixTrainer` adds one itself when
    ``config.tensorboard`` is true and TensorBoard is installed.

    Example:
        >>> from cgan_zoo.training import Pix2PixConfig, Pix2PixTrainer
        >>> config = Pix2PixConfig(data_dir="photos", out_dir="runs/a", tensorboard=False)
        >>> trainer = Pix2PixTrainer(config, callbacks=[TensorBoardLogger("runs/a")])  # doctest: +SKIP
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(Path(folder) / "tb"))

    def on_step_end(self, trainer: Pix2PixTrainer, step: int, logs: dict[str, float]) -> None:
        every = trainer.config.log_every
        if every and step % every == 0:
            for k, v in logs.items():
                self.writer.add_scalar(f"train/{k}", v, step)

    def on_validation_end(
        self, trainer: Pix2PixTrainer, step: int, metrics: dict[str, float]
    ) -> None:
        for k, v in metrics.items():
            self.writer.add_scalar(f"val/{k}", v, step)

    def on_fit_end(self, trainer: Pix2PixTrainer) -> None:
        self.writer.flush()


def validation_metrics(
    model: nn.Module,
    dataset: Dataset,
    *,
    task: str,
    ab_scale: float,
    batch_size: int,
    max_batches: int,
    prepare: Any = None,
    autocast: Any = None,
) -> dict[str, float]:
    """L1, PSNR and colorfulness ratio of ``model`` (in eval mode) on ``dataset``.

    Args:
        prepare: Moves a batch to the model's device (default: unchanged).
        autocast: A context-manager factory for the forward (default: none).
        max_batches: Stop after this many batches (0 = all).

    Example:
        >>> import torch
        >>> from cgan_zoo import create_model
        >>> data = [{"input": torch.zeros(1, 32, 32), "target": torch.zeros(2, 32, 32)}] * 2
        >>> sorted(validation_metrics(create_model("unet_tiny"), data, task="colorize", ab_scale=110.0,
        ...                           batch_size=2, max_batches=1))
        ['val_colorfulness_ratio', 'val_l1', 'val_psnr']
    """
    import contextlib

    import torch
    from torch.utils.data import DataLoader

    from ..color import to_rgb
    from ..metrics import colorfulness, psnr

    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    l1s, psnrs, cf_out, cf_ref = [], [], [], []
    with torch.no_grad():
        for i, batch in enumerate(loader):
            if max_batches and i >= max_batches:
                break
            batch = prepare(batch) if prepare is not None else batch
            x, y = batch["input"], batch["target"]
            with autocast() if autocast is not None else contextlib.nullcontext():
                fake = model(x).float()
            l1s.append((fake - y).abs().mean(dim=(1, 2, 3)))
            rgb_fake, rgb_real = to_rgb(task, x, fake, ab_scale), to_rgb(task, x, y, ab_scale)
            psnrs.append(psnr(rgb_fake, rgb_real))
            cf_out.append(colorfulness(rgb_fake))
            cf_ref.append(colorfulness(rgb_real))
    if not l1s:
        return {}
    l1, value, out, ref = (torch.cat(v).mean() for v in (l1s, psnrs, cf_out, cf_ref))
    l1_f, psnr_f, out_f, ref_f = torch.stack([l1, value, out, ref]).tolist()  # one wait
    return {
        "val_l1": l1_f,
        "val_psnr": psnr_f,
        "val_colorfulness_ratio": out_f / ref_f if ref_f > 0 else float("nan"),
    }


#: height in pixels of the label row above sample grids
HEADER_HEIGHT = 14


def column_header(labels: Sequence[str], column_width: int) -> np.ndarray:
    """A white-on-black label row, one label centred over each column of a sample grid.

    Example:
        >>> column_header(("input", "output"), 40).shape
        (14, 80, 3)
    """
    import numpy as np
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (column_width * len(labels), HEADER_HEIGHT))
    draw = ImageDraw.Draw(image)
    for i, label in enumerate(labels):
        left, top, right, bottom = draw.textbbox((0, 0), label)
        x = i * column_width + max(0, (column_width - (right - left)) // 2)
        draw.text((x, (HEADER_HEIGHT - (bottom - top)) // 2 - top), label, fill=(255, 255, 255))
    return np.asarray(image)


def write_sample_grid(
    path: str | os.PathLike,
    model: nn.Module,
    batch: dict[str, torch.Tensor],
    *,
    task: str,
    ab_scale: float,
    max_images: int = 4,
) -> Path:
    """Write a PNG grid with one row per image under a header row: input | output | target.

    Example:
        >>> import tempfile, torch
        >>> from cgan_zoo import create_model
        >>> batch = {"input": torch.zeros(1, 1, 32, 32), "target": torch.zeros(1, 2, 32, 32)}
        >>> path = write_sample_grid(tempfile.mkdtemp() + "/grid.png", create_model("unet_tiny"), batch,
        ...                          task="colorize", ab_scale=110.0)
        >>> path.suffix
        '.png'
    """
    import numpy as np
    import torch
    from PIL import Image

    from ..color import input_to_rgb, to_rgb, to_uint8

    model.eval()
    x, y = batch["input"][:max_images], batch["target"][:max_images]
    with torch.no_grad():
        fake = model(x).float()
    rows = torch.cat(
        [input_to_rgb(task, x), to_rgb(task, x, fake, ab_scale), to_rgb(task, x, y, ab_scale)],
        dim=3,
    )
    grid = torch.cat(list(rows), dim=1)  # (3, rows*H, 3*W)
    array = to_uint8(grid.permute(1, 2, 0).float()).cpu().numpy()
    header = column_header(("input", "output", "target"), column_width=x.shape[-1])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate([header, array], axis=0)).save(path)
    return path


class ValidationCallback(Callback):
    """Every ``config.val_every`` steps: validate, print the numbers, tell the other callbacks.

    Under ``torchrun`` every process first joins the averaging of BatchNorm statistics;
    then the main process evaluates the (EMA) generator with
    :meth:`~cgan_zoo.training.Pix2PixTrainer.validate` and calls every callback's
    ``on_validation_end``.

    Example:
        >>> from cgan_zoo.training import Pix2PixConfig, Pix2PixTrainer
        >>> trainer = Pix2PixTrainer(Pix2PixConfig(data_dir="photos"))  # doctest: +SKIP
        >>> any(isinstance(cb, ValidationCallback) for cb in trainer.callbacks)  # doctest: +SKIP
        True
    """

    def on_step_end(self, trainer: Pix2PixTrainer, step: int, logs: dict[str, float]) -> None:
        every = trainer.config.val_every
        if not (every and step % every == 0 and trainer.val_dataset is not None):
            return
        from . import distributed as dist_utils

        dist_utils.average_buffers(trainer.generator, trainer.world_size)  # every rank joins
        if not trainer.is_main:
            return
        metrics = trainer.validate()
        if metrics:
            from tqdm.auto import tqdm

            tqdm.write(f"step {step}: " + "  ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
        for cb in trainer.callbacks:
            cb.on_validation_end(trainer, step, metrics)


class SampleGridCallback(Callback):
    """Every ``config.sample_every`` steps, write ``out_dir/samples/step_<step>.png`` (main process).

    The grid shows the first validation images, or the run's first training batch when
    there is no validation set (see :meth:`~cgan_zoo.training.Pix2PixTrainer.save_samples`).

    Example:
        >>> from cgan_zoo.training import Pix2PixConfig, Pix2PixTrainer
        >>> trainer = Pix2PixTrainer(Pix2PixConfig(data_dir="photos"))  # doctest: +SKIP
        >>> any(isinstance(cb, SampleGridCallback) for cb in trainer.callbacks)  # doctest: +SKIP
        True
    """

    def on_step_end(self, trainer: Pix2PixTrainer, step: int, logs: dict[str, float]) -> None:
        every = trainer.config.sample_every
        if not (every and step % every == 0 and trainer.is_main):
            return
        batch = trainer.sample_batch
        if trainer.val_dataset is not None:
            from torch.utils.data import DataLoader

            batch = trainer._to_device(next(iter(DataLoader(trainer.val_dataset, batch_size=4))))
        if batch is not None:
            trainer.save_samples(trainer.out_dir / "samples" / f"step_{step:08d}.png", batch)
