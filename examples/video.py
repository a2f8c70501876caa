"""Colorize a video: frame by frame, with temporal smoothing and scene-cut resets.

A short gray clip is generated: the camera pans across scikit-image's ``coffee``
photo, then cuts to its ``chelsea`` photo. ``colorize_video`` streams it through the colorizer,
smooths the colours over time (after undoing the pan) and restarts the smoothing at the
cut. The output keeps the frame count, size and frame rate. Needs the ``[video]`` extra
(PyAV): ``pip install "cgan-zoo[video]"``.

Usage::

    python examples/video.py --out out/video
    python examples/video.py --fast   # tiny random model, for tests

The same from the command line::

    cgan-zoo video clip.mp4 clip_color.mp4 --smoothing 0.6
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np
from PIL import Image

import cgan_zoo
from cgan_zoo.pipelines import Colorizer, colorize_video

PRETRAINED = "unet_efficientnet_lite0.nature"


def make_colorizer(fast: bool) -> Colorizer:
    """The pretrained colorizer, or a tiny random one (``--fast``, or no weights installed)."""
    if not fast and PRETRAINED in cgan_zoo.list_pretrained():
        return Colorizer.from_pretrained(PRETRAINED, batch_size=8)
    if not fast:
        print(f"{PRETRAINED!r} is not installed; using a tiny random model (colours are noise).")
    return Colorizer(cgan_zoo.create_model("unet_tiny"), size=64, batch_size=8)


def make_clip(path: Path, fast: bool) -> tuple[int, int]:
    """Write a gray clip (a pan, then a cut); return ``(frame count, index of the cut)``."""
    from skimage import data

    from cgan_zoo.pipelines.video import write_frames

    height, width, step = (64, 96, 2) if fast else (240, 320, 4)
    pan_frames, still_frames = (8, 4) if fast else (40, 20)
    scene = Image.fromarray(data.coffee()).convert("L")
    # scale the photo so that it is wide enough for the pan, then keep a band of `height` rows
    scale = max((width + pan_frames * step) / scene.width, height / scene.height)
    scene = scene.resize((round(scene.width * scale), round(scene.height * scale)))
    top = (scene.height - height) // 2
    scene = scene.crop((0, top, scene.width, top + height))
    cat = Image.fromarray(data.chelsea()).convert("L").resize((width, height))
    frames = [np.asarray(scene)[:, i * step : i * step + width] for i in range(pan_frames)]
    frames += [np.asarray(cat)] * still_frames
    write_frames(path, [np.repeat(f[:, :, None], 3, axis=2) for f in frames], fps=12)
    return len(frames), pan_frames


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("out/video"), help="output folder")
    parser.add_argument("--fast", action="store_true", help="tiny random model and a tiny clip")
    args = parser.parse_args()
    if importlib.util.find_spec("av") is None:
        print('skipped: video needs PyAV; install it with: pip install "cgan-zoo[video]"')
        sys.exit(0)
    args.out.mkdir(parents=True, exist_ok=True)

    clip = args.out / "gray_clip.mp4"
    n_frames, cut = make_clip(clip, args.fast)
    info = colorize_video(
        clip,
        args.out / "color_clip.mp4",
        colorizer=make_colorizer(args.fast),
        smoothing=0.6,
        progress=False,
    )

    assert info["frames"] == n_frames, info
    assert cut in info["scene_cuts"], info["scene_cuts"]
    print(
        f"ok: {info['frames']} frames at {info['fps']:g} fps, {info['size'][0]}x{info['size'][1]}, "
        f"scene cuts at {info['scene_cuts']}; wrote {info['output']}"
    )


if __name__ == "__main__":
    main()
