"""``cgan-zoo video``: colorize a video file frame by frame (needs the ``[video]`` extra)."""

from __future__ import annotations

import argparse
import math
import sys

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``video`` subcommand.

    Args:
        sub: The ``add_subparsers()`` object of the ``cgan-zoo`` parser.

    Example:
        >>> parser = argparse.ArgumentParser(prog="cgan-zoo")
        >>> add_parser(parser.add_subparsers(dest="command"))
        >>> args = parser.parse_args(["video", "in.mp4", "out.mp4", "--smoothing", "0.5"])
        >>> args.input, args.output, args.smoothing
        ('in.mp4', 'out.mp4', 0.5)
    """
    from ..pipelines.defaults import DEFAULT_SCENE_CUT_THRESHOLD

    p = sub.add_parser(
        "video",
        help="colorize a video (keeps frame count, size, frame rate and audio)",
        description=(
            "Colorize IN frame by frame into OUT (container from its extension). Colours are "
            "smoothed over time and the smoothing restarts at scene cuts. Needs "
            'pip install "cgan-zoo[video]".'
        ),
    )
    p.add_argument("input", metavar="IN", help="input video file")
    p.add_argument("output", metavar="OUT", help="output video file, e.g. out.mp4")
    p.add_argument(
        "--model",
        default=None,
        metavar="NAME_OR_PATH",
        help="registered pretrained name, save_pretrained folder, trainer run folder or "
        "checkpoint, or Hub id (default: the default colorizer)",
    )
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="working resolution of the long side (default: model's)",
    )
    p.add_argument(
        "--smoothing",
        type=float,
        default=0.6,
        help="temporal smoothing of colours in [0, 1) (default: 0.6)",
    )
    p.add_argument(
        "--scene-cut-threshold",
        type=float,
        default=DEFAULT_SCENE_CUT_THRESHOLD,
        help=f"gray-difference threshold in [0, 1] that restarts smoothing; 'inf' disables (default: {DEFAULT_SCENE_CUT_THRESHOLD})",
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto (default: cpu)")
    p.add_argument("--batch-size", type=int, default=8, help="frames per forward pass (default: 8)")
    p.add_argument("--codec", default="libx264", help="FFmpeg video encoder (default: libx264)")
    p.add_argument(
        "--crf",
        type=int,
        default=18,
        help="quality for x264/x265/vp9, lower is better (default: 18)",
    )
    p.add_argument("--fast", action="store_true", help="use the optimized inference module")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``cgan-zoo video``; returns the exit code.

    Example:
        >>> ns = argparse.Namespace(input="missing.mp4", output="out.mp4", model=None, size=None,
        ...     smoothing=0.6, scene_cut_threshold=0.12, device="cpu", batch_size=8, codec="libx264",
        ...     crf=18, fast=False, no_progress=True)
        >>> run(ns)  # the input is missing: one line on stderr, exit code 1
        1
    """
    from pathlib import Path

    def error(message: str) -> int:
        print(f"cgan-zoo video: error: {message}", file=sys.stderr)
        return 1

    if not Path(args.input).is_file():
        return error(f"input video {args.input!r} does not exist or is not a file")
    out = Path(args.output)
    if out.is_dir():
        return error(f"output {args.output!r} is a folder; pass a video file name such as out.mp4")

    from ..pipelines.colorizer import Colorizer
    from ..pipelines.defaults import default_model_name
    from ..pipelines.video import check_codec, colorize_video

    check_codec(args.codec)  # before the model loads and the progress bar starts
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return error(f"cannot create output folder {str(out.parent)!r}: {exc}")
    kwargs = {"device": args.device, "batch_size": args.batch_size, "fast": args.fast}
    if args.size is not None:
        kwargs["size"] = args.size
    colorizer = Colorizer.from_pretrained(args.model or default_model_name(), **kwargs)
    threshold = args.scene_cut_threshold
    info = colorize_video(
        args.input,
        args.output,
        colorizer=colorizer,
        smoothing=args.smoothing,
        scene_cut_threshold=math.inf if math.isinf(threshold) else threshold,
        progress=not args.no_progress,
        codec=args.codec,
        crf=args.crf,
    )
    width, height = info["size"]
    audio = "with audio" if info["audio"] else "no audio"
    print(
        f"{args.input} -> {info['output']}: {info['frames']} frames, {width}x{height}, "
        f"{info['fps']:.3f} fps, {audio}, {len(info['scene_cuts'])} scene cut(s)"
    )
    return 0
