"""Class-rebalanced cross-entropy over quantised ab bins (Zhang et al., 2016)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..color_bins import soft_encode
from ..errors import InvalidInputError

__all__ = ["bin_cross_entropy_loss", "BinCrossEntropyLoss"]


def bin_cross_entropy_loss(
    logits: torch.Tensor,
    target_ab: torch.Tensor,
    centers: torch.Tensor,
    weights: torch.Tensor | None = None,
    sigma: float = 5.0 / 110.0,
    neighbours: int = 5,
) -> torch.Tensor:
    """Cross-entropy of bin logits against soft-encoded targets, weighted per pixel.

    The target ab is average-pooled to the logits' resolution, soft-encoded over its
    ``neighbours`` nearest bins (:func:`cgan_zoo.color_bins.soft_encode`), and each
    pixel's loss is multiplied by the rebalancing weight of its nearest bin.

    Args:
        logits: Bin logits.
        target_ab: Normalised ab targets at the input resolution (an integer multiple of
            the logits' resolution).
        centers: ``(Q, 2)`` bin centres.
        weights: ``(Q,)`` rebalancing weights (:func:`cgan_zoo.color_bins.rebalancing_weights`);
            ``None`` weighs every pixel equally.

    Shape:
        - logits: ``(B, Q, h, w)``.
        - target_ab: ``(B, 2, H, W)`` with ``H = k·h``, ``W = k·w``.
        - returns: scalar.

    Example:
        >>> import torch
        >>> from cgan_zoo.color_bins import ab_bin_centers
        >>> c = ab_bin_centers()
        >>> loss = bin_cross_entropy_loss(torch.zeros(1, len(c), 2, 2), torch.zeros(1, 2, 8, 8), c)
        >>> round(loss.item(), 3)  # uniform logits: log(Q)
        5.568
    """
    if logits.ndim != 4 or target_ab.ndim != 4 or target_ab.shape[1] != 2:
        raise InvalidInputError(
            f"bin_cross_entropy_loss needs logits (B, Q, h, w) and target_ab (B, 2, H, W), got "
            f"{tuple(logits.shape)} and {tuple(target_ab.shape)}."
        )
    if logits.shape[1] != centers.shape[0]:
        raise InvalidInputError(
            f"logits have {logits.shape[1]} bins but there are {centers.shape[0]} bin centres."
        )
    h, w = logits.shape[-2:]
    big_h, big_w = target_ab.shape[-2:]
    if big_h % h or big_w % w or big_h // h != big_w // w:
        raise InvalidInputError(
            f"target_ab of size {big_h}x{big_w} is not an integer multiple of the logits' {h}x{w}."
        )
    if (big_h, big_w) != (h, w):
        target_ab = F.avg_pool2d(target_ab.float(), big_h // h)
    target = soft_encode(target_ab, centers, sigma=sigma, neighbours=neighbours)
    per_pixel = -(target * torch.log_softmax(logits.float(), dim=1)).sum(dim=1)
    if weights is not None:
        per_pixel = per_pixel * weights.to(per_pixel)[target.argmax(dim=1)]
    return per_pixel.mean()


class BinCrossEntropyLoss(nn.Module):
    """Module form of :func:`bin_cross_entropy_loss` (holds only ``sigma`` and ``neighbours``).

    Shape:
        - logits: ``(B, Q, h, w)``; target_ab: ``(B, 2, H, W)``; returns: scalar.

    Example:
        >>> import torch
        >>> from cgan_zoo.color_bins import ab_bin_centers
        >>> c = ab_bin_centers()
        >>> BinCrossEntropyLoss()(torch.zeros(1, len(c), 2, 2), torch.zeros(1, 2, 8, 8), c).shape
        torch.Size([])
    """

    def __init__(self, sigma: float = 5.0 / 110.0, neighbours: int = 5) -> None:
        super().__init__()
        self.sigma, self.neighbours = float(sigma), int(neighbours)

    def forward(
        self,
        logits: torch.Tensor,
        target_ab: torch.Tensor,
        centers: torch.Tensor,
        weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return bin_cross_entropy_loss(logits, target_ab, centers, weights, self.sigma, self.neighbours)
