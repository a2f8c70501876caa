"""Sample grids of colorizers: one row per photo, gray input first and original last.

Usage::

    # the colour-uncertainty knob of one model, one column per temperature
    python scripts/plot_sample_grid.py --model unet_efficientnet_lite0.nature \
        --temperatures 1.0,0.6,0.38,0.2,0.05 \
        --images PHOTO [PHOTO ...] --out docs/assets/temperature_grid.jpg

    # several models side by side (for example the paper's network and the default)
    python scripts/plot_sample_grid.py --model pix2pix_unet256.nature unet_efficientnet_lite0.nature \
        --images PHOTO [PHOTO ...] --out docs/assets/pix2pix_vs_default.jpg

Columns: the gray input, each model (at each temperature with ``--temperatures``), and
the original photo. Each photo is shown at ``--height`` pixels; the models run at their
usual working size. The labels are drawn with PIL's default font.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from cgan_zoo.pipelines import Colorizer

GAP = 4


def label(img: Image.Image, text: str) -> Image.Image:
    out = Image.new("RGB", (img.width, img.height + 16), "white")
    out.paste(img, (0, 16))
    ImageDraw.Draw(out).text((4, 2), text, fill="black")
    return out


def stack(images: list[Image.Image], horizontal: bool) -> Image.Image:
    """Paste ``images`` side by side (or one below the other) with a white gap."""
    if horizontal:
        size = (
            sum(i.width for i in images) + GAP * (len(images) - 1),
            max(i.height for i in images),
        )
    else:
        size = (
            max(i.width for i in images),
            sum(i.height for i in images) + GAP * (len(images) - 1),
        )
    out = Image.new("RGB", size, "white")
    offset = 0
    for img in images:
        out.paste(img, (offset, 0) if horizontal else (0, offset))
        offset += (img.width if horizontal else img.height) + GAP
    return out


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--model", nargs="+", required=True, help="one or more pretrained names or folders"
    )
    p.add_argument("--label", nargs="+", help="column label per model (default: the model name)")
    p.add_argument("--images", nargs="+", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--temperatures", help="comma-separated temperatures (colour-bin models only)")
    p.add_argument("--height", type=int, default=160)
    args = p.parse_args()

    labels = args.label or args.model
    if len(labels) != len(args.model):
        raise SystemExit(
            f"--label needs one label per --model ({len(args.model)}), got {len(labels)}"
        )
    temperatures = [float(t) for t in args.temperatures.split(",")] if args.temperatures else [None]
    colorizers = [Colorizer.from_pretrained(m) for m in args.model]
    for name, c in zip(args.model, colorizers):
        if args.temperatures and not c.supports_temperature:
            raise SystemExit(f"{name} has no temperature knob (it is not a colour-bin model)")
    rows = []
    for path in args.images:
        photo = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        scale = args.height / photo.height
        photo = photo.resize(
            (max(1, round(photo.width * scale)), args.height), Image.Resampling.LANCZOS
        )
        gray = photo.convert("L").convert("RGB")
        cells = [label(gray, "gray input")]
        for text, colorizer in zip(labels, colorizers):
            for t in temperatures:
                caption = (
                    text
                    if t is None
                    else (f"T = {t:g}" if len(colorizers) == 1 else f"{text} T={t:g}")
                )
                cells.append(label(colorizer(gray, temperature=t), caption))
        cells.append(label(photo, "original"))
        rows.append(stack(cells, horizontal=True))
    grid = stack(rows, horizontal=False)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(args.out, quality=85, optimize=True)
    print(f"wrote {args.out} ({grid.width}x{grid.height})")


if __name__ == "__main__":
    main()
