"""The registry: names of architectures and of pretrained weights, and nothing else.

Each architecture variant is a small factory function registered with
:func:`register_model`; it merges its defaults with the user's keyword arguments
(the user's win). Pretrained weights are registered separately as
:class:`~cgan_zoo._pretrained.PretrainedCfg` entries named ``architecture.tag``.

This module is a leaf: it imports only the weights' metadata (:mod:`._pretrained`) and
the error types. Building models is :mod:`._factory` (``create_model``,
``load_generator``); finding and loading weights is :mod:`._builder`.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._pretrained import PretrainedCfg
from .errors import InvalidConfigError, WeightsError

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "register_model",
    "register_pretrained",
    "register_install_hint",
    "list_models",
    "list_pretrained",
    "get_pretrained_cfg",
    "has_pretrained",
    "similar_names",
    "did_you_mean",
]

F = TypeVar("F", bound="Callable[..., nn.Module]")
_MODELS: dict[str, Callable[..., nn.Module]] = {}
_PRETRAINED: dict[str, PretrainedCfg] = {}
_REGISTERED = False


def _ensure_registered() -> None:
    """Register the built-in variants and the bundled weights once (neither imports torch)."""
    global _REGISTERED
    if _REGISTERED:
        return
    _REGISTERED = True
    from .models import zoo  # noqa: F401  (registers the variants)
    from .weights import register_bundled_weights, register_weight_packages

    register_bundled_weights()
    register_weight_packages()


def similar_names(name: str, candidates: list[str] | tuple[str, ...], n: int = 5) -> list[str]:
    """Candidates that look like ``name`` (a typo, or a shared ``prefix_``), closest first.

    Example:
        >>> similar_names("unet_efficientnet_lite0.natrue", ["unet_efficientnet_lite0.nature", "patchgan_70"])
        ['unet_efficientnet_lite0.nature']
    """
    close = difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.6)
    head = name.split("_")[0]
    close += [c for c in sorted(candidates) if head and head in c and c not in close]
    return close[:n]


def did_you_mean(name: str, candidates: list[str] | tuple[str, ...]) -> str:
    """A ``" Did you mean 'x'?"`` sentence for error messages, or ``""`` if nothing is close.

    Example:
        >>> did_you_mean("lsgn", ["vanilla", "lsgan", "hinge"])
        " Did you mean 'lsgan'?"
        >>> did_you_mean("zzz", ["vanilla"])
        ''
    """
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"


#: weights names known to live in a separate weights package -> {"distribution", "install"}
_INSTALL_HINTS: dict[str, dict[str, str]] = {}


def register_install_hint(name: str, distribution: str, install: str) -> None:
    """Name the weights package (and its pip command) that provides ``name``, for the
    error raised when it is asked for but not installed."""
    _INSTALL_HINTS[name] = {"distribution": distribution, "install": install}


def register_model(fn: F) -> F:
    """Register a model factory under its function name.

    Example:
        >>> from cgan_zoo import UNetGenerator
        >>> @register_model
        ... def my_unet(**kwargs):
        ...     return UNetGenerator(**{"base_channels": 16, **kwargs})
        >>> "my_unet" in list_models("my_*")
        True
    """
    _MODELS[fn.__name__] = fn
    return fn


def register_pretrained(cfg: PretrainedCfg) -> PretrainedCfg:
    """Register a set of pretrained weights. The first tag of an architecture is its default.

    Hub-hosted weights must be pinned to a full commit sha, so that a name can never
    point at other weights later.

    Registering a name again from the same ``source`` replaces the entry; registering it
    from another source (the wheel and a weights package, or two weights packages) is an
    error naming both.

    Raises:
        InvalidConfigError: For an unknown architecture, an unpinned Hub revision or a
            name that another source registered already.

    Example:
        >>> cfg = PretrainedCfg(name="unet_tiny.demo", architecture="unet_tiny", sha256="0" * 64,
        ...                     license="MIT", hub_id="me/demo", revision="main")
        >>> register_pretrained(cfg)
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidConfigError: pretrained 'unet_tiny.demo' has revision 'main'; pin a full 40-character commit sha, ...
    """
    _ensure_registered()
    if cfg.architecture not in _MODELS:
        raise InvalidConfigError(
            f"pretrained {cfg.name!r} names unknown architecture {cfg.architecture!r}."
        )
    if not re.fullmatch(r"[0-9a-f]{64}", cfg.sha256 or ""):
        raise InvalidConfigError(
            f"pretrained {cfg.name!r} has sha256 {cfg.sha256!r}; pin the 64-hex-digit sha256 of its "
            "model.safetensors (cgan_zoo.serialization.sha256_file computes it)."
        )
    if cfg.hub_id and not cfg.revision:
        raise InvalidConfigError(
            f"pretrained {cfg.name!r} is on the Hub but has no pinned revision."
        )
    if cfg.hub_id and not re.fullmatch(r"[0-9a-f]{40}", str(cfg.revision)):
        raise InvalidConfigError(
            f"pretrained {cfg.name!r} has revision {cfg.revision!r}; pin a full 40-character "
            "commit sha, not a branch or tag, so the weights cannot change under the same name."
        )
    previous = _PRETRAINED.get(cfg.name)
    if previous is not None and previous.source != cfg.source:
        raise InvalidConfigError(
            f"pretrained {cfg.name!r} is registered twice: by {previous.source} and by {cfg.source}. "
            "Uninstall one of them (pip uninstall ...) or rename the weights in your package."
        )
    _PRETRAINED[cfg.name] = cfg
    return cfg


def list_models(pattern: str = "*") -> list[str]:
    """Sorted names of registered architectures matching a shell-style pattern.

    Example:
        >>> list_models("patchgan_*")[:3]
        ['patchgan_1', 'patchgan_142', 'patchgan_16']
    """
    _ensure_registered()
    return sorted(n for n in _MODELS if fnmatch.fnmatch(n, pattern))


def list_pretrained(pattern: str = "*") -> list[str]:
    """Sorted ``architecture.tag`` names of registered pretrained weights.

    Example:
        >>> all("." in name for name in list_pretrained())
        True
    """
    _ensure_registered()
    return sorted(n for n in _PRETRAINED if fnmatch.fnmatch(n, pattern))


def get_pretrained_cfg(name: str) -> PretrainedCfg:
    """Look up pretrained weights by ``"arch.tag"`` or by ``"arch"`` (its default tag).

    Raises:
        InvalidConfigError: Listing the available names.

    Example:
        >>> all(get_pretrained_cfg(name).name == name for name in list_pretrained())
        True
        >>> get_pretrained_cfg("unet_tiny.none")
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidConfigError: no pretrained weights named 'unet_tiny.none'. Available: ...
    """
    _ensure_registered()
    if name in _PRETRAINED:
        return _PRETRAINED[name]
    for cfg in _PRETRAINED.values():
        if cfg.architecture == name:
            return cfg
    hint = _INSTALL_HINTS.get(name)
    if hint is not None:
        raise WeightsError(
            f"pretrained weights {name!r} come in the weights package {hint['distribution']!r}, "
            f"which is not installed. Install it with: {hint['install']}"
        )
    raise InvalidConfigError(
        f"no pretrained weights named {name!r}.{did_you_mean(name, list_pretrained())} "
        f"Available: {list_pretrained() or 'none'}."
    )


def has_pretrained(name: str) -> bool:
    """Whether ``name`` (``"arch.tag"``, or ``"arch"`` for its default tag) has registered weights.

    Example:
        >>> has_pretrained("unet_tiny"), has_pretrained("unet_tiny.none")
        (False, False)
    """
    _ensure_registered()
    return name in _PRETRAINED or any(cfg.architecture == name for cfg in _PRETRAINED.values())


#: names that moved out of this module -> the module that defines them now
_MOVED = {"create_model": "._factory", "resolve_pretrained_folder": "._builder"}


def __getattr__(name: str) -> Any:
    """Old import locations (``from cgan_zoo._registry import create_model``) keep working."""
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name], __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
