"""Read the photos of an evaluation: a folder, a file list or a split's ``val`` list.

Every photo is read as sRGB (EXIF orientation applied) and downscaled with Lanczos,
aspect kept, so that its long side is at most ``max_side`` pixels (smaller photos are
kept as they are). That colour photo is the reference the colorizer is scored against.
Where a ``SOURCES.tsv`` (columns ``file``, ``package``, ``subject``, ...) sits next to the
photos, each photo carries its source package and subject.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import InvalidInputError

__all__ = [
    "DEFAULT_MAX_SIDE",
    "IMAGE_SUFFIXES",
    "SUBJECT_GROUPS",
    "EvalImage",
    "load_photo",
    "list_photos",
    "split_names",
    "read_sources",
    "subject_group",
    "load_images",
]

#: Default long side, in pixels, photos are downscaled to before evaluation.
DEFAULT_MAX_SIDE = 512
#: File suffixes :func:`list_photos` picks up.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
#: Coarse subject groups of a ``SOURCES.tsv`` subject: the first group with a word that
#: occurs in the subject wins; subjects matching none are ``"other"``.
SUBJECT_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "animals",
        ("animal", "cat", "dog", "bird", "insect", "butterfly", "squirrel", "mandrill", "fish"),
    ),
    ("plants", ("plant", "flower", "fruit", "leaf", "tree", "forest")),
    ("water", ("water", "sea", "lake", "coast", "beach", "ocean", "underwater", "river")),
    ("skies", ("sky", "cloud", "sunset", "sunrise")),
    ("landscapes", ("landscape", "nature", "mountain", "panorama", "desert", "canyon", "field")),
    ("textures", ("texture",)),
)


@dataclass
class EvalImage:
    """One evaluation photo.

    Attributes:
        name: Its path relative to the data folder (``/``-separated).
        rgb: The reference photo, sRGB in [0, 1], already downscaled.
        package: Source package from ``SOURCES.tsv`` (``""`` when unknown).
        subject: Subject from ``SOURCES.tsv`` (``""`` when unknown).

    Shape:
        - rgb: ``(1, 3, H, W)``.

    Example:
        >>> im = EvalImage("a.png", torch.zeros(1, 3, 4, 6), subject="sky")
        >>> im.size, im.group
        ((4, 6), 'skies')
    """

    name: str
    rgb: torch.Tensor
    package: str = ""
    subject: str = ""

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)`` of the (downscaled) photo."""
        return int(self.rgb.shape[-2]), int(self.rgb.shape[-1])

    @property
    def group(self) -> str:
        """The coarse subject group (:func:`subject_group`), ``"none"`` without a subject."""
        return subject_group(self.subject)


def subject_group(subject: str) -> str:
    """Coarse group of a ``SOURCES.tsv`` subject (:data:`SUBJECT_GROUPS`).

    Example:
        >>> subject_group("landscape: glacier front"), subject_group("butterfly"), subject_group("")
        ('landscapes', 'animals', 'none')
    """
    s = subject.strip().lower()
    if not s:
        return "none"
    for group, words in SUBJECT_GROUPS:
        if any(w in s for w in words):
            return group
    return "other"


def load_photo(path: str | os.PathLike, max_side: int = DEFAULT_MAX_SIDE) -> torch.Tensor:
    """Read a photo as sRGB in [0, 1] with its long side at most ``max_side`` pixels.

    Args:
        path: An image file Pillow can read.
        max_side: Largest long side; larger photos are downscaled (Lanczos, aspect kept).

    Returns:
        The photo.

    Raises:
        InvalidInputError: If the file does not exist or is not a readable image, or
            ``max_side`` is not a positive integer.

    Shape:
        - returns: ``(1, 3, H, W)`` float32.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> path = tempfile.mkdtemp() + "/red.png"
        >>> Image.new("RGB", (100, 50), (255, 0, 0)).save(path)
        >>> load_photo(path, max_side=40).shape
        torch.Size([1, 3, 20, 40])
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(max_side, bool) or not isinstance(max_side, int) or max_side < 1:
        raise InvalidInputError(
            f"max_side must be a positive integer, got {max_side!r}; for example 512."
        )
    p = Path(path)
    if not p.is_file():
        raise InvalidInputError(f"photo {str(p)!r} does not exist or is not a file.")
    try:
        with Image.open(p) as file:
            photo: Image.Image = ImageOps.exif_transpose(file).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidInputError(f"cannot read photo {str(p)!r}: {exc}") from None
    scale = max_side / max(photo.size)
    if scale < 1:
        size = (max(1, round(photo.width * scale)), max(1, round(photo.height * scale)))
        photo = photo.resize(size, Image.Resampling.LANCZOS)
    arr = np.asarray(photo, dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1)[None].contiguous()


def list_photos(folder: str | os.PathLike) -> list[str]:
    """Every image file under ``folder`` (recursively), as sorted relative ``/`` paths.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "sub").mkdir()
        >>> Image.new("RGB", (4, 4)).save(root / "sub" / "b.png")
        >>> Image.new("RGB", (4, 4)).save(root / "a.jpg")
        >>> list_photos(root)
        ['a.jpg', 'sub/b.png']
    """
    root = Path(folder)
    if not root.is_dir():
        raise InvalidInputError(f"data folder {str(root)!r} does not exist or is not a folder.")
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )


def split_names(split: str | os.PathLike | Mapping[str, Any], part: str = "val") -> list[str]:
    """The photo names of one part of a split (a dict or a JSON file such as ``recipes/nature_split.json``).

    Raises:
        InvalidInputError: If the file is missing or not JSON, or ``part`` is not a list in it.

    Example:
        >>> split_names({"train": ["a.jpg"], "val": ["b.jpg", "c.jpg"]})
        ['b.jpg', 'c.jpg']
    """
    if isinstance(split, Mapping):
        data: Any = split
        label = "the split"
    else:
        label = repr(str(split))
        try:
            data = json.loads(Path(split).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InvalidInputError(f"split file {label} does not exist.") from None
        except (OSError, ValueError) as exc:
            raise InvalidInputError(f"cannot read split file {label}: {exc}") from None
    names = data.get(part) if isinstance(data, Mapping) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InvalidInputError(
            f"{label} has no list of file names under {part!r}; expected JSON like "
            f'{{"train": [...], "{part}": ["folder/photo.jpg", ...]}}.'
        )
    return list(names)


def read_sources(root: str | os.PathLike) -> dict[str, dict[str, str]]:
    """Rows of every ``SOURCES.tsv`` in ``root`` and its direct subfolders, keyed by photo name.

    The name is the photo's path relative to ``root`` (``sub/file.jpg`` for a table in
    ``root/sub/``). Folders without a table give nothing, so the result may be empty.

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> _ = (root / "SOURCES.tsv").write_text("file\\tpackage\\tsubject\\na.jpg\\tpkg\\tsky\\n")
        >>> read_sources(root)["a.jpg"]["package"]
        'pkg'
    """
    base = Path(root)
    out: dict[str, dict[str, str]] = {}
    tables = [base / "SOURCES.tsv"] + sorted(base.glob("*/SOURCES.tsv"))
    for table in tables:
        if not table.is_file():
            continue
        prefix = "" if table.parent == base else table.parent.name + "/"
        with open(table, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                if row.get("file"):
                    out[prefix + row["file"]] = {k: (v or "") for k, v in row.items() if k}
    return out


def load_images(
    root: str | os.PathLike,
    names: Iterable[str] | None = None,
    *,
    max_side: int = DEFAULT_MAX_SIDE,
    limit: int | None = None,
    sources: Mapping[str, Mapping[str, str]] | None = None,
) -> list[EvalImage]:
    """Load the evaluation photos.

    Args:
        root: The data folder.
        names: Photo paths relative to ``root``; ``None``: every photo under it
            (:func:`list_photos`).
        max_side: Long side the photos are downscaled to.
        limit: Keep only this many, spread evenly over the list (for quick checks).
        sources: Rows keyed by name (default: :func:`read_sources` of ``root``).

    Returns:
        One :class:`EvalImage` per photo, in the order of ``names``.

    Raises:
        InvalidInputError: If a photo is missing or unreadable, or there are none.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> root = Path(tempfile.mkdtemp())
        >>> Image.new("RGB", (64, 32), (0, 90, 200)).save(root / "sea.png")
        >>> [(im.name, im.size) for im in load_images(root, max_side=32)]
        [('sea.png', (16, 32))]
    """
    base = Path(root)
    if not base.is_dir():
        raise InvalidInputError(f"data folder {str(base)!r} does not exist or is not a folder.")
    chosen: Sequence[str] = list_photos(base) if names is None else list(names)
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidInputError(f"limit must be a positive integer or None, got {limit!r}.")
        if limit < len(chosen):
            picks = sorted({round(i * (len(chosen) - 1) / max(1, limit - 1)) for i in range(limit)})
            chosen = [chosen[i] for i in picks]
    if not chosen:
        raise InvalidInputError(
            f"no photos to evaluate in {str(base)!r} (looked for {', '.join(IMAGE_SUFFIXES)})."
        )
    rows = read_sources(base) if sources is None else sources
    images = []
    for name in chosen:
        row = rows.get(name, {})
        images.append(
            EvalImage(
                name=name,
                rgb=load_photo(base / name, max_side),
                package=row.get("package", ""),
                subject=row.get("subject", ""),
            )
        )
    return images
