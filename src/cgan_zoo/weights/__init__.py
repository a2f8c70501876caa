"""Pretrained weights bundled with the wheel, registered on the registry's first use.

Each entry of ``registry.json`` becomes a :class:`~cgan_zoo.PretrainedCfg` whose
``bundled`` folder (``config.json`` + ``model.safetensors`` + ``README.md`` model card)
lives next to this file. ``scripts/export_pretrained.py`` writes entries and
``scripts/evaluate_pretrained.py`` adds their validation metrics.
"""

from __future__ import annotations

import json
from dataclasses import fields
from importlib import resources

from .._pretrained import PretrainedCfg
from .._registry import register_pretrained

__all__ = ["register_bundled_weights"]


def register_bundled_weights() -> list[str]:
    """Register every entry of the bundled ``registry.json``; return their names."""
    source = resources.files(__name__) / "registry.json"
    if not source.is_file():
        return []
    entries = json.loads(source.read_text(encoding="utf-8"))
    known = {f.name for f in fields(PretrainedCfg)}
    names = []
    for name, entry in sorted(entries.items()):
        cfg = PretrainedCfg(**{k: v for k, v in entry.items() if k in known})
        register_pretrained(cfg)
        names.append(name)
    return names
