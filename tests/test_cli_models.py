"""`cgan-zoo models`: human-readable and JSON listings."""

from __future__ import annotations

import json

import pytest

from cgan_zoo import PretrainedCfg, _registry, register_pretrained
from cgan_zoo.cli import main

COMMIT = "fedcba9876543210fedcba9876543210fedcba98"


@pytest.fixture
def isolated_pretrained(monkeypatch):
    monkeypatch.setattr(_registry, "_PRETRAINED", dict(_registry._PRETRAINED))


def test_models_lists_architectures(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines()]
    assert "pix2pix_unet256" in lines and "patchgan_70" in lines
    assert out.startswith("Architectures (")
    assert "Pretrained weights (" in out


def test_models_json_parses(capsys):
    assert main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"models", "pretrained"}
    assert "pix2pix_unet256" in data["models"] and "patchgan_70" in data["models"]
    assert data["models"] == sorted(data["models"])
    assert isinstance(data["pretrained"], list)


def test_models_pattern_filters(capsys):
    assert main(["models", "patchgan_*", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "patchgan_70" in data["models"] and "pix2pix_unet256" not in data["models"]
    assert all(name.startswith("patchgan_") for name in data["models"])


def test_models_shows_pretrained_entries(capsys, isolated_pretrained):
    register_pretrained(
        PretrainedCfg(
            name="unet_tiny.clitest", architecture="unet_tiny", sha256="0" * 64, license="MIT",
            hub_id="owner/tiny", revision=COMMIT, task="colorize",
        )
    )  # fmt: skip
    assert main(["models", "--pretrained"]) == 0
    out = capsys.readouterr().out
    assert "Architectures" not in out
    assert "unet_tiny.clitest" in out and f"hub:owner/tiny@{COMMIT[:10]}" in out
    # an architecture name also selects its weights
    assert main(["models", "unet_tiny", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["models"] == ["unet_tiny"]
    assert [w["name"] for w in data["pretrained"]] == ["unet_tiny.clitest"]
    assert data["pretrained"][0]["revision"] == COMMIT
    assert main(["models", "patchgan_*", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pretrained"] == []


def test_models_pretrained_json_has_no_architectures(capsys):
    assert main(["models", "--pretrained", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["models"] == []


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "models" in capsys.readouterr().out
