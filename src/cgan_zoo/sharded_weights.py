"""Weights split over several safetensors files, pinned by one index.

Large weights (the paper's ``pix2pix_unet256`` is 108 MB even in float16) do not fit
every file host's per-file limit. :func:`save_sharded_safetensors` splits a state dict
into shards ``model-00001-of-00003.safetensors``, ... of at most ``max_shard_bytes``
each and writes ``model.safetensors.index.json`` (the Hugging Face layout: a
``weight_map`` from tensor name to shard) that also records every shard's sha256.
Pinning the sha256 of the index therefore pins every byte of the weights, and
:func:`load_sharded_safetensors` checks the whole chain: the index against its pin,
each shard against the index, and that the shards hold exactly the tensors the index
lists, each shard being validated like any safetensors file
(:func:`cgan_zoo.serialization.load_safetensors`).

:func:`load_weights_file` is what loaders call: it reads either kind.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

import torch

from .errors import ChecksumError, WeightsError
from .serialization import atomic_write_bytes, load_safetensors, save_safetensors

__all__ = [
    "SHARD_INDEX_NAME",
    "save_sharded_safetensors",
    "load_sharded_safetensors",
    "load_weights_file",
]

#: File name of the index of sharded weights (next to ``config.json``)
SHARD_INDEX_NAME = "model.safetensors.index.json"
_SHARD_NAME = re.compile(r"^model-\d{5}-of-\d{5}\.safetensors$")


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def save_sharded_safetensors(
    tensors: Mapping[str, torch.Tensor],
    folder: str | os.PathLike,
    max_shard_bytes: int,
    metadata: Mapping[str, str] | None = None,
) -> str:
    """Write ``tensors`` as shards of at most ``max_shard_bytes`` plus their index.

    Tensors keep their order; a shard closes when the next tensor would overflow it (a
    single tensor larger than the limit gets a shard of its own). Every file is written
    atomically.

    Args:
        tensors: The state dict.
        folder: Existing folder to write into.
        max_shard_bytes: Largest tensor payload per shard, in bytes.
        metadata: String metadata stored in every shard's header.

    Returns:
        The sha256 of the index file, which pins every shard.

    Raises:
        WeightsError: If ``max_shard_bytes`` is not a positive integer.

    Example:
        >>> import tempfile, torch
        >>> d = tempfile.mkdtemp()
        >>> pin = save_sharded_safetensors({"a": torch.ones(4), "b": torch.zeros(4)}, d, 16)
        >>> sorted(p.name for p in Path(d).iterdir())
        ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']
        >>> load_sharded_safetensors(Path(d) / SHARD_INDEX_NAME, sha256=pin)["b"].tolist()
        [0.0, 0.0, 0.0, 0.0]
    """
    if (
        isinstance(max_shard_bytes, bool)
        or not isinstance(max_shard_bytes, int)
        or max_shard_bytes <= 0
    ):
        raise WeightsError(
            f"max_shard_bytes must be a positive number of bytes, got {max_shard_bytes!r}."
        )
    groups: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for name, t in tensors.items():
        if groups[-1] and size + _nbytes(t) > max_shard_bytes:
            groups.append({})
            size = 0
        groups[-1][name] = t
        size += _nbytes(t)
    out = Path(folder)
    n = len(groups)
    weight_map: dict[str, str] = {}
    digests: dict[str, str] = {}
    for i, group in enumerate(groups, start=1):
        filename = f"model-{i:05d}-of-{n:05d}.safetensors"
        digests[filename] = save_safetensors(group, out / filename, metadata=metadata)
        weight_map.update(dict.fromkeys(group, filename))
    index = {
        "metadata": {"total_size": sum(_nbytes(t) for t in tensors.values()), "sha256": digests},
        "weight_map": weight_map,
    }
    data = (json.dumps(index, indent=2, sort_keys=True) + "\n").encode()
    atomic_write_bytes(out / SHARD_INDEX_NAME, data)
    return hashlib.sha256(data).hexdigest()


def _read_index(path: Path, sha256: str | None) -> tuple[dict[str, str], dict[str, str]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WeightsError(f"weights index {str(path)!r} could not be read: {exc}") from None
    if sha256 is not None and hashlib.sha256(data).hexdigest().lower() != sha256.lower():
        raise ChecksumError(
            f"{str(path)!r} has sha256 {hashlib.sha256(data).hexdigest()} but {sha256} was expected; "
            "the index is corrupt or was modified. Reinstall the weights."
        )
    try:
        index = json.loads(data)
        weight_map = index["weight_map"]
        digests = index["metadata"]["sha256"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise WeightsError(
            f"{str(path)!r} is not a sharded-weights index (JSON with 'weight_map' and "
            f"'metadata.sha256'): {exc!r}."
        ) from None
    if not isinstance(weight_map, dict) or not isinstance(digests, dict):
        raise WeightsError(
            f"{str(path)!r}: 'weight_map' and 'metadata.sha256' must be JSON objects."
        )
    for filename in set(weight_map.values()) | set(digests):
        if not isinstance(filename, str) or not _SHARD_NAME.match(filename):
            raise WeightsError(
                f"{str(path)!r} names shard {filename!r}; shards must be called "
                "'model-NNNNN-of-NNNNN.safetensors' and lie next to the index."
            )
    missing = sorted(set(weight_map.values()) - set(digests))
    if missing:
        raise WeightsError(
            f"{str(path)!r} has no sha256 for shard(s) {missing}; the index is incomplete."
        )
    return weight_map, digests


def load_sharded_safetensors(
    index_path: str | os.PathLike, *, sha256: str | None = None
) -> dict[str, torch.Tensor]:
    """Load sharded weights after checking the index, every shard and the tensor list.

    Args:
        index_path: The ``model.safetensors.index.json`` file.
        sha256: Expected sha256 of the index file (which pins every shard).

    Returns:
        The merged state dict (CPU tensors).

    Raises:
        ChecksumError: If the index or a shard does not match its pin.
        WeightsError: If a shard is missing, corrupt or holds other tensors than the index lists.
    """
    path = Path(index_path)
    weight_map, digests = _read_index(path, sha256)
    tensors: dict[str, torch.Tensor] = {}
    for filename in sorted(digests):
        shard = path.parent / filename
        if not shard.is_file():
            raise WeightsError(
                f"shard {filename!r} listed in {str(path)!r} is missing; reinstall the weights."
            )
        part = load_safetensors(shard, sha256=digests[filename])
        expected = {k for k, f in weight_map.items() if f == filename}
        if set(part) != expected:
            extra, lost = sorted(set(part) - expected), sorted(expected - set(part))
            raise WeightsError(
                f"shard {str(shard)!r} holds other tensors than {str(path)!r} lists "
                f"(unexpected: {extra[:5]}, missing: {lost[:5]})."
            )
        tensors.update(part)
    return tensors


def load_weights_file(
    path: str | os.PathLike, *, sha256: str | None = None
) -> dict[str, torch.Tensor]:
    """Load ``model.safetensors`` or, for a ``model.safetensors.index.json``, its shards.

    Example:
        >>> import tempfile, torch
        >>> p = tempfile.mkdtemp() + "/model.safetensors"
        >>> _ = save_safetensors({"w": torch.ones(1)}, p)
        >>> load_weights_file(p)["w"].tolist()
        [1.0]
    """
    if Path(path).name == SHARD_INDEX_NAME:
        return load_sharded_safetensors(path, sha256=sha256)
    return load_safetensors(path, sha256=sha256)
