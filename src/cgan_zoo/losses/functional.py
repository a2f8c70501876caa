"""Loss functions for conditional GANs, as plain functions.

Each function here has a thin :class:`torch.nn.Module` twin in
:mod:`cgan_zoo.losses.modules` that only stores configuration and calls it.

Discriminator outputs are accepted in every form cgan-zoo's discriminators return:

- a logit tensor (:class:`~cgan_zoo.PatchDiscriminator`);
- a ``(logits, features)`` pair (``PatchDiscriminator(..., return_features=True)``);
- a list of logit tensors, one per scale (:class:`~cgan_zoo.MultiScaleDiscriminator`);
- a list of ``(logits, features)`` pairs (``MultiScaleDiscriminator(..., return_features=True)``).

Losses over several scales are the mean of the per-scale losses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from ..errors import InvalidInputError
from .checks import check_label, check_same_shape, check_weight
from .modes import ADVERSARIAL_MODES, check_adversarial_mode

# the checks' former private names, for code written against them
_check_weight, _check_label, _check_same_shape = check_weight, check_label, check_same_shape

__all__ = [
    "ADVERSARIAL_MODES",
    "check_adversarial_mode",
    "adversarial_loss",
    "wgan_gp_penalty",
    "r1_penalty",
    "weighted_l1_loss",
    "hole_weight_map",
    "feature_matching_loss",
]

_FORMS = (
    "a tensor, a (logits, features) pair, or a list of either (one entry per scale), "
    "as PatchDiscriminator / MultiScaleDiscriminator return"
)


# --------------------------------------------------------------------------- helpers


def _is_output_pair(x: object) -> bool:
    """True for a ``(logits, features)`` pair as returned with ``return_features=True``."""
    return (
        isinstance(x, (tuple, list))
        and len(x) == 2
        and isinstance(x[0], torch.Tensor)
        and isinstance(x[1], (tuple, list))
    )


def _logits_per_scale(outputs: object, name: str) -> list[torch.Tensor]:
    """Flatten any discriminator output form into one logit tensor per scale."""
    if isinstance(outputs, torch.Tensor):
        scales: list[object] = [outputs]
    elif _is_output_pair(outputs):
        scales = [outputs[0]]  # type: ignore[index]
    elif isinstance(outputs, (list, tuple)):
        if len(outputs) == 0:
            raise InvalidInputError(
                f"{name} is an empty {type(outputs).__name__}; expected {_FORMS} with at least one scale. "
                "Pass the discriminator's output unchanged."
            )
        scales = [o[0] if _is_output_pair(o) else o for o in outputs]
    else:
        raise TypeError(
            f"{name} must be {_FORMS}; got {type(outputs).__name__}. Pass the discriminator's output unchanged."
        )
    for i, t in enumerate(scales):
        where = f"{name}[{i}]" if len(scales) > 1 else name
        if not isinstance(t, torch.Tensor):
            raise TypeError(
                f"{where} must be a logit tensor, got {type(t).__name__}; {name} must be {_FORMS}. "
                "Pass the discriminator's output unchanged."
            )
        if not t.is_floating_point():
            raise TypeError(
                f"{where} must be a floating-point tensor of logits, got dtype {t.dtype}. "
                "Pass the discriminator's raw output (no sigmoid, no argmax)."
            )
        if t.numel() == 0:
            raise InvalidInputError(
                f"{where} is empty (shape {tuple(t.shape)}); expected at least one logit. "
                "Pass a non-empty batch to the discriminator."
            )
    return scales  # type: ignore[return-value]


# --------------------------------------------------------------------------- adversarial


def _single_scale_adversarial(
    x: torch.Tensor,
    target_is_real: bool,
    mode: str,
    for_discriminator: bool,
    real_label: float | torch.Tensor,
    fake_label: float | torch.Tensor,
) -> torch.Tensor:
    if mode in ("vanilla", "lsgan"):
        label = real_label if target_is_real else fake_label
        target = torch.as_tensor(label, dtype=x.dtype, device=x.device).expand_as(x)
        if mode == "vanilla":
            return F.binary_cross_entropy_with_logits(x, target)
        return F.mse_loss(x, target)
    if not for_discriminator:  # hinge and wgan generator loss
        return -x.mean()
    if mode == "hinge":
        return F.relu(1.0 - x).mean() if target_is_real else F.relu(1.0 + x).mean()
    return -x.mean() if target_is_real else x.mean()  # wgan critic


def adversarial_loss(
    logits: torch.Tensor | Sequence,
    target_is_real: bool,
    mode: str = "vanilla",
    for_discriminator: bool = True,
    *,
    real_label: float | torch.Tensor = 1.0,
    fake_label: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    """Adversarial (GAN) loss of discriminator logits, for D or G.

    With ``x`` the logits and ``mean`` over all elements:

    ========  ===========================  ===========================  ==============
    mode      D, ``target_is_real=True``   D, ``target_is_real=False``  G
    ========  ===========================  ===========================  ==============
    vanilla   ``mean(softplus(-x))``       ``mean(softplus(x))``        as D real
    lsgan     ``mean((x - 1)^2)``          ``mean(x^2)``                as D real
    hinge     ``mean(relu(1 - x))``        ``mean(relu(1 + x))``        ``-mean(x)``
    wgan      ``-mean(x)``                 ``mean(x)``                  ``-mean(x)``
    ========  ===========================  ===========================  ==============

    "vanilla" is binary cross-entropy with logits (the generator uses the
    non-saturating form), "lsgan" is least squares (Mao et al., 2017). In these two
    modes ``real_label`` / ``fake_label`` replace the targets 1 and 0 (for example 0.9
    for one-sided label smoothing) and ``for_discriminator`` changes nothing. For
    "hinge" (Miyato et al., 2018) and "wgan" the generator loss is ``-mean(x)``; use
    "wgan" together with :func:`wgan_gp_penalty`.

    For multi-scale output the loss is the mean of the per-scale losses.

    Args:
        logits: Discriminator output: a tensor, a ``(logits, features)`` pair, or a
            list of either with one entry per scale.
        target_is_real: Whether the logits should be judged real. The generator loss
            always aims for real, so it needs ``True``.
        mode: One of :data:`ADVERSARIAL_MODES`.
        for_discriminator: ``True`` for the discriminator's loss, ``False`` for the
            generator's.
        real_label: Target for real samples in "vanilla" / "lsgan".
        fake_label: Target for fake samples in "vanilla" / "lsgan".

    Returns:
        A scalar tensor.

    Raises:
        InvalidConfigError: On an unknown ``mode`` or a label outside [0, 1] in "vanilla".
        InvalidInputError: On the generator loss with ``target_is_real=False`` or an
            empty output.
        TypeError: On logits that are not floating-point tensors.

    Shape:
        - logits: any shape ``(*)``, or a list of such tensors (shapes may differ per scale).
        - Output: ``()``.

    Example:
        >>> import torch
        >>> x = torch.zeros(2, 1, 4, 4)
        >>> round(adversarial_loss(x, True).item(), 4)  # log(2)
        0.6931
        >>> adversarial_loss([x, x[..., :2, :2] + 2], False, mode="hinge").item()
        2.0
        >>> adversarial_loss(x + 3, True, mode="wgan", for_discriminator=False).item()
        -3.0
    """
    check_adversarial_mode(mode)
    if not isinstance(target_is_real, bool):
        raise TypeError(
            f"target_is_real must be a bool, got {type(target_is_real).__name__}. "
            "Pass True for real samples and False for generated ones."
        )
    if not for_discriminator and not target_is_real:
        raise InvalidInputError(
            "the generator loss (for_discriminator=False) always aims for real, but "
            "target_is_real=False was given. Call adversarial_loss(D(fake), True, "
            "for_discriminator=False) for the generator."
        )
    check_label(real_label, "real_label", mode)
    check_label(fake_label, "fake_label", mode)
    scales = _logits_per_scale(logits, "logits")
    losses = [
        _single_scale_adversarial(
            x, target_is_real, mode, for_discriminator, real_label, fake_label
        )
        for x in scales
    ]
    return losses[0] if len(losses) == 1 else torch.stack(losses).mean()


# --------------------------------------------------------------------------- gradient penalties


def _summed_output(discriminator: Callable, x: torch.Tensor) -> torch.Tensor:
    outs = _logits_per_scale(discriminator(x), "discriminator output")
    total = outs[0].sum()
    for o in outs[1:]:
        total = total + o.sum()
    return total


def _input_gradient(discriminator: Callable, x: torch.Tensor) -> torch.Tensor:
    (grad,) = torch.autograd.grad(_summed_output(discriminator, x), x, create_graph=True)
    return grad


def wgan_gp_penalty(
    discriminator: Callable[[torch.Tensor], object],
    real: torch.Tensor,
    fake: torch.Tensor,
    weight: float = 10.0,
    *,
    alpha: torch.Tensor | None = None,
) -> torch.Tensor:
    """WGAN-GP gradient penalty (Gulrajani et al., 2017).

    ``weight * mean_i (||grad_x D(x_i)||_2 - 1)^2`` at ``x_i = a_i * real_i + (1 - a_i) * fake_i``
    with ``a_i ~ U(0, 1)`` drawn per sample. ``real`` and ``fake`` are detached, so
    the penalty only trains the discriminator; the graph of the gradient is kept
    (``create_graph=True``) so that the penalty back-propagates into D's parameters.

    D's output is summed over all elements (and over scales for a list), so the
    gradient of sample ``i`` is that of D's outputs on sample ``i`` only as long as D
    mixes no samples: use instance/group/no norm in the critic, not train-mode
    batch norm (as the WGAN-GP paper recommends).

    Args:
        discriminator: Callable returning a tensor or a list of tensors (multi-scale).
        real: Real samples (typically condition and target concatenated).
        fake: Generated samples, same shape as ``real``.
        weight: Penalty weight (the paper's lambda).
        alpha: Interpolation weights per sample, shape ``(B,)``; drawn uniformly when
            ``None``. Pass it for deterministic results.

    Returns:
        A scalar tensor.

    Raises:
        InvalidInputError: If ``real`` and ``fake`` differ in shape or ``alpha`` is
            not ``(B,)``.

    Shape:
        - real, fake: ``(B, *)``, e.g. ``(B, C, H, W)``.
        - alpha: ``(B,)``.
        - Output: ``()``.

    Example:
        >>> import torch
        >>> u = torch.full((1, 4), 0.5)  # ||u|| = 1, so D(x) = <x, u> has unit gradient
        >>> d = lambda x: (x.flatten(1) * u).sum(1)
        >>> wgan_gp_penalty(d, torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2)).item()
        0.0
    """
    weight = check_weight(weight)
    check_same_shape(real, fake, "real", "fake")
    if real.ndim == 0 or real.shape[0] == 0:
        raise InvalidInputError(
            f"real and fake need a non-empty batch dimension first, got shape {tuple(real.shape)}."
        )
    batch = real.shape[0]
    view = (batch,) + (1,) * (real.ndim - 1)
    if alpha is None:
        alpha = torch.rand(view, dtype=real.dtype, device=real.device)
    else:
        if not isinstance(alpha, torch.Tensor) or tuple(alpha.shape) not in ((batch,), view):
            got = tuple(alpha.shape) if isinstance(alpha, torch.Tensor) else type(alpha).__name__
            raise InvalidInputError(
                f"alpha must be a tensor of shape ({batch},) (one weight per sample), got {got}."
            )
        alpha = alpha.to(dtype=real.dtype, device=real.device).reshape(view)
    x_hat = (alpha * real.detach() + (1.0 - alpha) * fake.detach()).requires_grad_(True)
    grad = _input_gradient(discriminator, x_hat).flatten(1)
    # sqrt(sum + tiny) instead of norm(): finite second derivatives at a zero gradient.
    norm = torch.sqrt(grad.pow(2).sum(dim=1) + 1e-12)
    return weight * (norm - 1.0).pow(2).mean()


def r1_penalty(
    discriminator: Callable[[torch.Tensor], object],
    real: torch.Tensor,
    weight: float = 10.0,
) -> torch.Tensor:
    """R1 gradient penalty on real data (Mescheder et al., 2018).

    ``weight / 2 * mean_i ||grad_x D(real_i)||_2^2``, where ``weight`` is the paper's
    gamma. ``real`` is detached; the gradient keeps its graph
    (``create_graph=True``) so the penalty trains D's parameters. D's output is summed
    as in :func:`wgan_gp_penalty` (same caveat about batch norm).

    Args:
        discriminator: Callable returning a tensor or a list of tensors (multi-scale).
        real: Real samples.
        weight: gamma.

    Returns:
        A scalar tensor.

    Shape:
        - real: ``(B, *)``.
        - Output: ``()``.

    Example:
        >>> import torch
        >>> u = torch.tensor([[1.0, 2.0]])  # D(x) = <x, u>: penalty = gamma / 2 * ||u||^2
        >>> r1_penalty(lambda x: (x * u).sum(1), torch.randn(4, 2), weight=2.0).item()
        5.0
    """
    weight = check_weight(weight)
    if not isinstance(real, torch.Tensor) or not real.is_floating_point():
        got = real.dtype if isinstance(real, torch.Tensor) else type(real).__name__
        raise TypeError(f"real must be a floating-point tensor, got {got}.")
    if real.ndim == 0 or real.shape[0] == 0:
        raise InvalidInputError(
            f"real needs a non-empty batch dimension first, got shape {tuple(real.shape)}."
        )
    x = real.detach().requires_grad_(True)
    grad = _input_gradient(discriminator, x).flatten(1)
    return 0.5 * weight * grad.pow(2).sum(dim=1).mean()


# --------------------------------------------------------------------------- reconstruction


def weighted_l1_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """L1 loss with per-element weights, normalised by the total weight.

    ``sum(|pred - target| * w) / sum(w)`` with ``w`` = ``weight`` broadcast to
    ``pred``'s shape, so ``weight=None`` or all-equal weights give the plain
    :func:`torch.nn.functional.l1_loss`. With ``weight = hole_weight_map(mask)`` this
    is the "hole-weighted L1" that stresses the missing regions of an image. Weights
    must be non-negative (not checked, to avoid a device sync); all-zero weights give 0.

    Args:
        pred: Prediction.
        target: Target, same shape as ``pred``.
        weight: Non-negative weights broadcastable to ``pred``, for example a
            ``(B, 1, H, W)`` map for ``(B, C, H, W)`` images.

    Returns:
        A scalar tensor.

    Raises:
        InvalidInputError: If the shapes differ or ``weight`` does not broadcast.

    Shape:
        - pred, target: ``(*)``, typically ``(B, C, H, W)``.
        - weight: broadcastable to ``pred``, typically ``(B, 1, H, W)``.
        - Output: ``()``.

    Example:
        >>> import torch
        >>> pred, target = torch.tensor([[1.0, 1.0]]), torch.tensor([[0.0, 3.0]])
        >>> weighted_l1_loss(pred, target).item()
        1.5
        >>> weighted_l1_loss(pred, target, torch.tensor([[3.0, 1.0]])).item()  # (3*1 + 1*2) / 4
        1.25
    """
    check_same_shape(pred, target, "pred", "target")
    diff = (pred - target).abs()
    if weight is None:
        return diff.mean()
    if not isinstance(weight, torch.Tensor):
        raise TypeError(
            f"weight must be a torch.Tensor or None, got {type(weight).__name__}. "
            "Pass a tensor such as hole_weight_map(mask), or None for equal weights."
        )
    try:
        shape = torch.broadcast_shapes(weight.shape, pred.shape)
    except RuntimeError:
        shape = None
    if shape != pred.shape:
        raise InvalidInputError(
            f"weight of shape {tuple(weight.shape)} does not broadcast to pred's shape "
            f"{tuple(pred.shape)}; it must broadcast to it. Give weight the same number of dims, "
            "with size 1 where it is shared, e.g. (B, 1, H, W) for (B, C, H, W) images."
        )
    w = weight.to(diff.dtype).expand_as(diff)
    return (diff * w).sum() / w.sum().clamp_min(torch.finfo(diff.dtype).tiny)


def hole_weight_map(mask: torch.Tensor, hole_weight: float = 6.0) -> torch.Tensor:
    """Per-pixel weights ``1 + (hole_weight - 1) * mask`` for :func:`weighted_l1_loss`.

    Pixels where ``mask`` is 1 (the hole, i.e. the missing region) weigh
    ``hole_weight``, the others weigh 1; soft masks interpolate linearly.

    Args:
        mask: Hole mask, 1 inside the hole and 0 outside (bool or float).
        hole_weight: Weight of hole pixels; 1 makes every pixel equal.

    Returns:
        A floating tensor of ``mask``'s shape.

    Raises:
        InvalidConfigError: If ``hole_weight`` is negative.

    Shape:
        - mask: ``(*)``, typically ``(B, 1, H, W)``.
        - Output: same as ``mask``.

    Example:
        >>> import torch
        >>> hole_weight_map(torch.tensor([0.0, 1.0, 0.5]), hole_weight=6.0).tolist()
        [1.0, 6.0, 3.5]
    """
    hole_weight = check_weight(hole_weight, "hole_weight")
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be a torch.Tensor, got {type(mask).__name__}.")
    if not mask.is_floating_point():
        mask = mask.to(torch.get_default_dtype())
    return 1.0 + (hole_weight - 1.0) * mask


# --------------------------------------------------------------------------- feature matching


def _features_per_scale(features: object, name: str) -> list[list[torch.Tensor]]:
    """Normalise discriminator features to ``[scale][layer] -> tensor``."""

    def layer_list(seq: object, where: str) -> list[torch.Tensor]:
        if isinstance(seq, torch.Tensor):
            return [seq]
        if not isinstance(seq, (list, tuple)) or not all(isinstance(t, torch.Tensor) for t in seq):
            raise TypeError(
                f"{where} must be a list of feature tensors, got {type(seq).__name__}. {name} must be "
                "a list of tensors (one scale), a list of such lists (one per scale), or the output "
                "of PatchDiscriminator / MultiScaleDiscriminator with return_features=True: pass "
                "that output unchanged."
            )
        if len(seq) == 0:
            raise InvalidInputError(
                f"{where} is an empty list; expected at least one feature tensor. Pass the "
                "features returned by the discriminator with return_features=True."
            )
        return list(seq)

    if isinstance(features, torch.Tensor):
        return [[features]]
    if _is_output_pair(features):  # PatchDiscriminator(return_features=True)
        return [layer_list(features[1], f"{name}[1]")]  # type: ignore[index]
    if isinstance(features, (list, tuple)):
        if len(features) == 0:
            raise InvalidInputError(
                f"{name} is an empty list; expected at least one feature tensor. Pass the "
                "features returned by the discriminator with return_features=True."
            )
        if all(isinstance(t, torch.Tensor) for t in features):
            return [list(features)]
        return [
            layer_list(s[1] if _is_output_pair(s) else s, f"{name}[{i}]")
            for i, s in enumerate(features)
        ]
    raise TypeError(
        f"{name} must be a tensor or a (nested) list of tensors, got {type(features).__name__}. "
        "Pass the features returned by the discriminator with return_features=True."
    )


def feature_matching_loss(real_features: object, fake_features: object) -> torch.Tensor:
    """Feature-matching loss (pix2pixHD): L1 between discriminator features of real and fake.

    For every scale and layer, the mean absolute difference between the fake
    feature and the detached real feature; the result is averaged over layers and
    then over scales. Gradients flow only into ``fake_features``.

    Args:
        real_features: Features of the real pair. One of: a list of per-layer tensors
            (one scale); a list of such lists (per scale); or the raw output of
            ``PatchDiscriminator(return_features=True)`` / ``MultiScaleDiscriminator(
            return_features=True)``, whose logits are ignored.
        fake_features: Features of the fake pair, with the same structure and shapes.

    Returns:
        A scalar tensor.

    Raises:
        InvalidInputError: If the number of scales or layers, or a feature shape, differ.

    Shape:
        - Each feature: ``(B, C_l, H_l, W_l)`` (any shape, equal between real and fake).
        - Output: ``()``.

    Example:
        >>> import torch
        >>> real = [[torch.zeros(1, 2, 4, 4), torch.zeros(1, 4, 2, 2)]]
        >>> fake = [[torch.ones(1, 2, 4, 4), torch.full((1, 4, 2, 2), 3.0)]]
        >>> feature_matching_loss(real, fake).item()  # (1 + 3) / 2
        2.0
    """
    real = _features_per_scale(real_features, "real_features")
    fake = _features_per_scale(fake_features, "fake_features")
    if len(real) != len(fake):
        raise InvalidInputError(
            f"real_features has {len(real)} scale(s) but fake_features has {len(fake)}; pass the "
            "features of the same discriminator for both."
        )
    per_scale = []
    for s, (r_layers, f_layers) in enumerate(zip(real, fake)):
        if len(r_layers) != len(f_layers):
            raise InvalidInputError(
                f"scale {s}: real_features has {len(r_layers)} layer(s) but fake_features has "
                f"{len(f_layers)}; pass the features of the same discriminator for both."
            )
        layer_losses = []
        for i, (r, f) in enumerate(zip(r_layers, f_layers)):
            check_same_shape(r, f, f"real_features[{s}][{i}]", f"fake_features[{s}][{i}]")
            layer_losses.append(F.l1_loss(f, r.detach()))
        per_scale.append(torch.stack(layer_losses).mean())
    return per_scale[0] if len(per_scale) == 1 else torch.stack(per_scale).mean()
