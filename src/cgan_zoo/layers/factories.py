"""Norm and activation layers chosen by string, so model configs stay JSON-friendly."""

from __future__ import annotations

import math
from collections.abc import Callable

from torch import nn

from ..errors import InvalidConfigError

__all__ = ["NORM_CHOICES", "ACTIVATION_CHOICES", "make_norm", "make_activation", "uses_bias"]

NORM_CHOICES = ("batch", "instance", "group", "none")
ACTIVATION_CHOICES = ("tanh", "sigmoid", "none", "relu", "leaky_relu")


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """Raise :class:`InvalidConfigError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise InvalidConfigError(f"{name}={value!r} is not supported; choose one of {list(choices)}.")
    return value  # type: ignore[return-value]


def make_norm(norm: str, channels: int, instance_running_stats: bool = False) -> nn.Module:
    """Create a 2-d normalisation layer by name.

    Args:
        norm: ``"batch"``, ``"instance"`` (no affine, no running stats, as in pix2pix),
            ``"group"`` (up to 32 groups that divide ``channels``) or ``"none"``.
        channels: Number of channels to normalise.
        instance_running_stats: With ``norm="instance"``, keep running statistics
            (``track_running_stats=True``) and normalise with them in eval mode, as the
            pix2pix reference code did until 2018. Ignored by the other norms.

    Returns:
        The layer (``nn.Identity`` for ``"none"``).

    Example:
        >>> make_norm("group", 48).num_groups
        16
    """
    check_choice("norm", norm, NORM_CHOICES)
    if not isinstance(instance_running_stats, bool):
        raise InvalidConfigError(
            f"instance_running_stats must be True or False, got {instance_running_stats!r}."
        )
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=instance_running_stats)
    if norm == "group":
        return nn.GroupNorm(math.gcd(32, channels), channels)
    return nn.Identity()


def uses_bias(norm: str) -> bool:
    """Whether a conv followed by ``norm`` needs its own bias.

    BatchNorm and GroupNorm have an affine shift that makes a conv bias redundant;
    the pix2pix reference code uses a bias only with instance norm (no affine) or none.

    Example:
        >>> uses_bias("batch"), uses_bias("instance")
        (False, True)
    """
    return norm in ("instance", "none")


def make_activation(name: str) -> nn.Module:
    """Create an activation layer by name.

    Args:
        name: One of ``"tanh"``, ``"sigmoid"``, ``"none"``, ``"relu"``, ``"leaky_relu"`` (slope 0.2).

    Example:
        >>> make_activation("tanh")
        Tanh()
    """
    check_choice("activation", name, ACTIVATION_CHOICES)
    table: dict[str, Callable[[], nn.Module]] = {
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "none": nn.Identity,
        "relu": lambda: nn.ReLU(inplace=False),
        "leaky_relu": lambda: nn.LeakyReLU(0.2, inplace=False),
    }
    return table[name]()


def activation_range(name: str) -> tuple[float, float]:
    """The closed output range of a final activation (``(-inf, inf)`` when unbounded).

    Example:
        >>> activation_range("tanh")
        (-1.0, 1.0)
    """
    return {
        "tanh": (-1.0, 1.0),
        "sigmoid": (0.0, 1.0),
        "relu": (0.0, math.inf),
    }.get(name, (-math.inf, math.inf))
