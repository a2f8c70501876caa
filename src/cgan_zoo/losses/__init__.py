"""Losses for conditional GANs: adversarial modes, penalties, reconstruction, perceptual.

Every loss is a function in :mod:`cgan_zoo.losses.functional` and a thin module in
:mod:`cgan_zoo.losses.modules` (kornia style); :class:`PerceptualLoss` is a module
only, because it owns a frozen backbone. The modes are listed once in
:mod:`cgan_zoo.losses.modes` and the shared argument checks live in
:mod:`cgan_zoo.losses.checks`. The names below are imported on first use, so reading
the modes (as the training config does) imports no torch.

Example:
    >>> import torch
    >>> from cgan_zoo.losses import AdversarialLoss, WeightedL1Loss, hole_weight_map
    >>> logits = torch.zeros(1, 1, 30, 30)
    >>> round(AdversarialLoss("vanilla")(logits, True).item(), 4)
    0.6931
    >>> WeightedL1Loss()(torch.ones(1, 2, 4, 4), torch.zeros(1, 2, 4, 4)).item()
    1.0
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from .modes import ADVERSARIAL_MODES, GRADIENT_PENALTY_MODES, check_adversarial_mode

if TYPE_CHECKING:
    from .bins import BinCrossEntropyLoss, bin_cross_entropy_loss
    from .checks import check_label, check_same_shape, check_weight
    from .functional import (
        adversarial_loss,
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
    "GRADIENT_PENALTY_MODES",
    "check_adversarial_mode",
    "check_weight",
    "check_label",
    "check_same_shape",
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

_LAZY = {
    **dict.fromkeys(("check_weight", "check_label", "check_same_shape"), ".checks"),
    **dict.fromkeys(
        (
            "adversarial_loss",
            "wgan_gp_penalty",
            "r1_penalty",
            "weighted_l1_loss",
            "hole_weight_map",
            "feature_matching_loss",
        ),
        ".functional",
    ),
    **dict.fromkeys(
        ("AdversarialLoss", "WGANGPPenalty", "R1Penalty", "WeightedL1Loss", "FeatureMatchingLoss"),
        ".modules",
    ),
    "PerceptualLoss": ".perceptual",
    "bin_cross_entropy_loss": ".bins",
    "BinCrossEntropyLoss": ".bins",
}
__getattr__, __dir__ = lazy_attributes(
    __name__, _LAZY, ["ADVERSARIAL_MODES", "GRADIENT_PENALTY_MODES", "check_adversarial_mode"]
)
