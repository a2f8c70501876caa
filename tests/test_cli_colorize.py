"""Tests of the `cgan-zoo colorize` and `cgan-zoo video` commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cgan_zoo import create_model, list_pretrained
from cgan_zoo.cli import main
from cgan_zoo.pipelines.defaults import DEFAULT_COLORIZER, DEFAULT_INPAINTER


def gray(h: int, w: int) -> np.ndarray:
    return np.tile(np.linspace(20, 230, w), (h, 1)).astype(np.uint8)


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
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(gray(30, 45), "L").save(src / "a.png")
    Image.fromarray(np.stack([gray(21, 17)] * 3, -1), "RGB").save(src / "b.jpg")
    return src


def error_lines(err: str) -> list[str]:
    lines = [line for line in err.splitlines() if line.strip()]
    assert all(line.startswith("cgan-zoo colorize: error: ") for line in lines), err
    return lines


def test_colorize_writes_png_per_input(models, photos, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "colorize",
            str(photos / "a.png"),
            str(photos / "b.jpg"),
            "-o",
            str(out),
            "--model",
            str(models / "colorize"),
            "--size",
            "32",
        ]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    with Image.open(out / "a.png") as a, Image.open(out / "b.png") as b:
        assert (a.mode, a.size, b.mode, b.size) == ("RGB", (45, 30), "RGB", (17, 21))
    assert "a.png" in capsys.readouterr().out


def test_batch_with_bad_files_writes_the_others(models, photos, tmp_path, capsys):
    (photos / "broken.png").write_text("not an image")
    out = tmp_path / "out"
    code = main(
        [
            "colorize",
            str(photos / "a.png"),
            str(photos / "missing.png"),
            str(photos / "broken.png"),
            "-o",
            str(out),
            "--model",
            str(models / "colorize"),
            "--size",
            "32",
        ]
    )
    assert code == 1
    assert [p.name for p in out.iterdir()] == ["a.png"]
    lines = error_lines(capsys.readouterr().err)
    assert any("missing.png" in line and "does not exist" in line for line in lines)
    assert any("broken.png" in line and "cannot read image" in line for line in lines)
    assert "2 of 3 image(s) failed" in lines[-1]


def test_masks(models, photos, tmp_path, capsys):
    masks = tmp_path / "masks"
    masks.mkdir()
    m = np.zeros((30, 45), np.uint8)
    m[5:15, 10:30] = 255
    Image.fromarray(m).save(masks / "a.png")
    out = tmp_path / "out"
    args = [
        "colorize",
        str(photos / "a.png"),
        "-o",
        str(out),
        "--masks",
        str(masks),
        "--model",
        str(models / "missing"),
        "--size",
        "32",
    ]
    assert main(args) == 0 and (out / "a.png").is_file()
    # a mask of the wrong size names both sizes; a missing mask is an error for its image only
    args.append("--overwrite")
    Image.fromarray(np.zeros((12, 12), np.uint8)).save(masks / "b.png")
    capsys.readouterr()
    assert main(args[:2] + [str(photos / "b.jpg")] + args[2:]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert any("12x12" in line and "21x17" in line for line in lines)
    (masks / "b.png").unlink()
    assert main(args[:2] + [str(photos / "b.jpg")] + args[2:]) == 1
    assert "no mask for" in capsys.readouterr().err


def test_masks_need_an_inpainting_model(models, photos, tmp_path, capsys):
    (tmp_path / "masks").mkdir()
    code = main(
        [
            "colorize",
            str(photos / "a.png"),
            "-o",
            str(tmp_path / "out"),
            "--masks",
            str(tmp_path / "masks"),
            "--model",
            str(models / "colorize"),
        ]
    )
    assert code == 1
    assert "colorize-missing" in error_lines(capsys.readouterr().err)[0]


def test_unknown_model_is_one_line(photos, tmp_path, capsys):
    code = main(
        ["colorize", str(photos / "a.png"), "-o", str(tmp_path / "out"), "--model", "no_such_model"]
    )
    assert code == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "unknown model 'no_such_model'" in lines[0]


@pytest.mark.skipif(DEFAULT_COLORIZER in list_pretrained(), reason="default weights are installed")
def test_default_model_missing_is_a_clear_error(photos, tmp_path, capsys):
    assert main(["colorize", str(photos / "a.png"), "-o", str(tmp_path / "out")]) == 1
    line = error_lines(capsys.readouterr().err)[0]
    assert "no default pretrained weights are installed" in line and "--model" in line
    (tmp_path / "m").mkdir()
    assert (
        main(
            [
                "colorize",
                str(photos / "a.png"),
                "-o",
                str(tmp_path / "out"),
                "--masks",
                str(tmp_path / "m"),
            ]
        )
        == 1
    )
    assert DEFAULT_INPAINTER in capsys.readouterr().err


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "colorize" in out and "video" in out


@pytest.mark.requires_extra("video")
def test_video_command(models, tmp_path, capsys):
    import av

    from cgan_zoo.pipelines.video import write_frames

    frames = [np.stack([np.roll(gray(32, 48), 2 * t, axis=1)] * 3, -1) for t in range(5)]
    write_frames(tmp_path / "in.mp4", frames, fps=10)
    code = main(
        [
            "video",
            str(tmp_path / "in.mp4"),
            str(tmp_path / "out.mp4"),
            "--model",
            str(models / "colorize"),
            "--size",
            "32",
            "--smoothing",
            "0.5",
            "--no-progress",
        ]
    )
    assert code == 0
    assert "5 frames, 48x32, 10.000 fps" in capsys.readouterr().out
    with av.open(str(tmp_path / "out.mp4")) as c:
        assert c.streams.video[0].frames == 5
    assert main(["video", str(tmp_path / "nope.mp4"), str(tmp_path / "o.mp4")]) == 1
    assert "cgan-zoo video: error:" in capsys.readouterr().err
    code = main(
        [
            "video",
            str(tmp_path / "in.mp4"),
            str(tmp_path / "o.mp4"),
            "--model",
            str(models / "colorize"),
            "--smoothing",
            "2",
        ]
    )
    assert code == 1 and "smoothing" in capsys.readouterr().err


def test_installed_console_script(models, photos, tmp_path):
    script = Path(sys.executable).parent / "cgan-zoo"
    if not script.is_file():
        pytest.skip("cgan-zoo console script is not installed next to this Python")
    out = tmp_path / "out"
    result = subprocess.run(
        [
            str(script),
            "colorize",
            str(photos / "a.png"),
            "-o",
            str(out),
            "--model",
            str(models / "colorize"),
            "--size",
            "32",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (out / "a.png").is_file()
