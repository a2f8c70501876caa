"""RGB ↔ CIE Lab in torch, and the one normalisation contract shared by training and inference.

Conversions use kornia (sRGB, D65 white, 2° observer — the same definition as
``skimage.color``). They are differentiable and batched. ``lab_to_rgb`` is gamut-safe:
out-of-gamut colours are clipped to [0, 1] in RGB, never wrapped.

The model-facing contract (version ``"lab-v1"``):

* ``L`` in [0, 100] is scaled to [-1, 1] by ``L / 50 - 1``;
* ``a, b`` are divided by ``ab_scale`` (110 by default, stored in every colorization
  model's config) and clamped to [-1, 1].
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

from ._validation import check_finite
from .errors import InvalidInputError

__all__ = [
    "DEFAULT_AB_SCALE",
    "rgb_to_lab",
    "lab_to_rgb",
    "rgb_to_gray",
    "normalize_l",
    "denormalize_l",
    "normalize_ab",
    "denormalize_ab",
    "rgb_to_model_lab",
    "model_lab_to_rgb",
    "to_uint8",
    "to_rgb",
    "input_to_rgb",
]

DEFAULT_AB_SCALE = 110.0

_Image = TypeVar("_Image", torch.Tensor, np.ndarray)


def _check_rgb(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}.")
    if x.ndim < 3 or x.shape[-3] != 3:
        raise InvalidInputError(
            f"{name} must have shape (..., 3, H, W), got {tuple(x.shape)}. "
            "Expand gray images with x.expand(-1, 3, -1, -1) or use rgb_to_gray/normalize_l."
        )
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must be floating point in [0, 1], got {x.dtype}; use x.float() / 255."
        )


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """Convert sRGB in [0, 1] to CIE Lab (D65).

    Shape:
        - rgb: ``(..., 3, H, W)`` in [0, 1].
        - returns: ``(..., 3, H, W)`` with L in [0, 100], a/b roughly in [-128, 127].

    Example:
        >>> import torch
        >>> [abs(v) for v in rgb_to_lab(torch.ones(1, 3, 1, 1)).flatten().round().tolist()]
        [100.0, 0.0, 0.0]
    """
    import kornia

    _check_rgb(rgb, "rgb")
    return kornia.color.rgb_to_lab(rgb.clamp(0.0, 1.0))


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """Convert CIE Lab (D65) to sRGB in [0, 1], clipping out-of-gamut colours.

    Shape:
        - lab: ``(..., 3, H, W)``.
        - returns: ``(..., 3, H, W)`` in [0, 1].

    Example:
        >>> import torch
        >>> lab_to_rgb(torch.tensor([100.0, 0.0, 0.0]).view(1, 3, 1, 1)).flatten().round(decimals=3).tolist()
        [1.0, 1.0, 1.0]
    """
    import kornia

    _check_rgb(lab, "lab")
    return kornia.color.lab_to_rgb(lab, clip=True).clamp(0.0, 1.0)


def rgb_to_gray(rgb: torch.Tensor) -> torch.Tensor:
    """Lab lightness of an sRGB image, as a gray image in [0, 1] (``L / 100``).

    Shape:
        - rgb: ``(..., 3, H, W)``; returns ``(..., 1, H, W)``.

    Example:
        >>> import torch
        >>> rgb_to_gray(torch.ones(1, 3, 2, 2)).shape
        torch.Size([1, 1, 2, 2])
    """
    return rgb_to_lab(rgb)[..., :1, :, :] / 100.0


def normalize_l(lightness: torch.Tensor) -> torch.Tensor:
    """Scale L from [0, 100] to [-1, 1].

    Shape:
        - lightness: any shape ``(*)``; returns the same shape.

    Example:
        >>> import torch
        >>> normalize_l(torch.tensor([0.0, 50.0, 100.0])).tolist()
        [-1.0, 0.0, 1.0]
    """
    return lightness / 50.0 - 1.0


def denormalize_l(lightness: torch.Tensor) -> torch.Tensor:
    """Scale L from [-1, 1] back to [0, 100] (clamped).

    Shape:
        - lightness: any shape ``(*)``; returns the same shape.

    Example:
        >>> import torch
        >>> denormalize_l(torch.tensor([-1.0, 1.0])).tolist()
        [0.0, 100.0]
    """
    return ((lightness + 1.0) * 50.0).clamp(0.0, 100.0)


def normalize_ab(ab: torch.Tensor, ab_scale: float = DEFAULT_AB_SCALE) -> torch.Tensor:
    """Scale a, b to [-1, 1] by dividing by ``ab_scale`` and clamping.

    Shape:
        - ab: any shape ``(*)``; returns the same shape.

    Example:
        >>> import torch
        >>> normalize_ab(torch.tensor([55.0, -220.0])).tolist()
        [0.5, -1.0]
    """
    return (ab / ab_scale).clamp(-1.0, 1.0)


def denormalize_ab(ab: torch.Tensor, ab_scale: float = DEFAULT_AB_SCALE) -> torch.Tensor:
    """Inverse of :func:`normalize_ab` (for values inside [-1, 1]).

    Shape:
        - ab: any shape ``(*)``; returns the same shape.

    Example:
        >>> import torch
        >>> denormalize_ab(torch.tensor([0.5])).tolist()
        [55.0]
    """
    return ab.clamp(-1.0, 1.0) * ab_scale


def rgb_to_model_lab(
    rgb: torch.Tensor, ab_scale: float = DEFAULT_AB_SCALE
) -> tuple[torch.Tensor, torch.Tensor]:
    """sRGB in [0, 1] → ``(L, ab)`` both in [-1, 1], the generator's contract.

    Shape:
        - rgb: ``(B, 3, H, W)``; returns ``(B, 1, H, W)`` and ``(B, 2, H, W)``.

    Example:
        >>> import torch
        >>> l, ab = rgb_to_model_lab(torch.rand(2, 3, 8, 8))
        >>> l.shape, ab.shape
        (torch.Size([2, 1, 8, 8]), torch.Size([2, 2, 8, 8]))
    """
    check_finite(rgb, name="rgb")
    lab = rgb_to_lab(rgb)
    return normalize_l(lab[..., :1, :, :]), normalize_ab(lab[..., 1:, :, :], ab_scale)


def model_lab_to_rgb(
    lightness: torch.Tensor, ab: torch.Tensor, ab_scale: float = DEFAULT_AB_SCALE
) -> torch.Tensor:
    """``(L, ab)`` in [-1, 1] → sRGB in [0, 1], gamut-safe.

    Shape:
        - lightness: ``(B, 1, H, W)``; ab: ``(B, 2, H, W)``; returns ``(B, 3, H, W)``.

    Example:
        >>> import torch
        >>> l, ab = rgb_to_model_lab(torch.full((1, 3, 4, 4), 0.5))
        >>> torch.allclose(model_lab_to_rgb(l, ab), torch.full((1, 3, 4, 4), 0.5), atol=1e-4)
        True
    """
    if lightness.shape[-2:] != ab.shape[-2:]:
        raise InvalidInputError(
            f"L has spatial size {tuple(lightness.shape[-2:])} but ab has {tuple(ab.shape[-2:])}; "
            "resize ab to L's size first."
        )
    lab = torch.cat([denormalize_l(lightness), denormalize_ab(ab, ab_scale)], dim=-3)
    return lab_to_rgb(lab)


def to_uint8(x: _Image) -> _Image:
    """Quantise an image in [0, 1] to 8 bits: ``round(255 * clamp(x, 0, 1))``.

    The one float-to-``uint8`` conversion of cgan-zoo (pipelines, video, sample grids,
    evaluation). Values are clamped to [0, 1] and rounded half to even (the rule of
    :func:`numpy.round` and :func:`torch.round`), so ``0.5 / 255`` becomes 0 and
    ``1.5 / 255`` becomes 2. NaN becomes 0. The layout is kept: convert ``(C, H, W)``
    to ``(H, W, C)`` yourself where a library needs it.

    Args:
        x: A floating-point tensor (any device) or numpy array, values in [0, 1].

    Returns:
        A ``uint8`` tensor on ``x``'s device, or a ``uint8`` numpy array, of ``x``'s shape.

    Raises:
        TypeError: If ``x`` is neither a floating-point tensor nor a float numpy array.

    Shape:
        - x: any shape ``(*)``; returns the same shape.

    Example:
        >>> import torch
        >>> to_uint8(torch.tensor([-0.5, 0.0, 0.5 / 255, 1.5 / 255, 0.5, 1.0, 2.0])).tolist()
        [0, 0, 0, 2, 128, 255, 255]
        >>> to_uint8(np.array([[0.25, float("nan")]])).tolist()
        [[64, 0]]
    """
    if isinstance(x, torch.Tensor):
        if not x.is_floating_point():
            raise TypeError(f"to_uint8 needs a floating-point tensor in [0, 1], got {x.dtype}.")
        if x.dtype in (torch.float16, torch.bfloat16):  # too coarse to round 255 * x exactly
            x = x.float()
        return torch.round(torch.nan_to_num(x, nan=0.0).clamp(0.0, 1.0) * 255.0).to(torch.uint8)
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"to_uint8 needs a float numpy array in [0, 1], got {x.dtype}.")
        scaled = np.round(np.clip(np.nan_to_num(x, nan=0.0), 0.0, 1.0) * 255.0)
        return scaled.astype(np.uint8)
    raise TypeError(
        f"to_uint8 needs a float tensor or a numpy array in [0, 1], got {type(x).__name__}."
    )


def to_rgb(
    task: str, inputs: torch.Tensor, output: torch.Tensor, ab_scale: float = DEFAULT_AB_SCALE
) -> torch.Tensor:
    """Turn a generator output (or target) into sRGB in [0, 1], for metrics and sample grids.

    ``"colorize"``: ``output`` is ab, the lightness comes from ``inputs``;
    ``"colorize-missing"``: ``output`` is L and ab; anything else (``"paired"``): ``output``
    is RGB in [-1, 1].

    Shape:
        - inputs: ``(B, C_in, H, W)``; output: ``(B, C_out, H, W)``; returns ``(B, 3, H, W)``.

    Example:
        >>> import torch
        >>> to_rgb("colorize", torch.zeros(1, 1, 4, 4), torch.zeros(1, 2, 4, 4), 110.0).shape
        torch.Size([1, 3, 4, 4])
    """
    output = output.float()
    if task == "colorize":
        return model_lab_to_rgb(inputs[:, :1].float(), output, ab_scale)
    if task == "colorize-missing":
        return model_lab_to_rgb(output[:, :1], output[:, 1:], ab_scale)
    return ((output[:, :3] + 1) / 2).clamp(0, 1)


def input_to_rgb(task: str, inputs: torch.Tensor) -> torch.Tensor:
    """Show a generator input as RGB in [0, 1]: the gray L (with its holes), or the RGB A image.

    Shape:
        - inputs: ``(B, C_in, H, W)`` in [-1, 1]; returns ``(B, 3, H, W)``.

    Example:
        >>> import torch
        >>> input_to_rgb("colorize", torch.zeros(1, 1, 2, 2)).flatten().tolist()[:2]
        [0.5, 0.5]
    """
    if task in ("colorize", "colorize-missing"):
        gray = ((inputs[:, :1].float() + 1) / 2).clamp(0, 1)
        return gray.expand(-1, 3, -1, -1)
    return ((inputs[:, :3].float() + 1) / 2).clamp(0, 1)
