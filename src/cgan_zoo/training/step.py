"""One pix2pix optimiser step: the D update, the G update, and skipping a non-finite step.

The step waits for the device twice: once to check that the input batch is finite
(before any model sees it), and once at the end, when one transfer brings back every
loss, the gradient norms and whether another process asked to stop. Everything in
between stays on the device. A step whose losses or gradients are not finite is undone
(gradients dropped, BatchNorm statistics restored) and counted; too many in a row raise
:class:`NonFiniteLossError` naming the first module where a non-finite value appeared.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import nn

from .. import losses  # looked up per call: tests and users may patch its functions
from .._validation import finiteness_checked_by_caller
from ..color import to_rgb
from ..errors import CganZooError
from . import distributed as dist_utils
from .build import requires_grad

if TYPE_CHECKING:  # pragma: no cover
    from .trainer import Pix2PixTrainer

__all__ = ["NonFiniteLossError", "BufferGuard", "train_step", "first_bad_module"]

#: reason recorded when the input batch itself holds NaN/Inf
BAD_DATA = "the input batch (data)"


class NonFiniteLossError(CganZooError, RuntimeError):
    """Training produced non-finite losses or gradients too many steps in a row.

    The trainer skips a step whose loss or gradients are NaN/Inf; after
    ``Pix2PixConfig.max_nonfinite`` skipped steps in a row it raises this error, naming
    the first module where a non-finite value appeared.

    Example:
        >>> from cgan_zoo.errors import CganZooError
        >>> issubclass(NonFiniteLossError, CganZooError), issubclass(NonFiniteLossError, RuntimeError)
        (True, True)
    """


class BufferGuard:
    """Save the buffers a training forward changes, to put them back after a skipped step.

    A skipped step must leave no trace in BatchNorm statistics (nor in the EMA, which
    copies them). Only buffers the forward passes update are saved: running statistics
    of normalisation layers in training mode, and any buffer seen modified in place
    (spectral-norm vectors). Constant buffers (colour-bin centres, weights, masks) are
    not. The copies reuse their storage and are made with one fused copy.

    Example:
        >>> bn = nn.BatchNorm1d(2); guard = BufferGuard([bn])
        >>> guard.save(); _ = bn(torch.randn(4, 2)); guard.restore()
        >>> bn.running_mean.tolist()
        [0.0, 0.0]
    """

    def __init__(self, modules: list[nn.Module]) -> None:
        self.modules = modules
        self._seen_changing: set[int] = set()
        self._tracked: list[torch.Tensor] = []
        self._saved: list[torch.Tensor] = []
        self._versions: list[int] = []
        self._all: list[torch.Tensor] = []
        self._all_versions: list[int] = []

    def _changing_buffers(self) -> list[torch.Tensor]:
        found: dict[int, torch.Tensor] = {}
        for root in self.modules:
            for module in root.modules():
                stats = (
                    isinstance(module, nn.modules.batchnorm._NormBase)
                    and module.track_running_stats
                )
                for b in module.buffers(recurse=False):
                    if (stats and module.training) or id(b) in self._seen_changing:
                        found[id(b)] = b
        return list(found.values())

    def save(self) -> None:
        """Copy the buffers that this step's forward passes may change."""
        self._all = [b for m in self.modules for b in m.buffers()]
        self._all_versions = [b._version for b in self._all]
        tracked = self._changing_buffers()
        if [id(b) for b in tracked] != [id(b) for b in self._tracked] or any(
            s.shape != b.shape or s.dtype != b.dtype or s.device != b.device
            for s, b in zip(self._saved, tracked)
        ):
            self._tracked = tracked
            self._saved = [b.detach().clone() for b in tracked]
        elif tracked:
            torch._foreach_copy_(self._saved, [b.detach() for b in tracked])

    def learn(self) -> None:
        """After the forward passes: remember buffers that changed though not saved (next steps save them)."""
        tracked = {id(b) for b in self._tracked}
        for b, version in zip(self._all, self._all_versions):
            if b._version != version and id(b) not in tracked:
                self._seen_changing.add(id(b))

    def restore(self) -> None:
        """Put the saved buffers back."""
        if self._tracked:
            with torch.no_grad():
                torch._foreach_copy_(self._tracked, self._saved)


def first_bad_module(
    generator: nn.Module, discriminator: nn.Module, batch: dict[str, torch.Tensor]
) -> str:
    """Find the first module whose parameters, gradients or forward output are non-finite (slow; on failure only)."""
    for prefix, model in (("generator", generator), ("discriminator", discriminator)):
        for name, p in model.named_parameters():
            if not torch.isfinite(p).all():
                return f"{prefix}.{name} (parameter)"
            if p.grad is not None and not torch.isfinite(p.grad).all():
                return f"{prefix}.{name.rsplit('.', 1)[0]} (gradient)"
    found: list[str] = []
    hooks = []
    for name, module in generator.named_modules():

        def hook(mod, inp, out, name=name):
            if not found and isinstance(out, torch.Tensor) and not torch.isfinite(out).all():
                found.append(f"generator.{name or type(mod).__name__} (output)")

        hooks.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            generator(batch["input"])
    finally:
        for h in hooks:
            h.remove()
    if found:
        return found[0]
    if not torch.isfinite(batch["input"]).all() or not torch.isfinite(batch["target"]).all():
        return BAD_DATA
    return "the loss computation"


def _grad_norm_sum(*modules: nn.Module) -> torch.Tensor | None:
    """Sum of the gradient norms: finite exactly when every gradient is (norms are >= 0)."""
    grads = [p.grad for m in modules for p in m.parameters() if p.grad is not None]
    if not grads:
        return None
    return torch.stack(torch._foreach_norm(grads)).sum().float()


def _inputs_bad(trainer: Pix2PixTrainer, micro_batches: list[dict[str, torch.Tensor]]) -> bool:
    """Whether any micro-batch (on any process) holds NaN/Inf: one reduction, one wait.

    Under torchrun the same all-reduce tells every process whether any was asked to stop.
    """
    flags = [torch.isfinite(mb[k]).all() for mb in micro_batches for k in ("input", "target")]
    bad = (~torch.stack(flags).all()).float()
    if trainer.world_size <= 1:
        return bool(bad)
    stop = torch.tensor(float(trainer._stop_requested), device=bad.device)
    bad_anywhere, stop_anywhere = dist_utils.sum_across_ranks(
        torch.stack([bad, stop]), trainer.world_size
    ).tolist()
    trainer._stop_everywhere = stop_anywhere > 0
    return bad_anywhere > 0


def _d_with_features(discriminator: nn.Module, pair: torch.Tensor) -> tuple[Any, Any]:
    out = discriminator(pair, return_features=True)
    if isinstance(out, list):  # multi-scale: list of (logits, feats)
        return [o[0] for o in out], [o[1] for o in out]
    return out


def _l1_weight(trainer: Pix2PixTrainer, batch: dict[str, torch.Tensor]) -> torch.Tensor | None:
    if trainer.config.hole_weight != 1.0 and "mask" in batch:
        return losses.hole_weight_map(batch["mask"], trainer.config.hole_weight)
    return None


def train_step(
    trainer: Pix2PixTrainer, micro_batches: list[dict[str, torch.Tensor]]
) -> dict[str, float]:
    """One optimiser step of ``trainer`` over ``grad_accum`` micro-batches; returns scalar logs.

    The input batch is checked first. The D step (on real and fake pairs, plus the
    gradient penalty) and the G step (the weighted loss terms) then both run before
    anything else is checked; one transfer brings back every loss and the gradient
    norms. Non-finite values skip the step. The models' own per-forward finiteness
    checks are off meanwhile (:func:`cgan_zoo._validation.finiteness_checked_by_caller`).
    """
    with finiteness_checked_by_caller():
        return _train_step(trainer, micro_batches)


def _train_step(
    trainer: Pix2PixTrainer, micro_batches: list[dict[str, torch.Tensor]]
) -> dict[str, float]:
    cfg = trainer.config
    G, D = trainer.generator, trainer.discriminator
    gan_phase = trainer.step >= cfg.warmup_steps and cfg.lambda_gan > 0
    n = len(micro_batches)
    trainer._set_lr()
    G.train()
    D.train()
    if cfg.freeze_encoder and hasattr(G, "encoder"):
        cast(nn.Module, G.encoder).eval()  # frozen: keep its BatchNorm statistics too
    guard = trainer._buffer_guard
    if _inputs_bad(trainer, micro_batches):
        return skip_step(trainer, micro_batches, BAD_DATA)
    guard.save()

    fakes, bin_logits = [], []
    for mb in micro_batches:
        with trainer._autocast():
            if trainer.uses_bins:
                fake, logits = cast(Any, G).forward_with_logits(mb["input"])
                fakes.append(fake)
                bin_logits.append(logits)
            else:
                fakes.append(G(mb["input"]))

    totals: dict[str, torch.Tensor] = {}

    def add(name: str, value: torch.Tensor) -> None:
        value = value.detach().float() / n
        totals[name] = totals[name] + value if name in totals else value

    # ---- D step
    if gan_phase:
        requires_grad(D, True)
        trainer.opt_d.zero_grad(set_to_none=True)
        for mb, fake in zip(micro_batches, fakes):
            x, y = mb["input"], mb["target"]
            with trainer._autocast():
                real_pair = torch.cat([x, y], 1)
                fake_pair = torch.cat([x, fake.detach()], 1)
                loss_real = trainer.adv_loss(D(real_pair), True, for_discriminator=True)
                loss_fake = trainer.adv_loss(D(fake_pair), False, for_discriminator=True)
                loss_d = 0.5 * (loss_real + loss_fake)
            if cfg.gp_mode == "wgan-gp":
                loss_d = loss_d + losses.wgan_gp_penalty(
                    D, real_pair.float(), fake_pair.float(), cfg.lambda_gp
                )
            elif cfg.gp_mode == "r1":
                loss_d = loss_d + losses.r1_penalty(D, real_pair.float(), cfg.lambda_gp)
            trainer.scaler.scale(loss_d / n).backward()
            add("loss_d", loss_d)
        dist_utils.all_reduce_grads(D, trainer.world_size)

    # ---- G step
    trainer.opt_g.zero_grad(set_to_none=True)
    if gan_phase:
        requires_grad(D, False)
    for i, (mb, fake) in enumerate(zip(micro_batches, fakes)):
        x, y = mb["input"], mb["target"]
        with trainer._autocast():
            terms: dict[str, torch.Tensor] = {}
            terms["l1"] = cfg.lambda_l1 * losses.weighted_l1_loss(
                fake.float(), y.float(), _l1_weight(trainer, mb)
            )
            if trainer.uses_bins:
                gen_any = cast(Any, G)
                terms["bins"] = cfg.lambda_bins * losses.bin_cross_entropy_loss(
                    bin_logits[i], y.float(), gen_any.bin_centers, gen_any.bin_weights
                )
            if gan_phase:
                fake_pair = torch.cat([x, fake], 1)
                if cfg.lambda_fm > 0:
                    pred_fake, feats_fake = _d_with_features(D, fake_pair)
                    with torch.no_grad():
                        _, feats_real = _d_with_features(D, torch.cat([x, y], 1))
                    terms["fm"] = cfg.lambda_fm * trainer.fm_loss(feats_real, feats_fake)
                else:
                    pred_fake = D(fake_pair)
                terms["gan"] = cfg.lambda_gan * trainer.adv_loss(
                    pred_fake, True, for_discriminator=False
                )
            if trainer.perceptual is not None:
                rgb_fake = to_rgb(trainer.task, x, fake, trainer.ab_scale)
                rgb_real = to_rgb(trainer.task, x, y, trainer.ab_scale)
                terms["perceptual"] = cfg.lambda_perceptual * trainer.perceptual(rgb_fake, rgb_real)
            loss_g = torch.stack(list(terms.values())).sum()
        trainer.scaler.scale(loss_g / n).backward()
        for k, v in terms.items():
            add(f"loss_{k}", v)
        add("loss_g", loss_g)
    dist_utils.all_reduce_grads(G, trainer.world_size)
    if gan_phase:
        requires_grad(D, True)
    guard.learn()

    # ---- one wait: every loss and the gradient norms (and, under torchrun, the stop flags)
    names = list(totals)
    norms = _grad_norm_sum(G, D) if gan_phase else _grad_norm_sum(G)
    parts = [
        *totals.values(),
        norms if norms is not None else torch.zeros((), device=trainer.device),
    ]
    world = trainer.world_size
    if world > 1:  # every process must skip, and stop, at the same step
        parts.append(torch.tensor(float(trainer._stop_requested), device=parts[0].device))
    numbers = dist_utils.sum_across_ranks(torch.stack(parts), world).tolist()
    if world > 1:
        trainer._stop_everywhere = numbers.pop() > 0
    if not all(math.isfinite(v) for v in numbers):
        return skip_step(trainer, micro_batches)
    logs = {name: value / world for name, value in zip(names, numbers)}

    trainer.nonfinite_streak = 0
    trainer.first_bad = None
    if gan_phase:
        trainer.scaler.step(trainer.opt_d)
    trainer.scaler.step(trainer.opt_g)
    trainer.scaler.update()
    if trainer.ema is not None:
        trainer.ema.update(G)
    logs["skipped"] = 0.0
    logs["lr"] = cfg.lr_g * trainer.lr_factor(trainer.step)
    trainer.step += 1
    return logs


def skip_step(
    trainer: Pix2PixTrainer, micro_batches: list[dict[str, torch.Tensor]], reason: str | None = None
) -> dict[str, float]:
    """Drop this step's gradients and buffer changes, count it, and abort after too many in a row."""
    cfg = trainer.config
    trainer.opt_g.zero_grad(set_to_none=True)
    trainer.opt_d.zero_grad(set_to_none=True)
    requires_grad(trainer.discriminator, True)
    trainer.nonfinite_total += 1
    trainer.nonfinite_streak += 1
    if trainer.first_bad is None:
        trainer.first_bad = reason or first_bad_module(
            trainer.generator, trainer.discriminator, micro_batches[0]
        )
    if reason != BAD_DATA:  # bad data never reached the models
        trainer._buffer_guard.restore()
    warnings.warn(
        f"step {trainer.step}: non-finite loss or gradient, step skipped "
        f"({trainer.nonfinite_streak} in a row; first bad: {trainer.first_bad})",
        RuntimeWarning,
        stacklevel=4,
    )
    if trainer.nonfinite_streak >= cfg.max_nonfinite:
        raise NonFiniteLossError(
            f"{trainer.nonfinite_streak} consecutive steps had non-finite losses or gradients "
            f"(limit max_nonfinite={cfg.max_nonfinite}); the first bad value appeared in "
            f"{trainer.first_bad}. Lower the learning rate or check the data and the model."
        )
    trainer.step += 1
    return {"skipped": 1.0, "lr": cfg.lr_g * trainer.lr_factor(trainer.step - 1)}
