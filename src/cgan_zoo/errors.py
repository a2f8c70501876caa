"""Exception types raised by cgan-zoo.

Every error that cgan-zoo raises on purpose derives from :class:`CganZooError`.
Errors about bad values also derive from :class:`ValueError` (or
:class:`TypeError`), so ``except ValueError`` keeps working in user code.
"""

from __future__ import annotations

__all__ = [
    "CganZooError",
    "InvalidInputError",
    "InvalidConfigError",
    "WeightsError",
    "UnsafeWeightsError",
    "ChecksumError",
    "MissingExtraError",
]


class CganZooError(Exception):
    """Base class of every error raised by cgan-zoo on purpose."""


class InvalidInputError(CganZooError, ValueError):
    """An input (tensor, image, mask, path) does not meet a documented contract."""


class InvalidConfigError(CganZooError, ValueError):
    """A constructor or config argument is outside its valid range."""


class WeightsError(CganZooError, ValueError):
    """A weights file is missing, corrupt, or does not match the model."""


class UnsafeWeightsError(WeightsError):
    """A weights file uses pickle or another format that could run code."""


class ChecksumError(WeightsError):
    """A weights file's sha256 differs from the pinned value."""


class MissingExtraError(CganZooError, ImportError):
    """An optional dependency is not installed.

    The message names the ``pip install "cgan-zoo[extra]"`` command that fixes it.
    """


def require_extra(module: str, extra: str, feature: str):
    """Import an optional dependency or raise :class:`MissingExtraError`.

    Args:
        module: Importable module name, for example ``"av"``.
        extra: Name of the cgan-zoo extra that provides it, for example ``"video"``.
        feature: Short description of what needs it, used in the message.

    Returns:
        The imported module.

    Example:
        >>> np = require_extra("numpy", "core", "arrays")
        >>> np.__name__
        'numpy'
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{feature} needs the optional package {module!r}, which is not installed. "
            f'Install it with: pip install "cgan-zoo[{extra}]"'
        ) from exc
