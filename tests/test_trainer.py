"""Pix2PixTrainer: learning, exact resume, atomic checkpoints, SIGTERM, NaN handling, DDP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from cgan_zoo.errors import InvalidConfigError
from cgan_zoo.training import NonFiniteLossError, Pix2PixConfig, Pix2PixTrainer, latest_checkpoint
from cgan_zoo.training.checkpoint import list_checkpoints, load_checkpoint

sys.path.insert(0, str(Path(__file__).parent))
from _trainer_utils import ToyColorization, tiny_config  # noqa: E402

TESTS_DIR = str(Path(__file__).parent)


def _all_state(trainer: Pix2PixTrainer) -> dict[str, torch.Tensor]:
    out = {f"g.{k}": v for k, v in trainer.generator.state_dict().items()}
    out.update({f"d.{k}": v for k, v in trainer.discriminator.state_dict().items()})
    out.update({f"ema.{k}": v for k, v in trainer.ema.state_dict().items()})
    for i, st in trainer.opt_g.state_dict()["state"].items():
        out.update({f"og.{i}.{k}": v for k, v in st.items() if isinstance(v, torch.Tensor)})
    return out


def test_short_run_lowers_l1(tmp_path):
    cfg = tiny_config(tmp_path, steps=40, lr_g=2e-3, lr_d=2e-4, lambda_gan=0.1, decay_start=1.0, ema_decay=0.0)
    data = ToyColorization(n=8)
    trainer = Pix2PixTrainer(cfg, train_dataset=data)
    history = trainer.fit(progress=False)
    first = sum(h["loss_l1"] for h in history[:5]) / 5
    last = sum(h["loss_l1"] for h in history[-5:]) / 5
    assert last < 0.6 * first, (first, last)
    assert (tmp_path / "metrics.csv").read_text().count("\n") == 41  # header + one row per step


def test_resume_is_bit_exact(tmp_path):
    torch.manual_seed(123)
    straight = Pix2PixTrainer(tiny_config(tmp_path / "a"), train_dataset=ToyColorization())
    straight.fit(progress=False)

    torch.manual_seed(123)
    first = Pix2PixTrainer(tiny_config(tmp_path / "b", ckpt_every=3), train_dataset=ToyColorization())
    first.fit(steps=4, progress=False)
    assert latest_checkpoint(tmp_path / "b" / "checkpoints").name == "ckpt-00000004.safetensors"
    torch.manual_seed(999)  # a fresh process would not share the RNG state
    torch.rand(10)
    second = Pix2PixTrainer(tiny_config(tmp_path / "b", ckpt_every=3), train_dataset=ToyColorization())
    second.fit(resume=True, progress=False)
    assert second.step == straight.step == 6

    a, b = _all_state(straight), _all_state(second)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_resume_without_checkpoint_starts_fresh(tmp_path):
    trainer = Pix2PixTrainer(tiny_config(tmp_path, steps=2), train_dataset=ToyColorization())
    assert trainer.resume() is False
    trainer.fit(resume=True, progress=False)
    assert trainer.step == 2


def test_checkpoint_round_trip_holds_full_state(tmp_path):
    trainer = Pix2PixTrainer(tiny_config(tmp_path, steps=2, ckpt_every=2), train_dataset=ToyColorization())
    trainer.fit(progress=False)
    state = load_checkpoint(latest_checkpoint(tmp_path / "checkpoints"))
    assert set(state) >= {"generator", "discriminator", "ema", "opt_g", "opt_d", "scaler", "rng", "step", "config"}
    assert state["step"] == 2
    assert Pix2PixConfig.from_dict(state["config"]) == trainer.config


def test_interrupted_save_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    trainer = Pix2PixTrainer(tiny_config(tmp_path, steps=2), train_dataset=ToyColorization())
    trainer.fit(progress=False)
    good = trainer.save_checkpoint()
    trainer.step += 1

    def crash(fd):
        raise KeyboardInterrupt("simulated crash during fsync")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        trainer.save_checkpoint()
    monkeypatch.undo()
    folder = tmp_path / "checkpoints"
    assert latest_checkpoint(folder) == good
    assert not list(folder.glob(".*.tmp-*"))
    load_checkpoint(good)


def test_torn_checkpoint_is_ignored_and_stale_temps_cleaned(tmp_path):
    trainer = Pix2PixTrainer(tiny_config(tmp_path, steps=2), train_dataset=ToyColorization())
    trainer.fit(progress=False)
    good = trainer.save_checkpoint()
    folder = tmp_path / "checkpoints"
    torn = folder / "ckpt-00000099.safetensors"
    torn.write_bytes(good.read_bytes()[:100])
    stale = folder / ".ckpt-00000100.safetensors.tmp-abc"
    stale.write_bytes(b"partial")
    assert latest_checkpoint(folder) == good
    assert not stale.exists()


SIGTERM_SCRIPT = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {tests!r})
    from _trainer_utils import ToyColorization, tiny_config
    from cgan_zoo.training import LambdaCallback, Pix2PixTrainer

    def on_step_end(trainer, step, logs):
        print("step", step, flush=True)
        time.sleep(0.2)

    cfg = tiny_config({out!r}, steps=10_000)
    trainer = Pix2PixTrainer(cfg, train_dataset=ToyColorization(), callbacks=[LambdaCallback(on_step_end=on_step_end)])
    trainer.fit(resume=True, progress=False)
    print("exited at", trainer.step, flush=True)
    """
)


def test_sigterm_writes_checkpoint_and_exits_cleanly(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SIGTERM_SCRIPT.format(tests=TESTS_DIR, out=str(tmp_path / "run")))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    steps_seen = 0
    deadline = time.time() + 120
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("step"):
            steps_seen = int(line.split()[1])
            if steps_seen >= 3:
                proc.send_signal(signal.SIGTERM)
                break
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    exited_at = int(out.strip().splitlines()[-1].split()[-1])
    assert exited_at >= steps_seen  # no completed step is lost
    ckpt = latest_checkpoint(tmp_path / "run" / "checkpoints")
    assert ckpt is not None and load_checkpoint(ckpt)["step"] == exited_at


def test_nonfinite_steps_are_skipped_and_counted(tmp_path):
    # with batch_size 2 and 8 samples, the batch holding index 3 is non-finite once per epoch
    cfg = tiny_config(tmp_path, steps=8)
    trainer = Pix2PixTrainer(cfg, train_dataset=ToyColorization(nan_indices=(3,)))
    with pytest.warns(RuntimeWarning, match="non-finite"):
        history = trainer.fit(progress=False)
    skipped = sum(h["skipped"] for h in history)
    assert skipped == trainer.nonfinite_total == 2
    for p in list(trainer.generator.parameters()) + list(trainer.discriminator.parameters()):
        assert torch.isfinite(p).all()
    csv_text = (tmp_path / "metrics.csv").read_text()
    assert csv_text.count(",1.0,") >= 2 or "skipped" in csv_text.splitlines()[0]


def test_nonfinite_limit_aborts_naming_the_source(tmp_path):
    cfg = tiny_config(tmp_path, steps=20, max_nonfinite=3)
    trainer = Pix2PixTrainer(cfg, train_dataset=ToyColorization(nan_indices=tuple(range(8))))
    with pytest.warns(RuntimeWarning), pytest.raises(NonFiniteLossError, match=r"3 consecutive steps.*first bad value appeared in"):
        trainer.fit(progress=False)
    for p in trainer.generator.parameters():
        assert torch.isfinite(p).all()


def test_injected_nan_in_generator_names_module(tmp_path):
    cfg = tiny_config(tmp_path, steps=5, max_nonfinite=2)
    trainer = Pix2PixTrainer(cfg, train_dataset=ToyColorization())
    with torch.no_grad():
        trainer.generator.up_blocks[1][1].weight[0, 0, 0, 0] = float("nan")
    with pytest.warns(RuntimeWarning), pytest.raises(NonFiniteLossError, match=r"up_blocks\.1"):
        trainer.fit(progress=False)


def test_warmup_phase_does_not_touch_discriminator(tmp_path):
    cfg = tiny_config(tmp_path, steps=3, warmup_steps=3)
    trainer = Pix2PixTrainer(cfg, train_dataset=ToyColorization())
    before = {k: v.clone() for k, v in trainer.discriminator.state_dict().items()}
    history = trainer.fit(progress=False)
    assert all("loss_gan" not in h and "loss_d" not in h for h in history)
    for k, v in trainer.discriminator.state_dict().items():
        assert torch.equal(before[k], v), k


def test_grad_accumulation_matches_large_batch(tmp_path):
    common = dict(steps=2, ema_decay=0.0, generator_kwargs={"dropout": 0.0, "norm": "none"},
                  discriminator_kwargs={"norm": "none"}, channels_last=False)
    torch.manual_seed(0)
    big = Pix2PixTrainer(tiny_config(tmp_path / "a", batch_size=4, **common), train_dataset=ToyColorization())
    big.fit(progress=False)
    torch.manual_seed(0)
    acc = Pix2PixTrainer(tiny_config(tmp_path / "b", batch_size=2, grad_accum=2, **common), train_dataset=ToyColorization())
    acc.fit(progress=False)
    for (k, a), b in zip(big.generator.state_dict().items(), acc.generator.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4, msg=k)


def test_save_generator_loads_with_from_pretrained(tmp_path):
    from cgan_zoo import HubModel

    trainer = Pix2PixTrainer(tiny_config(tmp_path, steps=1), train_dataset=ToyColorization())
    trainer.fit(progress=False)
    folder = trainer.save_generator()
    loaded = HubModel.from_pretrained(folder)
    for a, b in zip(loaded.state_dict().values(), trainer.ema.module.state_dict().values()):
        assert torch.equal(a, b)
    assert loaded.config["task"] == "colorize"
    with pytest.warns(FutureWarning, match="save_generator"):  # the old name, for one release
        assert trainer.export_generator(tmp_path / "old") == tmp_path / "old"
    assert (tmp_path / "old" / "config.json").is_file()


def test_history_keeps_a_bounded_window(tmp_path, monkeypatch):
    import cgan_zoo.training.trainer as trainer_module

    monkeypatch.setattr(trainer_module, "HISTORY_WINDOW", 3)
    trainer = Pix2PixTrainer(tiny_config(tmp_path, steps=5, ema_decay=0.0), train_dataset=ToyColorization())
    logs = trainer.fit(progress=False)
    assert len(logs) == 5 and list(trainer.history) == logs[-3:]


def test_legacy_checkpoint_with_string_optimizer_ids_resumes(tmp_path):
    """Checkpoints of format 1 stored optimiser ids as strings and betas as lists."""
    import json

    from safetensors import safe_open
    from safetensors.torch import save_file

    trainer = Pix2PixTrainer(tiny_config(tmp_path / "run", steps=2, ckpt_every=2), train_dataset=ToyColorization())
    trainer.fit(progress=False)
    path = latest_checkpoint(tmp_path / "run" / "checkpoints")
    with safe_open(str(path), "pt") as fh:
        meta = fh.metadata()
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}

    def legacy(obj):  # what format 1 wrote: str keys, lists, no format marker
        if isinstance(obj, dict) and set(obj) == {"__int_keys__"}:
            return {str(k): legacy(v) for k, v in obj["__int_keys__"]}
        if isinstance(obj, dict) and set(obj) == {"__tuple__"}:
            return [legacy(v) for v in obj["__tuple__"]]
        if isinstance(obj, dict):
            return {k: legacy(v) for k, v in obj.items()}
        return [legacy(v) for v in obj] if isinstance(obj, list) else obj

    old = {"cgan_zoo_checkpoint": json.dumps(legacy(json.loads(meta["cgan_zoo_checkpoint"]))), "step": "2"}
    save_file(tensors, str(path), metadata=old)
    state = load_checkpoint(path)
    assert sorted(state["opt_g"]["state"]) == list(range(len(state["opt_g"]["state"])))
    assert isinstance(state["opt_g"]["param_groups"][0]["betas"], tuple)
    resumed = Pix2PixTrainer(tiny_config(tmp_path / "run", steps=3), train_dataset=ToyColorization())
    assert resumed.resume() and resumed.step == 2
    resumed.fit(progress=False)
    assert resumed.step == 3


def test_lr_decays_linearly_to_zero(tmp_path):
    trainer = Pix2PixTrainer(tiny_config(tmp_path, steps=10, decay_start=0.5), train_dataset=ToyColorization())
    factors = [trainer.lr_factor(s) for s in range(10)]
    assert factors[:5] == [1.0] * 5
    assert all(a > b for a, b in zip(factors[5:], factors[6:]))
    # pix2pix rule: 1 - (step - start) / (decay_steps + 1), reaching 0 one step after the end
    assert factors[-1] == pytest.approx(1 - 4 / 6)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"task": "segment"}, "task='segment' is not supported"),
        ({"gan_mode": "relativistic"}, "gan_mode='relativistic'"),
        ({"steps": 0}, "steps must be a positive integer"),
        ({"ema_decay": 1.5}, "ema_decay must be in"),
        ({"missing_fraction": 0.99}, "missing_fraction must be in"),
    ],
)
def test_invalid_config_values(changes, match):
    with pytest.raises(InvalidConfigError, match=match):
        Pix2PixConfig(**changes)


def test_unknown_config_key_lists_valid_keys():
    with pytest.raises(InvalidConfigError, match="unknown config keys \\['lamda_l1'\\]"):
        Pix2PixConfig.from_dict({"lamda_l1": 10})


def test_freeze_encoder_needs_encoder(tmp_path):
    with pytest.raises(InvalidConfigError, match="freeze_encoder=True needs a generator"):
        Pix2PixTrainer(tiny_config(tmp_path, freeze_encoder=True), train_dataset=ToyColorization())


def test_checkpoints_are_pruned(tmp_path):
    trainer = Pix2PixTrainer(tiny_config(tmp_path, steps=6, ckpt_every=1, keep_checkpoints=2), train_dataset=ToyColorization())
    trainer.fit(progress=False)
    names = [p.name for p in list_checkpoints(tmp_path / "checkpoints")]
    assert names == ["ckpt-00000005.safetensors", "ckpt-00000006.safetensors"]


DDP_SCRIPT = textwrap.dedent(
    """
    import sys, torch
    sys.path.insert(0, {tests!r})
    from _trainer_utils import ToyColorization, tiny_config
    from cgan_zoo.training import Pix2PixTrainer
    from cgan_zoo.serialization import save_safetensors
    cfg = tiny_config({out!r}, steps=3, batch_size={batch}, ema_decay=0.0, channels_last=False,
                      generator_kwargs={{"dropout": 0.0, "norm": "none"}},
                      discriminator_kwargs={{"norm": "none"}}, val_every=2)
    # validation runs on rank 0 only: this also proves the other rank does not hang
    trainer = Pix2PixTrainer(cfg, train_dataset=ToyColorization(), val_dataset=ToyColorization(n=2))
    trainer.fit(progress=False)
    if trainer.rank == 0:
        save_safetensors(trainer.generator.state_dict(), {out!r} + "/g.safetensors")
    """
)


def test_two_process_gloo_matches_single_process(tmp_path):
    from cgan_zoo.serialization import load_safetensors

    for name, batch in (("single", 4), ("ddp", 2)):
        (tmp_path / name).mkdir()
        script = tmp_path / f"{name}.py"
        script.write_text(DDP_SCRIPT.format(tests=TESTS_DIR, out=str(tmp_path / name), batch=batch))
        if name == "single":
            cmd = [sys.executable, str(script)]
        else:
            cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517", str(script)]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        assert result.returncode == 0, result.stderr[-3000:]
    single = load_safetensors(tmp_path / "single" / "g.safetensors")
    ddp = load_safetensors(tmp_path / "ddp" / "g.safetensors")
    for key in single:
        # same global batch and maths; only the float summation order differs
        torch.testing.assert_close(single[key], ddp[key], atol=1e-5, rtol=1e-4, msg=key)
