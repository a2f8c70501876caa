"""Sample grid of the colour-uncertainty knob: one row per photo, one column per temperature.

Usage::

    python scripts/plot_temperature_grid.py --model unet_efficientnet_lite0.nature \
        --images PHOTO [PHOTO ...] --out docs/assets/temperature_grid.jpg \
        [--temperatures 1.0,0.6,0.38,0.2,0.05] [--height 160]

Columns: the gray input, the model at each temperature (high = muted where unsure, low
= vivid), and the original photo. Each photo is shown at ``--height`` pixels; the model
runs at its usual working size. The labels are drawn with PIL's default font.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from cgan_zoo.pipelines import Colorizer


def label(img: Image.Image, text: str) -> Image.Image:
    out = Image.new("RGB", (img.width, img.height + 16), "white")
    out.paste(img, (0, 16))
    ImageDraw.Draw(out).text((4, 2), text, fill="black")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--images", nargs="+", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--temperatures", default="1.0,0.6,0.38,0.2,0.05")
    p.add_argument("--height", type=int, default=160)
    args = p.parse_args()

    temperatures = [float(t) for t in args.temperatures.split(",")]
    colorizer = Colorizer.from_pretrained(args.model)
    if not colorizer.supports_temperature:
        raise SystemExit(f"{args.model} has no temperature knob (it is not a colour-bin model)")
    rows = []
    for path in args.images:
        photo = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        scale = args.height / photo.height
        photo = photo.resize((max(1, round(photo.width * scale)), args.height), Image.Resampling.LANCZOS)
        gray = photo.convert("L").convert("RGB")
        cells = [label(gray, "gray input")]
        cells += [label(colorizer(gray, temperature=t), f"T = {t:g}") for t in temperatures]
        cells.append(label(photo, "original"))
        row = Image.new("RGB", (sum(c.width for c in cells) + 4 * (len(cells) - 1), cells[0].height), "white")
        x = 0
        for cell in cells:
            row.paste(cell, (x, 0))
            x += cell.width + 4
        rows.append(row)
    grid = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows) + 4 * (len(rows) - 1)), "white")
    y = 0
    for row in rows:
        grid.paste(row, (0, y))
        y += row.height + 4
    args.out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(args.out, quality=85, optimize=True)
    print(f"wrote {args.out} ({grid.width}x{grid.height})")


if __name__ == "__main__":
    main()
