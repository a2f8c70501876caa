"""scripts/evaluate_pretrained.py on synthetic photos with tiny random models (no real data needed)."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cgan_zoo import create_model, metrics

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_script_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


ev = _load("evaluate_pretrained")


def _photo(h: int, w: int, seed: int) -> np.ndarray:
    """A smooth colourful image: gradients plus a saturated square."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([0.2 + 0.6 * xx, 0.3 + 0.5 * yy, 0.8 - 0.5 * xx], axis=-1)
    y0, x0 = rng.integers(0, h // 2), rng.integers(0, w // 2)
    img[y0 : y0 + h // 3, x0 : x0 + w // 3] = rng.choice([[0.9, 0.1, 0.1], [0.1, 0.7, 0.2]])
    return (img.clip(0, 1) * 255).round().astype(np.uint8)


@pytest.fixture
def data(tmp_path: Path):
    (tmp_path / "train").mkdir()
    names = []
    for i, (h, w) in enumerate([(60, 90), (48, 40)]):
        Image.fromarray(_photo(h, w, i)).save(tmp_path / "train" / f"p{i}.png")
        names.append(f"train/p{i}.png")
    split = {"train": [], "val": names}
    (tmp_path / "split.json").write_text(json.dumps(split))
    return tmp_path, split


@pytest.fixture
def images(data):
    root, split = data
    return ev.load_val_images(root, split, max_side=64)


def test_load_val_images_downscales_and_keeps_index(data):
    root, split = data
    imgs = ev.load_val_images(root, split, max_side=64)
    assert [im.name for im in imgs] == split["val"]
    assert [im.index for im in imgs] == [0, 1]
    assert max(imgs[0].rgb.shape[-2:]) == 64 and tuple(imgs[1].rgb.shape[-2:]) == (48, 40)
    assert (
        imgs[0].rgb.dtype == torch.float32
        and 0.0 <= float(imgs[0].rgb.min()) <= float(imgs[0].rgb.max()) <= 1.0
    )
    # --limit keeps original indices, so masks stay the same as in the full run
    assert [im.index for im in ev.load_val_images(root, split, 64, limit=1)] == [0]


def test_evaluate_colorizer(images):
    result = ev.evaluate_colorizer(create_model("unet_tiny"), images, size=32)
    s = result["summary"]["all"]
    assert s["n"] == 2 and len(result["per_image"]) == 2
    # the gray baseline is exactly cgan_zoo.metrics on gray_baseline
    want = np.mean([float(metrics.psnr(metrics.gray_baseline(im.rgb), im.rgb)[0]) for im in images])
    assert s["psnr_gray"] == pytest.approx(want, rel=1e-6)
    assert s["colorfulness_gray"] == pytest.approx(0.0, abs=0.05)
    assert s["colorfulness_ratio_gray"] == pytest.approx(0.0, abs=1e-3)
    assert s["hue_accuracy_gray"] == 0.0
    assert all(
        math.isfinite(s[k])
        for k in ("psnr", "ssim", "ab_error", "colorfulness_ratio", "hue_accuracy")
    )
    near, rest = result["summary"]["near_gray"], result["summary"]["rest"]
    assert near["n"] + rest["n"] == 2
    assert [t["id"] for t in result["targets"]] == [
        "psnr",
        "hue_accuracy",
        "colorfulness_ratio",
        "ab_error",
    ]
    assert all(isinstance(t["met"], bool) for t in result["targets"])
    shares = [b["share"] for b in result["hue_bins"]["ours"].values()]
    assert sum(shares) == pytest.approx(1.0)


def test_hue_counts_pool_to_metric(images):
    rgb = images[0].rgb
    pred = (rgb + 0.15 * torch.rand_like(rgb)).clamp(0, 1)
    counts = ev.hue_counts(pred, rgb)
    eligible = sum(c[0] for c in counts.values())
    correct = sum(c[1] for c in counts.values())
    assert eligible > 0
    assert correct / eligible == pytest.approx(float(metrics.hue_accuracy(pred, rgb)[0]), abs=1e-6)


def test_masked_psnr():
    t = torch.zeros(1, 3, 4, 4)
    p = t.clone()
    p[..., :2, :] = 0.1  # error only in the top half
    mask = torch.zeros(1, 4, 4)
    mask[:, :2, :] = 1
    assert ev.masked_psnr(p, t, mask) == pytest.approx(20.0)
    assert ev.masked_psnr(p, t, 1 - mask) == math.inf


@pytest.mark.requires_extra("eval")
def test_evaluate_inpainter_and_telea(images):
    model = create_model("unet_tiny", in_channels=2, out_channels=3, task="colorize-missing")
    h, w = images[1].rgb.shape[-2:]
    mask = ev.eval_mask(h, w, 1)
    assert torch.equal(mask, ev.eval_mask(h, w, 1))  # deterministic
    assert abs(float(mask.mean()) - 0.3) <= 0.05
    gray = ev.gray_of(images[1].rgb)
    filled = ev.telea(gray, mask)
    assert torch.equal(
        filled[:, :, mask[0] < 0.5], gray[:, :, mask[0] < 0.5]
    )  # known pixels unchanged
    assert torch.allclose(filled[:, 0], filled[:, 2], atol=1e-3)  # gray RGB

    result = ev.evaluate_inpainter(model, images, size=32)
    s = result["summary"]["all"]
    for key in (
        "hole_psnr",
        "hole_psnr_telea",
        "hole_psnr_l",
        "hole_psnr_l_telea",
        "psnr",
        "psnr_telea",
    ):
        assert math.isfinite(s[key]), key
    assert s["mask_fraction"] == pytest.approx(0.3, abs=0.05)
    assert [t["id"] for t in result["targets"]][0] == "hole_psnr"
    assert result["per_image"][0]["telea"]["colorfulness"] == pytest.approx(0.0, abs=0.05)

    grid = ev.sample_grid(model, images, size=32)
    assert grid.size[0] > grid.size[1]  # 4 columns, 2 rows


def test_compare_fp32_and_writers(images, tmp_path):
    model = create_model("unet_tiny").eval()
    cmp = ev.compare_fp32(ev.fp16_copy(model), model, images, size=32)
    assert abs(cmp["psnr_delta"]) < 0.05 and cmp["max_abs_ab_change"] < 1.0

    result = {
        "task": "colorize",
        "source": {"kind": "checkpoint", "step": 7, "sha256": None},
        "parameters": ev.num_parameters(model),
        "file_mb": 0.1,
        "file_mb_estimated": True,
        "config": ev.model_config(model, {}),
        "colorize": ev.evaluate_colorizer(model, images, size=32),
        "fp16_vs_fp32": {**cmp, "emulated": True},
    }
    protocol = {
        "n_images": 2,
        "n_split": 2,
        "max_side": 64,
        "size": 32,
        "images": [im.name for im in images],
    }
    zoo = tmp_path / "zoo.md"
    ev.write_model_zoo(
        zoo, {"tiny.test": result}, {}, protocol, "python scripts/evaluate_pretrained.py --write"
    )
    text = zoo.read_text()
    assert text.startswith("<!-- GENERATED by scripts/evaluate_pretrained.py")
    assert "from checkpoint step 7" in text and "tiny.test" in text
    card = tmp_path / "card" / "README.md"
    ev.write_model_card(
        card, "tiny.test", result, {"license": "MIT"}, result["config"], None, protocol, "cmd"
    )
    text = card.read_text()
    assert text.startswith("---\nlicense: mit\nlibrary_name: cgan-zoo")
    assert "## Known limitations" in text and "UNetGenerator" in text
    flat = ev.registry_metrics(result, protocol)
    assert {
        "psnr",
        "psnr_gray",
        "ab_error",
        "ab_error_gray",
        "hue_accuracy",
        "fp16_psnr_delta",
    } <= set(flat)
    assert all(isinstance(v, float) for v in flat.values())


def test_main_end_to_end_without_write(data, tmp_path, capsys):
    root, _ = data
    folder = tmp_path / "tiny"
    create_model("unet_tiny").save_pretrained(folder)
    results = ev.main(
        [
            "--data",
            str(root),
            "--split",
            str(root / "split.json"),
            "--models",
            "tiny.test",
            "--model-path",
            f"tiny.test={folder}",
            "--max-side",
            "48",
            "--size",
            "32",
            "--threads",
            "1",
        ]
    )
    assert results["tiny.test"]["colorize"]["summary"]["all"]["n"] == 2
    assert results["tiny.test"]["source"]["kind"] == "folder"
    out = capsys.readouterr().out
    assert "tiny.test" in out and "target PSNR" in out


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
