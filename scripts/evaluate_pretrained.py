"""Evaluate the pretrained colorizers on the held-out nature split: the one source of every published number.

Protocol
--------
* **Images**: the ``val`` list of ``recipes/nature_split.json`` (whole photos, never
  trained on), read from ``NATURE_ROOT``. Each photo is downscaled (Lanczos, aspect kept)
  so that its long side is at most ``--max-side`` pixels (default 512; smaller photos
  are kept as they are). That colour photo is the reference.
* **Input**: the photo's CIE Lab lightness ``L`` only, given to the model as the gray
  sRGB image with the same ``L`` (:func:`cgan_zoo.metrics.gray_baseline`).
* **Colorization**: ``Colorizer(model, size=256)`` (``--size``): the model predicts ``ab``
  at a working size of 256 px on the long side, which is upsampled and recombined with
  the photo's own full-resolution ``L``. The trivial baseline is the gray image itself
  (``gray_baseline``: same ``L``, ``a = b = 0``).
* **Metrics** (:mod:`cgan_zoo.metrics`, per image, against the colour original): PSNR
  (dB, RGB), SSIM, mean ``ab`` error, colourfulness of the output and of the original,
  hue accuracy. Aggregates are means over images, except: the colourfulness ratio is
  ``mean(colourfulness of outputs) / mean(colourfulness of originals)``; hue accuracy is
  the **nan-mean over images** that have clearly coloured pixels (target chroma >= 15);
  the pixel-pooled hue accuracy and a per-hue breakdown are reported as well. Every
  aggregate is given for the whole split, for near-gray originals (colourfulness < 20)
  and for the rest.
* **Missing regions** (``colorize-missing`` models): for val image ``i`` a deterministic
  30 % mask ``random_mask(h, w, 0.3, generator=torch.Generator().manual_seed(i))``; the
  model gets the gray photo with the holes blanked plus the mask
  (``Colorizer(model)(gray, mask=mask)``). The baseline is OpenCV's Telea inpainting of
  the 8-bit gray photo (``cv2.inpaint(gray_u8, mask_u8, 3, cv2.INPAINT_TELEA)``, shown
  as gray RGB; known pixels keep the gray photo). Reported: PSNR inside the holes (RGB,
  and on lightness ``L`` only, range 100, since Telea has no colour), PSNR of the whole
  image, and the colour metrics above. The same model is also scored without a mask,
  as a plain colorizer, with the same keys as the ``colorize`` models.
* **Targets** (met / not met): PSNR >= baseline + 1 dB; hue accuracy >= 0.70;
  colourfulness ratio in [0.85, 1.15]; ab error <= 0.8 x the baseline's; and for
  missing regions hole PSNR >= Telea + 2 dB. The baseline is the gray image for plain
  colorization and the Telea-inpainted gray image with missing regions.

Usage::

    python scripts/evaluate_pretrained.py --data NATURE_ROOT \
        [--models unet_efficientnet_lite0.nature unet_efficientnet_lite0.nature_missing] \
        [--model-path NAME=FOLDER_OR_CKPT ...] [--compare-fp32 NAME=CKPT ...] \
        [--max-side 512] [--size 256] [--limit N] [--threads N] [--write] [--cards-dir DIR]

``--model-path`` evaluates a ``save_pretrained`` folder, a trainer checkpoint
(``ckpt-*.safetensors``, its EMA generator) or a run's checkpoint folder (newest
checkpoint) under a name instead of the registered weights. ``--compare-fp32`` also
evaluates the fp32 checkpoint a bundled (fp16) model was exported from and reports the
PSNR difference, the effect of fp16 storage.

With ``--write``: ``docs/assets/metrics.json``, ``docs/model_zoo.md``, the sample grids
``docs/assets/samples_<name>.jpg``, the ``metrics`` of each registered entry in
``src/cgan_zoo/weights/registry.json`` and the model card ``README.md`` of each bundled
weights folder. Registry metrics and model cards are written only for weights whose
sha256 matches the registry (never for checkpoints); ``--cards-dir`` writes the cards
of the other models to another folder, for preview. Without ``--write`` only a
summary is printed.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib.util
import json
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageOps

from cgan_zoo import metrics as M
from cgan_zoo.color import lab_to_rgb, rgb_to_lab
from cgan_zoo.data import random_mask
from cgan_zoo.pipelines import Colorizer

REPO = Path(__file__).resolve().parents[1]
WEIGHTS = REPO / "src" / "cgan_zoo" / "weights"
REGISTRY = WEIGHTS / "registry.json"
DOCS = REPO / "docs"
ASSETS = DOCS / "assets"
SPLIT = REPO / "recipes" / "nature_split.json"
SCRIPT = "scripts/evaluate_pretrained.py"
REPO_URL = "https://github.com/cgan-zoo/cgan-zoo/blob/main"  # model cards link here (they ship without docs/)

DEFAULT_MODELS = ("unet_efficientnet_lite0.nature", "unet_efficientnet_lite0.nature_missing")
DEFAULT_RECIPES = {
    "unet_efficientnet_lite0.nature": "recipes/nature_colorizer.json",
    "unet_efficientnet_lite0.nature_missing": "recipes/nature_missing.json",
}
DEFAULT_MAX_SIDE = 512
WORK_SIZE = 256
NEAR_GRAY = 20.0  # original colourfulness below this: "near-gray" subset
STRONG_COLOUR = 50.0  # original colourfulness from this: "strongly coloured" (limitations)
MISSING_FRACTION = 0.3
N_SAMPLES = 6

# Targets of the issue.
PSNR_GAIN_DB = 1.0
HUE_MIN = 0.70
COLOURFULNESS_RANGE = (0.85, 1.15)
AB_FACTOR = 0.8
HOLE_GAIN_DB = 2.0

# Same thresholds as cgan_zoo.metrics.hue_accuracy's defaults.
MIN_CHROMA = 15.0
PRED_MIN_CHROMA = 5.0
MAX_HUE_DEG = 30.0
# Lab hue angle ranges (degrees) used for the per-hue breakdown.
HUE_BINS: tuple[tuple[str, float, float], ...] = (
    ("red/pink", 330.0, 50.0),
    ("orange/brown", 50.0, 85.0),
    ("yellow", 85.0, 105.0),
    ("green", 105.0, 200.0),
    ("cyan/blue", 200.0, 290.0),
    ("purple", 290.0, 330.0),
)
GROUP_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("animals", ("animal", "cat", "bird", "insect", "butterfly")),
    ("textures", ("texture",)),
    ("plants & macro", ("flower", "fruit", "leaf", "macro", "plant")),
    (
        "landscapes & skies",
        (
            "landscape",
            "sky",
            "cloud",
            "panorama",
            "lake",
            "mountain",
            "sunset",
            "sunrise",
            "sea",
            "underwater",
        ),
    ),
)


# --------------------------------------------------------------------------- images


@dataclass
class ValImage:
    """One validation photo: ``rgb`` is ``(1, 3, H, W)`` in [0, 1], already downscaled."""

    name: str
    rgb: torch.Tensor
    index: int = 0  # position in the split's val list; seeds the mask
    package: str = ""
    subject: str = ""

    @property
    def group(self) -> str:
        return subject_group(self.subject)

    @property
    def file(self) -> str:
        return self.name.rsplit("/", 1)[-1]


def subject_group(subject: str) -> str:
    """Coarse group of a ``SOURCES.tsv`` subject (first matching word list wins)."""
    s = subject.lower()
    for group, words in GROUP_WORDS:
        if any(w in s for w in words):
            return group
    return "other"


def load_photo(path: Path, max_side: int = DEFAULT_MAX_SIDE) -> torch.Tensor:
    """Read a photo as sRGB ``(1, 3, H, W)`` in [0, 1], long side at most ``max_side``."""
    with Image.open(path) as img:
        img = ImageOps.exif_transpose(img).convert("RGB")
    scale = max_side / max(img.size)
    if scale < 1:
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.resize(size, Image.Resampling.LANCZOS)
    return (
        torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)
        .permute(2, 0, 1)[None]
        .contiguous()
    )


def load_val_images(
    root: Path,
    split: dict[str, list[str]],
    max_side: int = DEFAULT_MAX_SIDE,
    limit: int | None = None,
    sources: dict[str, dict[str, str]] | None = None,
) -> list[ValImage]:
    """The split's ``val`` photos; ``limit`` keeps that many, spread evenly over the list."""
    names = list(split["val"])
    indices = list(range(len(names)))
    if limit is not None and limit < len(names):
        indices = sorted({round(i * (len(names) - 1) / max(1, limit - 1)) for i in range(limit)})
    out = []
    for i in indices:
        row = (sources or {}).get(names[i], {})
        out.append(
            ValImage(
                name=names[i],
                rgb=load_photo(Path(root) / names[i], max_side),
                index=i,
                package=row.get("package", ""),
                subject=row.get("subject", ""),
            )
        )
    return out


def near_gray_outside_split(
    root: Path, split: dict[str, list[str]], max_side: int = DEFAULT_MAX_SIDE
) -> list[ValImage]:
    """Photos that ``SOURCES.tsv`` marks near-grayscale and the split leaves out (neither trained on nor in val).

    The split excludes near-grayscale photos, so the val set has few or no near-gray
    originals; these give a separate check of what a model does on them.
    """
    st = _load_sources_module()
    in_split = set(split.get("train", [])) | set(split.get("val", []))
    out = []
    for folder in ("train", "more", "extra"):
        if not (Path(root) / folder / "SOURCES.tsv").is_file():
            continue
        for row in sorted(st.read_sources(Path(root) / folder), key=lambda r: r["file"]):
            name = f"{folder}/{row['file']}"
            if "grayscale" in row.get("subject", "").lower() and name not in in_split:
                out.append(
                    ValImage(
                        name,
                        load_photo(Path(root) / name, max_side),
                        10_000 + len(out),
                        row["package"],
                        row["subject"],
                    )
                )
    return out


def gray_of(rgb: torch.Tensor) -> torch.Tensor:
    """The gray sRGB image ``(1, 3, H, W)`` with the same Lab ``L`` as ``rgb`` (the baseline)."""
    return M.gray_baseline(rgb)


def model_input(gray: torch.Tensor) -> torch.Tensor:
    """One-channel ``(1, H, W)`` gray image for the :class:`Colorizer`."""
    return gray[0].mean(dim=0, keepdim=True).clamp(0.0, 1.0)


def eval_mask(
    height: int, width: int, index: int, fraction: float = MISSING_FRACTION
) -> torch.Tensor:
    """The deterministic mask ``(1, H, W)`` (1 = missing) of val image number ``index``."""
    return random_mask(height, width, fraction, generator=torch.Generator().manual_seed(index))


def telea(gray: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """OpenCV Telea inpainting of the 8-bit gray image, as gray RGB ``(1, 3, H, W)``.

    Known pixels keep the (unquantised) gray image; only the holes come from Telea.
    """
    import cv2

    g8 = (model_input(gray)[0] * 255.0).round().clamp(0, 255).to(torch.uint8).numpy()
    m8 = ((mask[0] > 0.5).numpy().astype(np.uint8)) * 255
    filled = cv2.inpaint(g8, m8, 3, cv2.INPAINT_TELEA)
    t = torch.from_numpy(filled.astype(np.float32) / 255.0)[None, None].expand(1, 3, -1, -1)
    return torch.where(mask[None] > 0.5, t, gray)


# --------------------------------------------------------------------------- metrics


def masked_psnr(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, data_range: float = 1.0
) -> float:
    """PSNR (dB) over the pixels where ``mask`` (``(1, H, W)`` or ``(1, 1, H, W)``) is 1, all channels."""
    m = (mask.reshape(1, 1, *mask.shape[-2:]) > 0.5).expand_as(pred)
    if not bool(m.any()):
        return math.nan
    mse = (pred - target)[m].double().pow(2).mean().item()
    return math.inf if mse == 0 else 10.0 * math.log10(data_range**2 / mse)


def hue_counts(pred: torch.Tensor, target: torch.Tensor) -> dict[str, list[int]]:
    """Per Lab hue bin of the target: ``[eligible pixels, correctly hued pixels]``.

    Same definition as :func:`cgan_zoo.metrics.hue_accuracy` (target chroma >= 15, predicted
    chroma >= 5, hue within 30 degrees), so the sums over bins give the pixel-pooled accuracy.
    """
    valid, correct, deg = M.hue_match(pred, target, MIN_CHROMA, PRED_MIN_CHROMA, MAX_HUE_DEG)
    out = {}
    for label, lo, hi in HUE_BINS:
        in_bin = ((deg >= lo) | (deg < hi)) if lo > hi else ((deg >= lo) & (deg < hi))
        out[label] = [int((valid & in_bin).sum()), int((correct & in_bin).sum())]
    return out


def colour_metrics(pred: torch.Tensor, target: torch.Tensor) -> dict[str, Any]:
    """Per-image PSNR, SSIM, ab error, colourfulness (of ``pred``), hue accuracy and hue counts."""
    with torch.no_grad():
        return {
            "psnr": float(M.psnr(pred, target)[0]),
            "ssim": float(M.ssim(pred, target)[0]),
            "ab_error": float(M.ab_error(pred, target)[0]),
            "colorfulness": float(M.colorfulness(pred)[0]),
            "hue_accuracy": float(M.hue_accuracy(pred, target)[0]),
            "hue_counts": hue_counts(pred, target),
        }


def _mean(values: Sequence[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return float(sum(vals) / len(vals)) if vals else math.nan


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


def summarize(records: list[dict[str, Any]], methods: Sequence[str]) -> dict[str, float]:
    """Aggregate per-image records; the first method is "ours" (unsuffixed keys), others get ``_<method>``.

    Means over images, except ``colorfulness_ratio`` (ratio of means), ``hue_accuracy``
    (nan-mean over images with coloured pixels) and ``hue_accuracy_pooled`` (pixel-pooled).
    """
    out: dict[str, float] = {"n": float(len(records))}
    cf_orig = _mean([r["colorfulness_original"] for r in records]) if records else math.nan
    out["colorfulness_original"] = cf_orig
    out["hue_images"] = float(sum(not math.isnan(r[methods[0]]["hue_accuracy"]) for r in records))
    if "mask_fraction" in (records[0] if records else {}):
        out["mask_fraction"] = _mean([r["mask_fraction"] for r in records])
    for i, m in enumerate(methods):
        suffix = "" if i == 0 else f"_{m}"
        keys = [k for k in (records[0][m] if records else {}) if k != "hue_counts"]
        for k in keys:
            out[k + suffix] = _mean([r[m][k] for r in records])
        out["colorfulness_ratio" + suffix] = _ratio(
            out.get("colorfulness" + suffix, math.nan), cf_orig
        )
        eligible = sum(c[0] for r in records for c in r[m]["hue_counts"].values())
        correct = sum(c[1] for r in records for c in r[m]["hue_counts"].values())
        out["hue_accuracy_pooled" + suffix] = correct / eligible if eligible else math.nan
    return out


def subsets(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    near = [r for r in records if r["colorfulness_original"] < NEAR_GRAY]
    return {
        "all": records,
        "near_gray": near,
        "rest": [r for r in records if r["colorfulness_original"] >= NEAR_GRAY],
    }


def hue_breakdown(
    records: list[dict[str, Any]], method: str = "ours"
) -> dict[str, dict[str, float]]:
    """Pixel-pooled hue accuracy per Lab hue bin of the original, with each bin's pixel share."""
    totals = {label: [0, 0] for label, _, _ in HUE_BINS}
    for r in records:
        for label, (e, c) in r[method]["hue_counts"].items():
            totals[label][0] += e
            totals[label][1] += c
    all_eligible = sum(e for e, _ in totals.values())
    return {
        label: {
            "pixels": float(e),
            "share": e / all_eligible if all_eligible else math.nan,
            "accuracy": c / e if e else math.nan,
        }
        for label, (e, c) in totals.items()
    }


def _target(
    tid: str, rule: str, value: float, threshold: float | tuple[float, float]
) -> dict[str, Any]:
    if isinstance(threshold, tuple):
        met = threshold[0] <= value <= threshold[1]
    elif tid == "ab_error":
        met = value <= threshold
    else:
        met = value >= threshold
    return {"id": tid, "rule": rule, "value": value, "threshold": threshold, "met": bool(met)}


def colour_targets(summary: dict[str, float], baseline: str = "gray") -> list[dict[str, Any]]:
    """The issue's four colour targets, against ``baseline`` (``"gray"`` or ``"telea"``)."""
    label = "gray" if baseline == "gray" else "Telea gray"
    return [
        _target(
            "psnr",
            f"PSNR ≥ {label} + {PSNR_GAIN_DB:g} dB",
            summary["psnr"],
            summary[f"psnr_{baseline}"] + PSNR_GAIN_DB,
        ),
        _target("hue_accuracy", f"hue accuracy ≥ {HUE_MIN:.2f}", summary["hue_accuracy"], HUE_MIN),
        _target(
            "colorfulness_ratio",
            f"colourfulness ratio in [{COLOURFULNESS_RANGE[0]:.2f}, {COLOURFULNESS_RANGE[1]:.2f}]",
            summary["colorfulness_ratio"],
            COLOURFULNESS_RANGE,
        ),
        _target(
            "ab_error",
            f"ab error ≤ {AB_FACTOR:g} × {label}'s",
            summary["ab_error"],
            AB_FACTOR * summary[f"ab_error_{baseline}"],
        ),
    ]


def _record(image: ValImage) -> dict[str, Any]:
    h, w = image.rgb.shape[-2:]
    return {
        "image": image.name,
        "package": image.package,
        "subject": image.subject,
        "group": image.group,
        "size": [int(h), int(w)],
        "colorfulness_original": float(M.colorfulness(image.rgb)[0]),
    }


def _finish(records, methods, seconds, targets_fn) -> dict[str, Any]:
    summaries = {k: summarize(v, methods) for k, v in subsets(records).items()}
    groups = sorted({r["group"] for r in records})
    return {
        "summary": summaries,
        "groups": {g: summarize([r for r in records if r["group"] == g], methods) for g in groups},
        "hue_bins": {m: hue_breakdown(records, m) for m in methods},
        "targets": targets_fn(summaries["all"]),
        "per_image": records,
        "seconds": seconds,
    }


def evaluate_colorizer(
    model: torch.nn.Module, images: Sequence[ValImage], size: int = WORK_SIZE
) -> dict[str, Any]:
    """Colorize each image's gray version (no mask) and score it against the original and gray.

    Returns a dict with ``summary`` (``all`` / ``near_gray`` / ``rest``: ours unsuffixed,
    the gray baseline as ``*_gray``), ``groups`` (per subject group), ``hue_bins``,
    ``targets``, ``per_image`` and ``seconds``.
    """
    start = time.perf_counter()
    colorizer = Colorizer(model, size=size)
    records = []
    for image in images:
        gray = gray_of(image.rgb)
        with torch.no_grad():
            ours = lab_to_rgb(colorizer.predict_lab(model_input(gray))[None].float().cpu())
        rec = _record(image)
        rec["near_gray"] = rec["colorfulness_original"] < NEAR_GRAY
        rec["ours"] = colour_metrics(ours, image.rgb)
        rec["gray"] = colour_metrics(gray, image.rgb)
        records.append(rec)
    return _finish(records, ("ours", "gray"), time.perf_counter() - start, colour_targets)


def _missing_targets(summary: dict[str, float]) -> list[dict[str, Any]]:
    return [
        _target(
            "hole_psnr",
            f"hole PSNR ≥ Telea + {HOLE_GAIN_DB:g} dB",
            summary["hole_psnr"],
            summary["hole_psnr_telea"] + HOLE_GAIN_DB,
        ),
        *colour_targets(summary, "telea"),
    ]


def inpaint_outputs(colorizer: Colorizer, image: ValImage, fraction: float = MISSING_FRACTION):
    """``(mask, masked gray input, ours, telea)`` for one image, all ``(1, 3|1, H, W)`` tensors."""
    h, w = image.rgb.shape[-2:]
    mask = eval_mask(int(h), int(w), image.index, fraction)
    gray = gray_of(image.rgb)
    blanked = torch.where(
        mask[None] > 0.5, torch.zeros_like(gray), gray
    )  # no hole content leaks in
    with torch.no_grad():
        lab = colorizer.predict_lab(model_input(blanked), mask=mask)
        ours = lab_to_rgb(lab[None].float().cpu())
    return mask, blanked, ours, telea(gray, mask)


def evaluate_inpainter(
    model: torch.nn.Module,
    images: Sequence[ValImage],
    size: int = WORK_SIZE,
    fraction: float = MISSING_FRACTION,
) -> dict[str, Any]:
    """Colorize with a deterministic ``fraction`` mask per image; compare with Telea inpainting.

    Ours is unsuffixed, Telea ``*_telea``. Per image: ``hole_psnr`` (RGB, inside the
    holes), ``hole_psnr_l`` (Lab L inside the holes, data range 100), and the colour
    metrics of the whole image. Same layout as :func:`evaluate_colorizer`.
    """
    start = time.perf_counter()
    colorizer = Colorizer(model, size=size)
    records = []
    for image in images:
        mask, _, ours, filled = inpaint_outputs(colorizer, image, fraction)
        rec = _record(image)
        rec["near_gray"] = rec["colorfulness_original"] < NEAR_GRAY
        rec["mask_fraction"] = float(mask.mean())
        l_ref = rgb_to_lab(image.rgb)[:, :1]
        for key, pred in (("ours", ours), ("telea", filled)):
            rec[key] = {
                "hole_psnr": masked_psnr(pred, image.rgb, mask),
                "hole_psnr_l": masked_psnr(rgb_to_lab(pred)[:, :1], l_ref, mask, data_range=100.0),
                **colour_metrics(pred, image.rgb),
            }
        records.append(rec)
    return _finish(records, ("ours", "telea"), time.perf_counter() - start, _missing_targets)


def fp16_copy(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``model`` whose floating-point tensors are rounded to fp16 (as exported)."""
    twin = copy.deepcopy(model)
    state = {
        k: (v.half().float() if v.is_floating_point() else v) for k, v in model.state_dict().items()
    }
    twin.load_state_dict(state)
    return twin.eval()


def compare_fp32(
    model: torch.nn.Module,
    model_fp32: torch.nn.Module,
    images: Sequence[ValImage],
    size: int = WORK_SIZE,
    fraction: float = MISSING_FRACTION,
) -> dict[str, Any]:
    """PSNR of the (fp16-stored) ``model`` minus that of its fp32 source, and the largest output change."""
    task = getattr(model, "task", "colorize")
    c16, c32 = Colorizer(model, size=size), Colorizer(model_fp32, size=size)
    psnr16, psnr32, hole16, hole32, max_ab, max_l = [], [], [], [], 0.0, 0.0
    for image in images:
        gray = gray_of(image.rgb)
        if task == "colorize-missing":
            mask, _, out16, _ = inpaint_outputs(c16, image, fraction)
            _, _, out32, _ = inpaint_outputs(c32, image, fraction)
            hole16.append(masked_psnr(out16, image.rgb, mask))
            hole32.append(masked_psnr(out32, image.rgb, mask))
        else:
            with torch.no_grad():
                out16 = lab_to_rgb(c16.predict_lab(model_input(gray))[None].float().cpu())
                out32 = lab_to_rgb(c32.predict_lab(model_input(gray))[None].float().cpu())
        psnr16.append(float(M.psnr(out16, image.rgb)[0]))
        psnr32.append(float(M.psnr(out32, image.rgb)[0]))
        d = (rgb_to_lab(out16) - rgb_to_lab(out32)).abs()
        max_l = max(max_l, float(d[:, 0].max()))
        max_ab = max(max_ab, float(d[:, 1:].max()))
    out = {
        "psnr_fp16": _mean(psnr16),
        "psnr_fp32": _mean(psnr32),
        "psnr_delta": _mean(psnr16) - _mean(psnr32),
        "max_abs_image_psnr_delta": max(abs(a - b) for a, b in zip(psnr16, psnr32)),
        "max_abs_l_change": max_l,
        "max_abs_ab_change": max_ab,
    }
    if hole16:
        out.update(
            hole_psnr_fp16=_mean(hole16),
            hole_psnr_fp32=_mean(hole32),
            hole_psnr_delta=_mean(hole16) - _mean(hole32),
        )
    return out


# --------------------------------------------------------------------------- models


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_registry(path: Path = REGISTRY) -> dict[str, dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def load_model(
    name: str, path: str | None, registry: dict[str, dict[str, Any]]
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The model to evaluate under ``name`` and a description of where it came from.

    ``path`` is ``None`` (the registered bundled weights), a ``save_pretrained`` folder,
    a trainer checkpoint file, or a folder of trainer checkpoints (the newest is used;
    checkpoints are copied to a temporary file first, since training may prune them).
    """
    from cgan_zoo import HubModel, create_model
    from cgan_zoo.training import generator_from_checkpoint, latest_checkpoint, load_checkpoint

    entry = registry.get(name, {})
    if path is None:
        if not entry:
            raise SystemExit(
                f"{name!r} is not in {REGISTRY.relative_to(REPO)}; export it first "
                f"(scripts/export_pretrained.py) or pass --model-path {name}=CHECKPOINT_OR_FOLDER."
            )
        model = create_model(name, pretrained=True)
        folder = WEIGHTS / entry.get("bundled", name)
        return model, {
            "kind": "bundled",
            "sha256": entry.get("sha256", ""),
            "step": entry.get("training", {}).get("steps"),
            "folder": folder,
        }
    p = Path(path)
    if p.is_dir() and (p / "config.json").is_file():
        sha = sha256_of(p / "model.safetensors")
        return HubModel.from_pretrained(p).eval(), {
            "kind": "folder",
            "sha256": sha,
            "step": None,
            "folder": p,
        }
    if p.is_dir():
        ckpt = latest_checkpoint(p)
        if ckpt is None:
            raise SystemExit(
                f"--model-path {name}={path}: no config.json and no checkpoint in that folder."
            )
        p = ckpt
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "ckpt.safetensors"
        shutil.copyfile(p, local)
        model = generator_from_checkpoint(local)
        step = int(load_checkpoint(local)["step"])
    return model.eval(), {"kind": "checkpoint", "sha256": None, "step": step, "file": p.name}


def is_registered_weights(
    name: str, source: dict[str, Any], registry: dict[str, dict[str, Any]]
) -> bool:
    """True when ``source`` holds exactly the registered file of ``name`` (sha256 match)."""
    entry = registry.get(name)
    return bool(entry and source.get("sha256") and source["sha256"] == entry.get("sha256"))


def source_label(source: dict[str, Any]) -> str:
    if source["kind"] == "checkpoint":
        return f"from checkpoint step {source['step']}"
    if source["kind"] == "bundled":
        return f"bundled weights, sha256 {source['sha256'][:12]}…"
    return f"save_pretrained folder, sha256 {source['sha256'][:12]}…"


def weights_file_mb(
    name: str, model: torch.nn.Module, source: dict[str, Any]
) -> tuple[float, bool]:
    """Size of ``model.safetensors`` in MB, or ``(estimate for fp16 storage, True)``."""
    folder = source.get("folder")
    if folder is not None and (Path(folder) / "model.safetensors").is_file():
        return (Path(folder) / "model.safetensors").stat().st_size / 1e6, False
    n = sum(
        v.numel() * (2 if v.is_floating_point() else v.element_size())
        for v in model.state_dict().values()
    )
    return n / 1e6, True


def model_config(model: torch.nn.Module, source: dict[str, Any]) -> dict[str, Any]:
    """The weights' ``config.json`` (or, for checkpoints, the same built from the model)."""
    folder = source.get("folder")
    if folder is not None and (Path(folder) / "config.json").is_file():
        return json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    return {"_class_name": type(model).__name__, **dict(getattr(model, "config", {}) or {})}


def num_parameters(model: torch.nn.Module) -> int:
    fn = getattr(model, "num_parameters", None)
    return int(fn()) if callable(fn) else sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------- grids


def _to_pil(x: torch.Tensor) -> Image.Image:
    arr = (x[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)
    return Image.fromarray(arr)


def _holes_visible(gray: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Masked input for display: holes as a light checkerboard."""
    h, w = gray.shape[-2:]
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    checker = torch.where(((yy // 8 + xx // 8) % 2) == 0, 0.85, 0.65).expand(1, 3, h, w)
    return torch.where(mask[None] > 0.5, checker, gray)


def make_grid(
    rows: list[list[torch.Tensor]], labels: Sequence[str], box: tuple[int, int] = (256, 176)
) -> Image.Image:
    """Tile ``rows`` of ``(1, 3, H, W)`` images into fixed boxes (aspect kept), with column labels."""
    bw, bh = box
    pad, head = 4, 18
    cols = max(len(r) for r in rows)
    canvas = Image.new(
        "RGB", (cols * (bw + pad) + pad, head + len(rows) * (bh + pad) + pad), "white"
    )
    draw = ImageDraw.Draw(canvas)
    for j, label in enumerate(labels):
        draw.text((pad + j * (bw + pad) + 4, 3), label, fill=(0, 0, 0))
    for i, row in enumerate(rows):
        for j, x in enumerate(row):
            tile = _to_pil(x)
            tile.thumbnail((bw, bh), Image.Resampling.LANCZOS)
            ox = pad + j * (bw + pad) + (bw - tile.width) // 2
            oy = head + pad + i * (bh + pad) + (bh - tile.height) // 2
            canvas.paste(tile, (ox, oy))
    return canvas


def sample_indices(n: int, k: int = N_SAMPLES) -> list[int]:
    return sorted({round(i * (n - 1) / max(1, k - 1)) for i in range(min(k, n))})


def sample_grid(
    model: torch.nn.Module, images: Sequence[ValImage], size: int = WORK_SIZE
) -> Image.Image:
    """gray | ours | original rows (colorize), or masked | ours | Telea | original (colorize-missing)."""
    colorizer = Colorizer(model, size=size)
    chosen = [images[i] for i in sample_indices(len(images))]
    rows = []
    if getattr(model, "task", "colorize") == "colorize-missing":
        for image in chosen:
            mask, blanked, ours, filled = inpaint_outputs(colorizer, image)
            rows.append([_holes_visible(blanked, mask), ours, filled, image.rgb])
        return make_grid(rows, ["input (30% missing)", "ours", "Telea (gray)", "original"])
    for image in chosen:
        gray = gray_of(image.rgb)
        with torch.no_grad():
            ours = lab_to_rgb(colorizer.predict_lab(model_input(gray))[None].float().cpu())
        rows.append([gray, ours, image.rgb])
    return make_grid(rows, ["gray input", "ours", "original"])


# --------------------------------------------------------------------------- text output


def fmt(v: Any, nd: int = 2) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, float) and math.isinf(v):
        return "∞"
    return f"{v:.{nd}f}"


def met(t: dict[str, Any]) -> str:
    return "met" if t["met"] else "**not met**"


def targets_line(targets: list[dict[str, Any]]) -> str:
    n = sum(t["met"] for t in targets)
    short = {
        "psnr": "PSNR",
        "hue_accuracy": "hue",
        "colorfulness_ratio": "colourfulness",
        "ab_error": "ab",
        "hole_psnr": "hole PSNR",
    }
    missed = [short[t["id"]] for t in targets if not t["met"]]
    return f"{n}/{len(targets)}" + (f" (not met: {', '.join(missed)})" if missed else "")


def primary_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets of a model's own task: missing regions for inpainters, else plain colorization."""
    return result["missing"]["targets"] if "missing" in result else result["colorize"]["targets"]


def colorize_table(s: dict[str, float], base: str = "gray", base_label: str = "gray") -> list[str]:
    """Markdown rows: metric | ours | baseline, for a ``summarize`` dict."""
    rows = [f"| metric | ours | {base_label} |", "|---|---:|---:|"]
    for key, label, nd in (
        ("psnr", "PSNR (dB, RGB)", 2),
        ("ssim", "SSIM", 4),
        ("ab_error", "ab error (Lab, lower is better)", 2),
        ("colorfulness", "colourfulness (original: {orig})", 1),
        ("colorfulness_ratio", "colourfulness ratio (output / original)", 3),
        ("hue_accuracy", "hue accuracy (nan-mean over images)", 3),
        ("hue_accuracy_pooled", "hue accuracy (pixel-pooled)", 3),
    ):
        label = label.format(orig=fmt(s.get("colorfulness_original"), 1))
        rows.append(f"| {label} | {fmt(s.get(key), nd)} | {fmt(s.get(f'{key}_{base}'), nd)} |")
    return rows


def subset_table(
    result: dict[str, Any], base: str, check: dict[str, Any] | None = None
) -> list[str]:
    label = "Telea" if base == "telea" else base
    rows = [
        f"| images | n | PSNR | PSNR {label} | ab error | ab error {label} | colourfulness ratio | hue accuracy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    names = {
        "all": "whole split",
        "near_gray": f"near-gray originals (colourfulness < {NEAR_GRAY:g})",
        "rest": f"the rest (≥ {NEAR_GRAY:g})",
    }
    parts = [(names[k], result["summary"][k]) for k in ("all", "near_gray", "rest")]
    parts += [(f"subject: {g}", s) for g, s in result["groups"].items()]
    if check is not None:
        parts.append(
            (
                "*check, not in the split:* photos marked near-grayscale in SOURCES.tsv",
                check["summary"]["all"],
            )
        )
    for label, s in parts:
        if not s["n"]:
            rows.append(f"| {label} | 0 | — | — | — | — | — | — |")
            continue
        rows.append(
            f"| {label} | {int(s['n'])} | {fmt(s['psnr'])} | {fmt(s[f'psnr_{base}'])} | {fmt(s['ab_error'])} | "
            f"{fmt(s[f'ab_error_{base}'])} | {fmt(s['colorfulness_ratio'], 3)} | {fmt(s['hue_accuracy'], 3)} |"
        )
    return rows


def hue_table(bins: dict[str, dict[str, float]]) -> list[str]:
    rows = [
        "| hue of the original (Lab hue angle) | share of coloured pixels | hue accuracy |",
        "|---|---:|---:|",
    ]
    ranges = {label: f"{lo:g}°–{hi:g}°" for label, lo, hi in HUE_BINS}
    for label, b in bins.items():
        rows.append(
            f"| {label} ({ranges[label]}) | {fmt(100 * b['share'], 1)} % | {fmt(b['accuracy'], 3)} |"
        )
    return rows


def targets_table(targets: list[dict[str, Any]]) -> list[str]:
    rows = ["| target | value | threshold | |", "|---|---:|---:|---|"]
    for t in targets:
        thr = t["threshold"]
        thr_s = (
            f"[{thr[0]:.2f}, {thr[1]:.2f}]"
            if isinstance(thr, (tuple, list))
            else fmt(thr, 3 if t["id"] in ("hue_accuracy",) else 2)
        )
        rows.append(f"| {t['rule']} | {fmt(t['value'], 3)} | {thr_s} | {met(t)} |")
    return rows


def missing_table(s: dict[str, float]) -> list[str]:
    rows = ["| metric | ours | Telea (gray) |", "|---|---:|---:|"]
    for key, label, nd in (
        ("hole_psnr", "PSNR inside the holes (dB, RGB)", 2),
        ("hole_psnr_l", "PSNR inside the holes, lightness only (dB, L)", 2),
        ("psnr", "PSNR of the whole image (dB, RGB)", 2),
        ("ssim", "SSIM of the whole image", 4),
        ("ab_error", "ab error", 2),
        ("colorfulness_ratio", "colourfulness ratio", 3),
        ("hue_accuracy", "hue accuracy (nan-mean over images)", 3),
    ):
        rows.append(f"| {label} | {fmt(s.get(key), nd)} | {fmt(s.get(key + '_telea'), nd)} |")
    return rows


def _images(n: float) -> str:
    return f"{int(n)} image" + ("" if int(n) == 1 else "s")


def limitations(name: str, result: dict[str, Any], n_train: int | None = None) -> list[str]:
    """Concrete limitations read off the numbers (plus a few facts of the setup)."""
    col = result["colorize"]
    s = col["summary"]["all"]
    out = []
    r = s["colorfulness_ratio"]
    if r < COLOURFULNESS_RANGE[0]:
        out.append(
            f"**Muted colours.** Outputs have {100 * r:.0f} % of the originals' colourfulness on average "
            f"({fmt(s['colorfulness'], 1)} vs {fmt(s['colorfulness_original'], 1)}): where it is unsure, the model "
            "falls back to desaturated colours."
        )
    elif r > COLOURFULNESS_RANGE[1]:
        out.append(
            f"**Over-saturated colours.** Outputs are {100 * r:.0f} % as colourful as the originals on average."
        )
    bins = {
        k: b
        for k, b in col["hue_bins"]["ours"].items()
        if b["share"] >= 0.02 and not math.isnan(b["accuracy"])
    }
    if bins:
        ranked = sorted(bins.items(), key=lambda kv: kv[1]["accuracy"])
        worst, best = ranked[0], ranked[-1]
        out.append(
            f"**Hue depends on the colour.** Pixel-pooled hue accuracy is {fmt(best[1]['accuracy'], 2)} on "
            f"{best[0]} pixels but {fmt(worst[1]['accuracy'], 2)} on {worst[0]} pixels "
            f"({fmt(100 * worst[1]['share'], 0)} % of the clearly coloured pixels of the split); all hues: "
            + ", ".join(f"{k} {fmt(b['accuracy'], 2)}" for k, b in ranked)
            + "."
            + (
                " Blue skies and water are mostly not recovered."
                if "cyan/blue" in bins and bins["cyan/blue"]["accuracy"] < 0.5
                else ""
            )
        )
    strong = [x for x in col["per_image"] if x["colorfulness_original"] >= STRONG_COLOUR]
    if strong:
        ss = summarize(strong, ("ours", "gray"))
        paler = ss["colorfulness_ratio"] < COLOURFULNESS_RANGE[0]
        out.append(
            f"**Strongly coloured photos** (original colourfulness ≥ {STRONG_COLOUR:g}, {_images(len(strong))}): ab error "
            f"{fmt(ss['ab_error'])} vs gray {fmt(ss['ab_error_gray'])}, colourfulness ratio {fmt(ss['colorfulness_ratio'], 2)}, "
            f"hue accuracy {fmt(ss['hue_accuracy'], 2)}"
            + (": vivid subjects come out much paler than they are." if paler else ".")
        )
    for g, gs in col["groups"].items():
        if gs["n"] and gs["ab_error"] > AB_FACTOR * gs["ab_error_gray"]:
            gain = 1.0 - gs["ab_error"] / gs["ab_error_gray"]
            verdict = (
                "worse than leaving them gray"
                if gain < 0
                else f"only {100 * gain:.0f} % below gray's ab error, short of the "
                f"{100 * (1 - AB_FACTOR):.0f} % target"
            )
            out.append(
                f"**{g.capitalize()}** ({_images(gs['n'])}): ab error {fmt(gs['ab_error'])} vs gray "
                f"{fmt(gs['ab_error_gray'])}, hue accuracy {fmt(gs['hue_accuracy'], 2)}: {verdict}."
            )
    near = col["summary"]["near_gray"]
    check = result.get("near_gray_check", {}).get("summary", {}).get("all")
    for label, sub in (
        ("near-gray originals of the split", near),
        ("near-grayscale photos outside the split", check),
    ):
        if not sub or not sub["n"]:
            continue
        verdict = (
            "adds colour that is not there"
            if sub["ab_error"] > sub["ab_error_gray"]
            else "stays close to gray"
        )
        out.append(
            f"**{label.capitalize()}** ({_images(sub['n'])}): the model {verdict} (ab error {fmt(sub['ab_error'])} vs "
            f"{fmt(sub['ab_error_gray'])} for gray; output colourfulness {fmt(sub['colorfulness'], 1)} vs "
            f"{fmt(sub['colorfulness_original'], 1)} for the originals)."
        )
    if not near["n"]:
        out.append(
            f"The validation split has no near-gray originals (colourfulness < {NEAR_GRAY:g}): the split leaves "
            "near-grayscale photos out, so that subset of the tables is empty."
        )
    worst = sorted(
        col["per_image"], key=lambda x: x["ours"]["ab_error"] - x["gray"]["ab_error"], reverse=True
    )[:3]
    out.append(
        "Least improved over gray (ab error ours / gray): "
        + "; ".join(
            f"{Path(x['image']).name} ({x['subject'] or 'no subject'}, {fmt(x['ours']['ab_error'], 1)} / {fmt(x['gray']['ab_error'], 1)})"
            for x in worst
        )
        + "."
    )
    if "missing" in result:
        m = result["missing"]["summary"]["all"]
        better_l = m["hole_psnr_l"] >= m["hole_psnr_l_telea"]
        out.append(
            f"**Hole lightness.** Inside 30 % masks the lightness PSNR is {fmt(m['hole_psnr_l'])} dB vs "
            f"{fmt(m['hole_psnr_l_telea'])} dB for Telea: "
            + (
                "the fill's shading is better than Telea's"
                if better_l
                else "the fill's shading is less accurate than Telea's"
            )
            + f", while the colour-aware RGB hole PSNR is {fmt(m['hole_psnr'])} vs {fmt(m['hole_psnr_telea'])} dB. "
            "Large holes are filled with smooth content. The masks are synthetic rectangles and brush strokes, not scans "
            "of real damage."
        )
    out += [
        "Colour is predicted at 256 px on the long side and upsampled, so it can bleed across thin edges "
        "(branches, whiskers) on large photos; lightness outside holes is always the input's own.",
        f"Trained on {n_train or 'about 300'} photos (mostly animals and natural textures) and validated on only "
        f"{_images(s['n'])}: differences of a few tenths of a dB are within noise. Not evaluated on people, "
        "indoor scenes or real historical (film, sepia, scanned) photos.",
    ]
    return out


# --------------------------------------------------------------------------- writers


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, Path):
        return None
    if isinstance(x, float):
        return None if (math.isnan(x) or math.isinf(x)) else round(x, 5)
    return x


def registry_metrics(result: dict[str, Any], protocol: dict[str, Any]) -> dict[str, float]:
    """The flat ``metrics`` dict stored in ``registry.json``."""
    s = result["colorize"]["summary"]["all"]
    out = {
        "psnr": s["psnr"],
        "psnr_gray": s["psnr_gray"],
        "ssim": s["ssim"],
        "ssim_gray": s["ssim_gray"],
        "ab_error": s["ab_error"],
        "ab_error_gray": s["ab_error_gray"],
        "colorfulness_ratio": s["colorfulness_ratio"],
        "hue_accuracy": s["hue_accuracy"],
        "hue_accuracy_pooled": s["hue_accuracy_pooled"],
    }
    if "missing" in result:
        m = result["missing"]["summary"]["all"]
        out.update(
            hole_psnr=m["hole_psnr"],
            hole_psnr_telea=m["hole_psnr_telea"],
            hole_psnr_l=m["hole_psnr_l"],
            hole_psnr_l_telea=m["hole_psnr_l_telea"],
            psnr_masked=m["psnr"],
            psnr_masked_telea=m["psnr_telea"],
            ab_error_masked=m["ab_error"],
            colorfulness_ratio_masked=m["colorfulness_ratio"],
            hue_accuracy_masked=m["hue_accuracy"],
        )
    if "fp16_vs_fp32" in result:
        out["fp16_psnr_delta"] = result["fp16_vs_fp32"]["psnr_delta"]
    out["val_images"] = float(s["n"])
    out["max_side"] = float(protocol["max_side"])
    return {
        k: round(float(v), 4) for k, v in out.items() if v is not None and math.isfinite(float(v))
    }


def public_command(args: argparse.Namespace) -> str:
    """The command line that produced the numbers, with local paths replaced by placeholders."""
    parts = ["python", SCRIPT, "--data NATURE_ROOT"]
    if list(args.models) != list(DEFAULT_MODELS):
        parts.append("--models " + " ".join(args.models))
    for spec in args.model_path:
        parts.append(f"--model-path {spec.split('=', 1)[0]}=CHECKPOINT")
    for spec in args.compare_fp32:
        parts.append(f"--compare-fp32 {spec.split('=', 1)[0]}=CHECKPOINT")
    if args.max_side != DEFAULT_MAX_SIDE:
        parts.append(f"--max-side {args.max_side}")
    if args.size != WORK_SIZE:
        parts.append(f"--size {args.size}")
    if args.limit:
        parts.append(f"--limit {args.limit}")
    parts.append("--write")
    return " ".join(parts)


def protocol_lines(protocol: dict[str, Any], missing: bool = True) -> list[str]:
    """The evaluation protocol as Markdown bullets (``missing=False``: without the missing-regions parts)."""
    n_check = len(protocol.get("near_gray_check_images", []))
    lines = [
        f"- Validation set: the {protocol['n_images']} `val` photos of `recipes/nature_split.json`"
        + (
            f" (a subset of {protocol['n_split']})"
            if protocol["n_images"] < protocol["n_split"]
            else ""
        )
        + f", whole photos never trained on, downscaled so the long side is at most {protocol['max_side']} px. "
        "The model sees only the Lab lightness; the colour photo is the reference.",
        f"- Inference: `Colorizer(model, size={protocol['size']})`: colour is predicted at {protocol['size']} px on the long "
        "side and recombined with the photo's full-resolution lightness.",
        "- Metrics from `cgan_zoo.metrics`, per image, then averaged over images. Colourfulness ratio = mean output "
        "colourfulness / mean original colourfulness. Hue accuracy = nan-mean over the images that have clearly "
        "coloured pixels (Lab chroma ≥ 15); the pixel-pooled value is given too.",
        f"- Gray baseline: the gray photo itself (`cgan_zoo.metrics.gray_baseline`). Near-gray subset: originals with "
        f"colourfulness < {NEAR_GRAY:g}."
        + (
            f" As a separate check, outside all aggregates and targets, the {n_check} photos of the collection marked "
            "near-grayscale (which the split leaves out) are scored the same way."
            if n_check
            else ""
        ),
        f"- Missing regions: a deterministic {int(100 * MISSING_FRACTION)} % mask per photo "
        "(`random_mask(h, w, 0.3, generator=torch.Generator().manual_seed(i))` for val photo `i`); the model gets the gray "
        "photo with blanked holes plus the mask. Baseline: OpenCV Telea inpainting of the gray photo "
        "(`cv2.inpaint(gray, mask, 3, cv2.INPAINT_TELEA)`), which has no colour; hole PSNR is also given on lightness only.",
        f"- Targets: PSNR ≥ baseline + {PSNR_GAIN_DB:g} dB; hue accuracy ≥ {HUE_MIN:.2f}; colourfulness ratio in "
        f"[{COLOURFULNESS_RANGE[0]:.2f}, {COLOURFULNESS_RANGE[1]:.2f}]; ab error ≤ {AB_FACTOR:g} × baseline's; hole PSNR ≥ "
        f"Telea + {HOLE_GAIN_DB:g} dB. Baseline: gray for plain colorization, Telea gray with missing regions. A model's "
        "'targets met' count uses its own task (missing regions for `colorize-missing` models).",
    ]
    if not missing:
        lines = [line for line in lines if not line.startswith("- Missing regions")]
        lines[-1] = (
            f"- Targets: PSNR ≥ gray + {PSNR_GAIN_DB:g} dB; hue accuracy ≥ {HUE_MIN:.2f}; colourfulness ratio in "
            f"[{COLOURFULNESS_RANGE[0]:.2f}, {COLOURFULNESS_RANGE[1]:.2f}]; ab error ≤ {AB_FACTOR:g} × gray's."
        )
    return lines


def write_model_zoo(
    path: Path,
    results: dict[str, dict[str, Any]],
    registry: dict[str, dict[str, Any]],
    protocol: dict[str, Any],
    command: str,
) -> None:
    lines = [
        f"<!-- GENERATED by {SCRIPT}; do not edit. Regenerate with: {command} -->",
        "",
        "# Model zoo",
        "",
        f"*Generated by `{SCRIPT}`* with `{command}`; every number on this page comes from that script.",
        "",
        "Pretrained weights of cgan-zoo, scored on held-out nature photos against the trivial gray baseline "
        "(and, with missing regions, against OpenCV's Telea inpainting). The numbers are what they are: the targets "
        "from the issue are listed with each model, met or not met.",
        "",
    ]
    from_ckpt = [n for n, r in results.items() if r["source"]["kind"] == "checkpoint"]
    if from_ckpt:
        lines += [
            "> **Preliminary:** "
            + ", ".join(f"`{n}` ({source_label(results[n]['source'])})" for n in from_ckpt)
            + " evaluated from a training checkpoint, not from the exported (fp16) bundled weights.",
            "",
        ]
    lines += [
        "| name | task | PSNR dB (gray) | SSIM (gray) | ab error (gray) | colourfulness ratio | hue accuracy | hole PSNR dB (Telea) | targets met | licence | file MB | parameters |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    for name in sorted(set(registry) | set(results)):
        entry = registry.get(name, {})
        if name not in results:
            mt = entry.get("metrics", {})
            lines.append(
                f"| `{name}` | {entry.get('task', '')} | {fmt(mt.get('psnr'))} ({fmt(mt.get('psnr_gray'))}) | "
                f"{fmt(mt.get('ssim'), 3)} ({fmt(mt.get('ssim_gray'), 3)}) | {fmt(mt.get('ab_error'))} ({fmt(mt.get('ab_error_gray'))}) | "
                f"{fmt(mt.get('colorfulness_ratio'), 3)} | {fmt(mt.get('hue_accuracy'), 3)} | "
                f"{fmt(mt.get('hole_psnr'))} ({fmt(mt.get('hole_psnr_telea'))}) | not evaluated in this run | "
                f"{entry.get('license', '—')} | — | — |"
            )
            continue
        r = results[name]
        s = r["colorize"]["summary"]["all"]
        hole = "—"
        if "missing" in r:
            m = r["missing"]["summary"]["all"]
            hole = f"{fmt(m['hole_psnr'])} ({fmt(m['hole_psnr_telea'])})"
        size = f"{r['file_mb']:.1f}" + (" (est. fp16)" if r["file_mb_estimated"] else "")
        mark = (
            " *(from checkpoint step {})*".format(r["source"]["step"])
            if r["source"]["kind"] == "checkpoint"
            else ""
        )
        lines.append(
            f"| [`{name}`](#{anchor(name)}){mark} | {r['task']} | {fmt(s['psnr'])} ({fmt(s['psnr_gray'])}) | "
            f"{fmt(s['ssim'], 3)} ({fmt(s['ssim_gray'], 3)}) | {fmt(s['ab_error'])} ({fmt(s['ab_error_gray'])}) | "
            f"{fmt(s['colorfulness_ratio'], 3)} | {fmt(s['hue_accuracy'], 3)} | {hole} | {targets_line(primary_targets(r))} | "
            f"{entry.get('license', 'not yet exported')} | {size} | {r['parameters']:,} |"
        )
    lines += [
        "",
        "Columns: means over the whole validation split without missing regions; the gray baseline in parentheses. "
        "Hole PSNR: inside 30 % masks, ours (Telea). For `colorize-missing` models 'targets met' counts the targets on "
        "the missing-regions run (see its section).",
        "",
        "## How the numbers are computed",
        "",
        *protocol_lines(protocol),
        "",
        "Per-image numbers: [`docs/assets/metrics.json`](assets/metrics.json). Training data and licences: "
        "[`docs/data_sources.md`](data_sources.md).",
    ]
    for name, r in results.items():
        entry = registry.get(name, {})
        lines += ["", f"## {name}", ""]
        if entry.get("description"):
            lines += [entry["description"], ""]
        lines += [
            f"Task `{r['task']}`; evaluated {source_label(r['source'])}; {r['parameters']:,} parameters. "
            + (
                f"Model card: [`src/cgan_zoo/weights/{name}/README.md`]({REPO_URL}/src/cgan_zoo/weights/{name}/README.md)."
                if entry
                else ""
            ),
            "",
            "### Colorization (no missing regions)",
            "",
            *colorize_table(r["colorize"]["summary"]["all"]),
            "",
            *targets_table(r["colorize"]["targets"]),
            "",
            *subset_table(r["colorize"], "gray", r.get("near_gray_check")),
            "",
            *hue_table(r["colorize"]["hue_bins"]["ours"]),
        ]
        if "missing" in r:
            lines += [
                "",
                f"### With {int(100 * MISSING_FRACTION)} % missing regions",
                "",
                *missing_table(r["missing"]["summary"]["all"]),
                "",
                *targets_table(r["missing"]["targets"]),
                "",
                *subset_table(r["missing"], "telea"),
            ]
        if "fp16_vs_fp32" in r:
            c = r["fp16_vs_fp32"]
            lines += [
                "",
                fp16_sentence(c),
            ]
        lines += ["", f"![samples of {name}](assets/samples_{name}.jpg)", ""]
        lines.append(
            "Rows: "
            + (
                "masked gray input | ours | Telea (gray) | original"
                if "missing" in r
                else "gray input | ours | original"
            )
            + ", top to bottom: "
            + ", ".join(
                f"`{Path(protocol['images'][i]).name}`"
                for i in sample_indices(len(protocol["images"]))
            )
            + "."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def anchor(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum() or ch in "-_ ").replace(" ", "-")


HF_LICENCES = {
    "apache-2.0",
    "mit",
    "cc-by-4.0",
    "cc-by-sa-4.0",
    "cc-by-sa-3.0",
    "cc0-1.0",
    "gpl-2.0",
    "gpl-3.0",
    "bsd-3-clause",
    "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0",
    "openrail",
}


def _load_sources_module():
    spec = importlib.util.spec_from_file_location(
        "sources_table", Path(__file__).with_name("sources_table.py")
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def write_model_card(
    path: Path,
    name: str,
    result: dict[str, Any],
    entry: dict[str, Any],
    config: dict[str, Any],
    used: dict[str, list[dict[str, str]]] | None,
    protocol: dict[str, Any],
    command: str,
) -> None:
    """The ``README.md`` model card of one set of weights."""
    task = result["task"]
    lic = entry.get("license", "not yet decided")
    hf = lic.lower() if lic.lower() in HF_LICENCES else "other"
    training = entry.get("training", {})
    recipe = training.get("recipe") or DEFAULT_RECIPES.get(name, "")
    run_name = Path(recipe).stem if recipe else "mine"
    steps = training.get("steps", result["source"].get("step"))
    tags = ["image-to-image", "colorization", "pix2pix", "conditional-gan", "cgan-zoo"]
    if task == "colorize-missing":
        tags.append("inpainting")
    front = ["---", f"license: {hf}"]
    if hf == "other":
        front.append(f"license_name: {lic}")
    front += (
        ["library_name: cgan-zoo", "pipeline_tag: image-to-image", "tags:"]
        + [f"- {t}" for t in tags]
        + ["---", ""]
    )
    s = result["colorize"]["summary"]["all"]
    lines = front + [
        f"<!-- GENERATED by {SCRIPT}; do not edit. Regenerate with: {command} -->",
        "",
        f"# {name}",
        "",
        entry.get("description")
        or (
            "Colorizes grayscale nature photos: predicts Lab ab from lightness."
            if task == "colorize"
            else "Colorizes grayscale nature photos with missing regions: fills the holes' lightness and predicts colour everywhere."
        ),
        "",
    ]
    if result["source"]["kind"] == "checkpoint":
        lines += [
            f"> Preview card: numbers {source_label(result['source'])}, not from the exported weights.",
            "",
        ]
    usage = (
        f'colorizer = Colorizer.from_pretrained("{name}")\ncolor = colorizer(Image.open("gray.jpg"))'
        if task == "colorize"
        else f'colorizer = Colorizer.from_pretrained("{name}")\n'
        'color = colorizer(Image.open("damaged.jpg"), mask=Image.open("mask.png"))  # white = missing'
    )
    lines += [
        "## Usage",
        "",
        "```python",
        "from PIL import Image",
        "from cgan_zoo.pipelines import Colorizer",
        "",
        usage,
        "```",
        "",
        "```bash",
        f"cgan-zoo colorize photo.jpg -o out/ --model {name}"
        + (" --masks masks/" if task == "colorize-missing" else ""),
        "```",
        "",
        "## Architecture",
        "",
        "| | |",
        "|---|---|",
        f"| class | `{config.get('_class_name', '—')}` (U-Net decoder on a timm encoder) |",
        f"| encoder | `{config.get('encoder_name', '—')}` (ImageNet-pretrained, frozen during training) |",
        f"| decoder channels | {config.get('decoder_channels', '—')} |",
        f"| input → output channels | {config.get('in_channels', '—')} → {config.get('out_channels', '—')} "
        + ("(L → ab)" if task == "colorize" else "(masked L + mask → L, ab)")
        + " |",
        f"| normalization / final activation | {config.get('norm', '—')} / {config.get('final_activation', '—')} |",
        f"| colour space | Lab, L/50 − 1 and ab/{config.get('ab_scale', 110)} (contract `lab-v1`) |",
        f"| working size | {entry.get('input_size', protocol['size'])} px (long side) |",
        f"| parameters | {result['parameters']:,} |",
        f"| weights file | {result['file_mb']:.1f} MB ({training.get('storage_dtype', 'float16')} safetensors) |",
        "",
        "## Training",
        "",
        f"- Recipe: [`{recipe}`]({REPO_URL}/{recipe}), {steps} steps"
        + (
            f", {training['cpu_hours']:g} CPU-hours (wall-clock hours × cores)"
            if training.get("cpu_hours")
            else ", CPU-hours not recorded"
        )
        + ".",
        "- Reproduce:",
        "",
        "```bash",
        "python scripts/prepare_nature_data.py NATURE_ROOT DATA          # writes the split and 320 px copies",
        "python scripts/convert_efficientnet_lite0.py efficientnet_lite0_timm.safetensors  # ImageNet encoder weights",
        f"cgan-zoo train --config {recipe} --data DATA/train --val DATA/val --out runs/{run_name} \\",
        "    --set encoder_weights=efficientnet_lite0_timm.safetensors",
        *(
            [
                f"# second sitting: the same command with --steps {training['continued_to']} --resume (the learning",
                f"# rate restarts near its peak and decays linearly to 0 by step {training['continued_to']})",
                f"cgan-zoo train --config {recipe} --data DATA/train --val DATA/val --out runs/{run_name} \\",
                f"    --set encoder_weights=efficientnet_lite0_timm.safetensors --steps {training['continued_to']} --resume",
            ]
            if training.get("continued_to")
            else []
        ),
        f"python scripts/export_pretrained.py runs/{run_name}/checkpoints/ckpt-XXXXXXXX.safetensors {name} --recipe {recipe}",
        "```",
        "",
        "## Training data",
        "",
    ]
    n_train = None
    if used:
        st = _load_sources_module()
        every = [r for rows in used.values() for r in rows]
        train = [r for r in every if r["split"] == "train"]
        n_train = len(train)
        lines += [
            f"{len(train)} real photographs that ship inside public Debian and PyPI packages (plus {len(every) - len(train)} "
            "held out for validation): nature scenes, mostly animals (GCompris), plants, landscapes and skies (MATE, LXQt, "
            "KDE Plasma, libjxl, Tux Typing, Blender, TORCS), natural-material textures from game data packages "
            "(UFO:AI, TORCS, MegaGlest, Red Eclipse, SuperTuxKart, OpenArena, Lugaru, Nexuiz), and for variety some "
            "photos of landmarks, buildings and people.",
            "",
            "Licences of the training photos (by family): "
            + ", ".join(f"{fam} {n}" for fam, n in st.licence_summary(train))
            + ". Every file, its package, version, licence and attribution: "
            f"[`docs/data_sources.md`]({REPO_URL}/docs/data_sources.md).",
            "",
        ]
    else:
        lines += [
            f"Per-file sources and licences: [`docs/data_sources.md`]({REPO_URL}/docs/data_sources.md).",
            "",
        ]
    lines += [
        "## Evaluation",
        "",
        *protocol_lines(protocol, missing=task == "colorize-missing"),
        "",
        "### Colorization (no missing regions), whole validation split",
        "",
        *colorize_table(s),
        "",
        *targets_table(result["colorize"]["targets"]),
        "",
        *subset_table(result["colorize"], "gray", result.get("near_gray_check")),
    ]
    if "missing" in result:
        lines += [
            "",
            f"### With {int(100 * MISSING_FRACTION)} % missing regions",
            "",
            *missing_table(result["missing"]["summary"]["all"]),
            "",
            *targets_table(result["missing"]["targets"]),
        ]
    if "fp16_vs_fp32" in result:
        c = result["fp16_vs_fp32"]
        lines += [
            "",
            fp16_sentence(c),
        ]
    lines += [
        "",
        f"Samples: [`docs/assets/samples_{name}.jpg`]({REPO_URL}/docs/assets/samples_{name}.jpg). "
        f"All numbers: [`docs/model_zoo.md`]({REPO_URL}/docs/model_zoo.md).",
        "",
        "## Known limitations",
        "",
        *[f"- {item}" for item in limitations(name, result, n_train)],
        "",
        "## Licence",
        "",
        (
            f"The weights are released under {lic}."
            if "license" in entry
            else "The licence of the weights is set when they are exported."
        )
        + " The training photos keep their own licences (see above); credit "
        "their authors as listed in `docs/data_sources.md` where your use requires it.",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def fp16_sentence(c: dict[str, Any]) -> str:
    """One sentence on the effect of fp16 storage, from :func:`compare_fp32`'s dict."""
    run = " (with 30 % missing regions)" if "hole_psnr_delta" in c else ""
    text = (
        f"fp16 storage{' (emulated by rounding the checkpoint to fp16)' if c.get('emulated') else ''}: "
        f"mean PSNR{run} {fmt(c['psnr_fp16'], 3)} dB vs {fmt(c['psnr_fp32'], 3)} dB for the fp32 checkpoint"
        + (f" of step {c['fp32_step']}" if c.get("fp32_step") is not None else "")
        + f", a difference of {c['psnr_delta']:+.4f} dB"
    )
    if "hole_psnr_delta" in c:
        text += f" ({c['hole_psnr_delta']:+.4f} dB inside the holes)"
    return (
        text
        + f"; the largest change of any output pixel is {fmt(c['max_abs_ab_change'], 2)} in ab and "
        f"{fmt(c['max_abs_l_change'], 2)} in L (Lab units)."
    )


def summary_text(results: dict[str, dict[str, Any]]) -> str:
    """Plain-text table for stdout."""
    out = []
    header = f"{'model / subset':<48} {'n':>3} {'PSNR':>6} {'base':>6} {'SSIM':>6} {'ab':>6} {'ab base':>7} {'cf ratio':>8} {'hue':>5}"
    for name, r in results.items():
        out.append(
            f"== {name} [{r['task']}] ({source_label(r['source'])}; {r['parameters']:,} params)"
        )
        runs = [("colorize", "gray")] + ([("missing", "telea")] if "missing" in r else [])
        for run, base in runs:
            out.append(
                f"-- {'no mask, baseline gray' if run == 'colorize' else '30% missing, baseline Telea gray'}"
            )
            out.append(header)
            for key in ("all", "near_gray", "rest"):
                s = r[run]["summary"][key]
                if not s["n"]:
                    out.append(f"  {key:<46} {0:>3}")
                    continue
                out.append(
                    f"  {key:<46} {int(s['n']):>3} {fmt(s['psnr']):>6} {fmt(s['psnr_' + base]):>6} {fmt(s['ssim'], 3):>6} "
                    f"{fmt(s['ab_error']):>6} {fmt(s['ab_error_' + base]):>7} {fmt(s['colorfulness_ratio'], 3):>8} "
                    f"{fmt(s['hue_accuracy'], 3):>5}"
                )
            if run == "missing":
                s = r[run]["summary"]["all"]
                out.append(
                    f"  hole PSNR RGB {fmt(s['hole_psnr'])} vs Telea {fmt(s['hole_psnr_telea'])}; "
                    f"hole PSNR L {fmt(s['hole_psnr_l'])} vs Telea {fmt(s['hole_psnr_l_telea'])}; "
                    f"mask fraction {fmt(s['mask_fraction'], 3)}"
                )
            for t in r[run]["targets"]:
                out.append(
                    f"  target {t['rule']:<44} value {fmt(t['value'], 3):>7}  -> {'met' if t['met'] else 'NOT MET'}"
                )
            out.append(f"  ({r[run]['seconds']:.1f} s)")
        if "near_gray_check" in r:
            s = r["near_gray_check"]["summary"]["all"]
            out.append(
                f"-- check: {int(s['n'])} near-grayscale photos outside the split: ab error {fmt(s['ab_error'])} vs gray "
                f"{fmt(s['ab_error_gray'])}, PSNR {fmt(s['psnr'])} vs {fmt(s['psnr_gray'])}, colourfulness "
                f"{fmt(s['colorfulness'], 1)} vs original {fmt(s['colorfulness_original'], 1)}"
            )
        if "fp16_vs_fp32" in r:
            c = r["fp16_vs_fp32"]
            out.append("-- " + fp16_sentence(c))
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def _pairs(specs: Sequence[str], flag: str) -> dict[str, str]:
    out = {}
    for spec in specs:
        if "=" not in spec:
            raise SystemExit(f"{flag} expects NAME=PATH, got {spec!r}")
        k, v = spec.split("=", 1)
        out[k] = v
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--data", type=Path, required=True, help="NATURE_ROOT: folder holding train/, more/, extra/"
    )
    p.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), help="names to evaluate")
    p.add_argument(
        "--model-path",
        action="append",
        default=[],
        metavar="NAME=FOLDER_OR_CKPT",
        help="evaluate NAME from a save_pretrained folder, a checkpoint file or a checkpoints folder",
    )
    p.add_argument(
        "--compare-fp32",
        action="append",
        default=[],
        metavar="NAME=CKPT",
        help="also evaluate the fp32 checkpoint NAME was exported from; report the PSNR difference",
    )
    p.add_argument(
        "--max-side",
        type=int,
        default=DEFAULT_MAX_SIDE,
        help="downscale photos to this long side (default 512)",
    )
    p.add_argument(
        "--size", type=int, default=WORK_SIZE, help="Colorizer working size (default 256)"
    )
    p.add_argument("--split", type=Path, default=SPLIT)
    p.add_argument(
        "--limit",
        type=int,
        default=None,
        help="only N val photos, spread over the split (for development)",
    )
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument(
        "--write",
        action="store_true",
        help="write metrics.json, model_zoo.md, grids, registry metrics, model cards",
    )
    p.add_argument(
        "--cards-dir",
        type=Path,
        default=None,
        help="also write model cards of non-registered weights here (preview)",
    )
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    paths = _pairs(args.model_path, "--model-path")
    fp32_paths = _pairs(args.compare_fp32, "--compare-fp32")
    unknown = (set(paths) | set(fp32_paths)) - set(args.models)
    if unknown:
        raise SystemExit(
            f"--model-path/--compare-fp32 name(s) {sorted(unknown)} are not in --models {args.models}"
        )

    st = _load_sources_module()
    split = st.load_split(args.split)
    try:
        used = st.used_sources(args.data, split)
    except (KeyError, FileNotFoundError) as exc:
        print(f"warning: no source information ({exc})", file=sys.stderr)
        used = None
    rows = {r["name"]: r for folder_rows in (used or {}).values() for r in folder_rows}
    t0 = time.perf_counter()
    images = load_val_images(args.data, split, args.max_side, args.limit, rows)
    check_images = (
        near_gray_outside_split(args.data, split, args.max_side) if used is not None else []
    )
    print(
        f"loaded {len(images)} val photos (long side ≤ {args.max_side}) and {len(check_images)} near-grayscale "
        f"photos outside the split in {time.perf_counter() - t0:.1f} s"
    )
    protocol = {
        "split": "recipes/nature_split.json",
        "n_split": len(split["val"]),
        "n_images": len(images),
        "images": [im.name for im in images],
        "near_gray_check_images": [im.name for im in check_images],
        "max_side": args.max_side,
        "size": args.size,
        "near_gray_threshold": NEAR_GRAY,
        "mask_fraction": MISSING_FRACTION,
        "mask_seed": "val index",
        "hue_accuracy_aggregate": "nan-mean over images (hue_accuracy); pixel-pooled (hue_accuracy_pooled)",
        "targets": {
            "psnr_gain_db": PSNR_GAIN_DB,
            "hue_accuracy_min": HUE_MIN,
            "colorfulness_ratio_range": list(COLOURFULNESS_RANGE),
            "ab_error_factor": AB_FACTOR,
            "hole_psnr_gain_db": HOLE_GAIN_DB,
        },
    }

    registry = read_registry()
    results: dict[str, dict[str, Any]] = {}
    models: dict[str, torch.nn.Module] = {}
    for name in args.models:
        model, source = load_model(name, paths.get(name), registry)
        models[name] = model
        task = getattr(model, "task", "colorize")
        file_mb, estimated = weights_file_mb(name, model, source)
        r: dict[str, Any] = {
            "task": task,
            "source": source,
            "parameters": num_parameters(model),
            "file_mb": file_mb,
            "file_mb_estimated": estimated,
            "config": model_config(model, source),
        }
        r["colorize"] = evaluate_colorizer(model, images, args.size)
        if check_images:
            check = evaluate_colorizer(model, check_images, args.size)
            r["near_gray_check"] = {k: check[k] for k in ("summary", "per_image", "seconds")}
        if task == "colorize-missing":
            r["missing"] = evaluate_inpainter(model, images, args.size)
        if name in fp32_paths:
            # Evaluated from a checkpoint (fp32) already: emulate the export by rounding those
            # very weights to fp16 (reloading the path could pick a newer checkpoint).
            emulated = source["kind"] == "checkpoint"
            if emulated:
                fp16_model, fp32_model, fp32_step = fp16_copy(model), model, source["step"]
            else:
                fp32_model, fp32_source = load_model(name, fp32_paths[name], {})
                fp16_model, fp32_step = model, fp32_source.get("step")
            r["fp16_vs_fp32"] = {
                **compare_fp32(fp16_model, fp32_model, images, args.size),
                "fp32_step": fp32_step,
                "emulated": emulated,
            }
        results[name] = r
    print(summary_text(results))

    if args.write:
        command = public_command(args)
        ASSETS.mkdir(parents=True, exist_ok=True)
        for name, model in models.items():
            sample_grid(model, images, args.size).save(
                ASSETS / f"samples_{name}.jpg", quality=85, optimize=True
            )
        payload = {
            "generated_by": SCRIPT,
            "command": command,
            "protocol": protocol,
            "models": {
                n: {
                    **{k: v for k, v in r.items() if k != "source"},
                    "source": {
                        k: v for k, v in r["source"].items() if k in ("kind", "sha256", "step")
                    },
                }
                for n, r in results.items()
            },
        }
        (ASSETS / "metrics.json").write_text(
            json.dumps(_jsonable(payload), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        write_model_zoo(DOCS / "model_zoo.md", results, registry, protocol, command)
        changed = False
        for name, r in results.items():
            entry = registry.get(name, {})
            registered = is_registered_weights(name, r["source"], registry)
            if registered and not args.limit:
                entry["metrics"] = registry_metrics(r, protocol)
                changed = True
            else:
                why = (
                    "--limit was used"
                    if registered
                    else f"evaluated {source_label(r['source'])}, not the registered file"
                )
                print(f"registry: {name} not updated ({why})")
            card_folder = None
            if registered and not args.limit:
                card_folder = WEIGHTS / entry.get("bundled", name)
            elif args.cards_dir is not None:
                card_folder = args.cards_dir / name
            if card_folder is not None:
                write_model_card(
                    card_folder / "README.md", name, r, entry, r["config"], used, protocol, command
                )
                print(f"model card: {card_folder / 'README.md'}")
        if changed:
            REGISTRY.write_text(
                json.dumps(registry, indent=2, sort_keys=True) + "\n", encoding="utf-8"
            )
            print(f"updated {REGISTRY}")
        print(f"wrote {DOCS / 'model_zoo.md'}, {ASSETS / 'metrics.json'} and the sample grids")
    print(f"total {time.perf_counter() - t0:.1f} s")
    return results


if __name__ == "__main__":
    main()
