"""The task table: every data contract a generator can be built and trained for.

A generator's ``task`` (stored in its ``config.json``) says what its input and output
channels mean, so that inference prepares the data as training did. This module is the
one place that lists the tasks; the models, the trainer's config and the pipelines read
it. It imports no torch.

========================  ===============  ==================================================
task                      channels         meaning
========================  ===============  ==================================================
``"colorize"``            1 → 2            L in [-1, 1] → ab in [-1, 1] (:mod:`cgan_zoo.color`)
``"colorize-missing"``    2 → 3            masked L + mask → L, ab
``"generic"``             any → any        any paired A → B in the output activation's range
========================  ===============  ==================================================

:class:`~cgan_zoo.training.Pix2PixConfig` names the ``"generic"`` task ``"paired"``
(the data are A/B image pairs); :data:`TRAINING_TASKS` maps its names to these.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidConfigError

__all__ = [
    "Task",
    "TASKS",
    "TRAINING_TASKS",
    "COLORIZATION_TASKS",
    "get_task",
    "check_task",
    "infer_task",
    "check_colorization_task",
]


@dataclass(frozen=True)
class Task:
    """One data contract of the task table.

    Attributes:
        name: The name stored in a generator's config (``"colorize"``, ...).
        in_channels: Input channels the contract fixes, or ``None`` for any.
        out_channels: Output channels the contract fixes, or ``None`` for any.
        training_name: The name :class:`~cgan_zoo.training.Pix2PixConfig` uses.
        colorization: Whether :class:`~cgan_zoo.Colorizer` can run it (Lab in, Lab out).
        meaning: What the input and output channels hold, in a few words.

    Example:
        >>> TASKS["colorize"].in_channels, TASKS["colorize"].out_channels
        (1, 2)
    """

    name: str
    in_channels: int | None
    out_channels: int | None
    training_name: str
    colorization: bool
    meaning: str

    def fits(self, in_channels: int, out_channels: int) -> bool:
        """Whether the channel counts agree with this contract.

        Example:
            >>> TASKS["colorize"].fits(3, 3), TASKS["generic"].fits(3, 3)
            (False, True)
        """
        return (self.in_channels is None or in_channels == self.in_channels) and (
            self.out_channels is None or out_channels == self.out_channels
        )


#: task name -> its contract; ``"generic"`` last, as it fits any channel counts
TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task("colorize", 1, 2, "colorize", True, "L in [-1, 1] -> ab in [-1, 1]"),
        Task("colorize-missing", 2, 3, "colorize-missing", True, "masked L + mask -> L, ab"),
        Task("generic", None, None, "paired", False, "any paired A -> B"),
    )
}

#: :class:`~cgan_zoo.training.Pix2PixConfig` task name -> generator task name
TRAINING_TASKS: dict[str, str] = {task.training_name: task.name for task in TASKS.values()}

#: the tasks :class:`~cgan_zoo.Colorizer` runs
COLORIZATION_TASKS: tuple[str, ...] = tuple(
    name for name, task in TASKS.items() if task.colorization
)


def get_task(name: str) -> Task:
    """The contract of task ``name``.

    Raises:
        InvalidConfigError: If ``name`` is not in :data:`TASKS`, listing the known ones.

    Example:
        >>> get_task("colorize-missing").out_channels
        3
    """
    if not isinstance(name, str) or name not in TASKS:
        raise InvalidConfigError(f"task={name!r} is not supported; choose one of {list(TASKS)}.")
    return TASKS[name]


def check_task(task: str, in_channels: int, out_channels: int) -> None:
    """Check that ``task`` is known and agrees with the channel counts.

    Raises:
        InvalidConfigError: Naming the task, the channels it needs and the fix.

    Example:
        >>> check_task("colorize", 1, 2)
        >>> check_task("colorize", 3, 3)
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidConfigError: task='colorize' needs in_channels=1 and out_channels=2, got 3 and 3; use task='generic' (or leave task unset) for other channel counts.
    """
    contract = get_task(task)
    if not contract.fits(in_channels, out_channels):
        raise InvalidConfigError(
            f"task={task!r} needs in_channels={contract.in_channels} and "
            f"out_channels={contract.out_channels}, got {in_channels} and {out_channels}; "
            "use task='generic' (or leave task unset) for other channel counts."
        )


def infer_task(in_channels: int, out_channels: int) -> str:
    """The first task whose contract fixes exactly these channel counts, else ``"generic"``.

    A generator built without a ``task`` gets this one: 1 → 2 channels is
    ``"colorize"``, 2 → 3 ``"colorize-missing"``, anything else ``"generic"``.

    Example:
        >>> infer_task(1, 2), infer_task(2, 3), infer_task(3, 3)
        ('colorize', 'colorize-missing', 'generic')
    """
    for name, task in TASKS.items():
        if task.in_channels == in_channels and task.out_channels == out_channels:
            return name
    return "generic"


def check_colorization_task(task: object, who: str = "Colorizer") -> str:
    """Return ``task`` if it is one of :data:`COLORIZATION_TASKS`, else raise.

    Raises:
        InvalidConfigError: Saying that ``who`` needs a colorization model and how to get one.

    Example:
        >>> check_colorization_task("colorize")
        'colorize'
        >>> check_colorization_task("generic")
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidConfigError: Colorizer needs a generator trained for task 'colorize' or 'colorize-missing' (Lab channels: 1 -> 2 or 2 -> 3), got task='generic'. A generic model maps any channels and has no Lab contract. Build one with create_model(name, task='colorize') or load colorization weights.
    """
    if task in COLORIZATION_TASKS:
        return str(task)
    wanted = " or ".join(repr(name) for name in COLORIZATION_TASKS)
    channels = " or ".join(
        f"{TASKS[n].in_channels} -> {TASKS[n].out_channels}" for n in COLORIZATION_TASKS
    )
    generic = (
        " A generic model maps any channels and has no Lab contract." if task == "generic" else ""
    )
    raise InvalidConfigError(
        f"{who} needs a generator trained for task {wanted} (Lab channels: {channels}), got "
        f"task={task!r}.{generic} Build one with create_model(name, task='colorize') or load "
        "colorization weights."
    )
