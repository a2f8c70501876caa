"""Weights packages: pip-installable weights announced through the ``cgan_zoo.weights`` entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import cgan_zoo as cz
from cgan_zoo import _registry
from cgan_zoo._pretrained import PretrainedCfg
from cgan_zoo.errors import ChecksumError, InvalidConfigError, WeightsError
from cgan_zoo.weights import ENTRY_POINT_GROUP, read_registry, register_weight_packages
from cgan_zoo.weights.packaging import make_weights_package

SRC = Path(cz.__file__).resolve().parents[1]


@pytest.fixture
def clean_registry():
    saved, hints = dict(_registry._PRETRAINED), dict(_registry._INSTALL_HINTS)
    yield
    _registry._PRETRAINED.clear()
    _registry._PRETRAINED.update(saved)
    _registry._INSTALL_HINTS.clear()
    _registry._INSTALL_HINTS.update(hints)


def _tiny_package(
    tmp_path: Path, name: str = "unet_tiny.birds", **kwargs
) -> tuple[Path, torch.nn.Module]:
    torch.manual_seed(0)
    model = cz.create_model("unet_tiny").eval()
    model.save_pretrained(tmp_path / "model")
    out = make_weights_package(tmp_path / "model", name, tmp_path / "pkg", license="MIT", **kwargs)
    return out, model


def _fake_entry_point(monkeypatch, tmp_path: Path, pkg: Path, ep_name: str = "birds") -> None:
    """Make ``pkg``'s module importable and announced, as an installed distribution would be."""
    module = next(p.name for p in (pkg / "src").iterdir() if p.is_dir())
    monkeypatch.syspath_prepend(str(pkg / "src"))
    monkeypatch.delitem(sys.modules, module, raising=False)  # an earlier test's copy
    ep = metadata.EntryPoint(name=ep_name, value=module, group=ENTRY_POINT_GROUP)
    monkeypatch.setattr("cgan_zoo.weights._entry_points", lambda: [ep])


def test_package_layout_and_registry_entry(tmp_path):
    out, _ = _tiny_package(tmp_path, description="birds fine-tune", fp16=True)
    pyproject = (out / "pyproject.toml").read_text()
    assert 'name = "cgan-zoo-weights-birds"' in pyproject
    assert '[project.entry-points."cgan_zoo.weights"]' in pyproject
    registry = json.loads((out / "src" / "cgan_zoo_weights_birds" / "registry.json").read_text())
    entry = registry["unet_tiny.birds"]
    folder = out / "src" / "cgan_zoo_weights_birds" / "unet_tiny.birds"
    from cgan_zoo.serialization import sha256_file

    assert entry["sha256"] == sha256_file(folder / "model.safetensors")
    assert entry["training"]["storage_dtype"] == "float16"
    assert (folder / "config.json").is_file() and (folder / "README.md").is_file()


def test_registered_package_loads_by_name_through_every_front_door(
    tmp_path, monkeypatch, clean_registry
):
    out, model = _tiny_package(tmp_path)
    _fake_entry_point(monkeypatch, tmp_path, out)
    assert register_weight_packages() == ["unet_tiny.birds"]
    assert "unet_tiny.birds" in cz.list_pretrained()
    cfg = cz.get_pretrained_cfg("unet_tiny.birds")
    assert "entry point 'birds'" in cfg.source
    loaded = cz.create_model("unet_tiny.birds", pretrained=True)
    x = torch.randn(1, 1, 32, 32)
    assert torch.equal(loaded(x), model(x))
    from cgan_zoo.pipelines import Colorizer

    c = Colorizer.from_pretrained("unet_tiny.birds", size=32)
    assert c(np.zeros((16, 16), np.uint8)).shape == (16, 16, 3)


def test_tampered_package_weights_fail_the_sha256_check(tmp_path, monkeypatch, clean_registry):
    out, _ = _tiny_package(tmp_path)
    _fake_entry_point(monkeypatch, tmp_path, out)
    register_weight_packages()
    weights = out / "src" / "cgan_zoo_weights_birds" / "unet_tiny.birds" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ChecksumError):
        cz.create_model("unet_tiny.birds", pretrained=True)


def test_same_name_from_two_sources_is_a_clear_error(clean_registry):
    bundled = cz.get_pretrained_cfg("unet_efficientnet_lite0.nature")
    clash = PretrainedCfg(**{**bundled.to_dict(), "source": "my-weights 1.0 (entry point 'x')"})
    with pytest.raises(
        InvalidConfigError, match=r"registered twice: by cgan-zoo \(bundled\) and by my-weights 1.0"
    ):
        _registry.register_pretrained(clash)
    _registry.register_pretrained(bundled)  # the same source again is fine


def test_clashing_package_is_skipped_with_a_warning_naming_both(
    tmp_path, monkeypatch, clean_registry
):
    out, _ = _tiny_package(tmp_path, name="unet_efficientnet_lite0.nature")
    _fake_entry_point(monkeypatch, tmp_path, out)
    with pytest.warns(UserWarning, match="registered twice: by cgan-zoo \\(bundled\\) and by"):
        assert register_weight_packages() == []
    assert cz.get_pretrained_cfg("unet_efficientnet_lite0.nature").source == "cgan-zoo (bundled)"


def test_broken_package_never_breaks_import(tmp_path, monkeypatch, clean_registry):
    pkg = tmp_path / "broken" / "src" / "broken_weights"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "registry.json").write_text("[1, 2]")
    _fake_entry_point(monkeypatch, tmp_path, tmp_path / "broken")
    with pytest.warns(UserWarning, match="must be a JSON object"):
        assert register_weight_packages() == []
    with pytest.raises(WeightsError, match="no readable registry.json"):
        read_registry("cgan_zoo", "x")


def test_missing_weights_package_error_names_the_pip_command(clean_registry):
    _registry.register_install_hint(
        "pix2pix_unet256.demo",
        "cgan-zoo-weights-demo",
        "pip install ./packages/cgan-zoo-weights-demo",
    )
    with pytest.raises(
        WeightsError,
        match=r"not installed. Install it with: pip install ./packages/cgan-zoo-weights-demo",
    ):
        cz.create_model("pix2pix_unet256.demo", pretrained=True)


@pytest.mark.parametrize(
    "name, match",
    [
        ("birds", "architecture.tag"),
        ("no_such_arch.birds", "not a registered architecture"),
        ("unet_tiny.a-b", "architecture.tag"),
    ],
)
def test_bad_package_names(tmp_path, name, match):
    cz.create_model("unet_tiny").save_pretrained(tmp_path / "model")
    with pytest.raises(InvalidConfigError, match=match):
        make_weights_package(tmp_path / "model", name, tmp_path / "pkg")


def test_pip_installed_package_is_found_by_a_fresh_process_and_the_cli(tmp_path):
    """The real mechanism: pip builds and installs the package; a new interpreter finds it."""
    out, model = _tiny_package(tmp_path)
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(out),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(target), str(SRC)]),
        "HF_HUB_OFFLINE": "1",
    }
    code = (
        "import torch, cgan_zoo as cz\n"
        "print('unet_tiny.birds' in cz.list_pretrained())\n"
        "m = cz.create_model('unet_tiny.birds', pretrained=True)\n"
        "print(m(torch.ones(1, 1, 32, 32)).sum().item())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert lines[0] == "True"
    assert float(lines[1]) == pytest.approx(model(torch.ones(1, 1, 32, 32)).sum().item(), rel=1e-5)

    Image.fromarray(np.full((20, 24), 128, np.uint8)).save(tmp_path / "gray.png")
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "cgan_zoo.cli",
            "colorize",
            str(tmp_path / "gray.png"),
            "-o",
            str(tmp_path / "out"),
            "--model",
            "unet_tiny.birds",
            "--size",
            "32",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr
    assert Image.open(next((tmp_path / "out").iterdir())).size == (24, 20)


def test_the_pix2pix_weights_name_the_package_that_provides_them():
    import cgan_zoo as cz
    from cgan_zoo.weights import KNOWN_WEIGHT_PACKAGES

    if "pix2pix_unet256.nature" in cz.list_pretrained():
        pytest.skip("cgan-zoo-weights-pix2pix is installed here")
    assert "pix2pix_unet256.nature" in KNOWN_WEIGHT_PACKAGES
    with pytest.raises(
        WeightsError,
        match=r"cgan-zoo-weights-pix2pix.*pip install packages/cgan-zoo-weights-pix2pix",
    ):
        cz.create_model("pix2pix_unet256.nature", pretrained=True)
