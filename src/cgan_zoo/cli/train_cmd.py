"""``cgan-zoo train``: train or fine-tune a pix2pix model."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train or fine-tune a pix2pix model",
        description=(
            "Train a generator with the pix2pix objective. --steps is the total budget of the run, "
            "so the same command with --resume finishes an interrupted run. Launch with "
            "`torchrun --nproc_per_node N -m cgan_zoo.cli train ...` for data parallelism."
        ),
    )
    p.add_argument("--config", help="JSON recipe (keys of Pix2PixConfig); flags below override it")
    p.add_argument("--data", help="folder of training photos (or A/B pairs for --task paired)")
    p.add_argument("--val", help="folder of held-out photos for validation metrics")
    p.add_argument("--out", help="output folder for checkpoints, logs, samples and the exported model")
    p.add_argument("--model", help="registered generator name, e.g. pix2pix_unet256 or unet_efficientnet_lite0")
    p.add_argument("--task", choices=["colorize", "colorize-missing", "paired"])
    p.add_argument("--steps", type=int, help="total number of optimiser steps")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--crop-size", type=int)
    p.add_argument("--lr", type=float, help="learning rate of G and D")
    p.add_argument("--device", help="cpu, cuda, mps or auto")
    p.add_argument("--workers", type=int, help="DataLoader worker processes")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--init", help="pretrained name or save_pretrained folder to fine-tune from")
    p.add_argument("--freeze-encoder", action="store_true", help="keep the pretrained encoder fixed")
    p.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                   help="override any config key, e.g. --set lambda_l1=50 --set 'scales=[0.5,1]'")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(run=run)


def build_config(args: argparse.Namespace):
    """Merge the recipe file, the flags and ``--set`` overrides into a Pix2PixConfig."""
    from ..errors import InvalidConfigError
    from ..training import Pix2PixConfig

    data = Pix2PixConfig.from_file(args.config).to_dict() if args.config else {}
    flags = {
        "data_dir": args.data, "val_dir": args.val, "out_dir": args.out, "generator": args.model,
        "task": args.task, "steps": args.steps, "batch_size": args.batch_size, "crop_size": args.crop_size,
        "device": args.device, "num_workers": args.workers, "init": args.init,
    }
    data.update({k: v for k, v in flags.items() if v is not None})
    if args.lr is not None:
        data["lr_g"] = data["lr_d"] = args.lr
    if args.freeze_encoder:
        data["freeze_encoder"] = True
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidConfigError(f"--set expects KEY=VALUE, got {item!r}.")
        try:
            data[key] = json.loads(value)
        except json.JSONDecodeError:
            data[key] = value
    if not data.get("data_dir") and not data.get("train_files"):
        raise InvalidConfigError("no training data: pass --data DIR (or train_files in --config).")
    if not data.get("out_dir"):
        raise InvalidConfigError("pass --out DIR for checkpoints and the exported model.")
    return Pix2PixConfig.from_dict(data)


def run(args: argparse.Namespace) -> int:
    from ..training import Pix2PixTrainer

    config = build_config(args)
    trainer = Pix2PixTrainer(config)
    trainer.fit(resume=args.resume, progress=not args.no_progress)
    if trainer.is_main:
        folder = trainer.export_generator()
        print(f"trained {trainer.step} steps; generator saved to {folder}")
    return 0
