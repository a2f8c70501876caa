"""Losses for conditional GANs: adversarial modes, penalties, reconstruction, perceptual.

Every loss is a function in :mod:`cgan_zoo.losses.functional` and a thin module in
:mod:`cgan_zoo.losses.modules` (kornia style); :class:`PerceptualLoss` is a module
only, because it owns a frozen backbone.

Example:
    >>> import torch
    >>> from cgan_zoo.losses import AdversarialLoss, WeightedL1Loss, hole_weight_map
    >>> logits = torch.zeros(1, 1, 30, 30)
    >>> round(AdversarialLoss("vanilla")(logits, True).item(), 4)
    0.6931
    >>> WeightedL1Loss()(torch.ones(1, 2, 4, 4), torch.zeros(1, 2, 4, 4)).item()
    1.0
"""

from .bins import BinCrossEntropyLoss, bin_cross_entropy_loss
from .functional import (
    ADVERSARIAL_MODES,
    adversarial_loss,
    check_adversarial_mode,
    feature_matching_loss,
    hole_weight_map,
    r1_penalty,
    weighted_l1_loss,
    wgan_gp_penalty,
)
from .modules import (
    AdversarialLoss,
    FeatureMatchingLoss,
    R1Penalty,
    WeightedL1Loss,
    WGANGPPenalty,
)
from .perceptual import PerceptualLoss

__all__ = [
    # functions
    "ADVERSARIAL_MODES",
    "check_adversarial_mode",
    "adversarial_loss",
    "wgan_gp_penalty",
    "r1_penalty",
    "weighted_l1_loss",
    "hole_weight_map",
    "feature_matching_loss",
    "bin_cross_entropy_loss",
    # modules
    "AdversarialLoss",
    "WGANGPPenalty",
    "R1Penalty",
    "WeightedL1Loss",
    "FeatureMatchingLoss",
    "PerceptualLoss",
    "BinCrossEntropyLoss",
]
