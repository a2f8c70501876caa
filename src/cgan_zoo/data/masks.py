"""Random masks of missing regions, for training colorizers that also fill holes.

A mask is a float tensor of shape ``(1, H, W)`` with 1 = missing and 0 = known. It is a
union of random axis-aligned rectangles and free-form brush strokes (random walks drawn
with a thick round brush, as in free-form inpainting work), drawn one shape at a time
until the covered share of pixels is close to the requested ``fraction``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..errors import InvalidConfigError

__all__ = ["MASK_KINDS", "MAX_FRACTION", "FRACTION_TOLERANCE", "random_mask"]

#: Shape families :func:`random_mask` can draw.
MASK_KINDS: tuple[str, ...] = ("rectangles", "strokes")
#: Largest ``fraction`` accepted by :func:`random_mask`.
MAX_FRACTION = 0.95
#: The covered fraction always lands within this distance of the requested one
#: (when the mask has enough pixels for that to be possible).
FRACTION_TOLERANCE = 0.05

_MAX_SHAPES = 400
_N_RANDOM = 32  # random numbers drawn per shape (fixed, so sequences stay aligned)

# Rectangle sides as a fraction of the image side.
_RECT_SIDE = (0.1, 0.5)
# Stroke geometry, as fractions of the image size.
_STROKE_WIDTH = (0.04, 0.12)  # of the short side
_STROKE_STEP = (0.05, 0.2)  # of the long side
_STROKE_VERTICES = (3, 10)
_STROKE_TURN = math.pi / 2  # largest change of direction per step


def _check_args(height: int, width: int, fraction: float, kinds: Sequence[str]) -> tuple[str, ...]:
    for name, v in (("height", height), ("width", width)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InvalidConfigError(f"{name} must be a positive int, got {v!r}.")
    if (
        isinstance(fraction, bool)
        or not isinstance(fraction, (int, float))
        or not (0.0 <= float(fraction) <= MAX_FRACTION)
    ):
        raise InvalidConfigError(
            f"fraction must be a number in [0, {MAX_FRACTION}] (the share of missing pixels), "
            f"got {fraction!r}; for example fraction=0.3."
        )
    if isinstance(kinds, str):
        kinds = (kinds,)
    kinds = tuple(kinds)
    bad = [k for k in kinds if k not in MASK_KINDS]
    if not kinds or bad:
        raise InvalidConfigError(
            f"kinds must be a non-empty subset of {list(MASK_KINDS)}, got {list(kinds)!r}."
        )
    return kinds


def _rectangle(height: int, width: int, u: list[float], fraction: float) -> np.ndarray:
    lo, hi = _RECT_SIDE
    # Small targets get smaller boxes, so one box does not overshoot the whole budget.
    hi = min(hi, max(lo, math.sqrt(2.0 * fraction)))
    h = max(1, round((lo + (hi - lo) * u[0]) * height))
    w = max(1, round((lo + (hi - lo) * u[1]) * width))
    y = min(height - h, int(u[2] * (height - h + 1)))
    x = min(width - w, int(u[3] * (width - w + 1)))
    shape = np.zeros((height, width), dtype=bool)
    shape[y : y + h, x : x + w] = True
    return shape


def _stroke(height: int, width: int, u: list[float]) -> np.ndarray:
    """A random walk drawn with a round brush (PIL line + discs at the joints and ends)."""
    short, long = min(height, width), max(height, width)
    wlo, whi = _STROKE_WIDTH
    radius = max(0.5, (wlo + (whi - wlo) * u[0]) * short / 2.0)
    vlo, vhi = _STROKE_VERTICES
    n_steps = vlo + min(vhi - vlo, int(u[1] * (vhi - vlo + 1)))
    x, y = u[2] * (width - 1), u[3] * (height - 1)
    angle = u[4] * 2.0 * math.pi
    slo, shi = _STROKE_STEP
    points = [(x, y)]
    for i in range(n_steps):
        angle += (2.0 * u[5 + 2 * i] - 1.0) * _STROKE_TURN
        step = (slo + (shi - slo) * u[6 + 2 * i]) * long
        x = min(max(x + step * math.cos(angle), 0.0), width - 1.0)
        y = min(max(y + step * math.sin(angle), 0.0), height - 1.0)
        points.append((x, y))
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    draw.line(points, fill=255, width=max(1, round(2 * radius)))
    for px, py in points:
        draw.ellipse((px - radius, py - radius, px + radius, py + radius), fill=255)
    return np.asarray(canvas) > 0


def random_mask(
    height: int,
    width: int,
    fraction: float = 0.3,
    kinds: Sequence[str] = MASK_KINDS,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw a random mask of missing regions covering about ``fraction`` of the pixels.

    Shapes are drawn one by one, each kind chosen uniformly from ``kinds``:

    * ``"rectangles"``: axis-aligned boxes with sides 10–50 % of the image side (the upper
      bound shrinks to ``sqrt(2 * fraction)`` for small fractions);
    * ``"strokes"``: free-form brush strokes, random walks of 3–10 steps (each 5–20 % of the
      long side, turning up to ±90° per step) drawn with a round brush 4–12 % of the
      short side wide.

    Drawing stops once the covered share reaches a per-mask target drawn uniformly
    from ``[fraction - 0.05, fraction]``; if the last shape overshoots
    ``fraction + 0.05`` it is trimmed (cut along pixel rows). So the covered share is
    always within ±0.05 of ``fraction`` (``FRACTION_TOLERANCE``), and its mean over
    many masks is close to ``fraction``. When the mask has so few pixels that no count
    fits that band, the nearest achievable count (``round(fraction * H * W)``) is used.

    All randomness comes from ``generator`` (or torch's global RNG when ``None``), so a
    seeded :class:`torch.Generator` gives the same mask every time.

    Args:
        height: Mask height in pixels.
        width: Mask width in pixels.
        fraction: Target share of missing pixels, in ``[0, 0.95]``. ``0`` gives an empty
            mask.
        kinds: Non-empty subset of ``("rectangles", "strokes")``.
        generator: Optional torch random generator.

    Returns:
        Float32 tensor of 0s and 1s, 1 = missing.

    Shape:
        - returns: ``(1, height, width)``.

    Raises:
        InvalidConfigError: If ``fraction`` is outside ``[0, 0.95]``, ``kinds`` is empty
            or unknown, or a size is not a positive int.

    Example:
        >>> import torch
        >>> m = random_mask(64, 64, 0.3, generator=torch.Generator().manual_seed(0))
        >>> m.shape, abs(m.mean().item() - 0.3) <= 0.05
        (torch.Size([1, 64, 64]), True)
    """
    kinds = _check_args(height, width, fraction, kinds)
    fraction = float(fraction)
    n = height * width
    mask = np.zeros((height, width), dtype=bool)
    if fraction == 0.0:
        return torch.zeros(1, height, width)

    exact = round(fraction * n)
    low = max(0, math.ceil((fraction - FRACTION_TOLERANCE) * n - 1e-9))
    high = min(n, math.floor((fraction + FRACTION_TOLERANCE) * n + 1e-9))
    low = min(max(low, 1), exact) if exact > 0 else low
    if low > high or high == 0:
        low = high = exact
    if high == 0:
        return torch.zeros(1, height, width)
    stop_at = low + int(
        torch.rand(1, generator=generator, dtype=torch.float64).item() * (exact - low + 1)
    )
    stop_at = min(max(stop_at, low), max(exact, low))

    count = 0
    flat = mask.reshape(-1)
    for _ in range(_MAX_SHAPES):
        if count >= stop_at:
            break
        u = torch.rand(_N_RANDOM, generator=generator, dtype=torch.float64).tolist()
        kind = kinds[min(len(kinds) - 1, int(u[0] * len(kinds)))]
        shape = (
            _rectangle(height, width, u[1:], fraction)
            if kind == "rectangles"
            else _stroke(height, width, u[1:])
        )
        new = np.flatnonzero(shape.reshape(-1) & ~flat)
        if count + new.size > high:
            new = new[: high - count]  # trim: keep the shape's first rows only
        flat[new] = True
        count += int(new.size)
    if count < stop_at:
        # Could not get there with shapes (practically only for fractions near 0.95 on
        # odd sizes): fill the remaining holes in raster order.
        flat[np.flatnonzero(~flat)[: stop_at - count]] = True
    return torch.from_numpy(mask.astype(np.float32)).unsqueeze(0)
