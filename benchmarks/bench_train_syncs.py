"""Host syncs and time of one ``Pix2PixTrainer.train_step``, against a bare step in the same run.

Usage::

    python benchmarks/bench_train_syncs.py                       # unet_tiny + patchgan_tiny, 32 px
    python benchmarks/bench_train_syncs.py --discriminator multiscale_patchgan --size 64
    python benchmarks/bench_train_syncs.py --device cuda --json out.json

A *host sync* is a call that makes the host wait for the device to hand a value back:
``Tensor.__bool__``, ``.item()``, ``.tolist()``, ``float(t)``, ``int(t)``. Each one stops
the CUDA launch queue, so a step with many of them cannot overlap the host's work with
the device's. They are counted by wrapping these methods while steps run; calls made by
torch itself (Adam reads its CPU step counters with ``.item()``) are not counted.

Two steps are timed round-robin on the same models and batches:

* ``trainer``: :meth:`cgan_zoo.training.Pix2PixTrainer.train_step` (finiteness checks,
  skipped-step bookkeeping, loss logging, the EMA);
* ``bare``: the same maths written out with no checks and no logging (D step on the
  real and fake pairs, G step on GAN + 100·L1, both Adam updates) — the floor.

The ratio ``trainer / bare`` is the cost of the trainer's bookkeeping. Read the ratio,
not the absolute times: on a shared CPU the times move with the load.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator

import torch

SYNC_METHODS = ("__bool__", "item", "tolist", "__float__", "__int__")


@contextlib.contextmanager
def count_host_syncs() -> Iterator[list[int]]:
    """Count calls of the tensor methods that copy a value to the host; yields ``[count]``."""
    counter = [0]
    originals = {name: getattr(torch.Tensor, name) for name in SYNC_METHODS}

    def wrap(original):
        def counted(self, *args, **kwargs):
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if not caller.startswith("torch"):  # torch's own (e.g. Adam's CPU step counters)
                counter[0] += 1
            return original(self, *args, **kwargs)

        return counted

    for name, original in originals.items():
        setattr(torch.Tensor, name, wrap(original))
    try:
        yield counter
    finally:
        for name, original in originals.items():
            setattr(torch.Tensor, name, original)


def make_trainer(args: argparse.Namespace, log_every: int):
    from cgan_zoo.training import Pix2PixConfig, Pix2PixTrainer

    cfg = Pix2PixConfig(
        out_dir=tempfile.mkdtemp(),
        generator=args.generator,
        discriminator=args.discriminator,
        steps=10**6,
        batch_size=args.batch,
        crop_size=args.size,
        log_every=log_every,
        val_every=0,
        sample_every=0,
        ckpt_every=0,
        tensorboard=False,
        ema_decay=0.999,
        device=args.device,
        channels_last=False,
    )

    class Toy(torch.utils.data.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            x = torch.rand(1, args.size, args.size) * 2 - 1
            return {"input": x, "target": torch.cat([0.5 * x, -0.3 * x.abs()])}

    return Pix2PixTrainer(cfg, train_dataset=Toy())


def batch_for(trainer, args) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.batch, 1, args.size, args.size, generator=g) * 2 - 1
    y = torch.cat([0.5 * x, -0.3 * x.abs()], 1)
    return {"input": x.to(trainer.device), "target": y.to(trainer.device)}


def trainer_step(trainer, batch) -> None:
    """One step as ``fit`` runs it: ``train_step``, then every callback's ``on_step_end`` (logging)."""
    logs = trainer.train_step([batch])
    for cb in trainer.callbacks:
        cb.on_step_end(trainer, trainer.step, logs)


def bare_step(trainer, batch) -> None:
    """The pix2pix update with no checks and no logging, on the trainer's own models."""
    G, D, adv = trainer.generator, trainer.discriminator, trainer.adv_loss
    x, y = batch["input"], batch["target"]
    fake = G(x)
    trainer.opt_d.zero_grad(set_to_none=True)
    loss_d = 0.5 * (
        adv(D(torch.cat([x, y], 1)), True, for_discriminator=True)
        + adv(D(torch.cat([x, fake.detach()], 1)), False, for_discriminator=True)
    )
    loss_d.backward()
    trainer.opt_d.step()
    for p in D.parameters():
        p.requires_grad_(False)
    trainer.opt_g.zero_grad(set_to_none=True)
    loss_g = (
        adv(D(torch.cat([x, fake], 1)), True, for_discriminator=False)
        + 100 * (fake - y).abs().mean()
    )
    loss_g.backward()
    trainer.opt_g.step()
    for p in D.parameters():
        p.requires_grad_(True)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", default="unet_tiny")
    parser.add_argument("--discriminator", default="patchgan_tiny")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30, help="timed steps per variant")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    results: dict[str, object] = {"torch": torch.__version__, "args": vars(args)}
    syncs: dict[str, float] = {}
    for log_every in (10**6, 1):
        trainer = make_trainer(args, log_every)
        batch = batch_for(trainer, args)
        for _ in range(3):  # warm up: first-step allocations, lazy imports
            trainer_step(trainer, batch)
        with count_host_syncs() as counter:
            for _ in range(5):
                trainer_step(trainer, batch)
        syncs["not_logging" if log_every > 1 else "log_every_1"] = counter[0] / 5
    with count_host_syncs() as counter:
        bare_step(trainer, batch)
    syncs["bare"] = counter[0]
    results["syncs_per_step"] = syncs

    trainer = make_trainer(args, 10**6)
    batch = batch_for(trainer, args)
    variants = {
        "trainer": lambda: trainer_step(trainer, batch),
        "bare": lambda: bare_step(trainer, batch),
    }
    for fn in variants.values():
        for _ in range(3):
            fn()
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.steps):
        for name, fn in variants.items():  # round-robin: load spikes hit both alike
            synchronize(trainer.device)
            start = time.perf_counter()
            fn()
            synchronize(trainer.device)
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    results["median_step_s"] = medians
    results["ratio_trainer_over_bare"] = medians["trainer"] / medians["bare"]

    print(
        f"torch {torch.__version__}, {args.generator} + {args.discriminator}, batch {args.batch}, "
        f"{args.size} px, {args.device}"
    )
    print(
        f"host syncs per step: trainer {syncs['not_logging']:g} (not logging), "
        f"{syncs['log_every_1']:g} (log_every=1); bare {syncs['bare']:g} (the models' own checks)"
    )
    print(
        f"median step: trainer {medians['trainer'] * 1e3:.2f} ms, bare {medians['bare'] * 1e3:.2f} ms, "
        f"ratio {results['ratio_trainer_over_bare']:.2f}"
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
