"""Generate ``docs/data_sources.md``: where every training and validation photo comes from.

Reads the ``SOURCES.tsv`` of each folder of the nature photo collection (``train/``,
``more/``, ``extra/``, ``landscapes/``) and writes one table per folder with the file, the Debian/PyPI
package it ships in, the package version, the licence, the subject and the attribution,
for exactly the files used by the split in ``recipes/nature_split.json`` (training and
validation). The data is named by its package source only, never by a local path.

``scripts/evaluate_pretrained.py`` imports :func:`used_sources` and
:func:`licence_summary` from here for the model cards.

Usage::

    python scripts/sources_table.py --data NATURE_ROOT [--split recipes/nature_split.json] \
        [--out docs/data_sources.md]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("train", "more", "extra", "landscapes")
DEFAULT_SPLIT = REPO / "recipes" / "nature_split.json"
DEFAULT_OUT = REPO / "docs" / "data_sources.md"
COMMAND = "python scripts/sources_table.py --data NATURE_ROOT"

FOLDER_NOTES = {
    "train": "Nature scene photos: mostly animals (GCompris), plus plants, macro shots, lakes, "
    "dunes, skies and underwater scenes (MATE, LXQt, KDE Plasma, libjxl, OpenCV docs) and "
    "sample images of scikit-learn, scikit-image, SciPy and imgaug.",
    "more": "Photographic textures of natural materials (ground, rock, grass, bark, sand, snow) "
    "from game data packages, and landscapes and skies (Tux Typing's Wikimedia featured "
    "landscapes, TORCS panoramas, Blender's tone-mapped HDRI skies, trigger-rally clouds). "
    "Many textures were edited upstream to tile seamlessly; some were converted losslessly "
    "from DDS/TGA to PNG (see the attribution column).",
    "extra": "Other real photos (landmarks, buildings, people) used for variety, a few of them "
    "near-grayscale.",
    "landscapes": "Landscapes, coasts, skies, plants and animals: mostly the planet-landing photos "
    "of Endless Sky, plus Plasma avatars, Scratch backgrounds, Colobot skies and single photos "
    "of other packages. Re-encoded as JPEG (quality 92, 4:4:4) at the original size; "
    "`scripts/rebuild_nature_data.py recipes/data/landscapes/MANIFEST.tsv` rebuilds them from "
    "the packages, verifying the sha256 of every original.",
}


def read_sources(folder: Path) -> list[dict[str, str]]:
    """Rows of ``folder/SOURCES.tsv`` as dicts (tab-separated, with a header line)."""
    with open(folder / "SOURCES.tsv", newline="", encoding="utf-8") as fh:
        return [dict(row) for row in csv.DictReader(fh, delimiter="\t")]


def load_split(path: Path = DEFAULT_SPLIT) -> dict[str, list[str]]:
    """The ``{"train": [...], "val": [...]}`` split of ``folder/file`` names."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def used_sources(root: Path, split: dict[str, list[str]]) -> dict[str, list[dict[str, str]]]:
    """Per folder, the ``SOURCES.tsv`` rows of the files the split uses, sorted by file.

    Each row gets a ``"split"`` key (``"train"`` or ``"val"``) and a ``"name"`` key
    (``"folder/file"``, as in the split). Raises ``KeyError`` if the split names a file
    that no ``SOURCES.tsv`` describes.
    """
    part_of = {name: part for part in ("train", "val") for name in split.get(part, [])}
    out: dict[str, list[dict[str, str]]] = {}
    seen = set()
    for folder in FOLDERS:
        if not (Path(root) / folder / "SOURCES.tsv").is_file():
            continue
        rows = []
        for row in read_sources(Path(root) / folder):
            name = f"{folder}/{row['file']}"
            if name in part_of:
                rows.append({**row, "name": name, "split": part_of[name]})
                seen.add(name)
        out[folder] = sorted(rows, key=lambda r: r["file"])
    missing = sorted(set(part_of) - seen)
    if missing:
        raise KeyError(f"the split names files no SOURCES.tsv describes: {missing[:5]}")
    return out


def licence_family(text: str) -> str:
    """Short licence family of a free-text licence field, for summaries."""
    t = text.strip().strip('"').lower()
    if t.startswith(("public domain", "public-domain")):
        return "Public domain"
    if t.startswith("cc0"):
        return "CC0"
    m = re.match(r"cc-by(-sa)?[- ](\d\.\d)", t)
    if m:
        return f"CC-BY{'-SA' if m.group(1) else ''}-{m.group(2)}"
    for prefix, family in (
        ("lgpl", "LGPL"),
        ("gpl", "GPL"),
        ("apache", "Apache-2.0 / BSD"),
        ("bsd", "BSD"),
        ("mit", "MIT"),
        ("expat", "MIT"),
        ("package mit", "MIT"),
    ):
        if t.startswith(prefix):
            return family
    return text.split("(")[0].strip() or "unknown"


def licence_summary(rows: list[dict[str, str]]) -> list[tuple[str, int]]:
    """``(licence family, number of files)``, most common first."""
    return Counter(licence_family(r["license"]) for r in rows).most_common()


def package_summary(rows: list[dict[str, str]]) -> list[tuple[str, int]]:
    """``(package, number of files)``, most common first."""
    return Counter(r["package"] for r in rows).most_common()


def _cell(text: str) -> str:
    text = " ".join(str(text).split())
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def render(used: dict[str, list[dict[str, str]]], command: str = COMMAND) -> str:
    """The Markdown text of ``docs/data_sources.md``."""
    every = [r for rows in used.values() for r in rows]
    n_val = sum(r["split"] == "val" for r in every)
    lines = [
        f"<!-- GENERATED by scripts/sources_table.py; do not edit. Regenerate with: {command} -->",
        "",
        "# Data sources of the pretrained weights",
        "",
        "The pretrained colorizers (`unet_efficientnet_lite0.nature` and "
        "`unet_efficientnet_lite0.nature_missing`) were trained on real photographs that ship "
        "inside public Debian and PyPI packages. This page lists, for every photo the split "
        "in `recipes/nature_split.json` uses, the package it comes from, the package version, "
        "its licence, its subject and its attribution, as recorded by the collection's "
        "`SOURCES.tsv` files. No photo of `train/`, `more/` and `extra/` was edited (those of "
        "`landscapes/` were re-encoded, see below); crops, resizing and augmentation happen "
        "in the training code.",
        "",
        f"In all: **{len(every)} photos** from **{len({r['package'] for r in every})} "
        f"packages**, {len(every) - n_val} for training and {n_val} held out for validation "
        "(column *split*; validation holds out whole source packages, so no package has photos "
        "on both sides).",
        "",
        "## Licences",
        "",
        "Licence texts grouped by the first licence they name (the tables below give each text in full).",
        "",
        "| licence family | photos |",
        "|---|---:|",
    ]
    lines += [f"| {_cell(fam)} | {n} |" for fam, n in licence_summary(every)]
    lines += [
        "",
        "The *licence* column of each table below gives the exact licence text recorded for "
        "the file (often the package's Debian copyright entry). Credit the authors in the "
        "*attribution* column when you redistribute the photos or works derived from them.",
        "",
        "## Packages",
        "",
        "| package | photos |",
        "|---|---:|",
    ]
    lines += [f"| {_cell(pkg)} | {n} |" for pkg, n in package_summary(every)]
    for folder, rows in used.items():
        lines += [
            "",
            f"## `{folder}/` ({len(rows)} photos)",
            "",
            FOLDER_NOTES.get(folder, ""),
            "",
            "| file | split | package | version | licence | subject | attribution |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            "| "
            + " | ".join(
                _cell(r.get(k, ""))
                for k in (
                    "file",
                    "split",
                    "package",
                    "version",
                    "license",
                    "subject",
                    "attribution_note",
                )
            )
            + " |"
            for r in rows
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        help="NATURE_ROOT: folder holding train/, more/, extra/ and landscapes/",
    )
    p.add_argument("--split", type=Path, default=DEFAULT_SPLIT)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    used = used_sources(args.data, load_split(args.split))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(used), encoding="utf-8")
    n = sum(len(rows) for rows in used.values())
    print(f"wrote {args.out} ({n} photos in {len(used)} tables)")


if __name__ == "__main__":
    main()
