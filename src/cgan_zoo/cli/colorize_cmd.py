"""``cgan-zoo colorize``: colorize photos (optionally with missing-region masks) into a folder.

Each input ``x.jpg`` is written to ``OUTDIR/x.png`` at the input's exact size. With
``--masks MASKDIR`` the mask of ``x.jpg`` is ``MASKDIR/x.png`` (white = missing). A bad
input (missing, unreadable, mask missing or of another size) is reported on stderr as
one line; the other inputs are still written and the exit code is 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_parser", "run"]


def _error(message: str) -> None:
    print(f"cgan-zoo colorize: error: {message}", file=sys.stderr)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``colorize`` subcommand.

    Args:
        sub: The ``add_subparsers()`` object of the ``cgan-zoo`` parser.

    Example:
        >>> parser = argparse.ArgumentParser(prog="cgan-zoo")
        >>> add_parser(parser.add_subparsers(dest="command"))
        >>> args = parser.parse_args(["colorize", "a.jpg", "-o", "out", "--size", "128"])
        >>> args.images, args.output, args.size
        (['a.jpg'], 'out', 128)
    """
    p = sub.add_parser(
        "colorize",
        help="colorize gray photos (optionally with missing regions) into a folder",
        description=(
            "Colorize each IMAGE and write OUTDIR/<stem>.png at the input's size. Gray and RGB "
            "inputs are accepted (RGB is reduced to its lightness)."
        ),
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="input image files")
    p.add_argument(
        "-o", "--output", required=True, metavar="OUTDIR", help="output folder (created if missing)"
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="NAME_OR_PATH",
        help="registered pretrained name, save_pretrained folder or Hub id "
        "(default: the default pretrained colorizer, or inpainting colorizer with --masks)",
    )
    p.add_argument(
        "--masks",
        default=None,
        metavar="MASKDIR",
        help="folder of masks: MASKDIR/<stem>.png per image, white (255) = missing; needs a "
        "colorize-missing model",
    )
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="working resolution of the long side (default: model's)",
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto (default: cpu)")
    p.add_argument("--batch-size", type=int, default=8, help="images per forward pass (default: 8)")
    p.add_argument("--fast", action="store_true", help="use the optimized inference module")
    p.add_argument(
        "--stochastic",
        action="store_true",
        help="keep dropout active (different colourings per run)",
    )
    p.set_defaults(run=run)


def _load_image(path: Path):
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not path.exists():
        raise FileNotFoundError(f"{str(path)!r} does not exist")
    if not path.is_file():
        raise OSError(f"{str(path)!r} is not a file")
    try:
        with Image.open(path) as img:
            img.load()
            return ImageOps.exif_transpose(img)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise OSError(f"cannot read image {str(path)!r}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    """Run ``cgan-zoo colorize``; returns the exit code (0, or 1 if any input failed).

    Example:
        >>> import tempfile
        >>> ns = argparse.Namespace(images=["missing.png"], output=tempfile.mkdtemp(), model=None,
        ...     masks=None, size=None, device="cpu", batch_size=8, fast=False, stochastic=False)
        >>> run(ns)  # the input is missing: one line on stderr, exit code 1
        1
    """
    from ..errors import CganZooError
    from ..pipelines.colorizer import Colorizer
    from ..pipelines.defaults import default_model_name

    kwargs = {
        "device": args.device,
        "batch_size": args.batch_size,
        "fast": args.fast,
        "stochastic": args.stochastic,
    }
    if args.size is not None:
        kwargs["size"] = args.size
    mask_dir = Path(args.masks) if args.masks else None
    if mask_dir is not None and not mask_dir.is_dir():
        _error(f"mask folder {str(mask_dir)!r} does not exist or is not a folder")
        return 1
    try:
        model = args.model or default_model_name(missing=mask_dir is not None)
        colorizer = Colorizer.from_pretrained(model, **kwargs)
    except (CganZooError, ValueError, TypeError, OSError) as exc:
        _error(str(exc))
        return 1
    if mask_dir is not None and colorizer.task != "colorize-missing":
        _error(
            f"--masks needs a model trained for missing regions (task 'colorize-missing'), but "
            f"{model!r} has task {colorizer.task!r}; pass an inpainting colorizer with --model."
        )
        return 1
    out_dir = Path(args.output)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _error(f"cannot create output folder {str(out_dir)!r}: {exc}")
        return 1

    failed = 0
    written: dict[Path, Path] = {}
    for name in args.images:
        path = Path(name)
        target = out_dir / f"{path.stem}.png"
        try:
            if target in written:
                raise OSError(
                    f"{str(path)!r} would overwrite {str(target)!r}, already written for {str(written[target])!r}; "
                    "rename one of the inputs"
                )
            image = _load_image(path)
            mask = None
            if mask_dir is not None:
                mask_path = mask_dir / f"{path.stem}.png"
                if not mask_path.is_file():
                    raise FileNotFoundError(
                        f"no mask for {str(path)!r}: expected {str(mask_path)!r}"
                    )
                mask = _load_image(mask_path)
            try:
                result = colorizer(image, mask)
            except (CganZooError, ValueError) as exc:
                raise ValueError(f"{str(path)!r}: {exc}") from None
            result.save(target)
        except (CganZooError, ValueError, TypeError, OSError) as exc:
            failed += 1
            _error(str(exc))
            continue
        written[target] = path
        print(f"{path} -> {target}")
    if failed:
        _error(
            f"{failed} of {len(args.images)} image(s) failed; {len(written)} written to {str(out_dir)!r}"
        )
        return 1
    return 0
