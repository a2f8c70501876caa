"""Training feedback and stops: Ctrl-C/SIGTERM checkpoint the last step and exit non-zero with
the CLI's --resume hint; --resume without a checkpoint says so; a run folder of another
model is refused; validation numbers are printed; sample grids are labelled; the progress
bar shows the current step's losses."""

from __future__ import annotations

import csv
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cgan_zoo import InvalidConfigError
from cgan_zoo.cli import main
from cgan_zoo.training import LambdaCallback, Pix2PixTrainer, latest_checkpoint
from cgan_zoo.training.checkpoint import checkpoint_info

sys.path.insert(0, str(Path(__file__).parent))
from _trainer_utils import ToyColorization, tiny_config  # noqa: E402


def _stop_at(step: int, signum: int) -> LambdaCallback:
    def on_step_end(trainer, s, logs):
        if s == step:
            signal.raise_signal(signum)

    return LambdaCallback(on_step_end=on_step_end)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_checkpoints_the_last_completed_step(tmp_path, signum, capsys):
    cfg = tiny_config(tmp_path / "run", steps=50)
    trainer = Pix2PixTrainer(cfg, train_dataset=ToyColorization(), callbacks=[_stop_at(2, signum)])
    trainer.fit(progress=False)
    assert trainer.step == 2 and trainer.stop_signal == signum
    path = latest_checkpoint(tmp_path / "run" / "checkpoints")
    assert path is not None and checkpoint_info(path)["step"] == 2
    with open(tmp_path / "run" / "metrics.csv") as fh:
        assert [int(r["step"]) for r in csv.DictReader(fh)] == [1, 2]
    err = capsys.readouterr().err
    assert signal.Signals(signum).name in err and "fit(resume=True)" in err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored


def _photos(folder: Path, n: int = 4) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return folder


def _train_args(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "train", "--data", str(tmp_path / "photos"), "--out", str(tmp_path / "run"),
        "--model", "unet_tiny", "--steps", "20", "--batch-size", "2", "--crop-size", "32",
        "--no-progress", "--set", "discriminator=patchgan_tiny", "--set", "tensorboard=false",
        "--set", "sample_every=0", "--set", "ema_decay=0", *extra,
    ]


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_cli_stop_exits_non_zero_with_the_resume_flag(tmp_path, monkeypatch, capsys, signum, code):
    _photos(tmp_path / "photos")
    original = Pix2PixTrainer.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.callbacks.append(_stop_at(2, signum))

    monkeypatch.setattr(Pix2PixTrainer, "__init__", init)
    assert main(_train_args(tmp_path)) == code
    err = capsys.readouterr().err
    assert "at step 2 of 20" in err and "run the same command with --resume" in err
    assert "resume=True" not in err
    assert checkpoint_info(latest_checkpoint(tmp_path / "run" / "checkpoints"))["step"] == 2


def test_resume_without_checkpoint_says_so(tmp_path, capsys):
    _photos(tmp_path / "photos")
    assert main(_train_args(tmp_path, "--resume", "--steps", "1")) == 0
    out = capsys.readouterr().out
    assert "no checkpoint" in out and "starting a new run at step 0" in out


def test_run_folder_of_another_model_is_refused(tmp_path):
    Pix2PixTrainer(tiny_config(tmp_path / "run", steps=1, ckpt_every=1),
                   train_dataset=ToyColorization()).fit(progress=False)
    other = tiny_config(tmp_path / "run", steps=1, generator="timm_unet_tiny")
    for resume in (False, True):
        with pytest.raises(InvalidConfigError, match="holds checkpoints of another model"):
            Pix2PixTrainer(other, train_dataset=ToyColorization()).fit(resume=resume, progress=False)


def test_validation_numbers_are_printed(tmp_path, capsys):
    cfg = tiny_config(tmp_path / "run", steps=2, val_every=2)
    Pix2PixTrainer(cfg, train_dataset=ToyColorization(), val_dataset=ToyColorization(2)).fit(
        progress=False
    )
    out = capsys.readouterr().out
    assert "step 2:" in out and "val_l1=" in out and "val_psnr=" in out


def test_sample_grid_has_column_labels(tmp_path):
    trainer = Pix2PixTrainer(tiny_config(tmp_path / "run"), train_dataset=ToyColorization())
    batch = {k: v.unsqueeze(0) for k, v in ToyColorization(1)[0].items()}
    with Image.open(trainer.save_samples(tmp_path / "grid.png", batch)) as img:
        grid = np.asarray(img)
    header_rows = grid.shape[0] - 32
    assert header_rows > 0 and grid.shape[1] == 96
    header = grid[:header_rows]
    for col in range(3):  # every column has a label drawn in its header
        assert header[:, col * 32 : (col + 1) * 32].max() > 128


def test_progress_bar_shows_the_current_step(tmp_path, monkeypatch):
    import tqdm.auto

    shown: list[tuple[int, str]] = []

    class Recording(tqdm.auto.tqdm):
        def update(self, n=1):
            result = super().update(n)
            shown.append((self.n, self.postfix or ""))
            return result

    monkeypatch.setattr(tqdm.auto, "tqdm", Recording)
    trainer = Pix2PixTrainer(tiny_config(tmp_path / "run", steps=3), train_dataset=ToyColorization())
    history = trainer.fit(progress=True)
    assert [n for n, _ in shown] == [1, 2, 3]
    for (_, postfix), logs in zip(shown, history):
        assert f"loss_g={logs['loss_g']:.3g}" in postfix
