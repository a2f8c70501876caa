"""``cgan-zoo models``: list registered architectures and pretrained weights."""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list registered architectures and pretrained weights")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'patchgan_*'")
    p.add_argument("--pretrained", action="store_true", help="list only pretrained weights")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from .. import get_pretrained_cfg, list_models, list_pretrained

    archs = [] if args.pretrained else list_models(args.pattern)
    # a pattern matches weights by full "arch.tag" name or by architecture ("unet_tiny")
    weights = [
        w
        for w in list_pretrained()
        if fnmatch.fnmatch(w, args.pattern) or fnmatch.fnmatch(w.split(".", 1)[0], args.pattern)
    ]
    if not archs and not weights and not any(c in args.pattern for c in "*?["):
        from .._registry import did_you_mean

        print(
            f"cgan-zoo models: no architecture or pretrained weights named {args.pattern!r}."
            f"{did_you_mean(args.pattern, list_models() + list_pretrained())}",
            file=sys.stderr,
        )
        return 1
    if args.json:
        print(json.dumps({"models": archs, "pretrained": [get_pretrained_cfg(w).to_dict() for w in weights]}, indent=2))
        return 0
    if not args.pretrained:
        print(f"Architectures ({len(archs)}):")
        for name in archs:
            print(f"  {name}")
    print(f"Pretrained weights ({len(weights)}):")
    for name in weights:
        cfg = get_pretrained_cfg(name)
        where = cfg.source if cfg.bundled else f"hub:{cfg.hub_id}@{(cfg.revision or '')[:10]}"
        print(f"  {name:40s} {cfg.task:18s} {cfg.license:14s} {where}")
    if not weights:
        print("  (none)")
    return 0
