"""scripts/evaluate_pretrained.py on synthetic photos with tiny random models (no real data needed).

The evaluation itself is cgan_zoo.evaluation (tests/test_evaluation.py); these tests cover
what the script adds: targets, the model loading, the fp16 comparison and the writers of
the zoo page, the model cards and the registry metrics (``--write``, into a tmp root).
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cgan_zoo import create_model
from cgan_zoo.evaluation import load_images

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_script_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


ev = _load("evaluate_pretrained")


def _photo(h: int, w: int, seed: int, vivid: bool = True) -> np.ndarray:
    """A smooth colourful image (gradients plus a saturated square), or a near-gray one."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([0.2 + 0.6 * xx, 0.3 + 0.5 * yy, 0.8 - 0.5 * xx], axis=-1)
    y0, x0 = rng.integers(0, h // 2), rng.integers(0, w // 2)
    img[y0 : y0 + h // 3, x0 : x0 + w // 3] = rng.choice([[0.9, 0.1, 0.1], [0.1, 0.7, 0.2]])
    if not vivid:
        img = 0.5 + 0.03 * (img - 0.5) + 0.3 * (yy[..., None] - 0.5)
    return (img.clip(0, 1) * 255).round().astype(np.uint8)


@pytest.fixture
def data(tmp_path: Path):
    (tmp_path / "train").mkdir()
    names = []
    for i, (h, w, vivid) in enumerate([(60, 90, True), (48, 40, True), (40, 40, False)]):
        Image.fromarray(_photo(h, w, i, vivid)).save(tmp_path / "train" / f"p{i}.png")
        names.append(f"train/p{i}.png")
    (tmp_path / "train" / "SOURCES.tsv").write_text(
        "file\tpackage\tversion\toriginal_path\tlicense\tsubject\twidth\theight\tbytes\tattribution_note\n"
        + "".join(
            f"p{i}.png\tpkg-{i}\t1.0\tusr/share/p{i}.png\tCC0-1.0\t{subj}\t10\t10\t100\tAuthor {i}\n"
            for i, subj in enumerate(["sky", "animal", "landscape: fog"])
        )
    )
    split = {"held_out_packages": {"pkg-0": "a sky", "pkg-1": "an animal"}, "train": [], "val": names}
    (tmp_path / "split.json").write_text(json.dumps(split))
    return tmp_path, split


@pytest.fixture
def images(data):
    root, split = data
    return load_images(root, split["val"], max_side=48)


def test_evaluate_colorizer_targets(images):
    result = ev.evaluate_colorizer(create_model("unet_tiny"), images, size=32)
    s = result["summary"]
    assert s["all"]["n"] == 3 and s["near_gray"]["n"] == 1 and s["vivid"]["n"] == 2
    ids = [t["id"] for t in result["targets"]]
    assert ids == ["psnr", "ab_error", "hue_accuracy", "colorfulness_ratio", "near_gray_colorfulness"]
    psnr = result["targets"][0]
    assert psnr["threshold"] == pytest.approx(s["all"]["psnr_gray"] + ev.PSNR_GAIN_DB)
    assert psnr["met"] == (s["all"]["psnr"] >= psnr["threshold"])
    near = result["targets"][-1]
    assert near["met"] == (s["near_gray"]["colorfulness"] <= 1.5 * s["near_gray"]["colorfulness_original"])


def test_evaluate_inpainter_and_grid(images):
    pytest.importorskip("cv2", reason="the Telea baseline needs OpenCV, the 'eval' extra")
    model = create_model("unet_tiny", in_channels=2, out_channels=3, task="colorize-missing")
    result = ev.evaluate_inpainter(model, images, size=32)
    s = result["summary"]["all"]
    for key in ("hole_psnr", "hole_psnr_telea", "hole_psnr_gray", "hole_psnr_l", "hole_psnr_l_telea"):
        assert math.isfinite(s[key]), key
    assert s["mask_fraction"] == pytest.approx(0.3, abs=0.05)
    assert [t["id"] for t in result["targets"]] == ["hole_psnr"]
    grid = ev.sample_grid(model, images, size=32)
    assert grid.size[0] > grid.size[1]  # 4 columns, 3 rows


def test_compare_fp32(images):
    model = create_model("unet_tiny").eval()
    cmp = ev.compare_fp32(ev.fp16_copy(model), model, images, size=32)
    assert abs(cmp["psnr_delta"]) < 0.05 and cmp["max_abs_ab_change"] < 1.0


def test_main_write_into_tmp_root(data, tmp_path, capsys):
    """--write produces the zoo page, metrics.json, the registry metrics and the bundled card."""
    root, _ = data
    folder = tmp_path / "out" / "src" / "cgan_zoo" / "weights" / "tiny.test"
    create_model("unet_tiny").save_pretrained(folder)
    sha = ev.sha256_file(folder / "model.safetensors")
    registry = {"tiny.test": {"sha256": sha, "license": "MIT", "task": "colorize", "bundled": "tiny.test"}}
    (folder.parent / "registry.json").write_text(json.dumps(registry))
    out_root = tmp_path / "out"
    results = ev.main(
        [
            "--data", str(root),
            "--split", str(root / "split.json"),
            "--models", "tiny.test",
            "--model-path", f"tiny.test={folder}",
            "--max-side", "48",
            "--size", "32",
            "--threads", "1",
            "--write",
            "--out-root", str(out_root),
        ]
    )  # fmt: skip
    assert results["tiny.test"]["colorize"]["summary"]["all"]["n"] == 3
    assert "tiny.test" in capsys.readouterr().out
    zoo = (out_root / "docs" / "model_zoo.md").read_text()
    assert zoo.startswith("<!-- GENERATED by scripts/evaluate_pretrained.py")
    assert "whole source packages" in zoo and "`pkg-0` (a sky)" in zoo
    assert "near-gray originals (colourfulness < 20)" in zoo
    metrics = json.loads((out_root / "docs" / "assets" / "metrics.json").read_text())
    assert metrics["protocol"]["held_out_packages"] == {"pkg-0": "a sky", "pkg-1": "an animal"}
    assert len(metrics["models"]["tiny.test"]["colorize"]["per_image"]) == 3
    assert (out_root / "docs" / "assets" / "samples_tiny.test.jpg").is_file()
    entry = json.loads((folder.parent / "registry.json").read_text())["tiny.test"]
    assert {"psnr", "psnr_gray", "ab_error", "near_gray_colorfulness", "hue_spread"} <= set(entry["metrics"])
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nlicense: mit\nlibrary_name: cgan-zoo")
    assert "## Known limitations" in card and "Near-gray originals" in card
    assert str(tmp_path) not in zoo + card  # no local paths in what ships


def test_main_without_write_writes_nothing(data, tmp_path):
    root, _ = data
    folder = tmp_path / "tiny"
    create_model("unet_tiny").save_pretrained(folder)
    out_root = tmp_path / "never"
    argv = ["--data", str(root), "--split", str(root / "split.json"), "--models", "tiny.test"]
    argv += ["--model-path", f"tiny.test={folder}", "--max-side", "32", "--size", "32", "--out-root", str(out_root)]
    results = ev.main(argv)
    assert results["tiny.test"]["source"]["kind"] == "folder"
    assert not out_root.exists()


def test_sources_table(tmp_path):
    st = _load("sources_table")
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "SOURCES.tsv").write_text(
        "file\tpackage\tversion\toriginal_path\tlicense\tsubject\twidth\theight\tbytes\tattribution_note\n"
        "a.jpg\tpkg-a\t1.0\tusr/share/a.jpg\tCC0-1.0\tsky\t10\t10\t100\tAlice\n"
        "b.jpg\tpkg-b\t2.0\tusr/share/b.jpg\tGPL-2+\tforest | trees\t10\t10\t100\tBob <bob@example.org>\n"
        "c.jpg\tpkg-c\t3.0\tusr/share/c.jpg\tMIT\tunused\t10\t10\t100\tCarol\n"
    )
    used = st.used_sources(tmp_path, {"train": ["train/a.jpg"], "val": ["train/b.jpg"]})
    text = st.render(used)
    assert text.startswith("<!-- GENERATED by scripts/sources_table.py")
    assert "| a.jpg | train | pkg-a | 1.0 | CC0-1.0 | sky | Alice |" in text
    assert "forest \\| trees" in text and "&lt;bob@example.org&gt;" in text
    assert "c.jpg" not in text and str(tmp_path) not in text
    with pytest.raises(KeyError):
        st.used_sources(tmp_path, {"train": ["train/missing.jpg"], "val": []})


def test_bin_model_card_has_the_temperature_sweep_and_the_previous_split_row(data, tmp_path):
    root, split = data
    folder = tmp_path / "out" / "src" / "cgan_zoo" / "weights" / "tinybins.test"
    create_model("timm_unet_tiny", color_head="bins", decoder_channels=[16, 8, 8], temperature=0.5).save_pretrained(folder)
    sha = ev.sha256_file(folder / "model.safetensors")
    registry = {"tinybins.test": {"sha256": sha, "license": "MIT", "task": "colorize", "bundled": "tinybins.test"}}
    (folder.parent / "registry.json").write_text(json.dumps(registry))
    previous = tmp_path / "previous_split.json"
    previous.write_text(json.dumps({"train": ["train/p0.png"], "val": []}))
    results = ev.main(
        [
            "--data", str(root), "--split", str(root / "split.json"), "--models", "tinybins.test",
            "--model-path", f"tinybins.test={folder}", "--max-side", "48", "--size", "32", "--threads", "1",
            "--temperature-sweep", "1.0,0.5", "--previous-split", str(previous),
            "--trained-on-previous", "tinybins.test",
            "--write", "--out-root", str(tmp_path / "out"),
        ]
    )  # fmt: skip
    r = results["tinybins.test"]
    assert list(r["temperature_sweep"]) == ["1", "0.5"] and r["temperature"] == 0.5
    assert r["colorize"]["summary"]["unseen_previous"]["n"] == 2  # p0 was trained on
    card = (folder / "README.md").read_text()
    assert "### The colour-uncertainty knob" in card and "| 0.5 (default) |" in card
    assert "default temperature 0.5" in card
    assert "photos outside the previous release's training split | 2 |" in card
    assert "**These weights were trained on the previous split**" in card and "holds 1 of today's 3" in card
