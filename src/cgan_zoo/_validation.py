"""Small input checks shared by models, losses and pipelines.

They turn bad tensors into :class:`~cgan_zoo.errors.InvalidInputError` messages that
say what was received, what was expected and how to fix it, before the input
reaches torch.
"""

from __future__ import annotations

import torch

from .errors import InvalidInputError

__all__ = ["check_image_tensor", "check_finite", "nearest_multiples"]


def nearest_multiples(size: int, multiple: int) -> tuple[int, int]:
    """Return the nearest multiples of ``multiple`` below and above ``size``.

    Example:
        >>> nearest_multiples(250, 32)
        (224, 256)
    """
    low = max(multiple, (size // multiple) * multiple)
    high = -(-size // multiple) * multiple
    return low, high


def check_image_tensor(
    x: object,
    *,
    name: str = "input",
    channels: int | None = None,
    multiple: int = 1,
    min_size: int = 1,
    allow_non_finite: bool = False,
) -> torch.Tensor:
    """Validate a batched image tensor of shape ``(B, C, H, W)``.

    Args:
        x: The object to check.
        name: Name used in error messages.
        channels: Required number of channels, or ``None`` for any.
        multiple: H and W must be divisible by this.
        min_size: H and W must be at least this.
        allow_non_finite: Skip the NaN/Inf check (it costs one reduction).

    Returns:
        ``x`` unchanged.

    Raises:
        TypeError: If ``x`` is not a floating-point tensor.
        InvalidInputError: If the shape, size or values are wrong.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of shape (B, C, H, W), got {type(x).__name__}. "
            "Convert images with torch.from_numpy(...) or use cgan_zoo.Colorizer for PIL/numpy input."
        )
    if x.ndim != 4:
        hint = " Add a batch dimension with x.unsqueeze(0)." if x.ndim == 3 else ""
        raise InvalidInputError(
            f"{name} must have 4 dims (B, C, H, W), got {x.ndim} dims with shape {tuple(x.shape)}.{hint}"
        )
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got dtype {x.dtype}. "
            "Convert with x.float() (and scale 8-bit images to the model's range first)."
        )
    b, c, h, w = x.shape
    if b == 0:
        raise InvalidInputError(f"{name} is an empty batch (shape {tuple(x.shape)}); pass at least one image.")
    if channels is not None and c != channels:
        raise InvalidInputError(
            f"{name} must have {channels} channel(s), got {c} (shape {tuple(x.shape)}). "
            f"Build the model with in_channels={c} or convert the input to {channels} channel(s)."
        )
    if h < min_size or w < min_size:
        raise InvalidInputError(
            f"{name} spatial size {h}x{w} is smaller than the minimum {min_size}x{min_size}."
        )
    if multiple > 1 and (h % multiple or w % multiple):
        hs, ws = nearest_multiples(h, multiple), nearest_multiples(w, multiple)
        raise InvalidInputError(
            f"{name} height and width must be divisible by {multiple}, got {h}x{w}. "
            f"Nearest valid heights: {hs[0]} or {hs[1]}; widths: {ws[0]} or {ws[1]}. "
            "Use cgan_zoo.pad_to_multiple(x, multiple) and crop the output back, "
            "or resize the input."
        )
    if not allow_non_finite:
        check_finite(x, name=name)
    return x


def check_finite(x: torch.Tensor, *, name: str = "input") -> torch.Tensor:
    """Raise :class:`InvalidInputError` if ``x`` holds NaN or Inf.

    Example:
        >>> check_finite(torch.zeros(2)).shape
        torch.Size([2])
    """
    if x.is_floating_point() and not bool(torch.isfinite(x).all()):
        n_nan = int(torch.isnan(x).sum())
        n_inf = int(torch.isinf(x).sum())
        raise InvalidInputError(
            f"{name} contains non-finite values ({n_nan} NaN, {n_inf} Inf). "
            "Clean the input, for example with torch.nan_to_num(x)."
        )
    return x
