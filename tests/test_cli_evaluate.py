"""Tests of `cgan-zoo evaluate` with tiny untrained models on generated photos."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from cgan_zoo import create_model
from cgan_zoo.cli import COMMANDS, main


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    create_model("unet_tiny").save_pretrained(root / "colorize")
    create_model(
        "unet_tiny", in_channels=2, out_channels=3, task="colorize-missing"
    ).save_pretrained(root / "missing")
    return root


@pytest.fixture
def photos(tmp_path):
    data = tmp_path / "data"
    (data / "val").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(2):
        img = rng.integers(0, 255, (8, 12, 3)).astype(np.uint8)
        Image.fromarray(img).resize((48, 32), Image.Resampling.BICUBIC).save(
            data / "val" / f"p{i}.png"
        )
    (data / "val" / "SOURCES.tsv").write_text("file\tpackage\tsubject\np0.png\tpkg\twater\n")
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"train": [], "val": ["val/p1.png", "val/p0.png"]}))
    return data, split


def test_evaluate_is_a_command():
    assert "evaluate" in COMMANDS


def test_writes_json_and_markdown(models, photos, tmp_path, capsys):
    data, split = photos
    out_json, out_md = tmp_path / "r" / "out.json", tmp_path / "r" / "out.md"
    argv = [
        "evaluate",
        "--model",
        str(models / "colorize"),
        "--data",
        str(data),
        "--split",
        str(split),
    ]
    argv += ["--max-side", "40", "--size", "32", "--json", str(out_json), "--markdown", str(out_md)]
    assert main(argv) == 0
    result = json.loads(out_json.read_text())
    assert result["data"]["images"] == ["val/p1.png", "val/p0.png"]
    assert len(result["per_image"]) == 2 and result["summary"]["all"]["n"] == 2
    assert result["methods"] == ["ours", "gray"] and result["settings"]["call_kwargs"] == {}
    assert max(result["per_image"][0]["size"]) == 40
    assert result["subjects"]["water"]["n"] == 1
    md = out_md.read_text()
    assert md.startswith("# Evaluation of `") and "| PSNR (dB, RGB) |" in md
    assert "near-gray originals" in md and "subject: water" in md
    assert "wrote" in capsys.readouterr().out


def test_masks_with_telea_baseline(models, photos, tmp_path):
    pytest.importorskip(
        "cv2", reason="the Telea baseline needs OpenCV: pip install 'cgan-zoo[eval]'"
    )
    data, _ = photos
    out = tmp_path / "m.json"
    argv = ["evaluate", "--model", str(models / "missing"), "--data", str(data), "--masks"]
    argv += ["--max-side", "32", "--size", "32", "--baselines", "gray,telea", "--json", str(out)]
    assert main(argv) == 0
    result = json.loads(out.read_text())
    assert result["mode"] == "missing" and result["methods"] == ["ours", "gray", "telea"]
    assert result["summary"]["all"]["hole_psnr_telea"] is not None


def test_prints_tables_without_outputs(models, photos, capsys):
    data, _ = photos
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(models / "colorize"),
                "--data",
                str(data),
                "--max-side",
                "32",
            ]
        )
        == 0
    )
    assert "| metric | model | gray input |" in capsys.readouterr().out


def test_errors_are_one_line(models, photos, capsys, tmp_path):
    data, _ = photos
    # a knob the colorizer does not take: named in the message, exit code 1
    argv = [
        "evaluate",
        "--model",
        str(models / "colorize"),
        "--data",
        str(data),
        "--temperature",
        "0.5",
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "temperature" in err and "Traceback" not in err
    # masks with a plain colorizer
    assert (
        main(["evaluate", "--model", str(models / "colorize"), "--data", str(data), "--masks"]) == 1
    )
    assert "colorize-missing" in capsys.readouterr().err
    # a missing folder fails before any model is loaded
    assert main(["evaluate", "--model", "no_such_model", "--data", str(tmp_path / "nope")]) == 1
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow  # builds a TimmUNet (about 8 s on a slow CPU)
def test_temperature_reaches_a_colour_bin_model(photos, tmp_path):
    """--temperature is passed to the colorizer call; a colour-bin model accepts it."""
    data, _ = photos
    torch.manual_seed(0)
    create_model(
        "unet_efficientnet_lite0", color_head="bins", decoder_channels=(16, 8, 8)
    ).save_pretrained(tmp_path / "bins")
    out = {}
    for t in ("0.2", "1.0"):
        path = tmp_path / f"t{t}.json"
        argv = [
            "evaluate",
            "--model",
            str(tmp_path / "bins"),
            "--data",
            str(data),
            "--max-side",
            "32",
        ]
        assert main(argv + ["--size", "32", "--temperature", t, "--json", str(path)]) == 0
        out[t] = json.loads(path.read_text())
    assert out["0.2"]["settings"]["call_kwargs"] == {"temperature": 0.2}
    assert out["0.2"]["per_image"][0]["ours"] != out["1.0"]["per_image"][0]["ours"]
