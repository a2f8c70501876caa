"""Loading weights never crashes, hangs, unpickles or half-loads: a seeded fuzzer plus pins.

The fuzzer lives in ``tests/_fuzz.py`` (also run by ``scripts/reliability_report.py``).
Set ``CGAN_FUZZ_SEED`` to try other seeds: ``CGAN_FUZZ_SEED=7 pytest tests/test_fuzz_weights.py``.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import struct
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from cgan_zoo import (
    ChecksumError,
    HubModel,
    PretrainedCfg,
    UNetGenerator,
    UnsafeWeightsError,
    WeightsError,
    create_model,
    get_pretrained_cfg,
    list_pretrained,
)
from cgan_zoo._builder import resolve_pretrained_folder
from cgan_zoo.serialization import load_safetensors, save_safetensors, sha256_file

sys.path.insert(0, str(Path(__file__).parent))
import _fuzz  # noqa: E402

FUZZ_SEED = int(os.environ.get("CGAN_FUZZ_SEED", "20240611"))
FUZZ_CASES = 630  # 42 per damage kind
SUBPROCESS_CASES = 90


# --------------------------------------------------------------------------- fuzzing


def test_fuzz_damaged_weight_files_in_process(tmp_path):
    summary = _fuzz.run_fuzz(FUZZ_CASES, FUZZ_SEED, workdir=tmp_path)
    table = "\n".join(f"{k:14s} {dict(v)}" for k, v in sorted(summary.counts.items()))
    print(f"\nfuzz seed {FUZZ_SEED}: {summary.total} cases in {summary.seconds:.1f} s\n{table}")
    assert summary.total >= 500
    assert set(summary.counts) == set(_fuzz.KINDS)
    assert all(c["cases"] >= 20 for c in summary.counts.values())
    assert not summary.violations, "\n".join(summary.violations[:30])
    assert summary.max_seconds < _fuzz.TIME_BUDGET_S
    assert not summary.canary_fired and not (tmp_path / "canary-was-unpickled").exists()
    # every pickle was refused as unsafe, every flipped data byte by the checksum
    pickles = summary.counts["pickle"]
    assert pickles["hub refused:UnsafeWeightsError"] == pickles["direct refused:UnsafeWeightsError"] == pickles["cases"]
    flips = summary.counts["flip_data"]
    assert flips["hub refused:ChecksumError"] == flips["direct refused:ChecksumError"] == flips["cases"]
    # no-op damages (whitespace in the header padding) did load, bit for bit, when unpinned
    assert 0 < summary.noop_loads <= summary.counts["noop_padding"]["cases"]


def test_fuzz_batch_in_a_subprocess_does_not_crash(tmp_path):
    """Native code (the safetensors reader) must never take the process down."""
    script = Path(__file__).with_name("_fuzz.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(script), "--cases", str(SUBPROCESS_CASES), "--seed", str(FUZZ_SEED + 1), "--json"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert result.returncode >= 0, f"killed by signal {-result.returncode}: {result.stderr[-2000:]}"
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.returncode == 0, summary["violations"][:20]
    assert summary["total"] == SUBPROCESS_CASES and not summary["violations"] and not summary["canary_fired"]
    assert summary["max_seconds"] < _fuzz.TIME_BUDGET_S


def test_fuzzer_is_deterministic(tmp_path):
    ref = _fuzz.Reference(tmp_path)
    a = [(c.kind, c.detail, c.data) for c in _fuzz.generate_cases(ref, 45, 5, tmp_path / "canary")]
    b = [(c.kind, c.detail, c.data) for c in _fuzz.generate_cases(ref, 45, 5, tmp_path / "canary")]
    assert a == b
    assert {c[0] for c in a} == set(_fuzz.KINDS)


def test_valid_file_whose_header_length_starts_like_a_pickle_loads(tmp_path):
    """Regression: a header length of 0x?80 made the first byte 0x80 (pickle's PROTO)."""
    model = create_model("unet_tiny")
    model.save_pretrained(tmp_path)
    path = tmp_path / "model.safetensors"
    header, raw, body = _fuzz.split_file(path.read_bytes())
    for target in (0xC80, 0x10280):
        padded = raw + b" " * (target - len(raw))
        path.write_bytes(struct.pack("<Q", len(padded)) + padded + body)
        assert path.read_bytes()[:1] == b"\x80"
        loaded = HubModel.from_pretrained(tmp_path)
        assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values()))


@pytest.mark.parametrize(
    ("header", "match"),
    [
        (b"[" * 50_000 + b"]" * 50_000, r"corrupt safetensors header: maximum recursion depth"),
        (b'{"w": {"dtype": "F32", "shape": [' + b"1" * 5000 + b'], "data_offsets": [0, 4]}}', r"Exceeds the limit"),
        (b'{"w": {"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}}', r"tensor 'w' has unsupported dtype \['F32'\]"),
        (b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0.0, 4]}}', r"tensor 'w' has data offsets \[0.0, 4\], expected two integers"),
    ],
)
def test_malformed_headers_raise_weights_error_naming_file(header, match, tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(_fuzz.with_header(header, b"\0" * 4))
    with pytest.raises(WeightsError, match=match) as info:
        load_safetensors(path)
    assert str(path) in str(info.value)


def test_gap_in_data_section_names_the_neighbours(tmp_path):
    path = tmp_path / "w.safetensors"
    save_safetensors({"a": torch.ones(2), "b": torch.ones(3), "c": torch.ones(1)}, path)
    header, _, body = _fuzz.split_file(path.read_bytes())
    del header["b"]
    path.write_bytes(_fuzz.with_header(json.dumps(header).encode(), body))
    with pytest.raises(WeightsError, match=r"12-byte gap between tensors 'a' and 'c'.*entry is missing"):
        load_safetensors(path)


# --------------------------------------------------------------------------- pickles


def _pickle_entry_points(tmp_path: Path) -> dict[str, Callable[[Path], object]]:
    """Every way a user can point cgan-zoo at a weights file."""
    from cgan_zoo.losses import PerceptualLoss
    from cgan_zoo.models.encoder_weights import load_encoder_weights
    from cgan_zoo.pipelines import Colorizer
    from cgan_zoo.training import Pix2PixTrainer
    from cgan_zoo.training.checkpoint import (
        generator_from_checkpoint,
        latest_checkpoint,
        load_checkpoint,
    )

    sys.path.insert(0, str(Path(__file__).parent))
    from _trainer_utils import ToyColorization, tiny_config

    good = tmp_path / "good"
    create_model("unet_tiny").save_pretrained(good)
    timm_unet = create_model("timm_unet_tiny")

    def as_folder(path: Path) -> Path:
        folder = path.parent / f"folder-{path.name}"
        folder.mkdir(exist_ok=True)
        (folder / "config.json").write_bytes((good / "config.json").read_bytes())
        (folder / "model.safetensors").write_bytes(path.read_bytes())
        return folder

    def as_checkpoint(path: Path) -> Path:
        ckdir = path.parent / f"ckpt-{path.name}"
        ckdir.mkdir(exist_ok=True)
        target = ckdir / "ckpt-00000005.safetensors"
        target.write_bytes(path.read_bytes())
        return target

    def perceptual(path: Path) -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return PerceptualLoss("tf_efficientnet_lite0", weights_path=path, layers=(1,))

    def resume(path: Path) -> object:
        trainer = Pix2PixTrainer(tiny_config(path.parent / f"run-{path.name}"), train_dataset=ToyColorization())
        return trainer.resume(as_checkpoint(path))

    def latest(path: Path) -> object:
        ckpt = as_checkpoint(path)
        found = latest_checkpoint(ckpt.parent)  # a pickled "checkpoint" is never picked
        assert found is None
        raise UnsafeWeightsError("pickle-based checkpoint skipped by latest_checkpoint")

    return {
        "HubModel.from_pretrained": lambda p: HubModel.from_pretrained(as_folder(p)),
        "UNetGenerator.from_pretrained": lambda p: UNetGenerator.from_pretrained(as_folder(p)),
        "Colorizer.from_pretrained": lambda p: Colorizer.from_pretrained(as_folder(p), size=32),
        "load_safetensors": lambda p: load_safetensors(p),
        "load_safetensors(sha256)": lambda p: load_safetensors(p, sha256=sha256_file(p)),
        "load_encoder_weights": lambda p: load_encoder_weights(timm_unet, p),
        "create_model(encoder_weights=)": lambda p: create_model("timm_unet_tiny", encoder_weights=p),
        "PerceptualLoss(weights_path=)": perceptual,
        "load_checkpoint": lambda p: load_checkpoint(as_checkpoint(p)),
        "generator_from_checkpoint": lambda p: generator_from_checkpoint(as_checkpoint(p)),
        "Pix2PixTrainer.resume": resume,
        "latest_checkpoint": latest,
    }


def test_canary_payloads_are_live(tmp_path):
    """Unpickling really runs code, so the canary's absence below means "never unpickled"."""
    payloads = _fuzz.pickle_payloads(tmp_path / "proof")
    pickle.loads(payloads["pickle-p2"])
    assert (tmp_path / "proof").exists()


def test_pickles_are_refused_by_every_entry_point(tmp_path):
    canary = tmp_path / "canary"
    payloads = _fuzz.pickle_payloads(canary)
    entry_points = _pickle_entry_points(tmp_path)
    names = ["model.safetensors", "model.bin", "model.pt", "model.pth", "weights.ckpt", "weights"]
    attempts = 0
    for i, (variant, data) in enumerate(sorted(payloads.items())):
        for where, load in entry_points.items():
            # the direct loaders see every disguise; folder/checkpoint loaders rename the file anyway
            for name in names if where.startswith("load_safetensors") else [names[(i + attempts) % len(names)]]:
                path = tmp_path / f"{variant}-{where.replace('.', '_').replace('(', '').replace(')', '').replace('=', '')}-{name}"
                path.write_bytes(data)
                with pytest.raises(UnsafeWeightsError, match="pickle") as info:
                    load(path)
                assert isinstance(info.value, ValueError)
                attempts += 1
    assert attempts >= 100
    assert not canary.exists(), "a pickle was executed"


def test_pickle_folder_without_safetensors_is_refused(tmp_path):
    canary = tmp_path / "canary"
    create_model("unet_tiny").save_pretrained(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").unlink()
    for data in _fuzz.pickle_payloads(canary).values():
        (tmp_path / "m" / "pytorch_model.bin").write_bytes(data)
        with pytest.raises(WeightsError, match=r"must contain config.json and model.safetensors"):
            HubModel.from_pretrained(tmp_path / "m")
    assert not canary.exists()


# --------------------------------------------------------------------------- non-finite values

FLOAT_DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"])
def test_non_finite_tensors_are_refused_by_default(dtype, value, tmp_path):
    path = tmp_path / "w.safetensors"
    t = torch.zeros(3, 4, dtype=dtype)
    t[2, 1] = value
    save_safetensors({"ok": torch.ones(2), "bad.weight": t}, path)
    with pytest.raises(WeightsError, match=r"tensor 'bad.weight' contains NaN or Inf") as info:
        load_safetensors(path)
    assert str(path) in str(info.value)
    assert not bool(torch.isfinite(load_safetensors(path, allow_non_finite=True)["bad.weight"]).all())


def test_non_finite_weights_refused_through_models_and_checkpoints(tmp_path):
    from cgan_zoo.training.checkpoint import (
        generator_from_checkpoint,
        load_checkpoint,
        save_checkpoint,
    )

    model = create_model("unet_tiny")
    model.save_pretrained(tmp_path)
    state = dict(model.state_dict())
    state["down_blocks.0.weight"] = state["down_blocks.0.weight"].clone()
    state["down_blocks.0.weight"][0, 0, 0, 0] = float("inf")
    save_safetensors(state, tmp_path / "model.safetensors")
    with pytest.raises(WeightsError, match=r"'down_blocks.0.weight' contains NaN or Inf"):
        HubModel.from_pretrained(tmp_path)
    # training checkpoints too: the trainer never saves non-finite weights
    ckpt = save_checkpoint({"generator": state, "ema": None, "generator_config": model.config}, tmp_path / "ck", 1)
    with pytest.raises(WeightsError, match=r"'s/generator/down_blocks.0.weight' contains NaN or Inf"):
        load_checkpoint(ckpt)
    with pytest.raises(WeightsError, match=r"contains NaN or Inf"):
        generator_from_checkpoint(ckpt)
    assert load_checkpoint(ckpt, allow_non_finite=True)["generator"]["down_blocks.0.weight"].isinf().any()


# --------------------------------------------------------------------------- checksums


def test_checksum_mismatch_is_an_error_at_every_pinned_entry_point(tmp_path):
    from cgan_zoo.losses import PerceptualLoss
    from cgan_zoo.models.encoder_weights import load_encoder_weights

    create_model("unet_tiny").save_pretrained(tmp_path)
    path = tmp_path / "model.safetensors"
    wrong = "ab" * 32
    for load in (
        lambda: HubModel.from_pretrained(tmp_path, sha256=wrong),
        lambda: load_safetensors(path, sha256=wrong),
        lambda: load_encoder_weights(create_model("timm_unet_tiny"), path, sha256=wrong),
        lambda: PerceptualLoss("tf_efficientnet_lite0", weights_path=path, layers=(1,), sha256=wrong),
    ):
        with pytest.raises(ChecksumError, match=rf"{re.escape(str(path))}.*has sha256 [0-9a-f]{{64}} but {wrong} was expected"):
            load()


HEX64 = re.compile(r"[0-9a-f]{64}")
HEX40 = re.compile(r"[0-9a-f]{40}")


def pin_problems(cfg: PretrainedCfg, resolve: Callable[[PretrainedCfg], object] = resolve_pretrained_folder) -> list[str]:
    """Everything wrong with how a pretrained entry is pinned (empty when it is fine)."""
    problems = []
    if not isinstance(cfg.sha256, str) or not HEX64.fullmatch(cfg.sha256):
        problems.append(f"{cfg.name}: sha256 {cfg.sha256!r} is not 64 lower-case hex digits")
    if cfg.hub_id and (not isinstance(cfg.revision, str) or not HEX40.fullmatch(cfg.revision)):
        problems.append(f"{cfg.name}: hub-hosted but revision {cfg.revision!r} is not a 40-hex commit sha")
    if not cfg.hub_id and not cfg.bundled:
        problems.append(f"{cfg.name}: neither bundled nor hub-hosted")
    if cfg.bundled:
        try:
            folder = Path(str(resolve(cfg)))
            actual = sha256_file(folder / "model.safetensors")
        except (WeightsError, OSError) as exc:
            problems.append(f"{cfg.name}: bundled weights unreadable: {exc}")
        else:
            if actual != cfg.sha256:
                problems.append(f"{cfg.name}: bundled model.safetensors has sha256 {actual}, pinned {cfg.sha256}")
    return problems


def test_every_registered_pretrained_entry_is_pinned():
    problems = [p for name in list_pretrained() for p in pin_problems(get_pretrained_cfg(name))]
    assert not problems, "\n".join(problems)


def test_pin_audit_catches_bad_entries(tmp_path):
    create_model("unet_tiny").save_pretrained(tmp_path / "w")
    digest = sha256_file(tmp_path / "w" / "model.safetensors")

    def resolve(cfg):
        return tmp_path / "w"

    def make(**kw):
        base = dict(name="unet_tiny.fake", architecture="unet_tiny", sha256=digest, license="MIT", bundled="w")
        return PretrainedCfg(**{**base, **kw})

    assert pin_problems(make(), resolve) == []
    assert pin_problems(make(bundled=None, hub_id="o/n", revision="c" * 40), resolve) == []
    cases = {
        "not 64 lower-case hex": make(sha256="abc"),
        "not 64 lower-case hex ": make(sha256=digest.upper()),
        "not a 40-hex commit sha": make(bundled=None, hub_id="o/n", revision="main"),
        "not a 40-hex commit sha ": make(bundled=None, hub_id="o/n", revision=None),
        "neither bundled nor hub-hosted": make(bundled=None),
        "bundled model.safetensors has sha256": make(sha256="0" * 64),
    }
    for expected, cfg in cases.items():
        problems = pin_problems(cfg, resolve)
        assert any(expected.strip() in p for p in problems), (expected, problems)
    missing = make()
    assert "unreadable" in pin_problems(missing, lambda cfg: tmp_path / "nowhere")[0]
