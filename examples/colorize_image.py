"""Colorize one grayscale photo at its full resolution.

The photo is scikit-image's ``chelsea`` (a cat; pass ``--image`` for your own). It is
turned gray, colorized, and saved next to a side-by-side strip gray | colorized |
original. The colorizer predicts colour at a small working size and recombines it with
the photo's own full-resolution lightness, so the output has the input's exact size.

Usage::

    python examples/colorize_image.py --out out/colorize_image
    python examples/colorize_image.py --image photo.jpg --out out/
    python examples/colorize_image.py --fast   # tiny random model, for tests

Without ``--fast`` the bundled pretrained colorizer is used when it is installed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

import cgan_zoo
from cgan_zoo.pipelines import Colorizer

PRETRAINED = "unet_efficientnet_lite0.nature"


def make_colorizer(fast: bool) -> Colorizer:
    """The pretrained colorizer, or a tiny random one (``--fast``, or no weights installed)."""
    if not fast and PRETRAINED in cgan_zoo.list_pretrained():
        return Colorizer.from_pretrained(PRETRAINED)
    if not fast:
        print(f"{PRETRAINED!r} is not installed; using a tiny random model (colours are noise).")
    return Colorizer(cgan_zoo.create_model("unet_tiny"), size=64)


def load_photo(path: Path | None, fast: bool) -> Image.Image:
    if path is not None:
        return Image.open(path).convert("RGB")
    from skimage import data

    photo = Image.fromarray(data.chelsea())  # 451 x 300
    return photo.resize((150, 100)) if fast else photo


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--image", type=Path, help="a photo to colorize (default: scikit-image's chelsea)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("out/colorize_image"), help="output folder"
    )
    parser.add_argument("--fast", action="store_true", help="tiny random model and a small image")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    original = load_photo(args.image, args.fast)
    gray = original.convert("L")
    colorizer = make_colorizer(args.fast)
    colorized = colorizer(gray)  # a PIL image in, a PIL RGB image out, same size

    gray.save(args.out / "gray.png")
    colorized.save(args.out / "colorized.png")
    strip = np.concatenate(
        [np.asarray(gray.convert("RGB")), np.asarray(colorized), np.asarray(original)], axis=1
    )
    Image.fromarray(strip).save(args.out / "gray_colorized_original.png")

    assert colorized.mode == "RGB" and colorized.size == gray.size, (colorized.mode, colorized.size)
    print(
        f"ok: {colorizer!r}\n    wrote {args.out / 'colorized.png'} ({colorized.size[0]}x{colorized.size[1]})"
    )


if __name__ == "__main__":
    main()
