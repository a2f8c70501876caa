"""The adversarial-loss and gradient-penalty modes, listed once (no torch import).

:func:`~cgan_zoo.losses.adversarial_loss`, :class:`~cgan_zoo.losses.AdversarialLoss`
and :class:`~cgan_zoo.training.Pix2PixConfig` all check against these lists.
"""

from __future__ import annotations

from ..errors import InvalidConfigError

__all__ = ["ADVERSARIAL_MODES", "GRADIENT_PENALTY_MODES", "check_adversarial_mode"]

#: Valid ``mode`` values of :func:`~cgan_zoo.losses.adversarial_loss`.
ADVERSARIAL_MODES: tuple[str, ...] = ("vanilla", "lsgan", "hinge", "wgan")

#: Gradient penalties on the discriminator: none, WGAN-GP (Gulrajani et al.) or R1 (Mescheder et al.).
GRADIENT_PENALTY_MODES: tuple[str, ...] = ("none", "wgan-gp", "r1")


def check_adversarial_mode(mode: str) -> str:
    """Return ``mode`` if it is one of :data:`ADVERSARIAL_MODES`, else raise.

    Raises:
        InvalidConfigError: Listing the valid modes.

    Example:
        >>> check_adversarial_mode("hinge")
        'hinge'
    """
    if mode not in ADVERSARIAL_MODES:
        raise InvalidConfigError(
            f"mode={mode!r} is not a valid adversarial loss mode; it must be one of "
            f"{list(ADVERSARIAL_MODES)}: choose one of them ('vanilla' is the pix2pix default)."
        )
    return mode
