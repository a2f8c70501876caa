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
    """Base class of every error raised by cgan-zoo on purpose.

    Example:
        >>> from cgan_zoo import create_model
        >>> try:
        ...     create_model("no_such_model")
        ... except CganZooError as exc:
        ...     print(type(exc).__name__)
        InvalidConfigError
    """


class InvalidInputError(CganZooError, ValueError):
    """An input (tensor, image, mask, path) does not meet a documented contract.

    Example:
        >>> import torch
        >>> from cgan_zoo import pad_to_multiple
        >>> pad_to_multiple(torch.zeros(4, 4), 2)
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidInputError: pad_to_multiple input must have 4 dims (B, C, H, W), got 2 dims ...
    """


class InvalidConfigError(CganZooError, ValueError):
    """A constructor or config argument is outside its valid range.

    Example:
        >>> from cgan_zoo import UNetGenerator
        >>> UNetGenerator(norm="weird")
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidConfigError: norm='weird' is not supported; choose one of ['batch', 'instance', 'group', 'none'].
    """


class WeightsError(CganZooError, ValueError):
    """A weights file is missing, corrupt, or does not match the model.

    Example:
        >>> import tempfile
        >>> from cgan_zoo import HubModel
        >>> HubModel.from_pretrained(tempfile.mkdtemp())
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.WeightsError: folder '...' must contain config.json and model.safetensors (found []). ...
    """


class UnsafeWeightsError(WeightsError):
    """A weights file uses pickle or another format that could run code.

    Example:
        >>> import tempfile, torch
        >>> from cgan_zoo.serialization import load_safetensors
        >>> path = tempfile.mkdtemp() + "/weights.bin"
        >>> torch.save({"w": torch.ones(1)}, path)
        >>> load_safetensors(path)
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.UnsafeWeightsError: '...weights.bin' is a pickle-based checkpoint; cgan-zoo never unpickles weights ...
    """


class ChecksumError(WeightsError):
    """A weights file's sha256 differs from the pinned value.

    Example:
        >>> import tempfile, torch
        >>> from cgan_zoo.serialization import load_safetensors, save_safetensors
        >>> path = tempfile.mkdtemp() + "/w.safetensors"
        >>> _ = save_safetensors({"w": torch.ones(1)}, path)
        >>> load_safetensors(path, sha256="0" * 64)
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.ChecksumError: '...w.safetensors' has sha256 ... but 000... was expected; ...
    """


class MissingExtraError(CganZooError, ImportError):
    """An optional dependency is not installed.

    The message names the ``pip install "cgan-zoo[extra]"`` command that fixes it.

    Example:
        >>> require_extra("no_such_module", "video", "Video colorization")
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.MissingExtraError: Video colorization needs the optional package 'no_such_module', which is not installed. Install it with: pip install "cgan-zoo[video]"
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
