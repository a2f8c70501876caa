"""How much memory a generator's forward pass needs, and whether it fits.

A fully convolutional generator's activations grow with the number of input pixels, so
one small probe run gives the cost per pixel for any working size. The probe records
the tensors that modules return while they are alive (their peak total) and the largest
single tensor; convolution workspaces and concatenations come on top, which
:data:`WORKSPACE_FACTOR` accounts for. The estimate is meant to turn a process-killing
allocation (or a segfault in a kernel whose indices overflow) into a clear error.
"""

from __future__ import annotations

import math
import os
import weakref
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["ForwardCost", "measure_forward_cost", "available_memory", "MAX_TENSOR_NUMEL"]

#: measured peak memory over the probe's peak of live module outputs (about 2.6 for the
#: default colorizer on CPU), rounded up
WORKSPACE_FACTOR = 3.0

#: kernels index tensors with 32-bit integers; a tensor this large or larger may crash them
MAX_TENSOR_NUMEL = 2**31 - 1


@dataclass(frozen=True)
class ForwardCost:
    """Per-pixel cost of one forward pass without gradients.

    Attributes:
        bytes_per_pixel: Estimated peak bytes per input pixel (batch × height × width).
        numel_per_pixel: Elements of the largest intermediate tensor per input pixel.

    Example:
        >>> cost = ForwardCost(bytes_per_pixel=600.0, numel_per_pixel=24.0)
        >>> round(cost.peak_bytes(1, 1024, 1024) / 2**20)
        600
    """

    bytes_per_pixel: float
    numel_per_pixel: float

    def peak_bytes(self, batch: int, height: int, width: int) -> float:
        """Estimated peak bytes of a forward pass on ``(batch, C, height, width)``."""
        return self.bytes_per_pixel * batch * height * width

    def largest_numel(self, batch: int, height: int, width: int) -> float:
        """Elements of the largest intermediate tensor for that input."""
        return self.numel_per_pixel * batch * height * width

    def max_pixels(self, available: float | None) -> float:
        """The most input pixels (batch × height × width) that fit in ``available`` bytes.

        Example:
            >>> ForwardCost(100.0, 1.0).max_pixels(1e6)
            10000.0
        """
        limit = MAX_TENSOR_NUMEL / self.numel_per_pixel if self.numel_per_pixel > 0 else math.inf
        if available is not None and self.bytes_per_pixel > 0:
            limit = min(limit, available / self.bytes_per_pixel)
        return limit


def measure_forward_cost(model: nn.Module, in_channels: int, stride: int = 1) -> ForwardCost:
    """Run ``model`` once on a small zero input and return its per-pixel cost.

    Args:
        model: A fully convolutional module (its cost grows with the pixel count).
        in_channels: Input channels of ``model``.
        stride: The input side must be a multiple of this.

    Returns:
        The :class:`ForwardCost` measured at the smallest multiple of ``stride`` of at
        least 64 pixels.

    Example:
        >>> from cgan_zoo import create_model
        >>> cost = measure_forward_cost(create_model("unet_tiny"), 1, stride=16)
        >>> cost.bytes_per_pixel > 4, cost.numel_per_pixel >= 1
        (True, True)
    """
    stride = max(1, int(stride))
    side = stride * max(1, math.ceil(64 / stride))
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    state = {"live": 0, "peak": 0, "largest": 0}
    seen: set[int] = set()

    def release(ptr: int, nbytes: int) -> None:
        state["live"] -= nbytes
        seen.discard(ptr)

    def hook(module: nn.Module, args: object, output: object) -> None:
        if not isinstance(output, torch.Tensor):
            return
        state["largest"] = max(state["largest"], output.numel())
        storage = output.untyped_storage()
        ptr, nbytes = storage.data_ptr(), storage.nbytes()
        if ptr in seen:  # a view or an in-place result: same memory
            return
        seen.add(ptr)
        state["live"] += nbytes
        state["peak"] = max(state["peak"], state["live"])
        weakref.finalize(output, release, ptr, nbytes)

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    x = torch.zeros(1, in_channels, side, side, device=device, dtype=dtype)
    try:
        with torch.no_grad():
            out = model(x)
    finally:
        for handle in handles:
            handle.remove()
    pixels = side * side
    state["peak"] = max(state["peak"], x.nbytes + (out.nbytes if isinstance(out, torch.Tensor) else 0))
    return ForwardCost(
        bytes_per_pixel=WORKSPACE_FACTOR * state["peak"] / pixels,
        numel_per_pixel=max(state["largest"], x.numel()) / pixels,
    )


def available_memory(device: torch.device) -> float | None:
    """Bytes free for new tensors on ``device``, or ``None`` where it cannot be told.

    CPU: ``MemAvailable`` of ``/proc/meminfo`` on Linux, else the free physical pages.
    CUDA: the free memory that ``torch.cuda.mem_get_info`` reports.

    Example:
        >>> free = available_memory(torch.device("cpu"))
        >>> free is None or free > 0
        True
    """
    if device.type == "cuda":
        try:
            return float(torch.cuda.mem_get_info(device)[0])
        except RuntimeError:
            return None
    if device.type != "cpu":
        return None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None
