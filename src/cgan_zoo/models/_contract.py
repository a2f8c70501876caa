"""The data contracts a generator can be trained for, stored in its config."""

from __future__ import annotations

from ..errors import InvalidConfigError

__all__ = ["TASKS", "check_task"]

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
    if (want_in is not None and in_channels != want_in) or (want_out is not None and out_channels != want_out):
        raise InvalidConfigError(
            f"task={task!r} needs in_channels={want_in} and out_channels={want_out}, got "
            f"{in_channels} and {out_channels}; use task='generic' for other channel counts."
        )
