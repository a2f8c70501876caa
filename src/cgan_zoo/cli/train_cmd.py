"""``cgan-zoo train``: train or fine-tune a pix2pix model."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``train`` subcommand; help shows the defaults of :class:`Pix2PixConfig`.

    Example:
        >>> parser = argparse.ArgumentParser(prog="cgan-zoo")
        >>> add_parser(parser.add_subparsers(dest="command"))
        >>> args = parser.parse_args(["train", "--data", "d", "--out", "o", "--batch-size", "2"])
        >>> args.batch_size, args.task
        (2, None)
    """
    from ..training.config import TASKS, Pix2PixConfig

    d = Pix2PixConfig()
    p = sub.add_parser(
        "train",
        help="train or fine-tune a pix2pix model",
        description=(
            "Train a generator with the pix2pix objective. --steps is the total budget of the run, "
            "so the same command with --resume finishes an interrupted run. Launch with "
            "`torchrun --nproc_per_node N -m cgan_zoo.cli train ...` for data parallelism. "
            "Ctrl-C (or SIGTERM) stops after the current step and writes a checkpoint. Flags left "
            "out take the --config recipe's value, else the default shown."
        ),
    )
    p.add_argument("--config", help="JSON recipe (keys of Pix2PixConfig); flags below override it")
    p.add_argument("--data", help="folder of training photos (or A/B pairs for --task paired)")
    p.add_argument("--val", help="folder of held-out photos for validation metrics")
    p.add_argument("--out", help="output folder for checkpoints, logs, samples and the exported model")
    p.add_argument(
        "--model",
        help=f"registered generator name, e.g. pix2pix_unet256 or unet_efficientnet_lite0 "
        f"(default: {d.generator})",
    )
    p.add_argument(
        "--task",
        choices=sorted(TASKS),
        help="colorize: gray -> colour; colorize-missing: also fill missing regions (random masks); "
        f"paired: A -> B image pairs from A/ and B/ folders (default: {d.task})",
    )
    p.add_argument("--steps", type=int, help=f"total number of optimiser steps (default: {d.steps})")
    p.add_argument(
        "--batch-size", type=int, help=f"images per optimiser step (default: {d.batch_size})"
    )
    p.add_argument(
        "--crop-size",
        type=int,
        help=f"side of the random training crops in pixels; a multiple of the generator's "
        f"stride (default: {d.crop_size})",
    )
    p.add_argument("--lr", type=float, help=f"learning rate of G and D (default: {d.lr_g})")
    p.add_argument("--device", help=f"cpu, cuda, mps or auto (default: {d.device})")
    p.add_argument("--workers", type=int, help=f"DataLoader worker processes (default: {d.num_workers})")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest checkpoint in --out (a new run if there is none)",
    )
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
    """Train; returns 0, or 128 + the signal number when Ctrl-C or SIGTERM stopped the run."""
    from ..training import Pix2PixTrainer

    config = build_config(args)
    trainer = Pix2PixTrainer(config)
    trainer.resume_hint = "run the same command with --resume"
    trainer.fit(resume=args.resume, progress=not args.no_progress)
    if trainer.stop_signal is not None:
        return 128 + int(trainer.stop_signal)
    if trainer.is_main:
        folder = trainer.save_generator()
        print(f"trained {trainer.step} steps; generator saved to {folder}")
    return 0
