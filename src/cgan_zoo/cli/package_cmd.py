"""``cgan-zoo package``: turn a fine-tuned model folder into a pip-installable weights package."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "package",
        help="make a pip-installable weights package from a save_pretrained folder",
        description=(
            "Write a Python distribution that carries the weights in MODEL_FOLDER under the name "
            "NAME ('architecture.tag'). After `pip install OUT_DIR`, NAME loads offline through "
            "create_model(NAME, pretrained=True), Colorizer.from_pretrained(NAME) and "
            "`cgan-zoo colorize --model NAME`."
        ),
    )
    p.add_argument(
        "model_folder",
        metavar="MODEL_FOLDER",
        help="save_pretrained folder, e.g. runs/mine/generator",
    )
    p.add_argument(
        "name",
        metavar="NAME",
        help="weights name 'architecture.tag', e.g. unet_efficientnet_lite0.my_birds",
    )
    p.add_argument("out_dir", metavar="OUT_DIR", help="new folder for the package source")
    p.add_argument("--distribution", help="pip distribution name (default: cgan-zoo-weights-<tag>)")
    p.add_argument("--version", default="0.1.0", help="distribution version (default: 0.1.0)")
    p.add_argument(
        "--license", default="other", help="SPDX licence of the weights (default: other)"
    )
    p.add_argument("--description", default="", help="one line for tables and the model card")
    p.add_argument("--input-size", type=int, default=256, help="training resolution (default: 256)")
    p.add_argument("--fp16", action="store_true", help="store float16 tensors (half the size)")
    p.add_argument(
        "--max-shard-mb",
        type=float,
        help="split weights larger than this (MB) into pinned shards, e.g. 50 for GitHub's 100 MB file limit",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..weights.packaging import make_weights_package

    out = make_weights_package(
        args.model_folder,
        args.name,
        args.out_dir,
        distribution=args.distribution,
        version=args.version,
        license=args.license,
        description=args.description,
        input_size=args.input_size,
        fp16=args.fp16,
        max_shard_mb=args.max_shard_mb,
    )
    print(f"wrote weights package {out}; install it with: pip install {out}")
    return 0
