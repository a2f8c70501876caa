"""The repository's own weights package, packages/cgan-zoo-weights-pix2pix, is well formed.

CI does not install it (108 MB); these checks read its files: the distribution metadata
announces the entry point, the registry entry pins the shard index, the index pins every
shard, and the config builds the registered architecture. Installing it is covered by
the plugin tests (tests/test_weight_packages.py) on a tiny package of the same layout.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "packages" / "cgan-zoo-weights-pix2pix"
NAME = "pix2pix_unet256.nature"

pytestmark = pytest.mark.skipif(
    not PACKAGE.is_dir(), reason="no packages/ folder (installed wheel)"
)


def _module() -> Path:
    (registry,) = PACKAGE.glob("src/*/registry.json")
    return registry.parent


def test_distribution_metadata_announces_the_weights():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    meta = tomllib.loads((PACKAGE / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["name"] == "cgan-zoo-weights-pix2pix"
    assert "cgan-zoo" in meta["project"]["dependencies"]
    entry_points = meta["project"]["entry-points"]["cgan_zoo.weights"]
    assert list(entry_points.values()) == [_module().name]


def test_registry_pins_the_index_and_the_index_pins_every_shard():
    from cgan_zoo.sharded_weights import SHARD_INDEX_NAME

    entry = json.loads((_module() / "registry.json").read_text(encoding="utf-8"))[NAME]
    folder = _module() / entry["bundled"]
    index = folder / SHARD_INDEX_NAME
    assert hashlib.sha256(index.read_bytes()).hexdigest() == entry["sha256"]
    digests = json.loads(index.read_text(encoding="utf-8"))["metadata"]["sha256"]
    for shard, digest in digests.items():
        path = folder / shard
        assert path.stat().st_size < 100e6  # below GitHub's per-file limit
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert entry["license"] and entry["training"]["steps"] > 0
    assert entry["metrics"], "evaluate it: scripts/evaluate_pretrained.py --weights-package ..."


def test_config_builds_the_registered_architecture():
    from cgan_zoo.hub import HubModel

    entry = json.loads((_module() / "registry.json").read_text(encoding="utf-8"))[NAME]
    config = json.loads((_module() / entry["bundled"] / "config.json").read_text(encoding="utf-8"))
    model = HubModel.from_config(config)
    assert type(model).__name__ == "UNetGenerator"
    assert model.num_parameters() == 54_409_858  # the paper's U-Net 256 for L -> ab
    assert (model.task, model.in_channels, model.out_channels) == ("colorize", 1, 2)
