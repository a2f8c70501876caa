"""``cgan-zoo convert``: turn a reference pix2pix/CycleGAN checkpoint into a cgan-zoo folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert",
        help="convert a pytorch-CycleGAN-and-pix2pix checkpoint into a save_pretrained folder",
        description=(
            "Read a generator or discriminator checkpoint of the pix2pix/CycleGAN reference code "
            "(latest_net_G.pth, or a .safetensors file with the same keys), detect the network from its "
            "keys and shapes, and write a folder that cgan_zoo.HubModel.from_pretrained loads. The .pth "
            "is read with torch.load(weights_only=True): only tensors can come out of it."
        ),
    )
    p.add_argument("src", metavar="SRC", type=Path, help="reference checkpoint (.pth or .safetensors)")
    p.add_argument("out", metavar="OUT_DIR", type=Path, help="output folder (config.json + model.safetensors)")
    p.add_argument("--dropout", type=float, help="U-Net dropout, which the keys do not show (0 for --no_dropout)")
    p.add_argument("--no-dropout", action="store_true", help="same as --dropout 0 (the reference's --no_dropout)")
    p.add_argument("--task", choices=["colorize", "colorize-missing", "generic"],
                   help="generator data contract (default: colorize for 1 -> 2 channels, else generic)")
    p.add_argument("--padding-mode", choices=["reflect", "replicate", "zeros"], help="ResNet padding")
    p.add_argument("--drop-instance-stats", action="store_true",
                   help="drop stored instance-norm running statistics (normalise per sample in eval, "
                        "as later reference versions do)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                   help="override any constructor argument, e.g. --set ab_scale=100")
    p.add_argument("--force", action="store_true", help="write into a non-empty OUT_DIR")
    p.set_defaults(run=run)


def overrides_from_args(args: argparse.Namespace) -> dict:
    """The constructor overrides that the flags ask for."""
    from ..errors import InvalidConfigError

    overrides: dict = {}
    if args.no_dropout:
        overrides["dropout"] = 0.0
    if args.dropout is not None:
        overrides["dropout"] = args.dropout
    if args.task:
        overrides["task"] = args.task
    if args.padding_mode:
        overrides["padding_mode"] = args.padding_mode
    if args.drop_instance_stats:
        overrides["instance_running_stats"] = False
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidConfigError(f"--set expects KEY=VALUE, got {item!r}.")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def run(args: argparse.Namespace) -> int:
    from ..convert.reference import convert_reference
    from ..errors import InvalidInputError

    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"OUT_DIR {str(out)!r} is a file; pass a folder to write.")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise InvalidInputError(f"OUT_DIR {str(out)!r} is not empty; pass --force to write into it anyway.")
    model, arch = convert_reference(args.src, **overrides_from_args(args))
    model.save_pretrained(out)
    shown = ", ".join(f"{k}={v!r}" for k, v in sorted(arch.kwargs.items()))
    print(f"reference {arch.reference_name} -> {type(model).__name__}({shown})")
    print(f"{model.num_parameters():,} parameters; saved to {out}")
    return 0
