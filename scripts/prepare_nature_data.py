"""Prepare the nature photo collection for training the pretrained weights.

Reads the three folders of the collection (``train/``, ``more/``, ``extra/``, each with
a ``SOURCES.tsv`` that names the Debian/PyPI package and licence of every photo), fixes
the validation split of whole photos, and writes downscaled copies for fast training.

The split is a pure function of the sorted file names (no randomness), and is written
to ``recipes/nature_split.json`` so it is committed and never trained on:

* validation: every 6th scene photo of ``train/`` (offset 3) and every 4th landscape or
  sky of ``more/`` (offset 1); near-grayscale photos are excluded from both sets;
* training: everything else in ``train/``, ``more/`` and ``extra/``.

Usage::

    python scripts/prepare_nature_data.py NATURE_ROOT OUT_DIR [--short-side 320]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from PIL import Image

SCENE_WORDS = ("landscape", "sky", "skybox", "cloud", "panorama", "lake", "mountain", "forest", "sunset", "sunrise")


def read_sources(folder: Path) -> list[dict[str, str]]:
    with open(folder / "SOURCES.tsv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def make_split(root: Path) -> dict[str, list[str]]:
    train, val = [], []
    for sub in ("train", "more", "extra"):
        rows = sorted(read_sources(root / sub), key=lambda r: r["file"])
        scene_index = 0
        for i, row in enumerate(rows):
            subject = row["subject"].lower()
            if "near-grayscale" in subject or "grayscale" in subject:
                continue
            name = f"{sub}/{row['file']}"
            if sub == "train" and i % 6 == 3:
                val.append(name)
            elif sub == "more" and any(w in subject for w in SCENE_WORDS):
                if scene_index % 4 == 1:
                    val.append(name)
                else:
                    train.append(name)
                scene_index += 1
            else:
                train.append(name)
    return {"train": train, "val": val}


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
