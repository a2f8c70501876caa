"""Image quality and colour metrics for colorization, in pure torch.

All metrics are batched and differentiable where that makes sense. Unless stated
otherwise, inputs are sRGB tensors in [0, 1] of shape ``(B, 3, H, W)`` and every metric
returns one value per image, a tensor of shape ``(B,)``: reduce it yourself
(``.mean()``, or ``torch.nanmean`` for :func:`hue_accuracy`).

=================  =============================================  ==============
metric             measures                                       better
=================  =============================================  ==============
``colorfulness``   how colourful one image is (no reference)       closer to real
``psnr``           pixel error vs. the reference, in dB            higher
``ssim``           structural similarity vs. the reference         higher
``ab_error``       mean colour error in the Lab ab plane           lower
``hue_accuracy``   share of coloured pixels with the right hue     higher
``flicker``        frame-to-frame colour change of a video clip    lower
=================  =============================================  ==============

:func:`gray_baseline` produces the trivial "no colour" prediction to compare against.
:func:`flicker` takes the ``ab`` planes of a clip, ``(T, 2, H, W)``, and returns one
number for the whole clip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ._alignment import aligned_mean_abs_diff
from .color import lab_to_rgb, rgb_to_lab
from .errors import InvalidInputError

__all__ = [
    "colorfulness",
    "psnr",
    "ssim",
    "ab_error",
    "hue_accuracy",
    "hue_match",
    "gray_baseline",
    "flicker",
]

_SSIM_SIGMA = 1.5
_SSIM_TRUNCATE = 3.5  # as scipy.ndimage / skimage: radius = int(3.5 * 1.5 + 0.5) = 5
_SSIM_K1 = 0.01
_SSIM_K2 = 0.03


def _check_rgb(x: object, name: str, min_size: int = 1) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of shape (B, 3, H, W) in [0, 1], got {type(x).__name__}. "
            "Convert numpy HxWx3 images with torch.from_numpy(a).permute(2, 0, 1)[None] / 255."
        )
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor in [0, 1], got dtype {x.dtype}; "
            "use x.float() / 255 for 8-bit images."
        )
    if x.ndim != 4 or x.shape[1] != 3:
        hint = " Add a batch dimension with x.unsqueeze(0)." if x.ndim == 3 else ""
        raise InvalidInputError(
            f"{name} must have shape (B, 3, H, W) (RGB), got {tuple(x.shape)}.{hint} "
            "Gray images can be expanded with x.expand(-1, 3, -1, -1)."
        )
    if x.shape[0] == 0 or x.shape[2] < min_size or x.shape[3] < min_size:
        raise InvalidInputError(
            f"{name} must hold at least one image of at least {min_size}x{min_size} pixels, "
            f"got shape {tuple(x.shape)}."
        )
    return x


def _check_pair(
    pred: object, target: object, min_size: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    p = _check_rgb(pred, "pred", min_size)
    t = _check_rgb(target, "target", min_size)
    if p.shape != t.shape:
        raise InvalidInputError(
            f"pred and target must have the same shape, got pred {tuple(p.shape)} and target "
            f"{tuple(t.shape)}; resize the prediction to the target's size first."
        )
    return p, t


def colorfulness(rgb: torch.Tensor) -> torch.Tensor:
    """Colourfulness of Hasler & Süsstrunk (2003), no reference needed.

    On the 0–255 scale, with ``rg = R - G`` and ``yb = (R + G) / 2 - B`` over all pixels
    of an image::

        M = sqrt(std(rg)² + std(yb)²) + 0.3 * sqrt(mean(rg)² + mean(yb)²)

    where ``std`` is the population standard deviation. Gray images give 0; vivid
    natural photos are typically 40–110. Compare a colorizer's mean against the mean of
    the real photos: lower means washed-out colours.

    Args:
        rgb: sRGB images in [0, 1].

    Returns:
        One colourfulness value per image.

    Shape:
        - rgb: ``(B, 3, H, W)``.
        - returns: ``(B,)``.

    Example:
        >>> import torch
        >>> colorfulness(torch.full((1, 3, 4, 4), 0.5)).tolist()
        [0.0]
        >>> red = torch.zeros(1, 3, 2, 2); red[:, 0] = 1.0
        >>> round(colorfulness(red).item(), 2)  # 0.3 * sqrt(255² + 127.5²)
        85.53
    """
    rgb = _check_rgb(rgb, "rgb") * 255.0
    r, g, b = rgb.unbind(dim=1)
    rg = (r - g).flatten(1)
    yb = (0.5 * (r + g) - b).flatten(1)
    std = torch.sqrt(rg.var(dim=1, correction=0) + yb.var(dim=1, correction=0))
    mean = torch.sqrt(rg.mean(dim=1) ** 2 + yb.mean(dim=1) ** 2)
    return std + 0.3 * mean


def psnr(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio per image, in dB.

    ``PSNR = 10 * log10(data_range² / MSE)`` with the MSE over all channels and pixels of
    each image (as ``skimage.metrics.peak_signal_noise_ratio``). Identical images give
    ``inf``.

    Args:
        pred: Predicted images.
        target: Reference images.
        data_range: Difference between the largest and smallest possible value.

    Returns:
        One PSNR per image.

    Shape:
        - pred, target: ``(B, 3, H, W)``.
        - returns: ``(B,)``.

    Example:
        >>> import torch
        >>> t = torch.zeros(1, 3, 4, 4)
        >>> psnr(t + 0.1, t).round(decimals=4).tolist()
        [20.0]
    """
    pred, target = _check_pair(pred, target)
    if not data_range > 0:
        raise InvalidInputError(
            f"data_range must be > 0, got {data_range!r}; use 1.0 for [0, 1] images."
        )
    mse = (pred - target).pow(2).flatten(1).mean(dim=1)
    return 10.0 * torch.log10(data_range**2 / mse)


def _gaussian_kernel1d(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    radius = int(_SSIM_TRUNCATE * _SSIM_SIGMA + 0.5)
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (x / _SSIM_SIGMA) ** 2)
    return (k / k.sum()).to(device=device, dtype=dtype)


def ssim(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004) per image, averaged over channels.

    For each channel, local statistics are Gaussian-weighted (11×11 window, σ = 1.5)::

        SSIM = ((2 μx μy + C1) (2 σxy + C2)) / ((μx² + μy² + C1) (σx² + σy² + C2))

    with ``C1 = (0.01 L)²``, ``C2 = (0.03 L)²``, ``L = data_range`` and population
    (co)variances. The SSIM map is averaged over the "valid" region only (the 5-pixel
    border where the window leaves the image is dropped), then over channels. This is the
    same number as ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, data_range=1.0, channel_axis=-1)``: skimage
    filters with reflect padding but then crops exactly that border, so the padding
    never reaches the mean.

    Args:
        pred: Predicted images.
        target: Reference images.
        data_range: Difference between the largest and smallest possible value.

    Returns:
        One SSIM per image, at most 1.

    Shape:
        - pred, target: ``(B, 3, H, W)`` with ``H, W >= 11``.
        - returns: ``(B,)``.

    Example:
        >>> import torch
        >>> x = torch.rand(2, 3, 16, 16)
        >>> ssim(x, x).tolist()
        [1.0, 1.0]
    """
    pred, target = _check_pair(pred, target, min_size=11)
    if not data_range > 0:
        raise InvalidInputError(
            f"data_range must be > 0, got {data_range!r}; use 1.0 for [0, 1] images."
        )
    dtype = pred.dtype if pred.dtype == torch.float64 else torch.float32
    x = pred.to(dtype)
    y = target.to(dtype)
    b, c, h, w = x.shape
    k = _gaussian_kernel1d(dtype, x.device)
    kh = k.view(1, 1, -1, 1)
    kw = k.view(1, 1, 1, -1)

    def blur(t: torch.Tensor) -> torch.Tensor:
        t = t.reshape(-1, 1, *t.shape[-2:])
        return F.conv2d(F.conv2d(t, kh), kw)  # separable, "valid": drops the border

    # One pass for the five maps: x, y, x², y², xy.
    maps = blur(torch.cat([x, y, x * x, y * y, x * y], dim=0))
    mu_x, mu_y, e_xx, e_yy, e_xy = maps.view(5, b * c, *maps.shape[-2:]).unbind(0)
    var_x = e_xx - mu_x * mu_x
    var_y = e_yy - mu_y * mu_y
    cov = e_xy - mu_x * mu_y
    c1 = (_SSIM_K1 * data_range) ** 2
    c2 = (_SSIM_K2 * data_range) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    )
    return s.reshape(b, c, -1).mean(dim=2).mean(dim=1).to(pred.dtype)


def ab_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance between pred and target in the ab plane of CIE Lab.

    ``mean over pixels of sqrt((a_p - a_t)² + (b_p - b_t)²)`` with Lab from
    :func:`cgan_zoo.color.rgb_to_lab` (D65). Lightness is ignored, so the score
    isolates colour. Roughly: below 5 is hard to tell apart, the gray baseline on
    nature photos is around 10–20.

    Args:
        pred: Predicted images.
        target: Reference images.

    Returns:
        One mean ab distance per image (Lab units).

    Shape:
        - pred, target: ``(B, 3, H, W)``.
        - returns: ``(B,)``.

    Example:
        >>> import torch
        >>> x = torch.rand(2, 3, 8, 8)
        >>> ab_error(x, x).tolist()
        [0.0, 0.0]
    """
    pred, target = _check_pair(pred, target)
    ab_p = rgb_to_lab(pred)[:, 1:]
    ab_t = rgb_to_lab(target)[:, 1:]
    return (ab_p - ab_t).pow(2).sum(dim=1).sqrt().flatten(1).mean(dim=1)


def hue_accuracy(
    pred: torch.Tensor,
    target: torch.Tensor,
    min_chroma: float = 15.0,
    pred_min_chroma: float = 5.0,
    max_hue_deg: float = 30.0,
) -> torch.Tensor:
    """Share of clearly coloured pixels whose hue the prediction gets right.

    With chroma ``C = sqrt(a² + b²)`` and hue ``h = atan2(b, a)`` in Lab, among the pixels
    whose **target** chroma is at least ``min_chroma``::

        accuracy = #(C_pred >= pred_min_chroma and |h_pred - h_target| <= max_hue_deg)
                   / #(C_target >= min_chroma)

    where the hue difference is circular (in [0°, 180°]). A washed-out prediction (gray)
    scores 0, a prediction with the right hues but weaker saturation still scores high.

    An image with no pixel of target chroma ``>= min_chroma`` (for example a gray
    photo) has no defined accuracy and gives ``NaN``: average a batch or a dataset with
    ``torch.nanmean(scores)``, which skips them.

    Args:
        pred: Predicted images.
        target: Reference images.
        min_chroma: Target chroma from which a pixel counts as coloured.
        pred_min_chroma: Chroma the prediction needs at that pixel to count as coloured.
        max_hue_deg: Largest hue difference, in degrees, still counted as correct.

    Returns:
        One share in [0, 1] per image, or NaN for images without coloured pixels.

    Shape:
        - pred, target: ``(B, 3, H, W)``.
        - returns: ``(B,)``.

    Example:
        >>> import torch
        >>> red = torch.zeros(1, 3, 4, 4); red[:, 0] = 0.8
        >>> gray = torch.full((1, 3, 4, 4), 0.5)
        >>> hue_accuracy(red, red).tolist(), hue_accuracy(gray, red).tolist()
        ([1.0], [0.0])
        >>> hue_accuracy(red, gray).isnan().tolist()
        [True]
    """
    pred, target = _check_pair(pred, target)
    valid, correct, _ = hue_match(pred, target, min_chroma, pred_min_chroma, max_hue_deg)
    n_valid = valid.flatten(1).sum(dim=1).to(pred.dtype)
    n_correct = correct.flatten(1).sum(dim=1).to(pred.dtype)
    return torch.where(
        n_valid > 0, n_correct / n_valid.clamp_min(1), torch.full_like(n_valid, math.nan)
    )


def hue_match(
    pred: torch.Tensor,
    target: torch.Tensor,
    min_chroma: float = 15.0,
    pred_min_chroma: float = 5.0,
    max_hue_deg: float = 30.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-pixel masks behind :func:`hue_accuracy` (for breakdowns, e.g. by hue).

    Shape:
        - pred, target: ``(B, 3, H, W)`` RGB in [0, 1].
        - returns: ``valid`` and ``correct`` boolean masks ``(B, H, W)`` and the target's
          hue angle in degrees ``(B, H, W)`` in [0, 360).

    Example:
        >>> import torch
        >>> red = torch.zeros(1, 3, 2, 2); red[:, 0] = 0.8
        >>> valid, correct, hue = hue_match(red, red)
        >>> bool(valid.all()), bool(correct.all())
        (True, True)
    """
    ab_p = rgb_to_lab(pred)[:, 1:]
    ab_t = rgb_to_lab(target)[:, 1:]
    chroma_p = torch.linalg.vector_norm(ab_p, dim=1)
    chroma_t = torch.linalg.vector_norm(ab_t, dim=1)
    hue_p = torch.atan2(ab_p[:, 1], ab_p[:, 0])
    hue_t = torch.atan2(ab_t[:, 1], ab_t[:, 0])
    diff = torch.remainder(hue_p - hue_t + math.pi, 2 * math.pi) - math.pi  # in [-π, π)
    diff_deg = diff.abs() * (180.0 / math.pi)
    valid = chroma_t >= min_chroma
    correct = valid & (chroma_p >= pred_min_chroma) & (diff_deg <= max_hue_deg)
    return valid, correct, torch.remainder(torch.rad2deg(hue_t), 360.0)


def gray_baseline(rgb: torch.Tensor) -> torch.Tensor:
    """The trivial colorizer: keep Lab lightness, set a = b = 0.

    Useful as the floor any colorizer must beat on :func:`ab_error` /
    :func:`hue_accuracy` / :func:`colorfulness`.

    Args:
        rgb: sRGB images in [0, 1].

    Returns:
        Gray sRGB images in [0, 1] with the same Lab L.

    Shape:
        - rgb: ``(B, 3, H, W)``; returns ``(B, 3, H, W)``.

    Example:
        >>> import torch
        >>> g = gray_baseline(torch.rand(1, 3, 4, 4))
        >>> bool((g[:, 0] - g[:, 1]).abs().max() < 1e-4)
        True
    """
    rgb = _check_rgb(rgb, "rgb")
    lab = rgb_to_lab(rgb)
    lab = torch.cat([lab[:, :1], torch.zeros_like(lab[:, 1:])], dim=1)
    return lab_to_rgb(lab)


def flicker(ab_frames: Any, shifts: Any = None) -> float:
    """Mean absolute change of ``ab`` between consecutive frames, after undoing known motion.

    For each pair of consecutive frames, frame ``t`` is compared with frame ``t - 1``
    shifted by the known integer displacement, over the region both frames see; the
    result is the mean ``|Δab|`` over pixels, both channels and all pairs (each pair
    weighs the same, whatever its overlap). A perfectly stable colourization of a
    panning shot scores 0. Computed in float64.

    Args:
        ab_frames: ``T >= 2`` frames of a/b values, as a ``(T, 2, H, W)`` tensor/array or
            a sequence of ``(2, H, W)`` tensors/arrays (any units; Lab units give Lab units).
        shifts: How far the content moved from frame ``t - 1`` to frame ``t``, as integer
            ``(dy, dx)`` pixels: one pair for a constant pan, or a sequence of ``T - 1``
            pairs. ``None`` means a static camera. A camera panning right by ``s`` px per
            frame moves the content by ``(0, -s)``.

    Returns:
        The flicker score.

    Raises:
        TypeError: If ``ab_frames`` is neither a tensor/array nor a sequence of frames.
        InvalidInputError: For fewer than two frames, mismatched shapes, or shifts that
            leave no overlap.

    Shape:
        - ab_frames: ``(T, 2, H, W)``.

    Example:
        >>> import torch
        >>> base = torch.arange(40.0).view(1, 2, 4, 5)
        >>> pan = torch.cat([base, torch.roll(base, shifts=-1, dims=-1)])  # content moves 1 px left
        >>> flicker(pan, shifts=(0, -1))
        0.0
        >>> flicker(pan) > 0
        True
    """
    frames = _frames_list(ab_frames)
    if len(frames) < 2:
        raise InvalidInputError(f"flicker needs at least 2 frames, got {len(frames)}.")
    shape = tuple(frames[0].shape)
    if len(shape) != 3:
        raise InvalidInputError(f"each ab frame must be (C, H, W), got shape {shape}.")
    for i, f in enumerate(frames):
        if tuple(f.shape) != shape:
            raise InvalidInputError(
                f"frame {i} has shape {tuple(f.shape)}, expected {shape} like frame 0."
            )
    shift_list = _shift_list(shifts, len(frames) - 1)
    h, w = shape[-2:]
    total = 0.0
    for t, (dy, dx) in enumerate(shift_list, start=1):
        if abs(dy) >= h or abs(dx) >= w:
            raise InvalidInputError(
                f"shift {(dy, dx)} of pair {t} leaves no overlap in {h}x{w} frames."
            )
        total += aligned_mean_abs_diff(frames[t - 1].double(), frames[t].double(), dy, dx)
    return total / len(shift_list)


def _as_tensor(frame: Any) -> torch.Tensor:
    return torch.as_tensor(np.asarray(frame) if isinstance(frame, np.ndarray) else frame)


def _frames_list(ab_frames: Any) -> list[torch.Tensor]:
    """The frames of a ``(T, C, H, W)`` tensor/array or of a sequence, as tensors."""
    if isinstance(ab_frames, (np.ndarray, torch.Tensor)):
        return list(_as_tensor(ab_frames))
    if isinstance(ab_frames, Sequence):
        return [_as_tensor(f) for f in ab_frames]
    raise TypeError(
        "ab_frames must be a (T, 2, H, W) tensor/array or a list of frames, got "
        f"{type(ab_frames).__name__}."
    )


def _shift_list(shifts: Any, pairs: int) -> list[tuple[int, int]]:
    """``pairs`` integer ``(dy, dx)`` shifts from ``None``, one pair, or one pair per frame pair."""
    if shifts is None:
        return [(0, 0)] * pairs
    if len(shifts) == 2 and all(isinstance(v, (int, np.integer)) for v in shifts):
        return [(int(shifts[0]), int(shifts[1]))] * pairs
    shift_list = [(int(s[0]), int(s[1])) for s in shifts]
    if len(shift_list) != pairs:
        raise InvalidInputError(
            f"shifts must be one (dy, dx) pair or {pairs} pairs (one per consecutive frame pair), "
            f"got {len(shift_list)}."
        )
    return shift_list
