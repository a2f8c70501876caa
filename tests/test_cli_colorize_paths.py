"""`cgan-zoo colorize`: folders in, output-path rules, existing outputs, --format, --size, --seed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cgan_zoo import create_model
from cgan_zoo.cli import main


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model") / "colorize"
    torch.manual_seed(0)
    create_model("unet_tiny", dropout=0.5).save_pretrained(folder)
    return folder


def _photo(path, h=24, w=40):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.tile(np.linspace(20, 230, w), (h, 1)).astype(np.uint8), "L").save(path)
    return path


def _run(model, *args):
    return main(["colorize", *map(str, args), "--model", str(model), "--size", "32"])


def test_folder_input_is_recursive_and_keeps_subfolders(model, tmp_path, capsys):
    src = tmp_path / "photos"
    _photo(src / "a.png")
    _photo(src / "trip" / "b.jpg")
    (src / "notes.txt").write_text("not an image")
    assert _run(model, src, "-o", tmp_path / "out") == 0, capsys.readouterr().err
    written = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.png"))
    assert written == ["a.png", "trip/b.png"]


def test_empty_folder_is_a_clear_error(model, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert _run(model, tmp_path / "empty", "-o", tmp_path / "out") == 1
    assert "holds no images" in capsys.readouterr().err


def test_output_file_name_for_a_single_input(model, tmp_path, capsys):
    photo = _photo(tmp_path / "in.png")
    assert _run(model, photo, "-o", tmp_path / "result.png") == 0, capsys.readouterr().err
    assert (tmp_path / "result.png").is_file() and not (tmp_path / "result.png").is_dir()
    assert _run(model, photo, "-o", tmp_path / "result.jpg") == 0
    with Image.open(tmp_path / "result.jpg") as img:
        assert img.format == "JPEG" and img.size == (40, 24)


def test_output_file_name_for_several_inputs_is_an_error(model, tmp_path, capsys):
    a, b = _photo(tmp_path / "a.png"), _photo(tmp_path / "b.png")
    assert _run(model, a, b, "-o", tmp_path / "result.png") == 1
    err = capsys.readouterr().err
    assert "is a file name" in err and "folder" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "result.png").exists()


def test_output_that_is_a_file_when_a_folder_is_needed(model, tmp_path, capsys):
    a, b = _photo(tmp_path / "a.png"), _photo(tmp_path / "b.png")
    (tmp_path / "taken").write_text("a file")
    assert _run(model, a, b, "-o", tmp_path / "taken") == 1
    err = capsys.readouterr().err
    assert "is an existing file" in err and "Errno" not in err


def test_existing_outputs_need_overwrite_or_skip_existing(model, tmp_path, capsys):
    photo, out = _photo(tmp_path / "a.png"), tmp_path / "out"
    assert _run(model, photo, "-o", out) == 0
    before = (out / "a.png").read_bytes()
    capsys.readouterr()
    assert _run(model, photo, "-o", out) == 1
    err = capsys.readouterr().err
    assert "already exists" in err and "--overwrite" in err and "--skip-existing" in err
    (out / "a.png").write_bytes(b"keep me")
    assert _run(model, photo, "-o", out, "--skip-existing") == 0
    assert (out / "a.png").read_bytes() == b"keep me" and "skipped" in capsys.readouterr().out
    assert _run(model, photo, "-o", out, "--overwrite") == 0
    assert (out / "a.png").read_bytes() == before


def test_format_option(model, tmp_path):
    assert _run(model, _photo(tmp_path / "a.png"), "-o", tmp_path / "out", "--format", "webp") == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.webp"]


def test_size_above_the_photo_resolution_names_a_working_value(model, tmp_path, capsys):
    photo = _photo(tmp_path / "a.png", h=24, w=40)  # long side 40 -> 48 at stride 16
    code = main(["colorize", str(photo), "-o", str(tmp_path / "out"), "--model", str(model),
                 "--size", "4096"])
    assert code == 1
    err = capsys.readouterr().err
    assert "--size 4096 is larger than" in err and "40x24" in err and "--size 48 or less" in err
    assert main(["colorize", str(photo), "-o", str(tmp_path / "out"), "--model", str(model),
                 "--size", "48"]) == 0


def test_seed_makes_stochastic_runs_repeatable(model, tmp_path, capsys):
    photo = _photo(tmp_path / "a.png")
    outs = []
    for i, seed in enumerate((1, 1, 2)):
        out = tmp_path / f"o{i}.png"
        assert _run(model, photo, "-o", out, "--stochastic", "--seed", seed) == 0
        outs.append(np.asarray(Image.open(out)))
    assert np.array_equal(outs[0], outs[1]) and not np.array_equal(outs[0], outs[2])
    assert _run(model, photo, "-o", tmp_path / "x.png", "--seed", "1") == 1
    assert "--stochastic" in capsys.readouterr().err


@pytest.mark.slow  # --fast compiles the model: seconds even for unet_tiny
def test_fast_for_a_single_image_says_what_it_costs(model, tmp_path, capsys):
    assert _run(model, _photo(tmp_path / "a.png"), "-o", tmp_path / "out", "--fast") == 0
    err = capsys.readouterr().err
    assert "--fast" in err and "many images" in err
