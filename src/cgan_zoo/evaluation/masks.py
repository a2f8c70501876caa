"""Missing-region masks of an evaluation: deterministic random masks, or mask files.

A random evaluation mask depends only on the photo's name, its size, the fraction and
a seed, never on the order of the photos, so an evaluation of a subset (or of the
photos in another order) uses the same masks as the full run.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from ..data.masks import random_mask
from ..errors import InvalidInputError

__all__ = ["DEFAULT_MASK_FRACTION", "mask_seed", "eval_mask", "load_mask"]

#: Share of missing pixels of the random evaluation masks.
DEFAULT_MASK_FRACTION = 0.3


def mask_seed(name: str, seed: int = 0) -> int:
    """The random seed of the evaluation mask of photo ``name``: first 8 bytes of ``sha256(f"{seed}:{name}")``.

    Example:
        >>> mask_seed("val/a.jpg") == mask_seed("val/a.jpg"), mask_seed("a.jpg") == mask_seed("a.jpg", seed=1)
        (True, False)
    """
    digest = hashlib.sha256(f"{int(seed)}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def eval_mask(
    height: int, width: int, name: str, fraction: float = DEFAULT_MASK_FRACTION, seed: int = 0
) -> torch.Tensor:
    """The deterministic random mask (1 = missing) of photo ``name``.

    :func:`cgan_zoo.data.random_mask` (rectangles and brush strokes) drawn with a
    :class:`torch.Generator` seeded by :func:`mask_seed`.

    Shape:
        - returns: ``(1, height, width)`` float32 of 0s and 1s.

    Example:
        >>> m = eval_mask(48, 64, "val/a.jpg")
        >>> torch.equal(m, eval_mask(48, 64, "val/a.jpg")), abs(float(m.mean()) - 0.3) <= 0.05
        (True, True)
    """
    generator = torch.Generator().manual_seed(mask_seed(name, seed))
    return random_mask(height, width, fraction, generator=generator)


def load_mask(path: str | os.PathLike, size: tuple[int, int]) -> torch.Tensor:
    """Read a mask file (white / > 127 = missing), resized (nearest) to ``size = (H, W)``.

    Raises:
        InvalidInputError: If the file is missing or unreadable.

    Shape:
        - returns: ``(1, H, W)`` float32 of 0s and 1s.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> path = tempfile.mkdtemp() + "/m.png"
        >>> Image.new("L", (8, 8), 255).save(path)
        >>> load_mask(path, (4, 4)).mean().item()
        1.0
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    p = Path(path)
    if not p.is_file():
        raise InvalidInputError(f"mask {str(p)!r} does not exist or is not a file.")
    try:
        with Image.open(p) as img:
            gray = ImageOps.exif_transpose(img).convert("L")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidInputError(f"cannot read mask {str(p)!r}: {exc}") from None
    h, w = size
    if gray.size != (w, h):
        gray = gray.resize((w, h), Image.Resampling.NEAREST)
    return torch.from_numpy((np.asarray(gray) > 127).astype(np.float32))[None]
