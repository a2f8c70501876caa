"""Data-parallel helpers for runs launched with ``torchrun``.

cgan-zoo uses ``torch.distributed`` directly: parameters are broadcast from rank 0
at start, and after each backward pass every rank's gradients are averaged with one
all-reduce per model (the same maths as ``DistributedDataParallel``, without its
restriction to one forward per backward, which a GAN's D step breaks). Backend:
``gloo`` on CPU, ``nccl`` on CUDA.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import nn

from ..errors import InvalidConfigError

__all__ = [
    "init_from_env",
    "pick_device",
    "broadcast_module",
    "all_reduce_grads",
    "average_buffers",
    "any_rank",
    "collective_device",
    "sum_across_ranks",
]


def init_from_env(device: str = "cpu") -> tuple[int, int]:
    """Join the process group described by torchrun's environment, if any.

    Returns:
        ``(rank, world_size)``; ``(0, 1)`` outside torchrun.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") and torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
    return dist.get_rank(), dist.get_world_size()


def pick_device(device: str, rank: int = 0) -> torch.device:
    """Resolve ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"auto"`` to a device.

    Example:
        >>> pick_device("cpu")
        device(type='cpu')
    """
    if device == "auto":
        if torch.cuda.is_available():
            device = "cuda"
        elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            device = "mps"
        else:
            device = "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            raise InvalidConfigError(
                "device='cuda' was requested but CUDA is not available; use device='cpu'."
            )
        return torch.device(
            "cuda", int(os.environ.get("LOCAL_RANK", rank)) % torch.cuda.device_count()
        )
    try:
        return torch.device(device)
    except RuntimeError:
        raise InvalidConfigError(
            f"device={device!r} is not valid; use 'cpu', 'cuda', 'mps' or 'auto'."
        ) from None


def broadcast_module(module: nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every rank (no-op when not distributed)."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=0)


def all_reduce_grads(module: nn.Module, world_size: int) -> None:
    """Average gradients across ranks with a single flattened all-reduce."""
    if world_size <= 1:
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world_size
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset : offset + n].view_as(g))
        offset += n


def average_buffers(module: nn.Module, world_size: int) -> None:
    """Average floating buffers (BatchNorm statistics) across ranks."""
    if world_size <= 1:
        return
    with torch.no_grad():
        for b in module.buffers():
            if b.is_floating_point():
                dist.all_reduce(b)
                b /= world_size


def collective_device(device: torch.device | str | None = None) -> torch.device:
    """The device a collective's tensors must live on: the process's CUDA device under NCCL.

    NCCL reduces CUDA tensors only; gloo takes CPU tensors.

    Example:
        >>> collective_device("cpu")
        device(type='cpu')
    """
    if device is not None:
        return torch.device(device)
    if dist.is_available() and dist.is_initialized() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def any_rank(flag: bool, world_size: int, device: torch.device | str | None = None) -> bool:
    """True on every rank if ``flag`` is true on any rank (e.g. one got SIGTERM).

    Args:
        flag: This rank's flag.
        world_size: Number of processes; 1 needs no communication.
        device: Where to build the reduced tensor: the process's device (default: its
            CUDA device under NCCL, else the CPU).

    Example:
        >>> any_rank(True, 1)
        True
    """
    if world_size <= 1:
        return bool(flag)
    t = torch.tensor([1.0 if flag else 0.0], device=collective_device(device))
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def sum_across_ranks(values: torch.Tensor, world_size: int) -> torch.Tensor:
    """Sum a tensor over all ranks in place (no-op with one process); NaN on any rank spreads to all.

    Example:
        >>> sum_across_ranks(torch.tensor([1.0, 2.0]), 1).tolist()
        [1.0, 2.0]
    """
    if world_size > 1:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values
