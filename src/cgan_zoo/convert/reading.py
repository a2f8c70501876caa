"""Read a foreign checkpoint into a flat ``name -> tensor`` dict.

This is the one place in cgan-zoo that reads a pickle-based file: a ``.pth`` written by
``torch.save``, read with ``torch.load(..., weights_only=True)``, whose restricted
unpickler builds only tensors and plain containers and refuses any other object
without running it. Everything else in the library loads safetensors only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch

from ..errors import UnsafeWeightsError, WeightsError
from ..serialization import load_safetensors

__all__ = ["read_state_dict", "strip_prefix", "WRAPPER_KEYS"]

#: keys under which training code commonly nests the state dict of a checkpoint
WRAPPER_KEYS = ("state_dict", "model", "net", "netG", "netD", "net_G", "net_D")

_SAFETENSORS_SUFFIXES = {".safetensors"}
_TORCH_SUFFIXES = {".pth", ".pt", ".bin", ".ckpt"}


def _load_pickle(path: Path) -> object:
    import pickle

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        import re

        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        what = f"a reference to {found.group(1)}" if found else "objects other than tensors"
        raise UnsafeWeightsError(
            f"{str(path)!r} holds {what}; refusing to "
            "unpickle it, because that could run arbitrary code. Only a state dict of tensors (as "
            "torch.save(net.state_dict(), path) writes) can be converted: save one from the "
            "network in the environment that trained it."
        ) from None
    except Exception as exc:  # noqa: BLE001 - torch's unpickler fails on damaged bytes in many ways
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise WeightsError(
            f"{str(path)!r} could not be read as a torch checkpoint ({reason}); the file is damaged, "
            "truncated or not a torch.save file."
        ) from None


def _as_state_dict(obj: object, source: str) -> dict[str, torch.Tensor]:
    if not isinstance(obj, Mapping):
        raise WeightsError(
            f"{source} holds a {type(obj).__name__}, not a state dict; expected a mapping of "
            "parameter names to tensors (torch.save(net.state_dict(), path))."
        )
    if obj and not all(isinstance(v, torch.Tensor) for v in obj.values()):
        nested = [k for k in WRAPPER_KEYS if isinstance(obj.get(k), Mapping)]
        if len(nested) == 1:
            return _as_state_dict(obj[nested[0]], f"{source}[{nested[0]!r}]")
        bad = next(k for k, v in obj.items() if not isinstance(v, torch.Tensor))
        raise WeightsError(
            f"{source}: entry {bad!r} is a {type(obj[bad]).__name__}, not a tensor; expected a state "
            f"dict of tensors, or a dict holding one under exactly one of the keys {list(WRAPPER_KEYS)}."
        )
    if not obj:
        raise WeightsError(f"{source} is empty; expected a state dict of tensors.")
    state: dict[str, torch.Tensor] = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise WeightsError(f"{source}: key {key!r} is not a string; expected parameter names.")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise WeightsError(f"{source}: tensor {key!r} contains NaN or Inf values; refusing to convert it.")
        state[key] = value
    return state


def strip_prefix(state: Mapping[str, torch.Tensor], prefix: str = "module.") -> dict[str, torch.Tensor]:
    """Remove ``prefix`` from every key when every key has it (``DataParallel`` checkpoints).

    Shape:
        - Tensors are returned unchanged.

    Example:
        >>> import torch
        >>> sorted(strip_prefix({"module.w": torch.ones(1), "module.b": torch.zeros(1)}))
        ['b', 'w']
    """
    state = dict(state)
    while state and all(k.startswith(prefix) for k in state):
        state = {k[len(prefix) :]: v for k, v in state.items()}
    return state


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a checkpoint's tensors, by name, from ``.safetensors`` or ``.pth``.

    ``.pth`` (also ``.pt``, ``.bin``, ``.ckpt``) is read with
    ``torch.load(map_location="cpu", weights_only=True)``: only tensors and plain
    containers can come out, and a file holding any other object is refused before that
    object is built. The result must be a state dict of tensors, or a dict holding one
    under one of :data:`WRAPPER_KEYS`. A ``module.`` prefix on every key is removed.

    Args:
        path: The checkpoint file.

    Returns:
        A dict of CPU tensors.

    Raises:
        UnsafeWeightsError: If the pickle holds anything but tensors and containers.
        WeightsError: If the file is missing, corrupt, not a state dict or non-finite.

    Shape:
        - Every tensor keeps the shape and dtype it was saved with.

    Example:
        >>> import tempfile, torch
        >>> path = tempfile.mkdtemp() + "/latest_net_G.pth"
        >>> torch.save({"module.model.0.weight": torch.ones(2, 1, 1, 1)}, path)
        >>> {k: tuple(v.shape) for k, v in read_state_dict(path).items()}
        {'model.0.weight': (2, 1, 1, 1)}
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"checkpoint {str(path)!r} does not exist or is not a file.")
    suffix = path.suffix.lower()
    if suffix in _SAFETENSORS_SUFFIXES:
        state = load_safetensors(path)
    elif suffix in _TORCH_SUFFIXES:
        state = _as_state_dict(_load_pickle(path), repr(str(path)))
    else:
        raise WeightsError(
            f"{str(path)!r} has suffix {path.suffix!r}; expected a .pth (torch.save of a state dict) "
            "or a .safetensors file."
        )
    return strip_prefix(state)
