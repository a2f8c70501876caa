"""``cgan-zoo evaluate``: score a colorizer on colour photos against the gray and Telea baselines.

The photos are a folder (``--data``), optionally restricted to a split's ``val`` list
(``--split recipes/nature_split.json``). Each is downscaled to ``--max-side``, reduced to
its lightness, colorized and compared with the original (:mod:`cgan_zoo.evaluation`).
``--masks`` evaluates a missing-regions model with a deterministic 30 % random mask per
photo (or, with ``--masks MASKDIR``, the mask files ``MASKDIR/<name>.png``). The result
goes to ``--json`` (per-image scores and aggregates) and ``--markdown`` (tables); with
neither, the tables are printed.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_parser", "run"]


def _baselines(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise argparse.ArgumentTypeError("--baselines needs comma-separated names, e.g. gray,telea")
    return names


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``evaluate`` subcommand.

    Args:
        sub: The ``add_subparsers()`` object of the ``cgan-zoo`` parser.

    Example:
        >>> parser = argparse.ArgumentParser(prog="cgan-zoo")
        >>> add_parser(parser.add_subparsers(dest="command"))
        >>> args = parser.parse_args(["evaluate", "--data", "photos", "--masks", "--temperature", "0.4"])
        >>> args.masks, args.temperature, args.max_side, args.baselines
        (True, 0.4, 512, None)
    """
    p = sub.add_parser(
        "evaluate",
        help="score a colorizer on colour photos (PSNR, ab error, hue accuracy, ...) vs baselines",
        description=(
            "Colorize the gray version of colour photos and score the result against the "
            "originals and the baselines; write JSON and Markdown."
        ),
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="NAME_OR_FOLDER",
        help="registered pretrained name, save_pretrained folder, trainer run folder or "
        "checkpoint, or Hub id (default: the default "
        "colorizer, or the default inpainting colorizer with --masks)",
    )
    p.add_argument("--data", required=True, metavar="FOLDER", help="folder of colour photos")
    p.add_argument(
        "--split",
        default=None,
        metavar="JSON",
        help="split file (e.g. recipes/nature_split.json): evaluate its --split-part list, paths relative to --data",
    )
    p.add_argument("--split-part", default="val", help="which list of --split (default: val)")
    p.add_argument(
        "--masks",
        nargs="?",
        const=True,
        default=False,
        metavar="MASKDIR",
        help="evaluate with missing regions: a deterministic random mask per photo, or the mask "
        "files MASKDIR/<name>.png (white = missing); needs a colorize-missing model",
    )
    p.add_argument(
        "--mask-fraction",
        type=float,
        default=0.3,
        help="share of missing pixels of random masks (default 0.3)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random masks (default 0)")
    p.add_argument(
        "--max-side", type=int, default=512, help="downscale photos to this long side (default 512)"
    )
    p.add_argument(
        "--size", type=int, default=None, help="colorizer working size (default: the model's)"
    )
    p.add_argument(
        "--baselines",
        type=_baselines,
        default=None,
        help="comma-separated baselines: gray, telea (default: gray; gray,telea with --masks)",
    )
    p.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="colour-uncertainty knob, passed to the colorizer call only when given",
    )
    p.add_argument(
        "--near-gray",
        type=float,
        default=20.0,
        help="originals with colourfulness below this form the near-gray row (default 20)",
    )
    p.add_argument(
        "--vivid",
        type=float,
        default=20.0,
        help="originals with colourfulness from this on form the vivid row (default 20)",
    )
    p.add_argument("--limit", type=int, default=None, help="only N photos, spread over the list")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto (default: cpu)")
    p.add_argument(
        "--json", default=None, metavar="PATH", help="write per-image scores and aggregates here"
    )
    p.add_argument(
        "--markdown", default=None, metavar="PATH", help="write the Markdown tables here"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``cgan-zoo evaluate``; returns the exit code.

    Errors (unknown model, missing folder, masks with a plain colorizer, OpenCV missing
    for the Telea baseline) propagate as cgan-zoo errors, which the ``cgan-zoo`` entry
    point prints as one line.

    Example:
        >>> import tempfile
        >>> ns = argparse.Namespace(model=None, data=tempfile.mkdtemp() + "/none", split=None,
        ...     split_part="val", masks=False, mask_fraction=0.3, seed=0, max_side=512, size=None,
        ...     baselines=None, temperature=None, near_gray=20.0, vivid=20.0, limit=None, device="cpu",
        ...     json=None, markdown=None)
        >>> try:
        ...     run(ns)
        ... except ValueError as exc:
        ...     print(str(exc).split(":")[0])
        data folder '...none' does not exist or is not a folder.
    """
    from ..evaluation import evaluate_folder, markdown_report, write_json, write_markdown
    from ..evaluation.photos import list_photos
    from ..pipelines.colorizer import Colorizer
    from ..pipelines.defaults import default_model_name

    list_photos(args.data)  # fail on a bad folder before loading a model
    with_masks = args.masks is not False
    model = args.model or default_model_name(missing=with_masks)
    kwargs = {"device": args.device}
    if args.size is not None:
        kwargs["size"] = args.size
    colorizer = Colorizer.from_pretrained(model, **kwargs)
    call_kwargs = {} if args.temperature is None else {"temperature": args.temperature}

    def progress(i: int, n: int, name: str) -> None:
        print(f"[{i}/{n}] {name}", file=sys.stderr)

    result = evaluate_folder(
        colorizer,
        args.data,
        split=args.split,
        split_part=args.split_part,
        max_side=args.max_side,
        limit=args.limit,
        masks=args.masks,
        mask_fraction=args.mask_fraction,
        seed=args.seed,
        baselines=args.baselines,
        call_kwargs=call_kwargs,
        near_gray=args.near_gray,
        vivid=args.vivid,
        progress=progress,
    )
    result["model"] = str(model)
    title = f"Evaluation of `{model}`" + (" with missing regions" if with_masks else "")
    if args.json:
        print(f"wrote {write_json(result, args.json)}")
    if args.markdown:
        print(f"wrote {write_markdown(result, args.markdown, title)}")
    if not args.json and not args.markdown:
        print(markdown_report(result, title))
    return 0
