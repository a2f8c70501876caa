"""Training survives crashes: SIGKILL mid-checkpoint, SIGTERM mid-run, NaN losses.

* Kill test: a forked child saves checkpoints of a real tiny trainer in a loop and is
  SIGKILLed at a random point of the save cycle. After every kill the newest complete
  checkpoint loads, holds the step its name says, is no older than the last save the
  child reported as finished, and a fresh trainer resumes from it (which deletes the
  temp files the killed save left behind) and trains one more step.
* SIGTERM test: two interrupted runs lose no completed step: the CSV log holds every step
  exactly once and its last step is the checkpoint's.
* NaN test: injected NaN losses/activations are skipped and logged (``skipped`` column),
  leave every parameter finite, and too many in a row abort naming the first bad module.

``CGAN_KILLS=50 pytest tests/test_crash_safety.py`` runs more kills; the ``slow`` test runs 50.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from cgan_zoo.training import NonFiniteLossError, Pix2PixTrainer, latest_checkpoint
from cgan_zoo.training.checkpoint import list_checkpoints, load_checkpoint

sys.path.insert(0, str(Path(__file__).parent))
from _trainer_utils import ToyColorization, tiny_config  # noqa: E402

TESTS_DIR = str(Path(__file__).parent)
DEFAULT_KILLS = int(os.environ.get("CGAN_KILLS", "20"))
pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")


def _temp_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp-*"))


def _all_finite(trainer: Pix2PixTrainer, buffers: bool = True) -> bool:
    """Parameters (of G, D and the EMA), optimiser states and, optionally, buffers are finite."""
    modules = [trainer.generator, trainer.discriminator] + ([trainer.ema.module] if trainer.ema is not None else [])
    tensors = [p for m in modules for p in m.parameters()]
    if buffers:
        tensors += [b for m in modules for b in m.buffers()]
    for opt in (trainer.opt_g, trainer.opt_d):
        for st in opt.state.values():
            tensors += [v for v in st.values() if isinstance(v, torch.Tensor)]
    return all(bool(torch.isfinite(t).all()) for t in tensors if t.is_floating_point())


# --------------------------------------------------------------------------- kill during save


@dataclass
class KillReport:
    """What the kill loop saw."""

    kills: int = 0
    resumes: int = 0
    temp_files_left: int = 0  # kills that landed between the temp file's creation and its rename
    newer_than_reported: int = 0  # kills that landed after a rename, before the child reported it
    steps: list[int] = field(default_factory=list)
    seconds: float = 0.0


def _saver_child(trainer: Pix2PixTrainer, first_step: int, write_fd: int, stall: bool) -> None:
    """Runs in the forked child: save checkpoints forever, reporting each finished step."""
    try:
        warnings.simplefilter("ignore")
        if stall:  # block inside the atomic write, after the temp file exists
            def stalled_fsync(fd):
                os.write(write_fd, b"writing\n")
                time.sleep(60)

            os.fsync = stalled_fsync
        step = first_step
        while True:
            trainer.step = step
            with torch.no_grad():  # realistic: every checkpoint holds other weights
                trainer.generator.head[1].bias.add_(0.001)
            trainer.save_checkpoint()
            os.write(write_fd, f"{step}\n".encode())
            step += 1
    finally:
        os._exit(3)


def _read_some(fd: int, timeout: float) -> bytes:
    """One read from a pipe: what is there within ``timeout`` (b"" on timeout or end of file)."""
    import select

    ready, _, _ = select.select([fd], [], [], timeout)
    return os.read(fd, 65536) if ready else b""


def _fork_and_kill(trainer: Pix2PixTrainer, first_step: int, delay: float, stall: bool = False) -> tuple[list[int], bytes]:
    """Fork a saver, wait for its first finished save (or the stall), sleep ``delay``, SIGKILL it."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        _saver_child(trainer, first_step, write_fd, stall)
    os.close(write_fd)
    try:
        received = b""
        deadline = time.monotonic() + 60
        while b"\n" not in received and time.monotonic() < deadline:
            received += _read_some(read_fd, 0.5)
        assert b"\n" in received, "the saver child never finished a save"
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
        while chunk := _read_some(read_fd, 1.0):  # everything it reported before it died
            received += chunk
    finally:
        os.close(read_fd)
    lines = received.decode().split()
    return [int(x) for x in lines if x.isdigit()], received


def run_kill_loop(root: Path, kills: int, resume_every: int = 1, seed: int = 0) -> KillReport:
    """Kill a checkpoint-saving child ``kills`` times; check and resume after each kill."""
    start = time.perf_counter()
    rng = random.Random(seed)
    run_dir = root / "run"
    folder = run_dir / "checkpoints"
    torch.manual_seed(seed)
    trainer = Pix2PixTrainer(tiny_config(run_dir, steps=1, keep_checkpoints=2), train_dataset=ToyColorization())
    trainer.fit(progress=False)  # optimiser states exist: a realistic checkpoint
    timings = []
    for _ in range(3):
        t = time.perf_counter()
        trainer.save_checkpoint()
        timings.append(time.perf_counter() - t)
    cycle = sorted(timings)[1]
    for p in list_checkpoints(folder):
        p.unlink()
    report = KillReport()
    next_step = 1
    for k in range(kills):
        finished, _ = _fork_and_kill(trainer, next_step, rng.uniform(0.0, 2.0 * cycle))
        report.kills += 1
        assert finished, "no save finished before the kill"
        left = _temp_files(folder)
        report.temp_files_left += bool(left)
        # the newest complete checkpoint: at least the last reported one, never a torn file
        names = [p.name for p in list_checkpoints(folder)]
        newest = latest_checkpoint(folder)  # also deletes the stale temp files
        assert newest is not None, names
        step = int(newest.stem.split("-")[1])
        assert step in (finished[-1], finished[-1] + 1), (finished[-3:], names)
        report.newer_than_reported += step == finished[-1] + 1
        state = load_checkpoint(newest)
        assert state["step"] == step
        assert not _temp_files(folder), "stale temp files survived the next start"
        report.steps.append(step)
        if k % resume_every == 0 or k == kills - 1:
            resumed = Pix2PixTrainer(tiny_config(run_dir, steps=step + 1), train_dataset=ToyColorization())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                history = resumed.fit(resume=True, progress=False)
            assert resumed.step == step + 1 and len(history) == 1 and history[0]["skipped"] == 0.0
            assert _all_finite(resumed)
            report.resumes += 1
        next_step = step + 1
    report.seconds = time.perf_counter() - start
    return report


def test_sigkill_during_checkpoint_saves(tmp_path):
    report = run_kill_loop(tmp_path, DEFAULT_KILLS, resume_every=1, seed=1)
    print(f"\n{report}")
    assert report.kills >= 20 and report.resumes >= 5
    assert report.steps == sorted(report.steps)  # progress is never lost between kills


@pytest.mark.slow
def test_sigkill_during_checkpoint_saves_many(tmp_path):
    report = run_kill_loop(tmp_path, 50, resume_every=1, seed=2)
    print(f"\n{report}")
    assert report.kills == 50 and report.resumes == 50
    assert report.temp_files_left > 0  # some kills did land mid-write


def test_sigkill_while_the_temp_file_is_being_written(tmp_path):
    """Deterministic: the child blocks inside the atomic write (fsync), then dies."""
    run_dir = tmp_path / "run"
    folder = run_dir / "checkpoints"
    trainer = Pix2PixTrainer(tiny_config(run_dir, steps=2, keep_checkpoints=2), train_dataset=ToyColorization())
    trainer.fit(progress=False)
    good = trainer.save_checkpoint()
    _, received = _fork_and_kill(trainer, 3, delay=0.05, stall=True)
    assert b"writing" in received
    assert _temp_files(folder), "the stalled save left no temp file"
    assert list_checkpoints(folder) == [good]
    resumed = Pix2PixTrainer(tiny_config(run_dir, steps=3), train_dataset=ToyColorization())
    resumed.fit(resume=True, progress=False)
    assert resumed.step == 3 and not _temp_files(folder)


# --------------------------------------------------------------------------- SIGTERM

SIGTERM_SCRIPT = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    import torch
    torch.set_num_threads(1)
    from _trainer_utils import ToyColorization, tiny_config
    from cgan_zoo.training import LambdaCallback, Pix2PixTrainer

    def on_step_end(trainer, step, logs):
        print("step", step, flush=True)
        time.sleep(0.05)

    cfg = tiny_config({out!r}, steps=10_000, ckpt_every=0)
    trainer = Pix2PixTrainer(cfg, train_dataset=ToyColorization(), callbacks=[LambdaCallback(on_step_end=on_step_end)])
    trainer.fit(resume=True, progress=False)
    print("exited at", trainer.step, flush=True)
    """
)


def _train_until_sigterm(script: Path, after_steps: int, rng: random.Random) -> int:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    seen = 0
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            if line.startswith("step"):
                seen += 1
                if seen >= after_steps:
                    time.sleep(rng.uniform(0.0, 0.12))  # anywhere in the next step
                    proc.send_signal(signal.SIGTERM)
                    break
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    return int(out.strip().splitlines()[-1].split()[-1])


def test_sigterm_twice_loses_no_completed_step(tmp_path):
    rng = random.Random(5)
    run_dir = tmp_path / "run"
    script = tmp_path / "train.py"
    script.write_text(SIGTERM_SCRIPT.format(tests=TESTS_DIR, out=str(run_dir)))
    first = _train_until_sigterm(script, rng.randint(2, 4), rng)
    second = _train_until_sigterm(script, rng.randint(2, 3), rng)
    assert second > first >= 2
    ckpt = latest_checkpoint(run_dir / "checkpoints")
    assert ckpt is not None and load_checkpoint(ckpt)["step"] == second
    with open(run_dir / "metrics.csv", newline="") as fh:
        steps = [int(row["step"]) for row in csv.DictReader(fh)]
    # every completed step logged exactly once, across both interruptions, ending at the checkpoint
    assert steps == list(range(1, second + 1)), steps


# --------------------------------------------------------------------------- NaN losses


def _csv_rows(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "metrics.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_injected_nan_losses_are_skipped_logged_and_leave_weights_finite(tmp_path, monkeypatch):
    import cgan_zoo.losses as losses

    real = losses.weighted_l1_loss
    bad_steps = {2, 3, 6}
    trainer = Pix2PixTrainer(tiny_config(tmp_path, steps=8, max_nonfinite=3), train_dataset=ToyColorization())

    def poisoned(pred, target, weight=None):
        loss = real(pred, target, weight)
        return loss * float("nan") if trainer.step in bad_steps else loss

    monkeypatch.setattr(losses, "weighted_l1_loss", poisoned)
    with pytest.warns(RuntimeWarning, match=r"non-finite loss or gradient, step skipped.*first bad: the loss computation"):
        history = trainer.fit(progress=False)
    assert trainer.step == 8 and trainer.nonfinite_total == len(bad_steps)
    assert [i for i, h in enumerate(history) if h["skipped"]] == sorted(bad_steps)
    assert _all_finite(trainer)
    rows = _csv_rows(tmp_path)
    assert [int(r["step"]) for r in rows] == list(range(1, 9))
    assert [int(r["step"]) - 1 for r in rows if float(r["skipped"]) == 1.0] == sorted(bad_steps)
    assert all(float(r["skipped"]) == 0.0 for r in rows if int(r["step"]) - 1 not in bad_steps)


def test_persistent_nan_loss_aborts_after_the_limit(tmp_path, monkeypatch):
    import cgan_zoo.losses as losses

    real = losses.weighted_l1_loss
    trainer = Pix2PixTrainer(tiny_config(tmp_path, steps=20, max_nonfinite=4), train_dataset=ToyColorization())
    monkeypatch.setattr(
        losses, "weighted_l1_loss", lambda p, t, w=None: real(p, t, w) * (float("nan") if trainer.step >= 3 else 1.0)
    )
    with pytest.warns(RuntimeWarning), pytest.raises(
        NonFiniteLossError, match=r"4 consecutive steps .*max_nonfinite=4.*first bad value appeared in the loss computation"
    ):
        trainer.fit(progress=False)
    assert trainer.nonfinite_total == 4 and _all_finite(trainer)
    rows = _csv_rows(tmp_path)
    assert [float(r["skipped"]) for r in rows] == [0.0] * 3 + [1.0] * 3  # the 4th aborts before logging


def test_nan_activation_is_traced_to_its_module(tmp_path):
    trainer = Pix2PixTrainer(tiny_config(tmp_path, steps=20, max_nonfinite=3), train_dataset=ToyColorization())
    poisoned_steps = {1}  # one transient step, then from step 4 on: permanent

    def hook(module, inputs, output):
        if trainer.step in poisoned_steps or trainer.step >= 4:
            return output * float("nan")
        return output

    trainer.generator.up_blocks[1].register_forward_hook(hook)
    with pytest.warns(RuntimeWarning, match=r"first bad: generator\.up_blocks\.1 \(output\)"), pytest.raises(
        NonFiniteLossError, match=r"3 consecutive steps.*first bad value appeared in generator\.up_blocks\.1 \(output\)"
    ):
        trainer.fit(progress=False)
    assert trainer.nonfinite_total == 4  # the transient one plus the three in a row
    assert _all_finite(trainer, buffers=False)
    skipped = [int(r["step"]) - 1 for r in _csv_rows(tmp_path) if float(r["skipped"]) == 1.0]
    assert skipped == [1, 4, 5]


def test_skipped_step_leaves_batchnorm_statistics_finite(tmp_path):
    trainer = Pix2PixTrainer(tiny_config(tmp_path, steps=3), train_dataset=ToyColorization())

    def hook(module, inputs, output):
        return output * float("nan") if trainer.step == 1 else output

    trainer.generator.up_blocks[1].register_forward_hook(hook)
    with pytest.warns(RuntimeWarning):
        history = trainer.fit(progress=False)
    assert [h["skipped"] for h in history] == [0.0, 1.0, 0.0]
    assert _all_finite(trainer, buffers=False)
    assert _all_finite(trainer), "non-finite buffers after a skipped step"
    trainer.generator.eval()
    with torch.no_grad():
        assert torch.isfinite(trainer.generator(torch.rand(1, 1, 32, 32))).all()
