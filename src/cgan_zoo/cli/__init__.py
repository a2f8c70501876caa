"""The ``cgan-zoo`` console script.

Each subcommand lives in its own module with two functions: ``add_parser(subparsers)``
and ``run(args) -> int``. Errors that cgan-zoo raises on purpose are printed as one
line on stderr with a non-zero exit code, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .._version import __version__
from ..errors import CganZooError

__all__ = ["main", "build_parser"]

#: subcommand modules, in the order ``--help`` lists them
COMMANDS = (
    "models",
    "colorize",
    "evaluate",
    "video",
    "train",
    "export",
    "convert",
    "package",
    "demo",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="cgan-zoo",
        description="pix2pix-style conditional GANs: colorize photos, train and export models.",
    )
    parser.add_argument("--version", action="version", version=f"cgan-zoo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f".{name}_cmd", __name__)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.endswith(f"{name}_cmd"):
                continue  # subcommand not shipped in this version
            raise
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cgan-zoo`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # a closed pipe surfaces here, not at interpreter exit
        return code
    except BrokenPipeError:
        # the reader went away (`cgan-zoo models --json | head`): stop quietly, like a Unix tool
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 128 + 13  # killed by SIGPIPE
    except (CganZooError, ValueError, TypeError, OSError) as exc:
        print(f"cgan-zoo {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"cgan-zoo {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
