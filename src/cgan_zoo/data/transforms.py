"""Small, explicit augmentation helpers shared by the datasets.

Crops are described as boxes ``(left, top, right, bottom)`` in pixel coordinates of the
decoded image (floats allowed), and applied together with the resize by one antialiased
PIL call (:func:`crop_resize`). Cropping and resizing the 8-bit PIL image, before any
tensor is made, is both faster and sharper than resizing float tensors.

All randomness comes from torch (``torch.rand``/``torch.randint`` with an optional
``generator``), so ``torch.manual_seed`` and the per-worker seeding of
``torch.utils.data.DataLoader`` make every crop and flip reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from ..errors import InvalidConfigError

__all__ = [
    "Box",
    "check_scales",
    "random_square_box",
    "center_square_box",
    "random_crop_box",
    "random_flip",
    "crop_resize",
    "pil_to_tensor",
    "to_signed",
]

Box = tuple[float, float, float, float]

#: Resampling filter for every resize: bicubic, antialiased when downscaling.
RESAMPLE = Image.Resampling.BICUBIC
# Let PIL shrink big images by an integer factor first (much faster, same quality).
_REDUCING_GAP = 3.0


def check_scales(scales: Sequence[float]) -> tuple[float, float]:
    """Validate a ``(min, max)`` crop-scale range with ``0 < min <= max <= 1``.

    Example:
        >>> check_scales((0.6, 1.0))
        (0.6, 1.0)
    """
    try:
        lo, hi = (float(s) for s in scales)
    except (TypeError, ValueError) as exc:
        raise InvalidConfigError(
            f"scales must be a pair (min, max) of fractions of the short side, got {scales!r}; "
            "for example scales=(0.6, 1.0)."
        ) from exc
    if not (0.0 < lo <= hi <= 1.0):
        raise InvalidConfigError(
            f"scales must satisfy 0 < min <= max <= 1, got {scales!r}; for example scales=(0.6, 1.0)."
        )
    return lo, hi


def random_square_box(
    width: int,
    height: int,
    scales: tuple[float, float] = (0.6, 1.0),
    generator: torch.Generator | None = None,
) -> Box:
    """A random square crop whose side is a random fraction of the image's short side.

    The side is ``s * min(width, height)`` with ``s ~ U(scales)``; the position is uniform
    over all positions that keep the box inside the image. Three numbers are drawn from
    torch's RNG on every call.

    Example:
        >>> import torch
        >>> l, t, r, b = random_square_box(100, 50, (0.5, 0.5), torch.Generator().manual_seed(0))
        >>> round(r - l, 6), round(b - t, 6)
        (25.0, 25.0)
    """
    u = torch.rand(3, generator=generator, dtype=torch.float64).tolist()
    lo, hi = scales
    side = (lo + (hi - lo) * u[0]) * min(width, height)
    left = (width - side) * u[1]
    top = (height - side) * u[2]
    return (left, top, left + side, top + side)


def center_square_box(width: int, height: int) -> Box:
    """The largest centred square: the short side, centred on the long side.

    Example:
        >>> center_square_box(100, 60)
        (20.0, 0.0, 80.0, 60.0)
    """
    side = float(min(width, height))
    left = (width - side) / 2.0
    top = (height - side) / 2.0
    return (left, top, left + side, top + side)


def random_crop_box(
    width: int,
    height: int,
    crop_width: int,
    crop_height: int,
    generator: torch.Generator | None = None,
) -> tuple[int, int, int, int]:
    """A random integer-aligned ``crop_width x crop_height`` box inside a ``width x height`` image.

    Example:
        >>> x0, y0, x1, y1 = random_crop_box(286, 286, 256, 256)
        >>> (x1 - x0, y1 - y0), 0 <= x0 <= 30 and 0 <= y0 <= 30
        ((256, 256), True)
    """
    if crop_width > width or crop_height > height:
        raise InvalidConfigError(
            f"Crop {crop_width}x{crop_height} is larger than the image {width}x{height}; "
            "use a crop no larger than the (resized) image."
        )
    x = int(torch.randint(0, width - crop_width + 1, (1,), generator=generator))
    y = int(torch.randint(0, height - crop_height + 1, (1,), generator=generator))
    return (x, y, x + crop_width, y + crop_height)


def random_flip(p: float = 0.5, generator: torch.Generator | None = None) -> bool:
    """Draw one Bernoulli(``p``) decision from torch's RNG (always consumes one number).

    Example:
        >>> random_flip(0.0), random_flip(1.0)
        (False, True)
    """
    return bool(torch.rand(1, generator=generator).item() < p)


def crop_resize(img: Image.Image, box: Sequence[float], size: int | tuple[int, int]) -> Image.Image:
    """Crop ``box`` out of ``img`` and resize it to ``size`` with antialiased bicubic filtering.

    The crop is a true crop: pixels outside the box (rounded outwards to whole pixels)
    never leak into the result through the filter support. Fractional boxes are
    resampled exactly.

    Args:
        img: Source image.
        box: ``(left, top, right, bottom)`` in pixels of ``img``; floats are allowed.
        size: Output side length, or ``(width, height)``.

    Example:
        >>> from PIL import Image
        >>> crop_resize(Image.new("RGB", (300, 200)), (10, 0, 210, 200), 64).size
        (64, 64)
    """
    out = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    left, top, right, bottom = (float(v) for v in box)
    x0 = max(0, math.floor(left))
    y0 = max(0, math.floor(top))
    x1 = min(img.width, math.ceil(right))
    y1 = min(img.height, math.ceil(bottom))
    if (x0, y0, x1, y1) != (0, 0, img.width, img.height):
        img = img.crop((x0, y0, x1, y1))
    inner = (left - x0, top - y0, right - x0, bottom - y0)
    return img.resize(out, RESAMPLE, box=inner, reducing_gap=_REDUCING_GAP)


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """8-bit PIL image → float32 tensor ``(C, H, W)`` in [0, 1].

    Example:
        >>> from PIL import Image
        >>> pil_to_tensor(Image.new("RGB", (5, 4), (255, 0, 0)))[:, 0, 0].tolist()
        [1.0, 0.0, 0.0]
    """
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div_(255.0)


def to_signed(x: torch.Tensor) -> torch.Tensor:
    """Map [0, 1] to [-1, 1] (``2x - 1``).

    Example:
        >>> to_signed(torch.tensor([0.0, 0.5, 1.0])).tolist()
        [-1.0, 0.0, 1.0]
    """
    return x * 2.0 - 1.0
