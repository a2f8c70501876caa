"""Sharded weights: split, pinned by one index, loaded with every check."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch

import cgan_zoo as cz
from cgan_zoo.errors import ChecksumError, InvalidConfigError, WeightsError
from cgan_zoo.hub import HubModel
from cgan_zoo.serialization import load_safetensors
from cgan_zoo.sharded_weights import (
    SHARD_INDEX_NAME,
    load_sharded_safetensors,
    save_sharded_safetensors,
)
from cgan_zoo.weights.packaging import make_weights_package


def _state():
    g = torch.Generator().manual_seed(0)
    return {f"t{i}": torch.randn(10 + i, generator=g) for i in range(7)}


def test_round_trip_respects_the_shard_limit(tmp_path):
    state = _state()
    pin = save_sharded_safetensors(state, tmp_path, max_shard_bytes=120)
    shards = sorted(tmp_path.glob("model-*.safetensors"))
    assert len(shards) > 1
    for shard in shards:
        part = load_safetensors(shard)
        # each shard holds at most the limit, unless it is a single oversized tensor
        assert sum(t.numel() * 4 for t in part.values()) <= 120 or len(part) == 1
    loaded = load_sharded_safetensors(tmp_path / SHARD_INDEX_NAME, sha256=pin)
    assert set(loaded) == set(state)
    for k, v in state.items():
        assert torch.equal(loaded[k], v)


def test_a_tampered_shard_or_index_is_refused(tmp_path):
    pin = save_sharded_safetensors(_state(), tmp_path, max_shard_bytes=120)
    index = tmp_path / SHARD_INDEX_NAME
    with pytest.raises(ChecksumError, match="index"):
        load_sharded_safetensors(index, sha256="0" * 64)
    shard = sorted(tmp_path.glob("model-*.safetensors"))[1]
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0x01
    shard.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match=shard.name):
        load_sharded_safetensors(index, sha256=pin)
    shard.unlink()
    with pytest.raises(WeightsError, match="missing"):
        load_sharded_safetensors(index, sha256=pin)


def test_an_index_naming_files_elsewhere_is_refused(tmp_path):
    save_sharded_safetensors(_state(), tmp_path, max_shard_bytes=120)
    index = tmp_path / SHARD_INDEX_NAME
    doc = json.loads(index.read_text())
    first = next(iter(doc["weight_map"]))
    doc["weight_map"][first] = "../../etc/passwd"
    index.write_text(json.dumps(doc))
    with pytest.raises(WeightsError, match="model-NNNNN-of-NNNNN"):
        load_sharded_safetensors(index)


def test_shards_must_hold_exactly_the_listed_tensors(tmp_path):
    save_sharded_safetensors(_state(), tmp_path, max_shard_bytes=120)
    index = tmp_path / SHARD_INDEX_NAME
    doc = json.loads(index.read_text())
    name, shard = next(iter(doc["weight_map"].items()))
    del doc["weight_map"][name]
    index.write_text(json.dumps(doc))
    with pytest.raises(WeightsError, match="other tensors"):
        load_sharded_safetensors(index)


def test_bad_limit():
    with pytest.raises(WeightsError, match="max_shard_bytes"):
        save_sharded_safetensors({"a": torch.ones(1)}, ".", 0)


def test_a_sharded_weights_package_loads_like_a_plain_one(tmp_path):
    model = cz.create_model("unet_tiny")
    model.save_pretrained(tmp_path / "model")
    out = make_weights_package(
        tmp_path / "model", "unet_tiny.sharded", tmp_path / "pkg", max_shard_mb=0.01
    )
    module = next(p for p in (out / "src").iterdir() if p.is_dir())
    folder = module / "unet_tiny.sharded"
    assert not (folder / "model.safetensors").exists()
    assert len(list(folder.glob("model-*.safetensors"))) > 1
    entry = json.loads((module / "registry.json").read_text())["unet_tiny.sharded"]
    assert entry["sha256"] == hashlib.sha256((folder / SHARD_INDEX_NAME).read_bytes()).hexdigest()
    loaded = HubModel.from_pretrained(folder, sha256=entry["sha256"])
    x = torch.rand(1, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(loaded(x), model.eval()(x))
    with pytest.raises(ChecksumError):
        HubModel.from_pretrained(folder, sha256="1" * 64)


def test_make_weights_package_rejects_a_bad_shard_size(tmp_path):
    cz.create_model("unet_tiny").save_pretrained(tmp_path / "m")
    with pytest.raises(InvalidConfigError, match="max_shard_mb"):
        make_weights_package(tmp_path / "m", "unet_tiny.x", Path(tmp_path / "p"), max_shard_mb=-1)
