"""``cgan-zoo export``: write a generator as ONNX, TorchScript or a torch.export program."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser", "run", "load_generator", "format_from_suffix"]

_SUFFIX_FORMATS = {
    ".onnx": "onnx",
    ".pt2": "exported-program",
    ".pt": "torchscript",
    ".ts": "torchscript",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a generator to ONNX, TorchScript or a torch.export program",
        description=(
            "Export a generator with dynamic batch, height and width (multiples of its stride). "
            "MODEL is a folder made by save_pretrained, a trainer run folder or checkpoint "
            "(its EMA generator), a Hub repo id, a pretrained name ('arch' or 'arch.tag', see "
            "`cgan-zoo models --pretrained`), or an architecture name together with --random-weights."
        ),
    )
    p.add_argument(
        "model",
        metavar="MODEL",
        help="folder, run folder or checkpoint, Hub id, pretrained name or architecture",
    )
    p.add_argument("out", metavar="OUT", type=Path, help="output file (.onnx, .pt2 or .pt)")
    p.add_argument(
        "--format",
        choices=("onnx", "torchscript", "exported-program"),
        default=None,
        help="output format (default: from OUT's suffix: .onnx, .pt2 exported-program, .pt torchscript)",
    )
    p.add_argument(
        "--size", type=int, default=256, help="side of the example input used for tracing"
    )
    p.add_argument(
        "--random-weights",
        action="store_true",
        help="allow an architecture name without pretrained weights (random init, for testing)",
    )
    p.add_argument("--no-fold-bn", action="store_true", help="keep BatchNorm layers separate")
    p.add_argument("--no-verify", action="store_true", help="skip the check of the written file")
    p.set_defaults(run=run)


def format_from_suffix(path: Path) -> str:
    """The export format implied by a file suffix.

    Raises:
        InvalidConfigError: If the suffix is not one of ``.onnx``, ``.pt2``, ``.pt``, ``.ts``.

    Example:
        >>> from pathlib import Path
        >>> format_from_suffix(Path("g.onnx")), format_from_suffix(Path("g.pt2"))
        ('onnx', 'exported-program')
    """
    from ..errors import InvalidConfigError

    fmt = _SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidConfigError(
            f"cannot tell the format from {str(path)!r}; pass --format onnx|torchscript|exported-program "
            f"or use one of the suffixes {sorted(_SUFFIX_FORMATS)}."
        )
    return fmt


def load_generator(name: str, *, random_weights: bool = False):
    """Resolve MODEL as the CLI does: :func:`cgan_zoo.load_generator`, or random weights.

    Args:
        name: Anything :func:`cgan_zoo.load_generator` takes (a ``save_pretrained``
            folder, a trainer run folder or checkpoint, a Hub id, a pretrained name) or,
            with ``random_weights``, an architecture name.
        random_weights: Build a bare architecture name with random weights
            (:func:`cgan_zoo.create_model`), even if it has pretrained weights.

    Returns:
        The model in eval mode.

    Raises:
        InvalidConfigError: For an unknown name, or an architecture without weights
            when ``random_weights`` is false.

    Example:
        >>> load_generator("unet_tiny", random_weights=True).training
        False
    """
    from .._factory import create_model
    from .._factory import load_generator as load
    from .._registry import has_pretrained, list_models, list_pretrained
    from ..errors import InvalidConfigError

    is_architecture = name in list_models() and not Path(name).exists()
    if is_architecture and random_weights:
        return create_model(name).eval()
    if is_architecture and not has_pretrained(name):
        raise InvalidConfigError(
            f"{name!r} is an architecture without pretrained weights. Pass --random-weights to "
            "export it with random weights (for testing), a folder made by save_pretrained, a "
            f"trainer run folder, or a pretrained name: {list_pretrained() or 'none registered'}."
        )
    return load(name).eval()


def run(args: argparse.Namespace) -> int:
    from ..export import export_generator

    fmt = args.format or format_from_suffix(args.out)
    model = load_generator(args.model, random_weights=args.random_weights)
    path = export_generator(
        model,
        args.out,
        fmt,
        example_size=args.size,
        fold_bn=not args.no_fold_bn,
        verify=not args.no_verify,
    )
    stride = getattr(model, "stride", 1)
    channels = getattr(model, "in_channels", "C")
    size_mb = path.stat().st_size / 1e6
    print(
        f"wrote {path} ({fmt}, {size_mb:.1f} MB); input (batch, {channels}, {stride}*h, {stride}*w)"
        + ("" if args.no_verify else ", checked against the eager model")
    )
    return 0
