"""Full training checkpoints as single safetensors files, written atomically.

A checkpoint holds G, D, the EMA generator, both optimisers, the AMP scaler, the RNG
states, the data position, the step and the config. Tensors go into the safetensors
data section; everything else (optimiser hyper-parameters, RNG states of Python and
NumPy, counters) goes into its JSON metadata. Nothing is pickled, so loading a
checkpoint can never run code.

Integer dict keys (an optimiser's parameter ids) and tuples (Adam's ``betas``) are
stored so that they load back as integers and tuples: a state dict loads back equal to
the one saved. Checkpoints of older versions stored them as strings and lists;
:func:`load_checkpoint` still reads those.

Files are named ``ckpt-00001234.safetensors``; saving writes a temp file in the same
folder and renames it, so a crash mid-save never destroys the last good checkpoint.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
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
    "rng_state",
    "set_rng_state",
]

_NAME = re.compile(r"ckpt-(\d{8})\.safetensors")
_TENSOR = "__tensor__:"
#: JSON objects with these single keys stand for a dict with integer keys and a tuple
_INT_KEYS = "__int_keys__"
_TUPLE = "__tuple__"
#: version of the skeleton encoding: 1 turned int keys into strings and tuples into lists
_FORMAT = "2"


def flatten_state(obj: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Move every tensor of a nested dict/list into ``tensors``; return a JSON skeleton.

    Tensors are replaced by ``"__tensor__:<key>"`` references. A dict with integer keys
    becomes ``{"__int_keys__": [[key, value], ...]}`` and a tuple ``{"__tuple__": [...]}``,
    so that :func:`unflatten_state` gives back exactly what was stored.

    Example:
        >>> import torch
        >>> store = {}
        >>> flatten_state({"a": torch.ones(1), "b": [2, 3]}, "x", store)
        {'a': '__tensor__:x/a', 'b': [2, 3]}
        >>> skeleton = flatten_state({"state": {0: {"step": 1}}, "betas": (0.5, 0.9)}, "o", store)
        >>> unflatten_state(skeleton, store)
        {'state': {0: {'step': 1}}, 'betas': (0.5, 0.9)}
    """
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach().cpu().contiguous()
        return _TENSOR + prefix
    if isinstance(obj, dict):
        if obj and all(isinstance(k, int) and not isinstance(k, bool) for k in obj):
            return {
                _INT_KEYS: [[k, flatten_state(v, f"{prefix}/{k}", tensors)] for k, v in obj.items()]
            }
        for k in obj:
            if not isinstance(k, str):
                raise TypeError(
                    f"cannot store the key {k!r} at {prefix!r} in a checkpoint: use str or int keys"
                )
        return {k: flatten_state(v, f"{prefix}/{k}", tensors) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        items = [flatten_state(v, f"{prefix}/{i}", tensors) for i, v in enumerate(obj)]
        return {_TUPLE: items} if isinstance(obj, tuple) else items
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} at {prefix!r} in a checkpoint")


def unflatten_state(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of :func:`flatten_state`."""
    if isinstance(skeleton, str) and skeleton.startswith(_TENSOR):
        key = skeleton[len(_TENSOR) :]
        if key not in tensors:
            raise WeightsError(
                f"checkpoint references tensor {key!r}, which is missing from the file."
            )
        return tensors[key]
    if isinstance(skeleton, dict):
        if len(skeleton) == 1 and _INT_KEYS in skeleton:
            return {int(k): unflatten_state(v, tensors) for k, v in skeleton[_INT_KEYS]}
        if len(skeleton) == 1 and _TUPLE in skeleton:
            return tuple(unflatten_state(v, tensors) for v in skeleton[_TUPLE])
        return {k: unflatten_state(v, tensors) for k, v in skeleton.items()}
    if isinstance(skeleton, list):
        return [unflatten_state(v, tensors) for v in skeleton]
    return skeleton


def _upgrade_format_1(state: dict[str, Any]) -> dict[str, Any]:
    """Checkpoints before format 2 stored optimiser parameter ids as strings and ``betas`` as lists."""
    for name in ("opt_g", "opt_d"):
        opt = state.get(name)
        if not isinstance(opt, dict) or "state" not in opt:
            continue
        state[name] = {
            **opt,
            "state": {int(k): v for k, v in opt["state"].items()},
            "param_groups": [
                {**g, "betas": tuple(g["betas"])} if "betas" in g else g
                for g in opt.get("param_groups", [])
            ],
        }
    return state


def rng_state() -> dict[str, Any]:
    """The states of torch's (CPU and CUDA), Python's and NumPy's global RNGs, checkpoint-ready.

    Example:
        >>> state = rng_state()
        >>> a = torch.rand(1); set_rng_state(state); bool(torch.rand(1) == a)
        True
    """
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": [version, list(internal), gauss],
        "numpy": {
            "name": name,
            "keys": torch.from_numpy(np.asarray(keys).astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the global RNGs from :func:`rng_state` (also as read back from a checkpoint)."""
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((int(version), tuple(int(v) for v in internal), gauss))
    numpy = state["numpy"]
    keys = numpy["keys"].numpy().astype(np.uint32)
    np.random.set_state(
        (numpy["name"], keys, int(numpy["pos"]), int(numpy["has_gauss"]), float(numpy["cached"]))
    )
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoint_path(folder: str | os.PathLike, step: int) -> Path:
    """``folder/ckpt-<step:08d>.safetensors``."""
    return Path(folder) / f"ckpt-{step:08d}.safetensors"


def save_checkpoint(
    state: dict[str, Any], folder: str | os.PathLike, step: int, keep: int = 2
) -> Path:
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
    metadata = {
        "cgan_zoo_checkpoint": json.dumps(skeleton),
        "cgan_zoo_checkpoint_format": _FORMAT,
        "step": str(step),
    }
    save_safetensors(tensors, path, metadata=metadata)
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
        raise WeightsError(
            f"{str(path)!r} is a safetensors file but not a cgan-zoo training checkpoint."
        )
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
        state = unflatten_state(skeleton, tensors)
    except WeightsError as exc:
        raise WeightsError(f"{str(path)!r}: {exc}") from None
    return state if meta.get("cgan_zoo_checkpoint_format") == _FORMAT else _upgrade_format_1(state)


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
        raise WeightsError(
            f"{str(path)!r} is not a readable cgan-zoo training checkpoint."
        ) from None
    if not isinstance(skeleton, dict):
        raise WeightsError(f"{str(path)!r} has corrupt checkpoint metadata.")
    info = {}
    for k, v in skeleton.items():
        if isinstance(v, str) and v.startswith(_TENSOR):
            continue
        try:
            info[k] = unflatten_state(v, {})
        except WeightsError:  # holds tensor references: keep the skeleton
            info[k] = v
    return info


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
