"""Classical hole filling in pure torch: the push-pull (pull-push) image pyramid.

A missing-regions generator learns faster when its holes already hold a plausible
smooth guess instead of a constant: the network then only has to improve on it.
:func:`pyramid_fill` is that guess. It needs no extra dependency (unlike OpenCV's Telea
inpainting), runs on any device, is differentiable and traces to ONNX.

Push: halve the image repeatedly, averaging only known pixels (a weighted 2×2 mean,
the weight being the share of known pixels). Pull: from the coarsest level back up,
each level keeps its own average where it has known pixels and blends in the upsampled
coarser level where it has few or none. Known pixels come back unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["pyramid_fill"]


def pyramid_fill(values: torch.Tensor, missing: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Fill the missing pixels of ``values`` from their surroundings (push-pull pyramid).

    Args:
        values: Images to fill; the values at missing pixels are ignored.
        missing: 1 where a pixel is missing, 0 where it is known (soft values in between
            weight the pixel). Broadcast over the channels of ``values``.
        eps: Weights below this count as "nothing known here".

    Returns:
        ``values`` with known pixels unchanged and missing ones filled. A sample with no
        known pixel at all comes back as zeros.

    Shape:
        - values: ``(B, C, H, W)``; missing: ``(B, 1, H, W)``; returns ``(B, C, H, W)``.

    Example:
        >>> import torch
        >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
        >>> hole = torch.zeros(1, 1, 4, 4)
        >>> hole[..., 1:3, 1:3] = 1
        >>> y = pyramid_fill(x, hole)
        >>> bool(torch.equal(y[hole.bool().expand_as(y).logical_not()], x[hole.bool().logical_not()]))
        True
        >>> bool(3.0 < float(y[0, 0, 1:3, 1:3].mean()) < 12.0)
        True
    """
    known = (1.0 - missing.to(values.dtype)).clamp(0.0, 1.0)
    weighted = values * known
    levels: list[tuple[torch.Tensor, torch.Tensor]] = [(weighted, known)]
    while max(weighted.shape[-2:]) > 1:
        # halve each side that is longer than one pixel (a 1-pixel side stays)
        kernel = tuple(2 if n > 1 else 1 for n in weighted.shape[-2:])
        weighted = F.avg_pool2d(weighted, kernel, ceil_mode=True)
        known = F.avg_pool2d(known, kernel, ceil_mode=True)
        levels.append((weighted, known))
    weighted, known = levels[-1]
    estimate = weighted / known.clamp_min(eps)
    for weighted, known in reversed(levels[:-1]):
        coarse = F.interpolate(
            estimate, size=weighted.shape[-2:], mode="bilinear", align_corners=False
        )
        own = weighted / known.clamp_min(eps)
        # trust a level's own average in proportion to how much of it is known
        trust = (known * 4.0).clamp(0.0, 1.0)
        estimate = trust * own + (1.0 - trust) * coarse
    hole = missing.to(values.dtype).clamp(0.0, 1.0)
    return values * (1.0 - hole) + estimate * hole
