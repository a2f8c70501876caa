"""``cgan-zoo colorize``: colorize photos (optionally with missing-region masks).

Inputs are image files and folders; a folder is searched recursively for images and
its subfolders are kept in the output. Each input ``x.jpg`` is written to
``OUTDIR/x.png`` (``--format`` picks another format) at the input's exact size; with one
input file, ``-o result.png`` writes that file. An existing output is an error unless
``--overwrite`` (replace it) or ``--skip-existing`` (keep it) is given. With
``--masks MASKDIR`` the mask of ``x.jpg`` is ``MASKDIR/x.png`` (white = missing). A bad
input (missing, unreadable, mask missing or of another size) is reported on stderr as
one line; the other inputs are still written and the exit code is 1.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["add_parser", "run", "plan_outputs", "IMAGE_SUFFIXES", "OUTPUT_FORMATS"]

#: file suffixes read as images when a folder is given
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: ``--format`` choices -> file suffix
OUTPUT_FORMATS = {"png": ".png", "jpg": ".jpg", "webp": ".webp", "tiff": ".tif"}
_SUFFIX_FORMATS = {".png": "png", ".jpg": "jpg", ".jpeg": "jpg", ".webp": "webp", ".tif": "tiff", ".tiff": "tiff"}


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
        help="colorize gray photos or folders of photos (optionally with missing regions)",
        description=(
            "Colorize each IMAGE (a file, or a folder searched recursively) and write "
            "OUTDIR/<name>.png at the input's size, keeping a folder's subfolders. With a "
            "single input file, -o NAME.png (or .jpg, .webp, .tif) writes that file. Gray and "
            "RGB inputs are accepted (RGB is reduced to its lightness)."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="input image files or folders")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output folder (created if missing), or an image file name for a single input",
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="NAME_OR_PATH",
        help="registered pretrained name, save_pretrained folder, trainer run folder or "
        "checkpoint, or Hub id "
        "(default: the default pretrained colorizer, or inpainting colorizer with --masks)",
    )
    p.add_argument(
        "--masks",
        default=None,
        metavar="MASKDIR",
        help="folder of masks: MASKDIR/<name>.png per image, white (255) = missing; needs a "
        "colorize-missing model",
    )
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="working resolution of the long side, at most the photo's own (default: the model's)",
    )
    p.add_argument(
        "--format",
        choices=sorted(OUTPUT_FORMATS),
        default=None,
        help="output image format (default: png, or the suffix of -o NAME.ext)",
    )
    existing = p.add_mutually_exclusive_group()
    existing.add_argument(
        "--overwrite", action="store_true", help="replace outputs that already exist"
    )
    existing.add_argument(
        "--skip-existing", action="store_true", help="keep outputs that already exist, skip their inputs"
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    p.add_argument("--batch-size", type=int, default=8, help="images per forward pass")
    p.add_argument(
        "--fast",
        action="store_true",
        help="use the optimized inference module: pays off for many images or video; for one "
        "image its one-off optimisation costs more than it saves",
    )
    p.add_argument(
        "--stochastic",
        action="store_true",
        help="keep dropout active (different colourings per run)",
    )
    p.add_argument(
        "--seed", type=int, default=None, help="random seed for --stochastic (same seed, same colours)"
    )
    p.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="colour-uncertainty knob of colour-bin models, in (0, 1]: 1 = muted where the model "
        "is unsure, smaller = more vivid (default: the model's, see its model card)",
    )
    p.set_defaults(run=run)


@dataclass(frozen=True)
class _Job:
    source: Path  # the image file
    relative: Path  # its path below the input folder (just the name for a file input)
    target: Path  # where the result goes


def _is_file_name(output: str) -> bool:
    path = Path(output)
    return (
        not output.endswith(("/", "\\"))
        and path.suffix.lower() in _SUFFIX_FORMATS
        and not path.is_dir()
    )


def plan_outputs(
    images: list[str], output: str, fmt: str | None = None
) -> tuple[list[_Job], list[str]]:
    """Expand folders and decide where each result goes.

    Args:
        images: Input files and folders (folders are searched recursively).
        output: ``-o``: a folder, or an image file name when there is one input file.
        fmt: ``--format``, or ``None`` for png (or the suffix of a file name ``output``).

    Returns:
        The jobs, and error lines for inputs that cannot be planned (missing paths,
        empty folders, two inputs with the same output).

    Raises:
        InvalidConfigError: If ``output`` cannot be used (a file where a folder is
            needed, or a file name for several inputs).

    Example:
        >>> import os, tempfile
        >>> photo = os.path.join(tempfile.mkdtemp(), "photo.jpg")
        >>> open(photo, "wb").close()
        >>> jobs, errors = plan_outputs([photo, "gone.png"], "out", "webp")
        >>> [str(j.target) for j in jobs], errors
        (['out/photo.webp'], ["'gone.png' does not exist"])
        >>> [str(j.target) for j in plan_outputs([photo], "result.png")[0]]
        ['result.png']
    """
    from ..errors import InvalidConfigError

    errors: list[str] = []
    sources: list[tuple[Path, Path]] = []
    for name in images:
        path = Path(name)
        if path.is_dir():
            found = sorted(
                f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
            )
            if not found:
                errors.append(
                    f"folder {name!r} holds no images (looked for {', '.join(IMAGE_SUFFIXES)} recursively)"
                )
            sources += [(f, f.relative_to(path)) for f in found]
        elif not path.exists():
            errors.append(f"{name!r} does not exist")
        else:
            sources.append((path, Path(path.name)))
    single_file = len(images) == 1 and not Path(images[0]).is_dir()
    out = Path(output)
    if _is_file_name(output):
        if not single_file:
            what = "a folder input needs" if len(images) == 1 else f"{len(images)} inputs need"
            raise InvalidConfigError(
                f"-o {output!r} is a file name, but {what} an output folder; pass a folder, "
                f"e.g. -o {str(out.with_suffix(''))!r}."
            )
        suffix_fmt = _SUFFIX_FORMATS[out.suffix.lower()]
        if fmt is not None and fmt != suffix_fmt:
            raise InvalidConfigError(
                f"--format {fmt} disagrees with the suffix of -o {output!r} ({suffix_fmt}); drop one."
            )
        return [_Job(src, rel, out) for src, rel in sources[:1]], errors
    if out.exists() and not out.is_dir():
        raise InvalidConfigError(
            f"output {output!r} is an existing file, but a folder is needed for the results; pass "
            "a folder with -o (or, for a single input, an image file name such as result.png)."
        )
    suffix = OUTPUT_FORMATS[fmt or "png"]
    jobs: list[_Job] = []
    taken: dict[Path, Path] = {}
    for source, relative in sources:
        target = out / relative.with_suffix(suffix)
        if target in taken:
            errors.append(
                f"{str(source)!r} would overwrite {str(target)!r}, already planned for "
                f"{str(taken[target])!r}; rename one of the inputs"
            )
            continue
        taken[target] = source
        jobs.append(_Job(source, relative, target))
    return jobs, errors


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


def _check_size(size: int | None, image, path: Path, stride: int) -> None:
    """An explicit ``--size`` must not exceed the photo's own long side (rounded up to the stride)."""
    if size is None:
        return
    long_side = max(image.size)
    limit = -(-long_side // stride) * stride
    if size > limit:
        raise ValueError(
            f"--size {size} is larger than {str(path)!r} ({image.size[0]}x{image.size[1]}): the "
            "result always keeps the photo's own resolution, and a working size above it costs "
            f"time and memory but adds no detail. Use --size {limit} or less, or leave --size out."
        )


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

    fmt = getattr(args, "format", None)
    seed = getattr(args, "seed", None)
    if seed is not None and not args.stochastic:
        _error("--seed only changes the result with --stochastic; add --stochastic or drop --seed.")
        return 1
    mask_dir = Path(args.masks) if args.masks else None
    if mask_dir is not None and not mask_dir.is_dir():
        _error(f"mask folder {str(mask_dir)!r} does not exist or is not a folder")
        return 1
    try:
        jobs, failures = plan_outputs(list(args.images), args.output, fmt)
    except CganZooError as exc:
        _error(str(exc))
        return 1
    for line in failures:
        _error(line)
    overwrite = getattr(args, "overwrite", False)
    skip_existing = getattr(args, "skip_existing", False)
    todo = []
    skipped = 0
    for job in jobs:
        if job.target.exists() and not overwrite:
            if skip_existing:
                skipped += 1
                print(f"{job.source} -> {job.target} (exists, skipped)")
                continue
            _error(
                f"{str(job.target)!r} already exists; pass --overwrite to replace it or "
                "--skip-existing to keep it"
            )
            failures.append(str(job.target))
            continue
        todo.append(job)
    if not todo:
        if failures:
            _error(f"{len(failures)} input(s) failed; nothing written")
            return 1
        return 0

    if args.fast and len(todo) == 1:
        print(
            "cgan-zoo colorize: note: --fast first optimises the model, which takes longer than "
            "colorizing one image saves; it pays off for many images or video.",
            file=sys.stderr,
        )
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
    if getattr(args, "temperature", None) is not None:
        kwargs["temperature"] = args.temperature
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
    if seed is not None:
        import torch

        torch.manual_seed(seed)

    failed = len(failures)
    written = 0
    for job in todo:
        path = job.source
        try:
            image = _load_image(path)
            _check_size(args.size, image, path, colorizer.stride)
            mask = None
            if mask_dir is not None:
                mask_path = mask_dir / job.relative.with_suffix(".png")
                if not mask_path.is_file():
                    raise FileNotFoundError(
                        f"no mask for {str(path)!r}: expected {str(mask_path)!r}"
                    )
                mask = _load_image(mask_path)
            try:
                result = colorizer(image, mask)
            except (CganZooError, ValueError) as exc:
                raise ValueError(f"{str(path)!r}: {exc}") from None
            try:
                job.target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OSError(f"cannot create output folder {str(job.target.parent)!r}: {exc}") from None
            result.save(job.target)
        except (CganZooError, ValueError, TypeError, OSError) as exc:
            failed += 1
            _error(str(exc))
            continue
        written += 1
        print(f"{path} -> {job.target}")
    if failed:
        _error(
            f"{failed} of {failed + written + skipped} image(s) failed; {written} written to "
            f"{args.output!r}"
        )
        return 1
    return 0
