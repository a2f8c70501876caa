"""Listing image files and loading them safely as RGB.

Two jobs live here:

* :func:`list_images` walks a folder (recursively by default) and returns the image files
  in a stable, sorted order;
* :func:`load_rgb` decodes one file into an RGB :class:`PIL.Image.Image` and turns every
  way a file can be broken (0 bytes, not an image, truncated, corrupt, missing) into an
  :class:`~cgan_zoo.errors.InvalidInputError` that names the file.

:func:`probe_images` is the cheap check the datasets run at construction so that bad
files are dropped in the main process and never reach ``DataLoader`` workers.
"""

from __future__ import annotations

import operator
import os
import struct
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.utils.data
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import InvalidInputError

__all__ = [
    "IMAGE_EXTENSIONS",
    "list_images",
    "load_rgb",
    "probe_images",
    "warn_skipped",
    "gather_image_files",
    "SafeImageDataset",
]

#: File extensions (lower case) that :func:`list_images` accepts by default.
IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")

# Everything PIL raises for files it cannot decode. ``SyntaxError`` and ``struct.error``
# come from some plugins' header parsers; ``DecompressionBombError`` is a ``ValueError``
# subclass but is listed for clarity.
_DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    UnidentifiedImageError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    Image.DecompressionBombError,
)

_JPEG_TAIL_BYTES = 4096
_EXIF_ORIENTATION = 0x0112


def list_images(
    root: str | os.PathLike[str],
    extensions: Sequence[str] = IMAGE_EXTENSIONS,
    recursive: bool = True,
) -> list[Path]:
    """List the image files under ``root``, sorted.

    Extensions are matched case-insensitively (``.JPG`` counts as ``.jpg``). Hidden files
    and folders (names starting with ``.``, such as macOS ``._photo.jpg`` resource forks)
    are ignored.

    Args:
        root: Folder to search.
        extensions: Accepted file extensions, with the leading dot.
        recursive: Also search sub-folders.

    Returns:
        Sorted list of paths (sorted by their POSIX string, so the order is the same on
        every platform).

    Raises:
        InvalidInputError: If ``root`` does not exist or is not a folder.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> for name in ["b.PNG", "a.jpg", "notes.txt"]:
        ...     _ = (d / name).write_bytes(b"")
        >>> [p.name for p in list_images(d)]
        ['a.jpg', 'b.PNG']
    """
    root = Path(root)
    if not root.exists():
        raise InvalidInputError(
            f"Image folder {str(root)!r} does not exist; expected an existing folder of images. "
            "Check the path."
        )
    if not root.is_dir():
        raise InvalidInputError(
            f"{str(root)!r} is a file, but a folder was expected; pass its parent folder or a list of files."
        )
    exts = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions}
    found: list[Path] = []
    if recursive:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if not name.startswith(".") and os.path.splitext(name)[1].lower() in exts:
                    found.append(Path(dirpath) / name)
    else:
        for p in root.iterdir():
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in exts:
                found.append(p)
    return sorted(found, key=lambda p: p.as_posix())


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _to_rgb(img: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB; transparent pixels are composited on ``background``."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        # 16/32-bit gray (for example 16-bit PNG or TIFF): rescale instead of clipping at 255.
        arr = np.asarray(img, dtype=np.float64)
        top = float(arr.max()) if arr.size else 0.0
        if img.mode == "F" and top <= 1.0:
            arr = arr * 255.0  # float image in [0, 1]
        elif img.mode.startswith("I;16") or top > 255.0:
            arr = arr * (255.0 / 65535.0)  # 16-bit range
        arr8 = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        return Image.fromarray(arr8, mode="L").convert("RGB")
    has_alpha = img.mode in ("RGBA", "LA", "La", "RGBa", "PA") or (
        img.mode == "P" and "transparency" in img.info
    )
    if has_alpha:
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*background, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return img.convert("RGB")


def load_rgb(
    path: str | os.PathLike[str],
    *,
    draft_size: int | tuple[int, int] | None = None,
    background: tuple[int, int, int] = (255, 255, 255),
) -> Image.Image:
    """Decode an image file into an 8-bit RGB :class:`PIL.Image.Image`.

    The whole image is decoded (``img.load()``), so truncated or corrupt files fail here
    and not later. EXIF orientation is applied. Gray, palette, CMYK and 16-bit images are
    converted to RGB; transparent pixels are composited on ``background``.

    Args:
        path: Image file.
        draft_size: If given and the file is a JPEG much larger than needed, let the JPEG
            decoder downscale by 1/2, 1/4 or 1/8 while decoding (``Image.draft``) such that
            both sides stay at least ``draft_size`` (an int, or ``(width, height)`` in the
            file's stored orientation). Much faster for big photos.
        background: RGB colour that transparent pixels are composited on.

    Returns:
        The decoded RGB image.

    Raises:
        InvalidInputError: If the file is missing, empty, not an image, truncated or
            corrupt. The message names the file.

    Example:
        >>> import tempfile, pathlib
        >>> from PIL import Image
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "gray.png"
        >>> Image.new("L", (4, 3), 128).save(p)
        >>> img = load_rgb(p)
        >>> img.mode, img.size
        ('RGB', (4, 3))
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise InvalidInputError(
                f"Cannot read image {str(path)!r}: the file is empty (0 bytes)."
            )
        with Image.open(path) as src:
            if draft_size is not None and src.format == "JPEG":
                dw, dh = (draft_size, draft_size) if isinstance(draft_size, int) else draft_size
                src.draft("RGB", (int(dw), int(dh)))
            src.load()
            img: Image.Image = src
            if src.getexif().get(_EXIF_ORIENTATION, 1) != 1:
                img = ImageOps.exif_transpose(src)
            rgb = _to_rgb(img, background)
            if rgb is src:
                rgb = src.copy()  # detach from the file before it is closed
    except InvalidInputError:
        raise
    except FileNotFoundError as exc:
        raise InvalidInputError(f"Cannot read image {str(path)!r}: file not found.") from exc
    except _DECODE_ERRORS as exc:
        raise InvalidInputError(
            f"Cannot read image {str(path)!r}: {_describe(exc)}. The file is not a readable image "
            "(corrupt, truncated or another format); remove or replace it."
        ) from exc
    return rgb


def _jpeg_looks_truncated(path: Path) -> bool:
    """True if the end-of-image marker (FF D9) is missing from the last few KB of the file."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - _JPEG_TAIL_BYTES))
        tail = f.read()
    return b"\xff\xd9" not in tail


def _probe_one(path: Path) -> tuple[tuple[int, int] | None, str | None]:
    """Return ``((width, height), None)`` for a good file or ``(None, reason)`` for a bad one."""
    try:
        if path.stat().st_size == 0:
            return None, "empty file (0 bytes)"
        with Image.open(path) as img:
            size = img.size
            fmt = img.format
            img.verify()
        # verify() checks little for JPEG: a missing end marker means the data may be cut
        # short, so only then pay for a full decode to be sure.
        if fmt == "JPEG" and _jpeg_looks_truncated(path):
            with Image.open(path) as img:
                img.load()
        if size[0] < 1 or size[1] < 1:
            return None, f"image has no pixels (size {size[0]}x{size[1]})"
        return size, None
    except FileNotFoundError:
        return None, "file not found"
    except _DECODE_ERRORS as exc:
        return None, _describe(exc)


def probe_images(
    files: Iterable[str | os.PathLike[str]],
    min_side: int | None = None,
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Cheaply check that files are readable images, without decoding them fully.

    Each file is opened with PIL and its header verified (``Image.open`` + ``verify``);
    JPEGs without an end-of-image marker are decoded fully to catch truncation.

    Args:
        files: Files to check.
        min_side: If given, images whose shorter side is below it are rejected too.

    Returns:
        ``(good, bad)``: the readable files in their original order, and
        ``(path, reason)`` pairs for the rejected ones.

    Example:
        >>> import tempfile, pathlib
        >>> from PIL import Image
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> Image.new("RGB", (8, 8)).save(d / "ok.png")
        >>> _ = (d / "bad.jpg").write_text("not an image")
        >>> good, bad = probe_images([d / "ok.png", d / "bad.jpg"])
        >>> [p.name for p in good], [p.name for p, _ in bad]
        (['ok.png'], ['bad.jpg'])
    """
    good: list[Path] = []
    bad: list[tuple[Path, str]] = []
    for f in files:
        path = Path(f)
        size, reason = _probe_one(path)
        if reason is None and size is not None and min_side is not None and min(size) < min_side:
            reason = f"too small ({size[0]}x{size[1]}, min_side={min_side})"
        if reason is None:
            good.append(path)
        else:
            bad.append((path, reason))
    return good, bad


def warn_skipped(
    bad: Sequence[tuple[Path, str]], what: str = "image files", stacklevel: int = 3
) -> None:
    """Emit ONE :class:`UserWarning` that lists every skipped file and why."""
    if not bad:
        return
    lines = "\n".join(f"  - {p}: {reason}" for p, reason in bad)
    warnings.warn(
        f"Skipped {len(bad)} unreadable or unusable {what}:\n{lines}\n"
        "Remove or replace them to silence this warning.",
        UserWarning,
        stacklevel=stacklevel,
    )


def _fmt_exts(extensions: Sequence[str]) -> str:
    return ", ".join(extensions)


def gather_image_files(
    root: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None,
    files: Sequence[str | os.PathLike[str]] | None = None,
    extensions: Sequence[str] = IMAGE_EXTENSIONS,
) -> list[Path]:
    """Resolve a dataset's ``root``/``files`` arguments into a list of image files.

    ``files`` wins when given. Otherwise ``root`` may be a folder (searched recursively),
    a single image file, or a list mixing both. Folders keep :func:`list_images` order;
    the parts of a list keep their order.

    Raises:
        InvalidInputError: If nothing is found; the message names the folder(s) and the
            accepted extensions.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> gather_image_files(d)
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidInputError: No image files found in ...
    """
    if files is not None:
        if isinstance(files, (str, os.PathLike)):
            files = [files]
        out = [Path(f) for f in files]
        if not out:
            raise InvalidInputError("files is an empty list; pass at least one image file.")
        return out
    if root is None:
        raise InvalidInputError("Pass a folder (root=...) or a list of image files (files=...).")
    roots = [root] if isinstance(root, (str, os.PathLike)) else list(root)
    if not roots:
        raise InvalidInputError("root is an empty list; pass a folder or image files.")
    out = []
    for r in roots:
        p = Path(r)
        if p.is_file():
            out.append(p)
        else:
            out.extend(list_images(p, extensions))
    if not out:
        where = ", ".join(repr(str(r)) for r in roots)
        raise InvalidInputError(
            f"No image files found in {where} (searched recursively for {_fmt_exts(extensions)}, "
            "case-insensitive); expected at least one. Check the path, or pass files=[...] explicitly."
        )
    return out


class SafeImageDataset(torch.utils.data.Dataset):
    """Base class for file datasets that survive a file breaking after construction.

    Subclasses set ``self.files`` and implement ``_load_item(index)``. When it raises
    :class:`InvalidInputError`, ``__getitem__`` warns once for that file, remembers it as
    bad and returns the next good index instead (the item's ``"index"`` is the one
    actually used, so ``dataset.files[item["index"]]`` is always the file it came from).
    """

    files: list[Path]

    def __len__(self) -> int:
        return len(self.files)

    def _load_item(self, index: int) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __getitem__(self, index: int) -> dict[str, Any]:
        n = len(self.files)
        try:
            index = operator.index(index)
        except TypeError as exc:
            raise TypeError(f"Dataset index must be an int, got {type(index).__name__}.") from exc
        if not -n <= index < n:
            raise IndexError(f"Index {index} is out of range for a dataset of {n} items.")
        index %= n
        bad: set[int] = self.__dict__.setdefault("_runtime_bad", set())
        last_error: InvalidInputError | None = None
        for step in range(n):
            i = (index + step) % n
            if i in bad:
                continue
            try:
                return self._load_item(i)
            except InvalidInputError as exc:
                bad.add(i)
                last_error = exc
                warnings.warn(
                    f"{exc} Using another image instead; this file is skipped from now on.",
                    UserWarning,
                    stacklevel=2,
                )
        raise InvalidInputError(
            f"None of the {n} files of this dataset could be read; last error: {last_error}"
        )
