"""Building the inputs of the data contracts (see :mod:`cgan_zoo.tasks` for the table)."""

from __future__ import annotations

import torch

# The task table and the shared generator checks have one home each; these names stay
# importable from here for code written against the older layout.
from ..tasks import TASKS, check_task
from .base import check_generator_args

__all__ = ["TASKS", "check_task", "check_generator_args", "masked_generator_input"]


def masked_generator_input(lightness: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Build the ``colorize-missing`` generator input: masked L plus the mask.

    Missing pixels (mask 1) of the normalised L are set to 0 (mid-gray, L = 50) and the
    mask is appended as a second channel, so the model knows where to invent structure.

    Shape:
        - lightness: ``(B, 1, H, W)`` in [-1, 1].
        - mask: ``(B, 1, H, W)`` with 1 = missing, 0 = known.
        - returns: ``(B, 2, H, W)``.

    Example:
        >>> import torch
        >>> x = masked_generator_input(torch.ones(1, 1, 2, 2), torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]]))
        >>> x[0, 0].tolist(), x[0, 1].tolist()
        ([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]])
    """
    mask = mask.to(lightness.dtype)
    return torch.cat([lightness * (1.0 - mask), mask], dim=1)
