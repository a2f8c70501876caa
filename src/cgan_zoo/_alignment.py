"""Where two frames overlap when their content moved by a whole number of pixels.

Shared by the flicker metric (:func:`cgan_zoo.metrics.flicker`) and the temporal
smoothing of videos (:mod:`cgan_zoo.pipelines.temporal`): both compare frame ``t`` with
frame ``t - 1`` moved by ``(dy, dx)``, over the region both frames see.
"""

from __future__ import annotations

import torch

__all__ = ["overlap_slices", "aligned_mean_abs_diff"]


def overlap_slices(
    h: int, w: int, dy: int, dx: int
) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """Slices of the region seen by both frames when the content moved by ``(dy, dx)``.

    Args:
        h: Frame height.
        w: Frame width.
        dy: How far the content moved down from the previous frame to the current one.
        dx: How far it moved right (a camera panning right moves the content left: ``dx < 0``).

    Returns:
        ``(prev_slices, cur_slices)`` with ``prev[..., *prev_slices] ≈ cur[..., *cur_slices]``.

    Example:
        >>> overlap_slices(4, 5, 0, -1)
        ((slice(0, 4, None), slice(1, 5, None)), (slice(0, 4, None), slice(0, 4, None)))
    """
    prev = (slice(max(0, -dy), h - max(0, dy)), slice(max(0, -dx), w - max(0, dx)))
    cur = (slice(max(0, dy), h - max(0, -dy)), slice(max(0, dx), w - max(0, -dx)))
    return prev, cur


def aligned_mean_abs_diff(prev: torch.Tensor, cur: torch.Tensor, dy: int, dx: int) -> float:
    """Mean ``|cur - prev|`` over the overlap, ``prev`` moved by ``(dy, dx)`` first.

    Shape:
        - prev, cur: ``(..., H, W)``, the same shape.

    Example:
        >>> base = torch.arange(20.0).view(4, 5)
        >>> aligned_mean_abs_diff(base, torch.roll(base, -1, dims=-1), 0, -1)
        0.0
    """
    (py, px), (cy, cx) = overlap_slices(prev.shape[-2], prev.shape[-1], dy, dx)
    return float((cur[..., cy, cx] - prev[..., py, px]).abs().mean())
