"""Model registry: ``create_model`` is the single front door.

Each architecture variant is a small factory function registered with
:func:`register_model`; it merges its defaults with the user's keyword arguments
(the user's win). Pretrained weights are registered separately as
:class:`~cgan_zoo._pretrained.PretrainedCfg` entries named ``architecture.tag``.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ._pretrained import PretrainedCfg
from .errors import InvalidConfigError, WeightsError

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "register_model",
    "register_pretrained",
    "create_model",
    "list_models",
    "list_pretrained",
    "get_pretrained_cfg",
    "resolve_pretrained_folder",
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


def resolve_pretrained_folder(
    cfg: PretrainedCfg, *, cache_dir: str | os.PathLike | None = None
) -> Path | str:
    """Return the bundled folder of ``cfg``, or its Hub id (resolved later, offline-capable)."""
    if cfg.bundled:
        try:
            folder = Path(str(resources.files(cfg.package) / cfg.bundled))
        except ModuleNotFoundError:
            raise WeightsError(
                f"weights {cfg.name!r} registered by {cfg.source} live in the Python package "
                f"{cfg.package!r}, which cannot be imported; reinstall that package."
            ) from None
        if (
            not (folder / "model.safetensors").is_file()
            and not (folder / "model.safetensors.index.json").is_file()
        ):
            raise WeightsError(
                f"weights {cfg.name!r} registered by {cfg.source} are missing from the installation "
                f"({folder}); reinstall that package."
            )
        return folder
    if cfg.hub_id:
        return cfg.hub_id
    raise WeightsError(f"pretrained {cfg.name!r} has neither bundled weights nor a Hub id.")


def create_model(name: str, pretrained: bool = False, **overrides: Any) -> nn.Module:
    """Create a registered model, optionally with pretrained weights.

    Args:
        name: Architecture name (see :func:`list_models`) or, with ``pretrained=True``,
            a full ``"arch.tag"`` weights name (see :func:`list_pretrained`).
        pretrained: Load the pretrained weights (checked against their sha256).
        **overrides: Constructor arguments that replace the variant's defaults. With
            ``pretrained=True`` they must keep tensor shapes (e.g. ``dropout=0.0``).
            ``encoder_weights=path`` (and ``encoder_key_map=...``) loads a local ImageNet
            encoder into timm-encoder models.

    Returns:
        The model (in eval mode when pretrained).

    Raises:
        InvalidConfigError: For an unknown name, listing close matches.

    Example:
        >>> g = create_model("pix2pix_unet256")
        >>> g.num_parameters()
        54409858
    """
    _ensure_registered()
    arch = name.split(".", 1)[0]
    if arch not in _MODELS:
        close = similar_names(arch, list(_MODELS), n=8)
        raise InvalidConfigError(
            f"unknown model {name!r}. Similar names: {close or list_models()[:8]}; "
            "see cgan_zoo.list_models() or `cgan-zoo models`."
        )
    encoder_weights = overrides.pop("encoder_weights", None)
    encoder_key_map = overrides.pop("encoder_key_map", "identity")
    if pretrained:
        from .hub import HubModel

        cfg = get_pretrained_cfg(name)
        source = resolve_pretrained_folder(cfg)
        revision = cfg.revision if cfg.hub_id else None
        return HubModel.from_pretrained(source, sha256=cfg.sha256, revision=revision, **overrides)
    model = _MODELS[arch](**overrides)
    if encoder_weights is not None:
        from .models.encoder_weights import load_encoder_weights

        load_encoder_weights(model, encoder_weights, key_map=encoder_key_map)
    return model
