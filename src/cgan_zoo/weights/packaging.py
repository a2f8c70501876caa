"""Turn a ``save_pretrained`` folder into a pip-installable weights package.

The package it writes is an ordinary Python distribution: a ``pyproject.toml``
(setuptools), one Python package holding ``registry.json`` and the weights folder
(``config.json``, ``model.safetensors``, ``README.md``), and an entry point in the
group :data:`cgan_zoo.weights.ENTRY_POINT_GROUP` that announces it. After
``pip install OUT_DIR`` the weights load by name, offline, sha256-checked and strict,
through every entry point of cgan-zoo.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from ..errors import InvalidConfigError

__all__ = ["make_weights_package"]

_NAME = re.compile(r"^[a-z0-9_]+\.[A-Za-z0-9_]+$")
_DIST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _default_card(
    name: str, architecture: str, license: str, description: str, distribution: str
) -> str:
    return (
        f"# {name}\n\n"
        f"{description or 'Weights for the cgan-zoo architecture `' + architecture + '`.'}\n\n"
        f"- Architecture: `{architecture}` (cgan-zoo)\n"
        f"- Licence of the weights: {license}\n"
        f"- Installed by the Python distribution `{distribution}`\n\n"
        "```python\n"
        "from cgan_zoo.pipelines import Colorizer\n\n"
        f'colorizer = Colorizer.from_pretrained("{name}")\n'
        "```\n"
    )


def make_weights_package(
    model_folder: str | os.PathLike,
    name: str,
    out_dir: str | os.PathLike,
    *,
    distribution: str | None = None,
    version: str = "0.1.0",
    license: str = "other",
    description: str = "",
    input_size: int = 256,
    fp16: bool = False,
    training_data: str = "",
    metrics: dict[str, float] | None = None,
    training: dict[str, Any] | None = None,
    max_shard_mb: float | None = None,
) -> Path:
    """Write a weights package for the model in ``model_folder``.

    Args:
        model_folder: A ``save_pretrained`` folder (``config.json`` + ``model.safetensors``),
            for example the ``generator/`` folder a training run writes. Its
            ``README.md``, if any, becomes the model card.
        name: The weights name users will load, ``"architecture.tag"``; the architecture
            must be a registered cgan-zoo model (``cgan_zoo.list_models()``).
        out_dir: Where the package source goes (created; must be empty or absent).
        distribution: Distribution name for pip (default ``cgan-zoo-weights-<tag>``).
        version: Version of the distribution.
        license: SPDX licence of the weights.
        description: One line for tables and the default model card.
        input_size: Working resolution the model was trained at.
        fp16: Store the floating-point tensors in float16 (half the size).
        training_data: Human-readable description of the training data (no local paths).
        metrics: Validation numbers to record in the registry entry.
        training: Training facts (recipe, steps, hours) to record.
        max_shard_mb: Split weights larger than this many megabytes (10**6 bytes) into
            shards of at most this size plus an index that pins them
            (:mod:`cgan_zoo.sharded_weights`), for hosts with a per-file limit
            (GitHub refuses files over 100 MB). ``None`` writes one file.

    Returns:
        ``out_dir``, ready for ``pip install out_dir``.

    Raises:
        InvalidConfigError: For a malformed or unregistered name, a bad distribution name,
            or a non-empty ``out_dir``.
        WeightsError: If ``model_folder`` does not hold loadable weights.

    Example:
        >>> import tempfile, cgan_zoo as cz
        >>> tmp = tempfile.mkdtemp()
        >>> cz.create_model("unet_tiny").save_pretrained(f"{tmp}/model")
        >>> out = make_weights_package(f"{tmp}/model", "unet_tiny.demo", f"{tmp}/pkg", license="MIT")
        >>> sorted(p.name for p in out.iterdir())
        ['README.md', 'pyproject.toml', 'src']
    """
    from .._registry import list_models
    from ..hub import HubModel
    from ..serialization import save_safetensors
    from ..sharded_weights import save_sharded_safetensors

    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidConfigError(
            f"name must look like 'architecture.tag' (lower-case architecture, letters/digits/_ tag), "
            f"got {name!r}; for example 'unet_efficientnet_lite0.my_birds'."
        )
    architecture, tag = name.split(".", 1)
    if architecture not in list_models():
        raise InvalidConfigError(
            f"{architecture!r} (from name {name!r}) is not a registered architecture; the name must "
            "start with the architecture the weights belong to (see `cgan-zoo models`)."
        )
    distribution = distribution or f"cgan-zoo-weights-{tag.replace('_', '-').lower()}"
    if not _DIST.match(distribution):
        raise InvalidConfigError(f"distribution {distribution!r} is not a valid package name.")
    module = re.sub(r"[^A-Za-z0-9]+", "_", distribution).lower()
    out = Path(out_dir)
    if max_shard_mb is not None and (isinstance(max_shard_mb, bool) or not float(max_shard_mb) > 0):
        raise InvalidConfigError(
            f"max_shard_mb must be a positive number of megabytes, got {max_shard_mb!r}."
        )
    if out.exists() and any(out.iterdir()):
        raise InvalidConfigError(f"out_dir {str(out)!r} is not empty; choose a new folder.")

    model = HubModel.from_pretrained(model_folder)
    folder = out / "src" / module / name
    folder.mkdir(parents=True)
    (out / "src" / module / "__init__.py").write_text(
        f'"""cgan-zoo weights package {distribution}: provides {name!r} (see registry.json)."""\n',
        encoding="utf-8",
    )
    model.save_pretrained(folder)  # config.json (and weights, rewritten below)
    tensors = {
        k: (v.half() if fp16 and v.is_floating_point() else v).contiguous()
        for k, v in model.state_dict().items()
    }
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    if max_shard_mb is not None and total > max_shard_mb * 1e6:
        (folder / "model.safetensors").unlink()
        digest = save_sharded_safetensors(
            tensors, folder, int(max_shard_mb * 1e6), metadata={"format": "pt"}
        )
    else:
        digest = save_safetensors(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    card = Path(model_folder) / "README.md"
    card_text = (
        card.read_text(encoding="utf-8")
        if card.is_file()
        else _default_card(name, architecture, license, description, distribution)
    )
    (folder / "README.md").write_text(card_text, encoding="utf-8")

    entry = {
        "name": name,
        "architecture": architecture,
        "bundled": name,
        "sha256": digest,
        "license": license,
        "task": str(getattr(model, "task", "generic")),
        "input_size": int(input_size),
        "description": description,
        "training_data": training_data,
        "metrics": dict(metrics or {}),
        "training": {**(training or {}), "storage_dtype": "float16" if fp16 else "float32"},
    }
    (out / "src" / module / "registry.json").write_text(
        json.dumps({name: entry}, indent=2) + "\n", encoding="utf-8"
    )
    (out / "pyproject.toml").write_text(
        "\n".join(
            [
                "[build-system]",
                'requires = ["setuptools>=64"]',
                'build-backend = "setuptools.build_meta"',
                "",
                "[project]",
                f'name = "{distribution}"',
                f'version = "{version}"',
                f'description = "cgan-zoo weights: {name}"',
                'readme = "README.md"',
                'requires-python = ">=3.10"',
                'dependencies = ["cgan-zoo"]',
                "",
                '[project.entry-points."cgan_zoo.weights"]',
                f'{module} = "{module}"',
                "",
                "[tool.setuptools.packages.find]",
                'where = ["src"]',
                "",
                "[tool.setuptools.package-data]",
                f'{module} = ["registry.json", "*/*.json", "*/*.safetensors", "*/*.md"]',
                "",
            ]
        ),
        encoding="utf-8",
    )
    shutil.copyfile(folder / "README.md", out / "README.md")
    return out
