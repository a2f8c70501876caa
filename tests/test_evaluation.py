"""cgan_zoo.evaluation on tiny generated photos with tiny untrained models."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from cgan_zoo import create_model
from cgan_zoo.errors import InvalidConfigError, InvalidInputError, MissingExtraError
from cgan_zoo.evaluation import (
    NEAR_GRAY,
    VIVID,
    EvalImage,
    circular_std,
    eval_mask,
    evaluate_folder,
    evaluate_images,
    load_images,
    markdown_report,
    mask_seed,
    subsets,
    summarize,
    telea_fill,
)
from cgan_zoo.metrics import gray_baseline
from cgan_zoo.pipelines import Colorizer


def _photo(h: int, w: int, seed: int, vivid: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([0.2 + 0.6 * xx, 0.3 + 0.5 * yy, 0.8 - 0.5 * xx], axis=-1)
    y0, x0 = rng.integers(0, h // 2), rng.integers(0, w // 2)
    img[y0 : y0 + h // 3, x0 : x0 + w // 3] = rng.choice([[0.9, 0.1, 0.1], [0.1, 0.7, 0.2]])
    if not vivid:
        img = 0.5 + 0.03 * (img - 0.5) + 0.3 * (yy[..., None] - 0.5)
    return (img.clip(0, 1) * 255).round().astype(np.uint8)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "a").mkdir()
    specs = [("a/sky.png", 40, 64, True), ("a/owl.png", 48, 40, True), ("fog.png", 36, 36, False)]
    for i, (name, h, w, vivid) in enumerate(specs):
        Image.fromarray(_photo(h, w, i, vivid)).save(tmp_path / name)
    (tmp_path / "a" / "SOURCES.tsv").write_text(
        "file\tpackage\tsubject\nsky.png\tpkg-s\tsky\nowl.png\tpkg-o\tanimal: owl\n"
    )
    return tmp_path


@pytest.fixture(scope="module")
def colorizer():
    torch.manual_seed(0)
    return Colorizer(create_model("unet_tiny"), size=32)


@pytest.fixture(scope="module")
def inpainter():
    torch.manual_seed(0)
    model = create_model("unet_tiny", in_channels=2, out_channels=3, task="colorize-missing")
    return Colorizer(model, size=32)


# -------------------------------------------------------------- independent references


def _np_psnr(pred: np.ndarray, target: np.ndarray) -> float:
    mse = np.mean((pred.astype(np.float64) - target.astype(np.float64)) ** 2)
    return 10 * math.log10(1.0 / mse)


def _np_colorfulness(rgb: np.ndarray) -> float:
    r, g, b = (rgb.astype(np.float64) * 255).transpose(2, 0, 1)
    rg, yb = r - g, 0.5 * (r + g) - b
    return math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean())


def _hwc(t: torch.Tensor) -> np.ndarray:
    return t[0].permute(1, 2, 0).double().numpy()


def test_aggregates_match_an_independent_computation(folder, colorizer):
    result = evaluate_folder(colorizer, folder, max_side=48)
    images = load_images(folder, max_side=48)
    assert [im.name for im in images] == result["data"]["images"] == ["a/owl.png", "a/sky.png", "fog.png"]
    psnrs, psnrs_gray, cf_out, cf_orig = [], [], [], []
    for im in images:
        gray = gray_baseline(im.rgb)
        out = colorizer(gray[0].mean(0, keepdim=True)).float()[None]
        psnrs.append(_np_psnr(_hwc(out), _hwc(im.rgb)))
        psnrs_gray.append(_np_psnr(_hwc(gray), _hwc(im.rgb)))
        cf_out.append(_np_colorfulness(_hwc(out)))
        cf_orig.append(_np_colorfulness(_hwc(im.rgb)))
    s = result["summary"]["all"]
    assert s["n"] == 3
    assert s["psnr"] == pytest.approx(np.mean(psnrs), abs=1e-3)
    assert s["psnr_gray"] == pytest.approx(np.mean(psnrs_gray), abs=1e-3)
    assert s["colorfulness_original"] == pytest.approx(np.mean(cf_orig), rel=1e-4)
    assert s["colorfulness_ratio"] == pytest.approx(np.mean(cf_out) / np.mean(cf_orig), rel=1e-3)
    assert s["colorfulness_ratio_gray"] == pytest.approx(0.0, abs=1e-3)
    assert s["hue_accuracy_gray"] == 0.0
    per = result["per_image"]
    assert [r["image"] for r in per] == result["data"]["images"]
    assert s["ab_error"] == pytest.approx(np.mean([r["ours"]["ab_error"] for r in per]))
    hue = [r["ours"]["hue_accuracy"] for r in per]
    assert s["hue_accuracy"] == pytest.approx(np.nanmean(hue))


def test_ab_error_against_skimage(folder, colorizer):
    skcolor = pytest.importorskip("skimage.color", reason="scikit-image comes with the 'eval' extra")
    result = evaluate_folder(colorizer, folder, max_side=48, files=["a/sky.png"])
    im = load_images(folder, ["a/sky.png"], max_side=48)[0]

    ab_ref = skcolor.rgb2lab(_hwc(im.rgb))[..., 1:]
    ab_gray = skcolor.rgb2lab(np.clip(_hwc(gray_baseline(im.rgb)), 0, 1))[..., 1:]
    want = np.sqrt(((ab_gray - ab_ref) ** 2).sum(-1)).mean()
    assert result["summary"]["all"]["ab_error_gray"] == pytest.approx(want, rel=2e-3)


def test_near_gray_vivid_and_subject_rows(folder, colorizer):
    result = evaluate_folder(colorizer, folder, max_side=48)
    per = {r["image"]: r for r in result["per_image"]}
    assert per["fog.png"]["colorfulness_original"] < NEAR_GRAY and per["fog.png"]["near_gray"]
    assert all(per[n]["colorfulness_original"] >= VIVID and per[n]["vivid"] for n in ("a/sky.png", "a/owl.png"))
    rows = result["summary"]
    assert sorted(rows) == ["all", "near_gray", "vivid"]
    assert (rows["near_gray"]["n"], rows["vivid"]["n"]) == (1, 2)
    # the near-gray row reports output vs original colourfulness of exactly that photo
    assert rows["near_gray"]["colorfulness"] == pytest.approx(per["fog.png"]["ours"]["colorfulness"])
    assert rows["near_gray"]["colorfulness_original"] == pytest.approx(per["fog.png"]["colorfulness_original"])
    # subjects come from SOURCES.tsv; the photo without one forms no row
    assert sorted(result["subjects"]) == ["animals", "skies"]
    assert per["fog.png"]["package"] == "" and per["a/owl.png"]["package"] == "pkg-o"
    text = markdown_report(result)
    assert "| near-gray originals (colourfulness < 20) | 1 |" in text and "subject: animals" in text


def test_subsets_thresholds():
    recs = [{"colorfulness_original": c} for c in (0.0, 9.99, 10.0, 19.9, 20.0, 80.0)]
    rows = subsets(recs, near_gray=10.0)
    assert [len(rows[k]) for k in ("all", "near_gray", "in_between", "vivid")] == [6, 2, 2, 2]
    rows = subsets(recs)  # default: near-gray and vivid split the set in two at 20
    assert {k: len(v) for k, v in rows.items()} == {"all": 6, "near_gray": 4, "vivid": 2}
    with pytest.raises(InvalidConfigError):
        subsets(recs, near_gray=30, vivid=20)


def test_circular_std_and_tonality():
    scipy_stats = pytest.importorskip("scipy.stats")
    angles = [10.0, 50.0, 350.0, 300.0]
    want = math.degrees(scipy_stats.circstd(np.radians(angles)))
    assert circular_std(angles) == pytest.approx(want, rel=1e-9)
    # a colorizer that gives every photo the same tint has no hue spread
    recs = [
        {
            "colorfulness_original": 30.0,
            "mean_hue_original": h,
            "mean_chroma_original": 10.0,
            "ours": {"mean_hue": 70.0, "colorfulness": 5.0},
        }
        for h in (20.0, 120.0, 250.0)
    ]
    s = summarize(recs, ["ours"])
    assert s["hue_spread"] == pytest.approx(0.0, abs=1e-6) and s["hue_spread_original"] > 60


class _Tinted:
    """A colorizer-like object that gives everything one colour and records its call arguments."""

    task = "colorize"
    size = 32

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, image, mask=None, temperature=1.0):
        self.calls.append({"temperature": temperature, "mask": mask is not None})
        out = torch.empty(3, *image.shape[-2:])
        out[0], out[1], out[2] = 0.8, 0.5, 0.2
        return out


def test_call_kwargs_are_passed_on_and_checked(folder, colorizer):
    tinted = _Tinted()
    result = evaluate_folder(tinted, folder, max_side=32, call_kwargs={"temperature": 0.4})
    assert {c["temperature"] for c in tinted.calls} == {0.4} and len(tinted.calls) == 3
    assert result["settings"]["call_kwargs"] == {"temperature": 0.4}
    assert result["summary"]["all"]["hue_spread"] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(InvalidConfigError, match="temperature"):
        evaluate_folder(colorizer, folder, call_kwargs={"temperature": 0.4})


def test_deterministic_masks_independent_of_order():
    a = eval_mask(40, 50, "val/x.jpg")
    assert torch.equal(a, eval_mask(40, 50, "val/x.jpg"))
    assert not torch.equal(a, eval_mask(40, 50, "val/y.jpg"))
    assert not torch.equal(a, eval_mask(40, 50, "val/x.jpg", seed=1))
    assert abs(float(a.mean()) - 0.3) <= 0.05
    assert mask_seed("val/x.jpg") == mask_seed("val/x.jpg") < 2**63


def test_masks_and_telea(folder, inpainter):
    pytest.importorskip("cv2", reason="the Telea baseline needs OpenCV: pip install 'cgan-zoo[eval]'")
    full = evaluate_folder(inpainter, folder, max_side=40, masks=True)
    assert full["mode"] == "missing" and full["methods"] == ["ours", "gray", "telea"]
    s = full["summary"]["all"]
    for key in ("hole_psnr", "hole_psnr_gray", "hole_psnr_telea", "hole_psnr_l_telea"):
        assert math.isfinite(s[key]), key
    assert s["mask_fraction"] == pytest.approx(0.3, abs=0.05)
    assert s["colorfulness_telea"] == pytest.approx(0.0, abs=0.1)
    # masks depend on the photo name only: a subset in another order gets the same ones
    part = evaluate_folder(inpainter, folder, max_side=40, masks=True, files=["fog.png", "a/sky.png"])
    by_name = {r["image"]: r for r in full["per_image"]}
    for r in part["per_image"]:
        assert r["mask_fraction"] == by_name[r["image"]]["mask_fraction"]
        assert r["telea"]["hole_psnr"] == pytest.approx(by_name[r["image"]]["telea"]["hole_psnr"])
    # Telea keeps known pixels and is gray
    gray = torch.rand(1, 1, 24, 24).expand(1, 3, 24, 24).clone()
    mask = eval_mask(24, 24, "t")
    filled = telea_fill(gray, mask)
    known = mask[0] < 0.5
    assert torch.equal(filled[:, :, known], gray[:, :, known])
    assert torch.allclose(filled[:, 0], filled[:, 2])


def test_mask_files(folder, inpainter, tmp_path):
    pytest.importorskip("cv2", reason="the Telea baseline needs OpenCV: pip install 'cgan-zoo[eval]'")
    masks = tmp_path / "masks"
    (masks / "a").mkdir(parents=True)
    m = np.zeros((36, 36), np.uint8)
    m[:18] = 255
    Image.fromarray(m).save(masks / "fog.png")
    r = evaluate_folder(inpainter, folder, files=["fog.png"], masks=masks, max_side=36)
    assert r["per_image"][0]["mask_fraction"] == pytest.approx(0.5)
    assert r["settings"]["masks"] == "files"
    with pytest.raises(InvalidInputError, match="no mask for 'a/sky.png'"):
        evaluate_folder(inpainter, folder, files=["a/sky.png"], masks=masks)


def test_telea_without_opencv_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 now raises ImportError
    with pytest.raises(MissingExtraError, match=r"cgan-zoo\[eval\]"):
        telea_fill(torch.zeros(1, 3, 8, 8), torch.ones(1, 8, 8))


def test_bad_setups_are_clear_errors(folder, colorizer, inpainter):
    with pytest.raises(InvalidConfigError, match="colorize-missing"):
        evaluate_folder(colorizer, folder, masks=True)
    with pytest.raises(InvalidConfigError, match="needs masks"):
        evaluate_folder(inpainter, folder, baselines=("gray", "telea"))
    with pytest.raises(InvalidInputError, match="Did you mean 'telea'"):
        evaluate_folder(colorizer, folder, baselines=("telia",))
    with pytest.raises(InvalidInputError, match="does not exist"):
        evaluate_folder(colorizer, folder / "nope")
    with pytest.raises(InvalidInputError, match="under 'val'"):
        evaluate_folder(colorizer, folder, split={"train": []})
    with pytest.raises(InvalidInputError, match="missing.png"):
        evaluate_folder(colorizer, folder, files=["missing.png"])


def test_split_json_and_limit(folder, colorizer, tmp_path):
    split = tmp_path / "split.json"
    split.write_text('{"train": ["a/owl.png"], "val": ["fog.png", "a/sky.png"]}')
    r = evaluate_folder(colorizer, folder, split=split, max_side=32)
    assert r["data"]["images"] == ["fog.png", "a/sky.png"] and r["data"]["split"] == str(split)
    assert evaluate_folder(colorizer, folder, split=split, limit=1, max_side=32)["data"]["n_images"] == 1


def test_tiny_photos_have_no_ssim(colorizer):
    r = evaluate_images(colorizer, [EvalImage("t.png", torch.rand(1, 3, 8, 8))])
    assert math.isnan(r["summary"]["all"]["ssim"]) and math.isfinite(r["summary"]["all"]["psnr"])


def test_gray_outputs_have_no_hue_spread(folder, colorizer):
    s = evaluate_folder(colorizer, folder, max_side=32)["summary"]["all"]
    assert math.isnan(s["hue_spread_gray"]) and s["hue_spread_original"] > 0


def test_empty_rows_have_every_key(colorizer):
    vivid = EvalImage("v.png", torch.from_numpy(_photo(24, 24, 0)).permute(2, 0, 1)[None].float() / 255)
    r = evaluate_images(colorizer, [vivid])
    near, full = r["summary"]["near_gray"], r["summary"]["all"]
    assert near["n"] == 0 and set(full) <= set(near) and math.isnan(near["colorfulness"])
