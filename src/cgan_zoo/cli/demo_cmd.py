"""``cgan-zoo demo``: serve the local web app (needs the ``[demo]`` extra).

The app listens on ``127.0.0.1`` by default, so only this machine can open it; it
prints its URL on start and runs until interrupted (Ctrl+C).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``demo`` subcommand.

    Args:
        sub: The ``add_subparsers()`` object of the ``cgan-zoo`` parser.

    Example:
        >>> parser = argparse.ArgumentParser(prog="cgan-zoo")
        >>> add_parser(parser.add_subparsers(dest="command"))
        >>> args = parser.parse_args(["demo", "--port", "8000", "--model", "a", "--model", "b"])
        >>> args.host, args.port, args.model, args.no_browser
        ('127.0.0.1', 8000, ['a', 'b'], False)
    """
    p = sub.add_parser(
        "demo",
        help="serve a local web app to colorize, repair, compare and colorize video",
        description=(
            "Serve the cgan-zoo web app on this machine (offline). Needs "
            'pip install -e ".[demo]" (Gradio).'
        ),
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default: 127.0.0.1, only this machine)",
    )
    p.add_argument("--port", type=int, default=7860, help="TCP port (default: 7860)")
    p.add_argument(
        "--model",
        action="append",
        default=None,
        metavar="NAME_OR_PATH",
        help="model to offer (repeatable): installed pretrained name or save_pretrained folder "
        "(default: every installed pretrained colorizer)",
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto (default: cpu)")
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="working resolution of the long side (default: each model's)",
    )
    p.add_argument(
        "--no-browser", action="store_true", help="do not open the page in a web browser"
    )
    p.set_defaults(run=run)


def _warm_up(cache, name: str) -> None:
    try:
        cache.get(name)
    except Exception:  # noqa: BLE001 - reported in the page when the model is used
        pass


def run(args: argparse.Namespace) -> int:
    """Run ``cgan-zoo demo`` until interrupted; returns the exit code.

    Example:
        >>> ns = argparse.Namespace(host="127.0.0.1", port=0, model=["no_such_model"],
        ...     device="cpu", size=None, no_browser=True)
        >>> run(ns)
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidConfigError: model 'no_such_model' is not an installed pretrained colorizer ...
    """
    from ..demo.app import is_local_host, launch, require_gradio
    from ..demo.handlers import ModelCache
    from ..errors import InvalidInputError

    if not 0 <= args.port <= 65535:
        raise InvalidInputError(f"--port must be in 0-65535, got {args.port}.")
    start = time.perf_counter()
    cache = ModelCache(args.model, device=args.device, size=args.size)
    require_gradio()
    results = tempfile.TemporaryDirectory(prefix="cgan-zoo-demo-")  # removed when the demo stops
    try:
        app, url = launch(
            cache, host=args.host, port=args.port, open_browser=not args.no_browser,
            out_dir=results.name,
        )
    except OSError as exc:
        results.cleanup()
        raise OSError(
            f"cannot listen on {args.host}:{args.port} ({str(exc).split('. ')[0]}); another program "
            "may be using that port. Pass another one, e.g. --port 7861."
        ) from None
    # load the first model while the user opens the page; a failure shows up when it is used
    threading.Thread(target=_warm_up, args=(cache, cache.models[0]), daemon=True).start()
    where = (
        "only this machine can open it"
        if is_local_host(args.host)
        else f"WARNING: listening on {args.host}, so other machines on the network can open it"
    )
    print(
        f"cgan-zoo demo: serving {len(cache.models)} model(s) at {url} ({where}); "
        f"started in {time.perf_counter() - start:.1f} s. Press Ctrl+C to stop.",
        flush=True,
    )
    try:
        while app.is_running:
            time.sleep(0.2)
    except KeyboardInterrupt:
        print("cgan-zoo demo: stopped", flush=True)
    finally:
        app.close(verbose=False)
        results.cleanup()
    return 0


if __name__ == "__main__":  # pragma: no cover
    from . import main

    sys.exit(main(["demo", *sys.argv[1:]]))
