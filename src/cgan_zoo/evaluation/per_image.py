"""Per-image scores of one output against its colour original.

Everything is computed with :mod:`cgan_zoo.metrics` (PSNR, SSIM, ab error,
colourfulness, hue accuracy and its per-pixel masks :func:`~cgan_zoo.metrics.hue_match`);
this module only adds what an evaluation needs on top: PSNR inside the holes, hue
counts per hue range (so accuracies can be pooled over pixels) and an image's mean hue.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .. import metrics as M
from ..color import rgb_to_lab

__all__ = [
    "HUE_MIN_CHROMA",
    "HUE_PRED_MIN_CHROMA",
    "HUE_MAX_DEG",
    "HUE_BINS",
    "CAST_MIN_CHROMA",
    "masked_psnr",
    "hue_counts",
    "mean_hue",
    "image_scores",
]

#: Thresholds of the hue accuracy (the defaults of :func:`cgan_zoo.metrics.hue_accuracy`):
#: target pixels of Lab chroma >= 15 count, the prediction needs chroma >= 5 there and a
#: hue within 30 degrees.
HUE_MIN_CHROMA = 15.0
HUE_PRED_MIN_CHROMA = 5.0
HUE_MAX_DEG = 30.0
#: Mean Lab chroma below which an image has no colour cast (:func:`mean_hue` gives NaN).
CAST_MIN_CHROMA = 0.5
#: Lab hue angle ranges (degrees, ``[lo, hi)``, wrapping past 360) of the per-hue breakdown.
HUE_BINS: tuple[tuple[str, float, float], ...] = (
    ("red/pink", 330.0, 50.0),
    ("orange/brown", 50.0, 85.0),
    ("yellow", 85.0, 105.0),
    ("green", 105.0, 200.0),
    ("cyan/blue", 200.0, 290.0),
    ("purple", 290.0, 330.0),
)


def masked_psnr(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, data_range: float = 1.0
) -> float:
    """PSNR (dB) over the pixels where ``mask`` is 1, all channels; NaN for an empty mask.

    Shape:
        - pred, target: ``(1, C, H, W)``; mask: ``(1, H, W)`` or ``(1, 1, H, W)``.

    Example:
        >>> t = torch.zeros(1, 3, 4, 4); p = t.clone(); p[..., :2, :] = 0.1
        >>> m = torch.zeros(1, 4, 4); m[:, :2] = 1
        >>> round(masked_psnr(p, t, m), 4)
        20.0
    """
    m = (mask.reshape(1, 1, *mask.shape[-2:]) > 0.5).expand_as(pred)
    if not bool(m.any()):
        return math.nan
    mse = (pred - target)[m].double().pow(2).mean().item()
    return math.inf if mse == 0 else 10.0 * math.log10(data_range**2 / mse)


def hue_counts(pred: torch.Tensor, target: torch.Tensor) -> dict[str, list[int]]:
    """Per hue range of the target (:data:`HUE_BINS`): ``[eligible pixels, correctly hued pixels]``.

    The definition of :func:`cgan_zoo.metrics.hue_accuracy`, via
    :func:`cgan_zoo.metrics.hue_match`, so the sums over ranges give the pixel-pooled accuracy.

    Shape:
        - pred, target: ``(1, 3, H, W)``.

    Example:
        >>> red = torch.zeros(1, 3, 2, 2); red[:, 0] = 0.8
        >>> hue_counts(red, red)["red/pink"]
        [4, 4]
    """
    valid, correct, deg = M.hue_match(
        pred, target, HUE_MIN_CHROMA, HUE_PRED_MIN_CHROMA, HUE_MAX_DEG
    )
    out = {}
    for label, lo, hi in HUE_BINS:
        in_bin = ((deg >= lo) | (deg < hi)) if lo > hi else ((deg >= lo) & (deg < hi))
        out[label] = [int((valid & in_bin).sum()), int((correct & in_bin).sum())]
    return out


def mean_hue(rgb: torch.Tensor) -> tuple[float, float]:
    """An image's overall colour cast: ``(hue in degrees, chroma)`` of its mean Lab ``ab`` vector.

    The hue is NaN when the mean chroma is below :data:`CAST_MIN_CHROMA` (a gray image,
    up to rounding, has no cast).

    Shape:
        - rgb: ``(1, 3, H, W)``.

    Example:
        >>> red = torch.zeros(1, 3, 2, 2); red[:, 0] = 0.8
        >>> hue, chroma = mean_hue(red)
        >>> round(hue), chroma > 50
        (40, True)
    """
    ab = rgb_to_lab(rgb)[0, 1:].double().flatten(1).mean(dim=1)
    chroma = float(torch.linalg.vector_norm(ab))
    if chroma < CAST_MIN_CHROMA:
        return math.nan, chroma
    return math.degrees(math.atan2(float(ab[1]), float(ab[0]))) % 360.0, chroma


def image_scores(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor | None = None,
) -> dict[str, Any]:
    """Every per-image score of ``pred`` against the colour original ``target``.

    Keys: ``psnr`` (dB, RGB), ``ssim`` (NaN below 11x11 pixels), ``ab_error`` (Lab),
    ``colorfulness`` (of ``pred``), ``hue_accuracy`` (NaN without clearly coloured
    pixels), ``mean_hue`` / ``mean_chroma`` (:func:`mean_hue`), ``hue_counts``
    (:func:`hue_counts`); with a ``mask`` also ``hole_psnr`` (RGB inside the holes) and
    ``hole_psnr_l`` (Lab lightness inside the holes, data range 100).

    Shape:
        - pred, target: ``(1, 3, H, W)``; mask: ``(1, H, W)`` or ``None``.

    Example:
        >>> x = torch.rand(1, 3, 16, 16)
        >>> s = image_scores(x, x)
        >>> s["psnr"], s["ab_error"], s["ssim"]
        (inf, 0.0, 1.0)
    """
    with torch.no_grad():
        small = min(target.shape[-2:]) < 11
        hue, chroma = mean_hue(pred)
        out: dict[str, Any] = {
            "psnr": float(M.psnr(pred, target)[0]),
            "ssim": math.nan if small else float(M.ssim(pred, target)[0]),
            "ab_error": float(M.ab_error(pred, target)[0]),
            "colorfulness": float(M.colorfulness(pred)[0]),
            "hue_accuracy": float(M.hue_accuracy(pred, target)[0]),
            "mean_hue": hue,
            "mean_chroma": chroma,
            "hue_counts": hue_counts(pred, target),
        }
        if mask is not None:
            l_pred = rgb_to_lab(pred)[:, :1]
            l_ref = rgb_to_lab(target)[:, :1]
            out["hole_psnr"] = masked_psnr(pred, target, mask)
            out["hole_psnr_l"] = masked_psnr(l_pred, l_ref, mask, data_range=100.0)
    return out
