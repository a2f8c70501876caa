"""Full training checkpoints as single safetensors files, written atomically.

A checkpoint holds G, D, the EMA generator, both optimisers, the AMP scaler, the RNG
states, the data position, the step and the config. Tensors go into the safetensors
data section; everything else (optimiser hyper-parameters, RNG states of Python and
NumPy, counters) goes into its JSON metadata. Nothing is pickled, so loading a
checkpoint can never run code.

Files are named ``ckpt-00001234.safetensors``; saving writes a temp file in the same
folder and renames it, so a crash mid-save never destroys the last good checkpoint.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import torch

from ..errors import WeightsError
from ..serialization import (
    cleanup_stale_temp_files,
    load_safetensors,
    read_safetensors_header,
    save_safetensors,
)

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "list_checkpoints",
    "latest_checkpoint",
    "flatten_state",
    "unflatten_state",
    "cleanup_stale_temp_files",
    "generator_from_checkpoint",
    "checkpoint_info",
]

_NAME = re.compile(r"ckpt-(\d{8})\.safetensors")
_TENSOR = "__tensor__:"


def flatten_state(obj: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Move every tensor of a nested dict/list into ``tensors``; return a JSON skeleton.

    Tensors are replaced by ``"__tensor__:<key>"`` references.

    Example:
        >>> import torch
        >>> store = {}
        >>> flatten_state({"a": torch.ones(1), "b": [2, 3]}, "x", store)
        {'a': '__tensor__:x/a', 'b': [2, 3]}
    """
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach().cpu().contiguous()
        return _TENSOR + prefix
    if isinstance(obj, dict):
        return {str(k): flatten_state(v, f"{prefix}/{k}", tensors) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [flatten_state(v, f"{prefix}/{i}", tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} at {prefix!r} in a checkpoint")


def unflatten_state(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of :func:`flatten_state`."""
    if isinstance(skeleton, str) and skeleton.startswith(_TENSOR):
        key = skeleton[len(_TENSOR) :]
        if key not in tensors:
            raise WeightsError(f"checkpoint references tensor {key!r}, which is missing from the file.")
        return tensors[key]
    if isinstance(skeleton, dict):
        return {k: unflatten_state(v, tensors) for k, v in skeleton.items()}
    if isinstance(skeleton, list):
        return [unflatten_state(v, tensors) for v in skeleton]
    return skeleton


def checkpoint_path(folder: str | os.PathLike, step: int) -> Path:
    """``folder/ckpt-<step:08d>.safetensors``."""
    return Path(folder) / f"ckpt-{step:08d}.safetensors"


def save_checkpoint(state: dict[str, Any], folder: str | os.PathLike, step: int, keep: int = 2) -> Path:
    """Save a nested state dict atomically and prune all but the newest ``keep`` checkpoints.

    Returns:
        The path written.

    Example:
        >>> import tempfile, torch
        >>> folder = tempfile.mkdtemp()
        >>> for step in (1, 2, 3):
        ...     path = save_checkpoint({"w": torch.full((2,), float(step)), "step": step}, folder, step)
        >>> [p.name for p in list_checkpoints(folder)]  # keep=2
        ['ckpt-00000002.safetensors', 'ckpt-00000003.safetensors']
    """
    tensors: dict[str, torch.Tensor] = {}
    skeleton = flatten_state(state, "s", tensors)
    path = checkpoint_path(folder, step)
    save_safetensors(tensors, path, metadata={"cgan_zoo_checkpoint": json.dumps(skeleton), "step": str(step)})
    for old in list_checkpoints(folder)[:-keep]:
        try:
            old.unlink()
        except OSError:
            pass
    return path


def load_checkpoint(path: str | os.PathLike, *, allow_non_finite: bool = False) -> dict[str, Any]:
    """Load and validate a checkpoint written by :func:`save_checkpoint`.

    Args:
        path: A ``ckpt-*.safetensors`` file.
        allow_non_finite: Accept NaN/Inf tensors (refused by default: the trainer skips
            non-finite steps, so a checkpoint holding them is corrupt).

    Raises:
        WeightsError: If the file is corrupt, truncated, pickled, non-finite or not a checkpoint.

    Example:
        >>> import tempfile, torch
        >>> path = save_checkpoint({"w": torch.ones(2), "step": 7}, tempfile.mkdtemp(), 7)
        >>> state = load_checkpoint(path)
        >>> state["w"].tolist(), state["step"]
        ([1.0, 1.0], 7)
    """
    header, _ = read_safetensors_header(path)
    meta = header.get("__metadata__", {})
    if "cgan_zoo_checkpoint" not in meta:
        raise WeightsError(f"{str(path)!r} is a safetensors file but not a cgan-zoo training checkpoint.")
    tensors = load_safetensors(path, allow_non_finite=allow_non_finite)
    try:
        skeleton = json.loads(meta["cgan_zoo_checkpoint"])
    except (ValueError, RecursionError) as exc:
        raise WeightsError(f"{str(path)!r} has corrupt checkpoint metadata: {exc}") from None
    if not isinstance(skeleton, dict):
        raise WeightsError(
            f"{str(path)!r} has corrupt checkpoint metadata: expected a JSON object, got {type(skeleton).__name__}."
        )
    try:
        return unflatten_state(skeleton, tensors)
    except WeightsError as exc:
        raise WeightsError(f"{str(path)!r}: {exc}") from None


def checkpoint_info(path: str | os.PathLike) -> dict[str, Any]:
    """The non-tensor part of a checkpoint (step, config, generator class), read from its header.

    Much cheaper than :func:`load_checkpoint`: no tensor is read.

    Raises:
        WeightsError: If the file is not a cgan-zoo training checkpoint.

    Example:
        >>> import tempfile, torch
        >>> path = save_checkpoint({"w": torch.ones(2), "step": 3}, tempfile.mkdtemp(), 3)
        >>> checkpoint_info(path)["step"]
        3
    """
    header, _ = read_safetensors_header(path)
    meta = header.get("__metadata__", {})
    try:
        skeleton = json.loads(meta["cgan_zoo_checkpoint"])
    except (KeyError, ValueError, RecursionError):
        raise WeightsError(f"{str(path)!r} is not a readable cgan-zoo training checkpoint.") from None
    if not isinstance(skeleton, dict):
        raise WeightsError(f"{str(path)!r} has corrupt checkpoint metadata.")
    return {k: v for k, v in skeleton.items() if not (isinstance(v, str) and v.startswith(_TENSOR))}


def list_checkpoints(folder: str | os.PathLike) -> list[Path]:
    """Checkpoint files in ``folder``, oldest first.

    Example:
        >>> import tempfile, torch
        >>> folder = tempfile.mkdtemp()
        >>> _ = save_checkpoint({"step": 10}, folder, 10), save_checkpoint({"step": 9}, folder, 9)
        >>> [p.name for p in list_checkpoints(folder)]
        ['ckpt-00000009.safetensors', 'ckpt-00000010.safetensors']
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if _NAME.fullmatch(p.name)]
    return sorted(found, key=lambda p: int(_NAME.fullmatch(p.name).group(1)))  # type: ignore[union-attr]


def latest_checkpoint(folder: str | os.PathLike) -> Path | None:
    """The newest checkpoint in ``folder`` whose header is intact, or ``None``.

    Stale temp files of interrupted saves are deleted first.

    Example:
        >>> import tempfile, torch
        >>> folder = tempfile.mkdtemp()
        >>> print(latest_checkpoint(folder))
        None
        >>> _ = save_checkpoint({"step": 1}, folder, 1), save_checkpoint({"step": 2}, folder, 2)
        >>> _ = open(list_checkpoints(folder)[-1], "r+b").write(b"torn")  # a crash mid-write
        >>> latest_checkpoint(folder).name
        'ckpt-00000001.safetensors'
    """
    cleanup_stale_temp_files(folder)
    for path in reversed(list_checkpoints(folder)):
        try:
            read_safetensors_header(path)
            return path
        except WeightsError:
            continue
    return None


def generator_from_checkpoint(path: str | os.PathLike, use_ema: bool = True):
    """Rebuild the trained generator stored in a training checkpoint.

    The same as :func:`cgan_zoo.load_generator` on the checkpoint file, which also takes
    run folders, constructor overrides and every other kind of source.

    Args:
        path: A ``ckpt-*.safetensors`` file written by the trainer.
        use_ema: Take the EMA weights when the checkpoint has them.

    Returns:
        The generator (a :class:`~cgan_zoo.HubModel`) in eval mode, ready for
        ``save_pretrained`` or :class:`~cgan_zoo.pipelines.Colorizer`.

    Example:
        >>> import tempfile
        >>> from cgan_zoo import create_model
        >>> g = create_model("unet_tiny")
        >>> state = {"generator": g.state_dict(), "ema": None, "generator_config": g.config,
        ...          "generator_class": "UNetGenerator"}
        >>> path = save_checkpoint(state, tempfile.mkdtemp(), step=100)
        >>> type(generator_from_checkpoint(path)).__name__
        'UNetGenerator'
    """
    from .._builder import load_checkpoint_generator

    return load_checkpoint_generator(path, use_ema=use_ema)
