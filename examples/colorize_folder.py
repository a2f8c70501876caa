"""Colorize every photo of a folder, batching photos of the same working size.

A folder of gray photos of different sizes is made from scikit-image's sample photos
(pass ``--input`` to use your own folder). Every photo is
written to ``OUT/<name>.png`` at its own size. This is what the command line does::

    cgan-zoo colorize photos/*.jpg -o out/

Usage::

    python examples/colorize_folder.py --out out/colorize_folder
    python examples/colorize_folder.py --input my_photos/ --out out/
    python examples/colorize_folder.py --fast   # tiny random model, for tests
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

import cgan_zoo
from cgan_zoo.data import list_images, load_rgb
from cgan_zoo.pipelines import Colorizer

PRETRAINED = "unet_efficientnet_lite0.nature"


def make_colorizer(fast: bool) -> Colorizer:
    """The pretrained colorizer, or a tiny random one (``--fast``, or no weights installed)."""
    if not fast and PRETRAINED in cgan_zoo.list_pretrained():
        return Colorizer.from_pretrained(PRETRAINED, batch_size=4)
    if not fast:
        print(f"{PRETRAINED!r} is not installed; using a tiny random model (colours are noise).")
    return Colorizer(cgan_zoo.create_model("unet_tiny"), size=64, batch_size=4)


def make_gray_folder(folder: Path, fast: bool) -> Path:
    """Write gray copies of a few sample photos (of different sizes) into ``folder``."""
    from skimage import data

    photos = {
        "chelsea": data.chelsea(),
        "coffee": data.coffee(),
        "rocket": data.rocket(),
        "astronaut": data.astronaut(),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in photos.items():
        img = Image.fromarray(array).convert("L")
        if fast:
            img = img.resize((img.width // 4, img.height // 4))
        img.save(folder / f"{name}.jpg", quality=92)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--input", type=Path, help="folder of photos (default: sample photos)")
    parser.add_argument(
        "--out", type=Path, default=Path("out/colorize_folder"), help="output folder"
    )
    parser.add_argument("--fast", action="store_true", help="tiny random model and small images")
    args = parser.parse_args()

    source = args.input or make_gray_folder(args.out / "gray", args.fast)
    files = list_images(source)
    colorizer = make_colorizer(args.fast)
    results = args.out / "colorized"
    results.mkdir(parents=True, exist_ok=True)

    chunk = 8  # load a few files at a time: the whole folder never sits in memory
    for start in range(0, len(files), chunk):
        batch = files[start : start + chunk]
        images = [load_rgb(f) for f in batch]  # RGB inputs are reduced to their lightness
        for path, image, colorized in zip(batch, images, colorizer.colorize_batch(images)):
            assert colorized.size == image.size, (path, colorized.size, image.size)
            colorized.save(results / f"{path.stem}.png")

    written = sorted(p.name for p in results.glob("*.png"))
    assert written == sorted(f"{f.stem}.png" for f in files), written
    print(f"ok: colorized {len(written)} photos into {results}")


if __name__ == "__main__":
    main()
