"""Write an evaluation as JSON (per image and aggregates) and as Markdown tables."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .aggregate import NEAR_GRAY, VIVID, subset_labels
from .per_image import HUE_BINS

__all__ = ["to_jsonable", "fmt", "markdown_report", "write_json", "write_markdown"]

_METHOD_LABELS = {"ours": "model", "gray": "gray input", "telea": "Telea (gray)"}


def to_jsonable(x: Any, digits: int = 5) -> Any:
    """``x`` with NaN/inf as ``None``, floats rounded, tuples as lists and paths as strings.

    Example:
        >>> to_jsonable({"a": float("nan"), "b": (1.234567891, 2)})
        {'a': None, 'b': [1.23457, 2]}
    """
    if isinstance(x, Mapping):
        return {str(k): to_jsonable(v, digits) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v, digits) for v in x]
    if isinstance(x, os.PathLike):
        return os.fspath(x)
    if isinstance(x, float):
        return None if (math.isnan(x) or math.isinf(x)) else round(x, digits)
    return x


def fmt(v: Any, digits: int = 2) -> str:
    """A number for a table: ``—`` for missing/NaN, ``∞`` for infinity.

    Example:
        >>> fmt(21.134), fmt(float("nan")), fmt(0.5, 3)
        ('21.13', '—', '0.500')
    """
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, float) and math.isinf(v):
        return "∞"
    return f"{v:.{digits}f}"


def _label(method: str) -> str:
    return _METHOD_LABELS.get(method, method)


def _key(method: str, key: str, methods: Sequence[str]) -> str:
    return key if method == methods[0] else f"{key}_{method}"


def _overall(result: Mapping[str, Any]) -> list[str]:
    methods = result["methods"]
    s = result["summary"]["all"]
    rows = [
        "| metric | " + " | ".join(_label(m) for m in methods) + " |",
        "|---|" + "---:|" * len(methods),
    ]
    spec = []
    if result["mode"] == "missing":
        spec += [
            ("hole_psnr", "PSNR inside the holes (dB, RGB)", 2),
            ("hole_psnr_l", "PSNR inside the holes, lightness only (dB)", 2),
        ]
    spec += [
        ("psnr", "PSNR (dB, RGB)", 2),
        ("ssim", "SSIM", 4),
        ("ab_error", "mean ab error (Lab, lower is better)", 2),
        ("hue_accuracy", "hue accuracy (chroma ≥ 15 pixels, within 30°)", 3),
        ("hue_accuracy_pooled", "hue accuracy, pixel-pooled", 3),
        ("colorfulness", f"colourfulness (originals: {fmt(s['colorfulness_original'], 1)})", 1),
        ("colorfulness_ratio", "colourfulness ratio (output / original)", 3),
        (
            "hue_spread",
            f"spread of mean hue across photos, degrees (originals: {fmt(s['hue_spread_original'], 1)})",
            1,
        ),
    ]
    for key, label, nd in spec:
        rows.append(
            f"| {label} | "
            + " | ".join(fmt(s.get(_key(m, key, methods)), nd) for m in methods)
            + " |"
        )
    return rows


def _rows(result: Mapping[str, Any]) -> list[str]:
    methods = result["methods"]
    base = methods[1] if len(methods) > 1 else None
    missing = result["mode"] == "missing"
    head = ["rows", "n"]
    if missing:
        head += ["hole PSNR"] + [f"hole PSNR {_label(m)}" for m in methods[1:]]
    head += ["PSNR"] + [f"PSNR {_label(m)}" for m in methods[1:]]
    head += ["ab error"] + ([f"ab error {_label(base)}"] if base else [])
    head += ["hue accuracy", "colourfulness output", "colourfulness original", "ratio"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    settings = result.get("settings", {})
    labels = subset_labels(settings.get("near_gray", NEAR_GRAY), settings.get("vivid", VIVID))
    parts = [(labels.get(k, k), v) for k, v in result["summary"].items()]
    parts += [(f"subject: {g}", v) for g, v in result.get("subjects", {}).items()]
    for label, s in parts:
        if not s["n"]:
            lines.append(f"| {label} | 0 |" + " — |" * (len(head) - 2))
            continue
        cells = [label, str(int(s["n"]))]
        if missing:
            cells += [fmt(s.get(_key(m, "hole_psnr", methods))) for m in methods]
        cells += [fmt(s.get(_key(m, "psnr", methods))) for m in methods]
        cells += [fmt(s.get("ab_error"))] + ([fmt(s.get(f"ab_error_{base}"))] if base else [])
        cells += [
            fmt(s.get("hue_accuracy"), 3),
            fmt(s.get("colorfulness"), 1),
            fmt(s.get("colorfulness_original"), 1),
            fmt(s.get("colorfulness_ratio"), 3),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _hues(result: Mapping[str, Any]) -> list[str]:
    bins = result["hue_bins"]["ours"]
    ranges = {label: f"{lo:g}°–{hi:g}°" for label, lo, hi in HUE_BINS}
    lines = [
        "| hue of the original (Lab hue angle) | share of coloured pixels | hue accuracy |",
        "|---|---:|---:|",
    ]
    for label, b in bins.items():
        share = (
            b["share"] * 100
            if isinstance(b["share"], float) and not math.isnan(b["share"])
            else math.nan
        )
        lines.append(
            f"| {label} ({ranges.get(label, '')}) | {fmt(share, 1)} % | {fmt(b['accuracy'], 3)} |"
        )
    return lines


def markdown_report(result: Mapping[str, Any], title: str | None = None) -> str:
    """Markdown tables of an evaluation: the whole set per method, the rows, and hue ranges.

    Args:
        result: What :func:`~cgan_zoo.evaluation.evaluate_folder` returns.
        title: A heading; default names the mode and the number of photos.

    Example:
        >>> import torch
        >>> from cgan_zoo import create_model
        >>> from cgan_zoo.evaluation import EvalImage, evaluate_images
        >>> from cgan_zoo.pipelines import Colorizer
        >>> r = evaluate_images(Colorizer(create_model("unet_tiny"), size=32), [EvalImage("a.png", torch.rand(1, 3, 16, 16))])
        >>> print(markdown_report(r).splitlines()[0])
        # Evaluation: colorization, 1 photo
    """
    n = int(result["summary"]["all"]["n"])
    mode = "colorization" if result["mode"] == "colorize" else "missing regions"
    settings = result.get("settings", {})
    lines = [f"# {title or f'Evaluation: {mode}, {n} photo' + ('' if n == 1 else 's')}", ""]
    notes = []
    data = result.get("data")
    if data:
        notes.append(f"photos downscaled to a long side of at most {data['max_side']} px")
    if settings.get("size"):
        notes.append(f"colorizer working size {settings['size']} px")
    if settings.get("call_kwargs"):
        notes.append(
            "call arguments "
            + ", ".join(f"`{k}={v!r}`" for k, v in settings["call_kwargs"].items())
        )
    if settings.get("masks") == "random":
        notes.append(
            f"random masks covering {100 * settings['mask_fraction']:g} % (seed {settings['mask_seed']}, per photo name)"
        )
    elif settings.get("masks") == "files":
        notes.append("masks from files")
    if notes:
        lines += ["Settings: " + "; ".join(notes) + ".", ""]
    lines += _overall(result) + ["", *_rows(result), "", *_hues(result), ""]
    lines.append(
        "Means over photos. Colourfulness ratio = mean output colourfulness / mean original colourfulness; "
        "hue accuracy = mean over the photos that have clearly coloured pixels; the spread of mean hue is the "
        "circular standard deviation of each photo's mean hue, over photos whose original has a colour cast."
    )
    return "\n".join(lines) + "\n"


def write_json(result: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write ``result`` as indented UTF-8 JSON (NaN as ``null``); returns the path.

    Example:
        >>> import tempfile
        >>> p = write_json({"psnr": float("nan")}, tempfile.mkdtemp() + "/r.json")
        >>> p.read_text()
        '{\\n "psnr": null\\n}\\n'
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(
        json.dumps(to_jsonable(result), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return p


def write_markdown(
    result: Mapping[str, Any], path: str | os.PathLike, title: str | None = None
) -> Path:
    """Write :func:`markdown_report` of ``result`` to ``path``; returns the path.

    Example:
        >>> import tempfile, torch
        >>> from cgan_zoo import create_model
        >>> from cgan_zoo.evaluation import EvalImage, evaluate_images
        >>> from cgan_zoo.pipelines import Colorizer
        >>> r = evaluate_images(Colorizer(create_model("unet_tiny"), size=32), [EvalImage("a.png", torch.rand(1, 3, 16, 16))])
        >>> write_markdown(r, tempfile.mkdtemp() + "/r.md").read_text().startswith("# Evaluation")
        True
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(markdown_report(result, title), encoding="utf-8")
    return p
