"""The data contracts a generator can be trained for, stored in its config."""

from __future__ import annotations

import torch

from ..errors import InvalidConfigError

__all__ = ["TASKS", "check_task", "check_generator_args", "masked_generator_input"]

#: task -> (input channels, output channels); ``None`` means any.
TASKS: dict[str, tuple[int | None, int | None]] = {
    "colorize": (1, 2),  # L in [-1, 1]  ->  ab in [-1, 1]
    "colorize-missing": (2, 3),  # masked L + mask  ->  L, ab
    "generic": (None, None),  # any paired A -> B
}


def check_task(task: str, in_channels: int, out_channels: int) -> None:
    """Check that ``task`` is known and agrees with the channel counts.

    Example:
        >>> check_task("colorize", 1, 2)
        >>> check_task("colorize", 3, 3)
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidConfigError: task='colorize' needs in_channels=1 and out_channels=2, got 3 and 3; use task='generic' for other channel counts.
    """
    if task not in TASKS:
        raise InvalidConfigError(f"task={task!r} is not supported; choose one of {list(TASKS)}.")
    want_in, want_out = TASKS[task]
    if (want_in is not None and in_channels != want_in) or (
        want_out is not None and out_channels != want_out
    ):
        raise InvalidConfigError(
            f"task={task!r} needs in_channels={want_in} and out_channels={want_out}, got "
            f"{in_channels} and {out_channels}; use task='generic' for other channel counts."
        )


def check_generator_args(
    task: str,
    in_channels: object,
    out_channels: object,
    dropout: object,
    ab_scale: object,
    integers: tuple[tuple[str, object, int], ...] = (),
) -> float:
    """Validate the arguments every generator shares; returns ``ab_scale`` as a float.

    ``integers`` lists more ``(name, value, minimum)`` integer arguments of the caller.

    Raises:
        InvalidConfigError: Naming the first bad argument, what was expected and the fix.

    Example:
        >>> check_generator_args("colorize", 1, 2, 0.5, 110, integers=(("num_downs", 8, 2),))
        110.0
        >>> check_generator_args("generic", 3, 0, 0.0, 110)
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidConfigError: out_channels must be an integer >= 1, got 0.
    """
    for name, value, low in (("in_channels", in_channels, 1), ("out_channels", out_channels, 1), *integers):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise InvalidConfigError(f"{name} must be an integer >= {low}, got {value!r}.")
    if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0.0 <= float(dropout) < 1.0:
        raise InvalidConfigError(f"dropout must be in [0, 1), got {dropout!r}.")
    check_task(task, in_channels, out_channels)  # type: ignore[arg-type]
    if not isinstance(ab_scale, (int, float)) or isinstance(ab_scale, bool) or not float(ab_scale) > 0:
        raise InvalidConfigError(f"ab_scale must be positive, got {ab_scale!r}.")
    return float(ab_scale)


def masked_generator_input(lightness: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Build the ``colorize-missing`` generator input: masked L plus the mask.

    Missing pixels (mask 1) of the normalised L are set to 0 (mid-gray, L = 50) and the
    mask is appended as a second channel, so the model knows where to invent structure.

    Shape:
        - lightness: ``(B, 1, H, W)`` in [-1, 1].
        - mask: ``(B, 1, H, W)`` with 1 = missing, 0 = known.
        - returns: ``(B, 2, H, W)``.

    Example:
        >>> import torch
        >>> x = masked_generator_input(torch.ones(1, 1, 2, 2), torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]]))
        >>> x[0, 0].tolist(), x[0, 1].tolist()
        ([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]])
    """
    mask = mask.to(lightness.dtype)
    return torch.cat([lightness * (1.0 - mask), mask], dim=1)
