"""Loss modules: thin :class:`torch.nn.Module` wrappers of :mod:`cgan_zoo.losses.functional`.

Each module only stores its configuration and calls the function of the same
name, so ``Module(**config)(*args)`` equals ``function(*args, **config)``. None of
them has parameters, and their buffers are non-persistent, so a loss module adds
nothing to a checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..errors import InvalidConfigError
from . import functional as LF
from .checks import check_label, check_weight
from .modes import check_adversarial_mode

__all__ = [
    "AdversarialLoss",
    "WGANGPPenalty",
    "R1Penalty",
    "WeightedL1Loss",
    "FeatureMatchingLoss",
]


class AdversarialLoss(nn.Module):
    """Adversarial (GAN) loss; see :func:`~cgan_zoo.losses.adversarial_loss`.

    The real and fake target labels are kept as (non-persistent) buffers, so they
    follow the module across ``.to(device)`` and ``.double()`` calls.

    Args:
        mode: ``"vanilla"`` (BCE with logits), ``"lsgan"``, ``"hinge"`` or ``"wgan"``.
        real_label: Target for real samples ("vanilla" / "lsgan" only), for example
            0.9 for one-sided label smoothing.
        fake_label: Target for fake samples ("vanilla" / "lsgan" only).

    Raises:
        InvalidConfigError: On an unknown mode, or labels other than 1/0 in a mode
            that has no targets.

    Shape:
        - logits: ``(*)``, or a list of tensors / ``(logits, features)`` pairs, one per scale.
        - Output: ``()``.

    Example:
        >>> import torch
        >>> criterion = AdversarialLoss("lsgan")
        >>> criterion(torch.zeros(2, 1, 3, 3), True).item()  # mean((0 - 1)^2)
        1.0
        >>> criterion(torch.zeros(2, 1, 3, 3), False).item()
        0.0
    """

    real_label: torch.Tensor
    fake_label: torch.Tensor

    def __init__(
        self, mode: str = "vanilla", real_label: float = 1.0, fake_label: float = 0.0
    ) -> None:
        super().__init__()
        self.mode = check_adversarial_mode(mode)
        real_label, fake_label = float(real_label), float(fake_label)
        if mode in ("hinge", "wgan") and (real_label, fake_label) != (1.0, 0.0):
            raise InvalidConfigError(
                f"real_label/fake_label only apply to modes 'vanilla' and 'lsgan'; mode={mode!r} "
                f"has no targets, got real_label={real_label}, fake_label={fake_label}. "
                "Leave them at their defaults."
            )
        check_label(real_label, "real_label", mode)
        check_label(fake_label, "fake_label", mode)
        self.register_buffer("real_label", torch.tensor(real_label), persistent=False)
        self.register_buffer("fake_label", torch.tensor(fake_label), persistent=False)

    def forward(self, logits, target_is_real: bool, for_discriminator: bool = True) -> torch.Tensor:
        """Compute the loss; see :func:`~cgan_zoo.losses.adversarial_loss`."""
        return LF.adversarial_loss(
            logits,
            target_is_real,
            self.mode,
            for_discriminator,
            real_label=self.real_label,
            fake_label=self.fake_label,
        )

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, real_label={self.real_label.item():g}, fake_label={self.fake_label.item():g}"


class WGANGPPenalty(nn.Module):
    """WGAN-GP gradient penalty; see :func:`~cgan_zoo.losses.wgan_gp_penalty`.

    Args:
        weight: Penalty weight (lambda).

    Shape:
        - real, fake: ``(B, *)``.
        - Output: ``()``.

    Example:
        >>> import torch
        >>> penalty = WGANGPPenalty(weight=1.0)
        >>> d = lambda x: 2 * x.flatten(1).sum(1)  # gradient norm 2 * sqrt(4) = 4
        >>> penalty(d, torch.randn(2, 1, 2, 2), torch.randn(2, 1, 2, 2)).item()  # (4 - 1)^2
        9.0
    """

    def __init__(self, weight: float = 10.0) -> None:
        super().__init__()
        self.weight = check_weight(weight)

    def forward(
        self,
        discriminator: Callable[[torch.Tensor], object],
        real: torch.Tensor,
        fake: torch.Tensor,
        alpha: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Compute the penalty; see :func:`~cgan_zoo.losses.wgan_gp_penalty`."""
        return LF.wgan_gp_penalty(discriminator, real, fake, self.weight, alpha=alpha)

    def extra_repr(self) -> str:
        return f"weight={self.weight:g}"


class R1Penalty(nn.Module):
    """R1 gradient penalty on real data; see :func:`~cgan_zoo.losses.r1_penalty`.

    Args:
        weight: gamma.

    Shape:
        - real: ``(B, *)``.
        - Output: ``()``.

    Example:
        >>> import torch
        >>> R1Penalty(weight=10.0)(lambda x: x.sum(1), torch.randn(3, 2)).item()  # 10 / 2 * 2
        10.0
    """

    def __init__(self, weight: float = 10.0) -> None:
        super().__init__()
        self.weight = check_weight(weight)

    def forward(
        self, discriminator: Callable[[torch.Tensor], object], real: torch.Tensor
    ) -> torch.Tensor:
        """Compute the penalty; see :func:`~cgan_zoo.losses.r1_penalty`."""
        return LF.r1_penalty(discriminator, real, self.weight)

    def extra_repr(self) -> str:
        return f"weight={self.weight:g}"


class WeightedL1Loss(nn.Module):
    """L1 loss with per-element weights; see :func:`~cgan_zoo.losses.weighted_l1_loss`.

    Without weights it is ``F.l1_loss``; with
    ``weight=hole_weight_map(mask, hole_weight)`` it is the hole-weighted L1.

    Shape:
        - pred, target: ``(*)``, typically ``(B, C, H, W)``.
        - weight: broadcastable to ``pred``, typically ``(B, 1, H, W)``.
        - Output: ``()``.

    Example:
        >>> import torch
        >>> from cgan_zoo.losses import hole_weight_map
        >>> pred, target = torch.ones(1, 2, 1, 2), torch.zeros(1, 2, 1, 2)
        >>> mask = torch.tensor([[[[1.0, 0.0]]]])
        >>> WeightedL1Loss()(pred, target, hole_weight_map(mask, 3.0)).item()
        1.0
    """

    def forward(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Compute the loss; see :func:`~cgan_zoo.losses.weighted_l1_loss`."""
        return LF.weighted_l1_loss(pred, target, weight)


class FeatureMatchingLoss(nn.Module):
    """pix2pixHD feature-matching loss; see :func:`~cgan_zoo.losses.feature_matching_loss`.

    Shape:
        - Features: ``[scale][layer]`` tensors ``(B, C_l, H_l, W_l)``, or a discriminator's
          ``return_features=True`` output.
        - Output: ``()``.

    Example:
        >>> import torch
        >>> from cgan_zoo import MultiScaleDiscriminator
        >>> d = MultiScaleDiscriminator(3, num_scales=2, base_channels=4, receptive_field=16)
        >>> x = torch.randn(1, 3, 32, 32)
        >>> FeatureMatchingLoss()(d(x, return_features=True), d(x, return_features=True)).item()
        0.0
    """

    def forward(self, real_features, fake_features) -> torch.Tensor:
        """Compute the loss; see :func:`~cgan_zoo.losses.feature_matching_loss`."""
        return LF.feature_matching_loss(real_features, fake_features)
