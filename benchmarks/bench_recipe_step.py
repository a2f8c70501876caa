"""Time one training step of a recipe in each memory format and precision.

Usage::

    python benchmarks/bench_recipe_step.py recipes/nature_colorizer_bins.json [--steps 3] \
        [--batch-size 16] [--crop-size 192] [--json out.json]

Runs :meth:`cgan_zoo.training.Pix2PixTrainer.train_step` of the recipe on random
photos (the data does not change the cost) in four variants, all measured in the same
run and reported as ratios against the first:

=======================  ==================================================
``nchw_fp32``            the baseline: channels-first, float32
``channels_last_fp32``   channels-last models and batches
``nchw_bf16``            bf16 autocast
``channels_last_bf16``   channels-last + bf16 autocast
=======================  ==================================================

Each variant starts from the same weights and sees the same batches; the losses of its
first step are printed next to the baseline's so that a variant whose losses disagree
can be ruled out. On CPUs without native bf16 (no ``avx512_bf16``/``amx_bf16`` flag in
``/proc/cpuinfo``) bf16 autocast is emulated and much slower.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import Dataset

from cgan_zoo.training import Pix2PixConfig, Pix2PixTrainer

VARIANTS = {
    "nchw_fp32": dict(channels_last=False, amp=False),
    "channels_last_fp32": dict(channels_last=True, amp=False),
    "nchw_bf16": dict(channels_last=False, amp=True),
    "channels_last_bf16": dict(channels_last=True, amp=True),
}


class RandomPhotos(Dataset):
    """Deterministic random crops of the recipe's size, shaped for its task.

    ``colorize``: L → ab. ``colorize-missing``: masked L + mask → Lab, with the mask.
    """

    def __init__(self, n: int, size: int, task: str = "colorize") -> None:
        self.n, self.size, self.task = n, size, task

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(i)
        x = torch.rand(1, self.size, self.size, generator=g) * 2 - 1
        y = (torch.rand(2, self.size, self.size, generator=g) - 0.5) * 0.6
        if self.task == "colorize-missing":
            mask = (torch.rand(1, self.size, self.size, generator=g) < 0.3).float()
            return {
                "input": torch.cat([x * (1 - mask), mask]),
                "target": torch.cat([x, y]),
                "mask": mask,
            }
        return {"input": x, "target": y}


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("recipe", type=Path)
    p.add_argument(
        "--steps", type=int, default=3, help="timed steps per variant (after one warm-up step)"
    )
    p.add_argument("--batch-size", type=int, help="override the recipe's batch size")
    p.add_argument("--crop-size", type=int, help="override the recipe's crop size")
    p.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset")
    p.add_argument("--json", type=Path)
    args = p.parse_args()

    base = json.loads(args.recipe.read_text())
    base.pop("_comment", None)
    for key in ("encoder_weights", "init", "perceptual_weights"):
        base.pop(key, None)  # weights do not change the cost; the benchmark needs no files
    if args.batch_size:
        base["batch_size"] = args.batch_size
    if args.crop_size:
        base["crop_size"] = args.crop_size
    base.update(
        warmup_steps=0,
        ema_decay=base.get("ema_decay", 0.0),
        tensorboard=False,
        log_every=0,
        val_every=0,
        sample_every=0,
        ckpt_every=0,
    )
    size, batch = int(base["crop_size"]), int(base["batch_size"])
    data = RandomPhotos(batch * (args.steps + 1), size, base.get("task", "colorize"))
    results = {}
    for name in args.variants.split(","):
        torch.manual_seed(0)
        with tempfile.TemporaryDirectory() as out:
            cfg = Pix2PixConfig.from_dict(
                {**base, **VARIANTS[name], "out_dir": out, "steps": args.steps + 1}
            )
            trainer = Pix2PixTrainer(cfg, train_dataset=data)
            times, first = [], None
            for step in range(args.steps + 1):
                items = [data[step * batch + j] for j in range(batch)]
                mb = {k: torch.stack([it[k] for it in items]) for k in items[0]}
                mb = trainer._to_device(mb)
                t0 = time.perf_counter()
                logs = trainer.train_step([mb])
                times.append(time.perf_counter() - t0)
                if first is None:
                    first = {k: round(v, 4) for k, v in logs.items() if k.startswith("loss")}
        results[name] = {"step_s": statistics.median(times[1:]), "first_step_losses": first}
        print(f"{name:20s} {results[name]['step_s']:8.2f} s/step   losses {first}", flush=True)
    baseline = results[next(iter(results))]["step_s"]
    print("\nratio to the first variant (higher = faster):")
    for name, r in results.items():
        r["speedup"] = baseline / r["step_s"]
        print(f"  {name:20s} {r['speedup']:.2f}x")
    flags = cpu_flags()
    report = {
        "recipe": str(args.recipe),
        "batch_size": batch,
        "crop_size": size,
        "native_bf16": bool({"avx512_bf16", "amx_bf16"} & flags),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "results": results,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
