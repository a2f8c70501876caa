"""Exponential moving average of a model's weights."""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["ModelEMA"]


class ModelEMA:
    """Keep ``ema = decay * ema + (1 - decay) * model`` after every optimiser step.

    Buffers (BatchNorm running statistics) are copied, not averaged.

    Args:
        model: The model to track; a deep copy is made.
        decay: EMA decay in [0, 1).

    Example:
        >>> from torch import nn
        >>> m = nn.Linear(2, 2)
        >>> ema = ModelEMA(m, decay=0.5)
        >>> _ = nn.init.zeros_(m.weight)
        >>> ema.update(m)
        >>> bool((ema.module.weight.abs() < 1).all())
        True
    """

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        self.decay = float(decay)
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the EMA weights towards ``model``'s."""
        ema_params: list[torch.Tensor] = list(self.module.parameters())
        params: list[torch.Tensor] = [p.detach() for p in model.parameters()]
        torch._foreach_lerp_(ema_params, params, 1.0 - self.decay)
        for eb, b in zip(self.module.buffers(), model.buffers()):
            eb.copy_(b)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The EMA model's state dict."""
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore the EMA model's state dict (strict)."""
        self.module.load_state_dict(state, strict=True)
