"""Small input checks shared by models, losses and pipelines.

They turn bad tensors into :class:`~cgan_zoo.errors.InvalidInputError` messages that
say what was received, what was expected and how to fix it, before the input
reaches torch.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import torch

from .errors import InvalidInputError

__all__ = ["check_image_tensor", "check_finite", "finiteness_checked_by_caller", "nearest_multiples", "module_dtype"]

_CALLER_CHECKS_FINITENESS = contextvars.ContextVar("cgan_zoo_caller_checks_finiteness", default=False)


@contextlib.contextmanager
def finiteness_checked_by_caller() -> Iterator[None]:
    """Skip :func:`check_finite` inside the block: the caller checks finiteness itself, once.

    The trainer uses it around a training step, which checks its input batch and all its
    losses and gradients with one transfer instead of one per model forward.

    Example:
        >>> with finiteness_checked_by_caller():
        ...     check_finite(torch.tensor([float("nan")])).shape
        torch.Size([1])
    """
    token = _CALLER_CHECKS_FINITENESS.set(True)
    try:
        yield
    finally:
        _CALLER_CHECKS_FINITENESS.reset(token)


def nearest_multiples(size: int, multiple: int) -> tuple[int, int]:
    """Return the nearest multiples of ``multiple`` below and above ``size``.

    Example:
        >>> nearest_multiples(250, 32)
        (224, 256)
    """
    low = max(multiple, (size // multiple) * multiple)
    high = -(-size // multiple) * multiple
    return low, high


def module_dtype(module: torch.nn.Module) -> torch.dtype | None:
    """The dtype of a module's first floating-point parameter (``None`` if it has none).

    Example:
        >>> module_dtype(torch.nn.Linear(2, 2).double())
        torch.float64
    """
    for p in module.parameters():
        if p.is_floating_point():
            return p.dtype
    return None


def check_image_tensor(
    x: object,
    *,
    name: str = "input",
    channels: int | None = None,
    multiple: int = 1,
    min_size: int = 1,
    allow_non_finite: bool = False,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Validate a batched image tensor of shape ``(B, C, H, W)``.

    Args:
        x: The object to check.
        name: Name used in error messages.
        channels: Required number of channels, or ``None`` for any.
        multiple: H and W must be divisible by this.
        min_size: H and W must be at least this.
        allow_non_finite: Skip the NaN/Inf check (it costs one reduction).
        dtype: The dtype of the weights ``x`` will meet (see :func:`module_dtype`); another
            floating dtype is refused unless autocast is active on ``x``'s device.

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
    if x.layout != torch.strided:
        raise TypeError(
            f"{name} must be a dense (strided) tensor, got layout {x.layout} with shape {tuple(x.shape)}. "
            "Convert it with x.to_dense()."
        )
    if x.ndim != 4:
        hint = (
            " Add a batch dimension with x.unsqueeze(0)."
            if x.ndim == 3
            else " Pass a batch of images shaped (B, C, H, W), e.g. x.view(1, 1, H, W) for one gray image."
        )
        raise InvalidInputError(
            f"{name} must have 4 dims (B, C, H, W), got {x.ndim} dims with shape {tuple(x.shape)}.{hint}"
        )
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got dtype {x.dtype}. "
            "Convert with x.float() (and scale 8-bit images to the model's range first)."
        )
    if dtype is not None and x.dtype != dtype and not torch.is_autocast_enabled(x.device.type):
        raise TypeError(
            f"{name} has dtype {x.dtype} (shape {tuple(x.shape)}) but the model's weights are {dtype}; "
            f"the two must match. Convert the input with x.to({dtype}), or the model with "
            f"model.to({x.dtype})."
        )
    b, c, h, w = x.shape
    if b == 0:
        raise InvalidInputError(
            f"{name} is an empty batch (shape {tuple(x.shape)}); expected at least one image. "
            "Pass a batch with B >= 1."
        )
    if channels is not None and c != channels:
        raise InvalidInputError(
            f"{name} must have {channels} channel(s), got {c} (shape {tuple(x.shape)}). "
            f"Build the model with in_channels={c} or convert the input to {channels} channel(s)."
        )
    if h < min_size or w < min_size:
        raise InvalidInputError(
            f"{name} spatial size {h}x{w} is smaller than the minimum {min_size}x{min_size} "
            f"(shape {tuple(x.shape)}); resize or pad the input to at least {min_size}x{min_size}."
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


def _capturing_graph(x: torch.Tensor) -> bool:
    from torch._subclasses.fake_tensor import FakeTensor

    return (
        torch.compiler.is_compiling()
        or torch.compiler.is_exporting()
        or torch.jit.is_tracing()
        or isinstance(x, FakeTensor)
    )


def check_finite(x: torch.Tensor, *, name: str = "input") -> torch.Tensor:
    """Raise :class:`InvalidInputError` if ``x`` holds NaN or Inf.

    The check is skipped while a graph is being captured (``torch.compile``,
    ``torch.export``, ``torch.jit.trace``, fake tensors): it branches on tensor values,
    which a graph cannot hold. Callers of a captured graph validate inputs eagerly.

    Example:
        >>> check_finite(torch.zeros(2)).shape
        torch.Size([2])
    """
    if _CALLER_CHECKS_FINITENESS.get() or _capturing_graph(x):
        return x
    if x.is_floating_point() and not bool(torch.isfinite(x).all()):
        n_nan = int(torch.isnan(x).sum())
        n_inf = int(torch.isinf(x).sum())
        raise InvalidInputError(
            f"{name} contains non-finite values ({n_nan} NaN, {n_inf} Inf) in a tensor of shape "
            f"{tuple(x.shape)}; expected only finite values. Clean the input, for example with "
            "torch.nan_to_num(x)."
        )
    return x
