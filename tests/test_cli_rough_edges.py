"""CLI rough edges: did-you-mean for names, video output folders and codecs, fake videos,
closed pipes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cgan_zoo import InvalidConfigError, create_model, get_pretrained_cfg, list_pretrained
from cgan_zoo.cli import main
from cgan_zoo.pipelines.colorizer import load_generator

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = list_pretrained()
needs_weights = pytest.mark.skipif(not WEIGHTS, reason="no pretrained weights registered")


def _typo(name: str) -> str:
    return name[:-2] + name[-1] + name[-2]  # swap the last two letters


@needs_weights
def test_weights_tag_typo_suggests_the_name(tmp_path, capsys):
    name = WEIGHTS[0]
    with pytest.raises(InvalidConfigError, match=f"Did you mean {name!r}"):
        load_generator(_typo(name))
    with pytest.raises(InvalidConfigError, match=f"Did you mean {name!r}"):
        get_pretrained_cfg(_typo(name))
    (tmp_path / "a.png").write_bytes(b"")
    assert main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "o"), "--model", _typo(name)]) == 1
    err = capsys.readouterr().err
    assert f"Did you mean {name!r}" in err and "architecture without pretrained weights" not in err
    assert main(["export", _typo(name), str(tmp_path / "g.pt2")]) == 1
    assert f"Did you mean {name!r}" in capsys.readouterr().err


def test_architecture_and_config_key_typos_suggest_names(tmp_path):
    with pytest.raises(InvalidConfigError, match="Did you mean 'unet_tiny'"):
        load_generator("unet_tinx")
    from cgan_zoo.training import Pix2PixConfig

    with pytest.raises(InvalidConfigError, match="Did you mean 'lambda_l1'"):
        Pix2PixConfig.from_dict({"lamda_l1": 10})


def test_models_json_into_a_closed_pipe_is_quiet():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = f"{sys.executable} -m cgan_zoo.cli models --json | head -c 20"
    result = subprocess.run(["bash", "-c", cmd], env=env, capture_output=True, text=True, timeout=120)
    assert result.stdout.startswith("{")
    assert "Broken pipe" not in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.fixture
def video_model(tmp_path):
    create_model("unet_tiny").save_pretrained(tmp_path / "model")
    return str(tmp_path / "model")


@pytest.mark.requires_extra("video")
def test_video_creates_the_output_folder(tmp_path, video_model, capsys):
    from cgan_zoo.pipelines.video import write_frames

    write_frames(tmp_path / "in.mp4", [np.full((16, 16, 3), 90, np.uint8)] * 2, fps=5)
    out = tmp_path / "new" / "deeper" / "out.mp4"
    assert main(["video", str(tmp_path / "in.mp4"), str(out), "--model", video_model,
                 "--size", "16", "--no-progress"]) == 0, capsys.readouterr().err
    assert out.is_file()


@pytest.mark.requires_extra("video")
def test_video_bad_codec_fails_before_any_work(tmp_path, video_model, capsys, monkeypatch):
    from cgan_zoo.pipelines import colorizer as colorizer_module
    from cgan_zoo.pipelines.video import write_frames

    write_frames(tmp_path / "in.mp4", [np.full((16, 16, 3), 90, np.uint8)] * 2, fps=5)

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded before the codec was checked")

    monkeypatch.setattr(colorizer_module.Colorizer, "from_pretrained", no_model)
    assert main(["video", str(tmp_path / "in.mp4"), str(tmp_path / "o.mp4"), "--codec", "libx264x",
                 "--model", video_model]) == 1
    err = capsys.readouterr().err
    assert "codec='libx264x'" in err and "Did you mean 'libx264'" in err
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.requires_extra("video")
def test_fake_video_is_a_clear_error(tmp_path, video_model, capsys):
    (tmp_path / "fake.mp4").write_text("this is not a video")
    assert main(["video", str(tmp_path / "fake.mp4"), str(tmp_path / "o.mp4"), "--model", video_model,
                 "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "does not recognise its contents as a video" in err and "Errno" not in err


def test_models_with_a_misspelt_name_suggests_one(capsys):
    assert main(["models", "unet_tinx"]) == 1
    assert "Did you mean 'unet_tiny'" in capsys.readouterr().err
    assert main(["models", "unet_tiny"]) == 0


def test_cpu_allocation_failure_is_a_clear_error(monkeypatch):
    from cgan_zoo.pipelines import Colorizer

    c = Colorizer(create_model("unet_tiny"), size=32)

    def fail(x):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] data. DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr(c, "_net", fail)
    with pytest.raises(InvalidConfigError, match="ran out of memory.*smaller size"):
        c(np.zeros((20, 20), np.uint8))
