"""Pretrained weights: those bundled with the wheel, and pip-installable weights packages.

Weights live in a Python package as folders of ``config.json`` + ``model.safetensors``
+ ``README.md`` (model card), listed in that package's ``registry.json``. Each entry of
a ``registry.json`` becomes a :class:`~cgan_zoo.PretrainedCfg`. The wheel's own entries
live next to this file; ``scripts/export_pretrained.py`` writes them and
``scripts/evaluate_pretrained.py`` adds their validation metrics.

**Weights packages** (in the manner of spaCy's model packages) keep large weights out of
the main wheel. A weights package is any installed distribution that declares an entry
point in the group ``cgan_zoo.weights`` whose value is the name of a Python package
holding a ``registry.json`` and the weight folders it lists::

    # pyproject.toml of the weights package
    [project.entry-points."cgan_zoo.weights"]
    my_weights = "my_weights_package"

Once it is installed, ``cgan_zoo.list_pretrained()`` lists its entries and
``create_model(name, pretrained=True)``, ``Colorizer.from_pretrained(name)`` and
``cgan-zoo colorize --model name`` load them offline, with the same sha256 check and
strict loading as the bundled weights. See the guide "Share a fine-tune as a weights
package".
"""

from __future__ import annotations

import json
import warnings
from dataclasses import fields
from importlib import metadata, resources
from typing import Any

from .._pretrained import PretrainedCfg
from .._registry import register_install_hint, register_pretrained
from ..errors import CganZooError

__all__ = [
    "ENTRY_POINT_GROUP",
    "BUNDLED_SOURCE",
    "read_registry",
    "register_bundled_weights",
    "register_weight_packages",
]

#: entry-point group through which weights packages announce themselves
ENTRY_POINT_GROUP = "cgan_zoo.weights"
#: the ``source`` of the weights in the cgan-zoo wheel
BUNDLED_SOURCE = "cgan-zoo (bundled)"


def read_registry(package: str, source: str) -> list[PretrainedCfg]:
    """The entries of ``registry.json`` in the Python package ``package``.

    Every entry's ``bundled`` folder is looked up inside ``package``; ``source`` names
    the provider in messages. Unknown keys of an entry are ignored (newer files stay
    readable).

    Raises:
        WeightsError: If ``registry.json`` is missing or not a JSON object of entries.

    Example:
        >>> [cfg.source for cfg in read_registry("cgan_zoo.weights", BUNDLED_SOURCE)][:1]
        ['cgan-zoo (bundled)']
    """
    from ..errors import WeightsError

    try:
        text = (resources.files(package) / "registry.json").read_text(encoding="utf-8")
        entries = json.loads(text)
    except (OSError, ValueError, ModuleNotFoundError) as exc:
        raise WeightsError(
            f"{source} has no readable registry.json in package {package!r}: {exc}. A weights "
            "package lists its weights in <package>/registry.json (see the weights-package guide)."
        ) from None
    if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
        raise WeightsError(
            f"registry.json of {source} (package {package!r}) must be a JSON object mapping "
            "'architecture.tag' names to entries."
        )
    known = {f.name for f in fields(PretrainedCfg)} - {"package", "source"}
    configs = []
    for name, entry in sorted(entries.items()):
        args: dict[str, Any] = {k: v for k, v in entry.items() if k in known}
        args.setdefault("name", name)
        try:
            configs.append(PretrainedCfg(**args, package=package, source=source))
        except TypeError as exc:
            raise WeightsError(
                f"entry {name!r} of {source}'s registry.json is incomplete: {exc}"
            ) from None
    return configs


#: Weights that live in a weights package of this repository rather than in the wheel:
#: name -> (distribution, how to install it). Asking for one that is not installed
#: raises an error with the command.
KNOWN_WEIGHT_PACKAGES = {
    "pix2pix_unet256.nature": (
        "cgan-zoo-weights-pix2pix",
        "pip install packages/cgan-zoo-weights-pix2pix (from a clone of the cgan-zoo repository; "
        "108 MB)",
    ),
}


def register_bundled_weights() -> list[str]:
    """Register every entry of the wheel's own ``registry.json``; return their names.

    ``import cgan_zoo`` calls it; calling it again re-registers the same entries.

    Example:
        >>> "unet_efficientnet_lite0.nature" in register_bundled_weights()
        True
    """
    for name, (distribution, install) in KNOWN_WEIGHT_PACKAGES.items():
        register_install_hint(name, distribution, install)
    names = []
    for cfg in read_registry(__name__, BUNDLED_SOURCE):
        register_pretrained(cfg)
        names.append(cfg.name)
    return names


def _entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def register_weight_packages() -> list[str]:
    """Register the weights of every installed weights package; return their names.

    A package that cannot be read, or that registers a name another source has
    registered already, is skipped with a warning that says why, so that one broken
    weights package never makes ``import cgan_zoo`` fail. ``import cgan_zoo`` calls it.

    Example:
        >>> import cgan_zoo
        >>> set(register_weight_packages()) <= set(cgan_zoo.list_pretrained())
        True
    """
    names = []
    for ep in _entry_points():
        dist = getattr(ep, "dist", None)
        provider = f"{dist.name} {dist.version}" if dist is not None else "a weights package"
        source = f"{provider} (entry point {ep.name!r} of group {ENTRY_POINT_GROUP!r})"
        package = ep.value.split(":", 1)[0].strip()
        try:
            configs = read_registry(package, source)
        except CganZooError as exc:
            warnings.warn(f"skipping weights package: {exc}", stacklevel=2)
            continue
        for cfg in configs:
            try:
                register_pretrained(cfg)
            except CganZooError as exc:
                warnings.warn(f"skipping weights {cfg.name!r}: {exc}", stacklevel=2)
                continue
            names.append(cfg.name)
    return names
