"""Baselines a colorizer must beat: the gray input itself, and OpenCV's Telea inpainting.

* ``"gray"``: return the gray input unchanged (Lab ``L`` of the photo, ``a = b = 0``,
  :func:`cgan_zoo.metrics.gray_baseline`). With missing regions the holes hold what the
  colorizer is given there, mid-gray (``L = 50``).
* ``"telea"`` (missing regions only): OpenCV's fast-marching inpainting
  (``cv2.inpaint(gray_u8, mask_u8, 3, cv2.INPAINT_TELEA)``) of the 8-bit gray photo,
  shown as gray RGB; known pixels keep the gray photo. Needs the ``eval`` extra
  (``pip install "cgan-zoo[eval]"``).
"""

from __future__ import annotations

import numpy as np
import torch

from ..color import lab_to_rgb, rgb_to_lab, to_uint8
from ..errors import InvalidInputError, require_extra
from ..metrics import gray_baseline

__all__ = ["BASELINES", "MASK_BASELINES", "gray_input", "telea_fill", "run_baseline"]

#: Every baseline name :func:`run_baseline` knows.
BASELINES = ("gray", "telea")
#: Baselines that only make sense with missing regions.
MASK_BASELINES = ("telea",)


def gray_input(rgb: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The gray input of a colour photo, holes (``mask`` = 1) at mid-gray ``L = 50``.

    Shape:
        - rgb: ``(1, 3, H, W)`` in [0, 1]; mask: ``(1, H, W)`` or ``None``.
        - returns: ``(1, 3, H, W)`` gray sRGB.

    Example:
        >>> g = gray_input(torch.rand(1, 3, 8, 8))
        >>> bool((g[:, 0] - g[:, 2]).abs().max() < 1e-4)
        True
    """
    gray = gray_baseline(rgb)
    if mask is None:
        return gray
    lab = rgb_to_lab(gray)
    lab[:, :1] = torch.where(mask[None] > 0.5, torch.full_like(lab[:, :1], 50.0), lab[:, :1])
    return lab_to_rgb(lab).clamp(0.0, 1.0)


def telea_fill(gray: torch.Tensor, mask: torch.Tensor, radius: int = 3) -> torch.Tensor:
    """OpenCV Telea inpainting of the holes of a gray image, as gray RGB.

    Args:
        gray: Gray sRGB image in [0, 1] (its channel mean is used).
        mask: 1 = missing.
        radius: ``inpaintRadius`` of ``cv2.inpaint``.

    Returns:
        ``gray`` with the holes replaced by Telea's fill (quantised to 8 bits there).

    Raises:
        MissingExtraError: If OpenCV (the ``eval`` extra) is not installed.

    Shape:
        - gray: ``(1, 3, H, W)``; mask: ``(1, H, W)``; returns ``(1, 3, H, W)``.

    Example:
        >>> gray = torch.full((1, 3, 8, 8), 0.5)
        >>> mask = torch.zeros(1, 8, 8); mask[:, 2:5, 2:5] = 1
        >>> import importlib.util
        >>> has_cv2 = importlib.util.find_spec("cv2") is not None  # the eval extra
        >>> out = telea_fill(gray, mask) if has_cv2 else gray
        >>> round(float(out.mean()), 2)
        0.5
    """
    cv2 = require_extra("cv2", "eval", "The Telea baseline (OpenCV inpainting)")
    if mask.shape[-2:] != gray.shape[-2:]:
        raise InvalidInputError(
            f"mask of shape {tuple(mask.shape)} does not match the image of shape {tuple(gray.shape)}."
        )
    g8 = to_uint8(gray[0].mean(dim=0)).numpy()
    m8 = (mask.reshape(mask.shape[-2:]) > 0.5).numpy().astype(np.uint8) * 255
    filled = cv2.inpaint(g8, m8, radius, cv2.INPAINT_TELEA)
    t = torch.from_numpy(filled.astype(np.float32) / 255.0)[None, None].expand(1, 3, -1, -1)
    return torch.where(mask.reshape(1, 1, *mask.shape[-2:]) > 0.5, t, gray)


def run_baseline(name: str, rgb: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The output of baseline ``name`` (:data:`BASELINES`) for colour photo ``rgb``.

    Raises:
        InvalidInputError: For an unknown name, or ``"telea"`` without a mask.
        MissingExtraError: For ``"telea"`` without OpenCV.

    Shape:
        - rgb: ``(1, 3, H, W)``; mask: ``(1, H, W)`` or ``None``; returns ``(1, 3, H, W)``.

    Example:
        >>> run_baseline("gray", torch.rand(1, 3, 4, 4)).shape
        torch.Size([1, 3, 4, 4])
    """
    if name == "gray":
        return gray_input(rgb, mask)
    if name == "telea":
        if mask is None:
            raise InvalidInputError(
                "the 'telea' baseline fills missing regions and needs masks; evaluate with masks "
                "(masks=True or a mask folder) or use baselines=('gray',)."
            )
        return telea_fill(gray_input(rgb, mask), mask)
    import difflib

    close = difflib.get_close_matches(str(name), BASELINES, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise InvalidInputError(f"unknown baseline {name!r}; choose from {list(BASELINES)}.{hint}")
