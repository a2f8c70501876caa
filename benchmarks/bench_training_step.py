"""CPU benchmark of one pix2pix training step: straightforward eager vs optimised variants.

Usage::

    python benchmarks/bench_training_step.py                 # batch 4, 256x256, about 3 min
    python benchmarks/bench_training_step.py --quick         # 128x128, fewer steps, about 30 s
    python benchmarks/bench_training_step.py --json out.json

The step is the reference pix2pix update for colorization (L -> ab) with the seed
generator ``pix2pix_unet256`` (``pix2pix_unet128`` below 256 px) and the discriminator ``patchgan_70`` on (L, ab) pairs
(``in_channels=3``), Adam(2e-4, betas (0.5, 0.999)), BCE-with-logits GAN loss and
100 x L1, in the reference order:

1. ``fake = G(A)``
2. D update: ``D(A, fake.detach())`` and ``D(A, B)``, loss/2, step
3. G update (D frozen): ``D(A, fake)`` with the *updated* D, GAN + L1 loss, step

Variants (same maths; only float rounding may differ):

=====================  ============================================================
``baseline``           NCHW, ``torch.optim.Adam`` with the per-parameter loop
                       (``foreach=False``), D's parameters kept trainable during
                       the G update (their grads are computed, then zeroed)
``foreach``            Adam ``foreach=True`` (multi-tensor kernels)
``fused``              Adam ``fused=True``
``channels_last``      channels-last models and batches + fused Adam + D frozen
                       (``requires_grad_(False)``) during the G update
``compiled``           ``channels_last`` + ``torch.compile`` of G and D (opt-in:
                       ``--compile``; its first step includes the compile)
=====================  ============================================================

Reusing the D logits of step 2 for step 3 would skip one D forward, but it would use
D *before* its update: different maths from the reference, so it is not a variant.
Batching the real and fake pairs through D in one call changes BatchNorm statistics,
so that is not one either.

Every variant starts from the same weights and sees the same batches; a parity pass
(dropout off) checks that losses agree after a few steps. Steps are timed
round-robin across variants so that load on a shared CPU hits all of them alike.
"""

from __future__ import annotations

import os

# OpenMP threads that spin while waiting are pathological on a CPU shared with other
# processes (torch eager ran ~20x slower with 2 spinning threads on 2 busy cores).
# Sleep instead unless the caller chose a policy; this must happen before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import copy
import datetime
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


class Step:
    """One pix2pix training step with a given set of optimisations."""

    def __init__(
        self,
        g: nn.Module,
        d: nn.Module,
        *,
        adam: str = "loop",
        channels_last: bool = False,
        freeze_d: bool = False,
        compile: bool = False,
        lambda_l1: float = 100.0,
    ) -> None:
        self.g, self.d = g.train(), d.train()
        self.channels_last, self.freeze_d, self.lambda_l1 = channels_last, freeze_d, lambda_l1
        if channels_last:
            self.g.to(memory_format=torch.channels_last)
            self.d.to(memory_format=torch.channels_last)
        kw = {"loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}[
            adam
        ]
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=2e-4, betas=(0.5, 0.999), **kw)
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=2e-4, betas=(0.5, 0.999), **kw)
        # the forward passes run compiled (autograd through AOTAutograd); optimizers stay eager
        self.g_fwd = torch.compile(self.g) if compile else self.g
        self.d_fwd = torch.compile(self.d) if compile else self.d

    def _fmt(self, t: torch.Tensor) -> torch.Tensor:
        return t.contiguous(memory_format=torch.channels_last) if self.channels_last else t

    def __call__(self, a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
        a, b = self._fmt(a), self._fmt(b)
        fake = self.g_fwd(a)
        fake_detached = fake.detach()
        # D update
        self.d.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        pred_fake = self.d_fwd(torch.cat([a, fake_detached], 1))
        pred_real = self.d_fwd(torch.cat([a, b], 1))
        loss_d = 0.5 * (
            F.binary_cross_entropy_with_logits(pred_fake, torch.zeros_like(pred_fake))
            + F.binary_cross_entropy_with_logits(pred_real, torch.ones_like(pred_real))
        )
        loss_d.backward()
        self.opt_d.step()
        # G update with the updated D
        if self.freeze_d:
            self.d.requires_grad_(False)
        self.opt_g.zero_grad(set_to_none=True)
        pred = self.d_fwd(torch.cat([a, fake], 1))
        loss_g = F.binary_cross_entropy_with_logits(
            pred, torch.ones_like(pred)
        ) + self.lambda_l1 * F.l1_loss(fake, b)
        loss_g.backward()
        self.opt_g.step()
        if not self.freeze_d:
            self.opt_d.zero_grad(set_to_none=True)  # drop the D grads the G update made
        return float(loss_d.detach()), float(loss_g.detach())


VARIANTS = {
    "baseline": {"adam": "loop"},
    "foreach": {"adam": "foreach"},
    "fused": {"adam": "fused"},
    "channels_last": {"adam": "fused", "channels_last": True, "freeze_d": True},
}
#: opt-in (``--compile``): compiling G and D takes minutes on a small CPU
COMPILED_VARIANT = {"adam": "fused", "channels_last": True, "freeze_d": True, "compile": True}


def generator_name(size: int) -> str:
    """``pix2pix_unet256`` (stride 256) when the size allows it, else ``pix2pix_unet128``."""
    if size % 256 == 0:
        return "pix2pix_unet256"
    if size % 128 == 0:
        return "pix2pix_unet128"
    raise SystemExit(f"--size must be a multiple of 128 (the U-Nets' stride), got {size}")


def make_models(dropout: float, size: int):
    import cgan_zoo

    torch.manual_seed(0)
    g = cgan_zoo.create_model(generator_name(size), dropout=dropout)
    d = cgan_zoo.create_model("patchgan_70", in_channels=3)
    return g, d


def batches(n: int, batch: int, size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(1)
    return [
        (
            torch.rand(batch, 1, size, size, generator=gen) * 2 - 1,
            torch.rand(batch, 2, size, size, generator=gen) - 0.5,
        )
        for _ in range(n)
    ]


def parity(size: int, steps: int = 2) -> dict[str, float]:
    """Max relative loss difference of each variant vs the baseline (dropout off, batch 1)."""
    g, d = make_models(dropout=0.0, size=size)
    data = batches(steps, 1, size)
    losses = {}
    for name, kw in VARIANTS.items():
        step = Step(copy.deepcopy(g), copy.deepcopy(d), **kw)
        losses[name] = [step(a, b) for a, b in data]
    base = losses["baseline"]
    return {
        name: max(
            abs(x - y) / max(abs(y), 1e-8) for lv, lb in zip(vals, base) for x, y in zip(lv, lb)
        )
        for name, vals in losses.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="~30 s: 128x128, 2 timed steps per variant"
    )
    parser.add_argument(
        "--size", type=int, default=None, help="image side (default 256, 128 with --quick)"
    )
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument(
        "--steps", type=int, default=None, help="timed steps per variant (default 4)"
    )
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma list of " + ", ".join(VARIANTS)
    )
    parser.add_argument("--no-parity", action="store_true", help="skip the loss-parity check")
    parser.add_argument(
        "--compile", action="store_true", help="add the torch.compile variant (slow to compile)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    size = args.size or (128 if args.quick else 256)
    steps = args.steps or (2 if args.quick else 4)
    if args.compile:
        VARIANTS["compiled"] = COMPILED_VARIANT
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    if args.compile and "compiled" not in names:
        names.append("compiled")
    if "baseline" not in names:
        names.insert(0, "baseline")
    started = time.perf_counter()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; G {generator_name(size)} + D patchgan_70, "
        f"batch {args.batch}, {size}x{size}",
        flush=True,
    )

    g, d = make_models(dropout=0.5, size=size)
    steppers = {name: Step(copy.deepcopy(g), copy.deepcopy(d), **VARIANTS[name]) for name in names}
    data = batches(steps + 1, args.batch, size)
    setup: dict[str, float] = {}
    for name, step in steppers.items():  # warm-up: one step each (allocator, oneDNN, compile)
        t0 = time.perf_counter()
        step(*data[0])
        setup[name] = time.perf_counter() - t0
    times: dict[str, list[float]] = {name: [] for name in names}
    for a, b in data[1:]:
        for name, step in steppers.items():
            torch.manual_seed(123)  # same dropout masks for every variant
            t0 = time.perf_counter()
            step(a, b)
            times[name].append(time.perf_counter() - t0)
    base = statistics.median(times["baseline"])
    rows = []
    for name in names:
        ts = times[name]
        row = {
            "variant": name,
            "median_s": statistics.median(ts),
            "min_s": min(ts),
            "max_s": max(ts),
            "speedup": base / statistics.median(ts),
            "first_step_s": setup[name],
        }
        rows.append(row)
        print(
            f"  {name:14s} median {row['median_s'] * 1e3:8.0f} ms  [min {row['min_s'] * 1e3:.0f}, "
            f"max {row['max_s'] * 1e3:.0f}]  x{row['speedup']:.2f}  (first step {setup[name]:.1f} s)",
            flush=True,
        )
    result = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(
            [Path(sys.argv[0]).name] + (argv if argv is not None else sys.argv[1:])
        ),
        "torch": torch.__version__,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "threads": torch.get_num_threads(),
        "generator": generator_name(size),
        "batch": args.batch,
        "size": size,
        "steps": steps,
        "variants": rows,
    }
    if not args.no_parity:
        result["parity_max_rel_loss_diff"] = parity(size)
        print(
            "  loss parity vs baseline (max rel. diff, dropout off): "
            + ", ".join(f"{k} {v:.1e}" for k, v in result["parity_max_rel_loss_diff"].items()),
            flush=True,
        )
    result["total_s"] = time.perf_counter() - started
    print(f"total {result['total_s']:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
