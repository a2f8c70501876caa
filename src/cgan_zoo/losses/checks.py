"""Argument checks shared by the loss functions and their module twins.

:mod:`cgan_zoo.losses.functional` checks every call's arguments with these; the modules
of :mod:`cgan_zoo.losses.modules` check their configuration once, when built. None of
them reads tensor values, so none syncs the device.
"""

from __future__ import annotations

import torch

from ..errors import InvalidConfigError, InvalidInputError

__all__ = ["check_weight", "check_label", "check_same_shape"]


def check_weight(weight: float, name: str = "weight") -> float:
    """Return ``weight`` as a float if it is a non-negative number, else raise.

    Raises:
        InvalidConfigError: Naming the argument and the value.

    Example:
        >>> check_weight(10)
        10.0
        >>> check_weight(-1, "hole_weight")
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidConfigError: hole_weight must be a non-negative number, got -1.
    """
    try:
        value = float(weight)
    except (TypeError, ValueError):
        raise InvalidConfigError(f"{name} must be a non-negative number, got {weight!r}.") from None
    if not value >= 0.0:
        raise InvalidConfigError(f"{name} must be a non-negative number, got {weight!r}.")
    return value


def check_label(label: float | torch.Tensor, name: str, mode: str) -> None:
    """Check a target label of the adversarial loss: in [0, 1] for mode ``"vanilla"``.

    Tensor labels (the buffers of :class:`~cgan_zoo.losses.AdversarialLoss`) were checked
    when the module was built and pass unread.

    Shape:
        - label: a Python number, or a ``()`` tensor (not read).

    Raises:
        InvalidConfigError: If a ``"vanilla"`` label is outside [0, 1], with the fix.

    Example:
        >>> check_label(0.9, "real_label", "vanilla")
        >>> check_label(2.0, "real_label", "lsgan")
    """
    if isinstance(label, torch.Tensor):
        return
    if mode == "vanilla" and not 0.0 <= float(label) <= 1.0:
        raise InvalidConfigError(
            f"{name}={label!r} is outside [0, 1], which binary cross-entropy needs in mode 'vanilla'. "
            "Use a value such as 0.9 for one-sided label smoothing, or mode='lsgan'."
        )


def check_same_shape(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str) -> None:
    """Check that ``a`` and ``b`` are floating-point tensors of the same shape.

    Shape:
        - a, b: any shape, the same for both.

    Raises:
        TypeError: If either is not a floating-point tensor.
        InvalidInputError: If the shapes differ, naming both.

    Example:
        >>> check_same_shape(torch.zeros(1, 2), torch.ones(1, 2), "pred", "target")
    """
    for name, t in ((name_a, a), (name_b, b)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(
                f"{name} must be a torch.Tensor, got {type(t).__name__}. "
                "Convert numpy arrays with torch.from_numpy(x)."
            )
        if not t.is_floating_point():
            raise TypeError(
                f"{name} must be a floating-point tensor, got dtype {t.dtype}. Convert with .float()."
            )
    if a.shape != b.shape:
        raise InvalidInputError(
            f"{name_a} and {name_b} must have the same shape, got {name_a} {tuple(a.shape)} and "
            f"{name_b} {tuple(b.shape)}. Resize or crop one of them so that the shapes match."
        )
