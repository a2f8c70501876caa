"""Simple training callbacks and the built-in loggers (CSV, TensorBoard)."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .trainer import Pix2PixTrainer

__all__ = ["Callback", "LambdaCallback", "CSVLogger", "TensorBoardLogger"]


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

    def on_validation_end(self, trainer: Pix2PixTrainer, step: int, metrics: dict[str, float]) -> None:
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
                raise TypeError(f"unknown callback hook {name!r}; valid hooks: "
                                f"{[n for n in dir(Callback) if n.startswith('on_')]}")
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

    def on_validation_end(self, trainer: Pix2PixTrainer, step: int, metrics: dict[str, float]) -> None:
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

    def on_validation_end(self, trainer: Pix2PixTrainer, step: int, metrics: dict[str, float]) -> None:
        for k, v in metrics.items():
            self.writer.add_scalar(f"val/{k}", v, step)

    def on_fit_end(self, trainer: Pix2PixTrainer) -> None:
        self.writer.flush()
