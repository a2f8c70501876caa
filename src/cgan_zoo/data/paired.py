"""Paired image-to-image datasets in the two pix2pix folder formats.

* ``layout="side_by_side"``: each file holds ``A|B`` side by side; it is split at half
  its width (the format of the original pix2pix datasets such as facades and maps);
* ``layout="folders"``: ``root/A`` and ``root/B`` hold files with matching names
  (matched by relative path without extension, so ``A/x/1.jpg`` pairs with
  ``B/x/1.png``).

Augmentation follows pix2pix ("resize_and_crop"): in train mode both images are resized
to ``load_size x load_size``, the same random ``crop_size`` crop is taken from both and
both are flipped together. Instead of resizing the whole image and then cropping, the
crop box is mapped back onto the source image and only that box is resized (same
geometry, one antialiased resize, less work). In eval mode both images are resized straight to ``crop_size x crop_size`` (whole image, no
randomness).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PIL import Image

from ..errors import InvalidConfigError, InvalidInputError
from .folder import (
    IMAGE_EXTENSIONS,
    SafeImageDataset,
    list_images,
    load_rgb,
    probe_images,
    warn_skipped,
)
from .transforms import crop_resize, pil_to_tensor, random_crop_box, random_flip, to_signed

__all__ = ["PairedDataset"]

_LAYOUTS = ("side_by_side", "folders")
_DIRECTIONS = ("AtoB", "BtoA")
_MAX_EXAMPLES = 5


def _key(path: Path, base: Path) -> str:
    return path.relative_to(base).with_suffix("").as_posix()


class PairedDataset(SafeImageDataset):
    """Aligned image pairs ``A → B`` for pix2pix-style training.

    Args:
        root: Folder of side-by-side images, or a folder with sub-folders ``A`` and ``B``.
        layout: ``"side_by_side"`` or ``"folders"``.
        direction: ``"AtoB"`` (input A, target B) or ``"BtoA"``.
        crop_size: Side of the square output.
        load_size: Side both images are resized to before the random crop (train mode);
            must be at least ``crop_size``.
        train: Random crop and flip (``True``) or a deterministic resize (``False``).
        flip: Random horizontal flips (applied to both images) in train mode.

    Attributes:
        files: One path per pair: the side-by-side file, or the ``A`` file.
        files_b: The ``B`` file of each pair (same as ``files`` for side-by-side).
        skipped: ``(path, reason)`` for each file dropped at construction.

    Shape:
        - ``item["input"]``: ``(3, crop_size, crop_size)`` RGB in [-1, 1].
        - ``item["target"]``: ``(3, crop_size, crop_size)`` RGB in [-1, 1].

    Raises:
        InvalidConfigError: For an unknown layout/direction or ``load_size < crop_size``.
        InvalidInputError: If no images are found, ``A``/``B`` are missing, or names in
            ``A`` and ``B`` do not match (the message lists examples).

    Example:
        >>> import tempfile, pathlib
        >>> from PIL import Image
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> Image.new("RGB", (128, 64), (255, 0, 0)).save(d / "pair.png")
        >>> item = PairedDataset(d, crop_size=32, load_size=40)[0]
        >>> item["input"].shape, item["target"].shape
        (torch.Size([3, 32, 32]), torch.Size([3, 32, 32]))
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        layout: str = "side_by_side",
        direction: str = "AtoB",
        crop_size: int = 256,
        load_size: int = 286,
        train: bool = True,
        flip: bool = True,
    ) -> None:
        if layout not in _LAYOUTS:
            raise InvalidConfigError(f"layout must be one of {list(_LAYOUTS)}, got {layout!r}.")
        if direction not in _DIRECTIONS:
            raise InvalidConfigError(
                f"direction must be one of {list(_DIRECTIONS)}, got {direction!r}."
            )
        for name, v in (("crop_size", crop_size), ("load_size", load_size)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InvalidConfigError(f"{name} must be a positive int, got {v!r}.")
        if load_size < crop_size:
            raise InvalidConfigError(
                f"load_size ({load_size}) must be >= crop_size ({crop_size}); pix2pix uses "
                "load_size=286 with crop_size=256."
            )
        self.root = Path(root)
        self.layout = layout
        self.direction = direction
        self.crop_size = crop_size
        self.load_size = load_size
        self.train = bool(train)
        self.flip = bool(flip)

        if layout == "side_by_side":
            candidates = list_images(self.root)
            if not candidates:
                raise InvalidInputError(
                    f"No image files found in {str(self.root)!r} (searched recursively for "
                    f"{', '.join(IMAGE_EXTENSIONS)}). For A/ and B/ sub-folders use layout='folders'."
                )
            good, bad = probe_images(candidates)
            self.files: list[Path] = good
            self.files_b: list[Path] = list(good)
        else:
            pairs = self._match_folders()
            flat = [p for pair in pairs for p in pair]
            ok, bad = probe_images(flat)
            ok_set = set(ok)
            kept = [(a, b) for a, b in pairs if a in ok_set and b in ok_set]
            self.files = [a for a, _ in kept]
            self.files_b = [b for _, b in kept]
        self.skipped: list[tuple[Path, str]] = bad
        warn_skipped(bad)
        if not self.files:
            raise InvalidInputError(
                f"No readable image pairs in {str(self.root)!r} (see the warning above)."
            )

    def _match_folders(self) -> list[tuple[Path, Path]]:
        dir_a, dir_b = self.root / "A", self.root / "B"
        missing = [d.name for d in (dir_a, dir_b) if not d.is_dir()]
        if missing:
            found = (
                sorted(p.name for p in self.root.iterdir() if p.is_dir())
                if self.root.is_dir()
                else []
            )
            raise InvalidInputError(
                f"layout='folders' needs sub-folders A and B in {str(self.root)!r}; missing "
                f"{missing}, found folders {found}. Rename them to A and B, or use "
                "layout='side_by_side' for A|B images."
            )
        maps: list[dict[str, Path]] = []
        for d in (dir_a, dir_b):
            m: dict[str, Path] = {}
            for p in list_images(d):
                k = _key(p, d)
                if k in m:
                    raise InvalidInputError(
                        f"Two files in {str(d)!r} have the same name without extension: "
                        f"{m[k].name!r} and {p.name!r}; keep one so A and B can be matched by name."
                    )
                m[k] = p
            if not m:
                raise InvalidInputError(
                    f"No image files found in {str(d)!r} (searched recursively for "
                    f"{', '.join(IMAGE_EXTENSIONS)})."
                )
            maps.append(m)
        map_a, map_b = maps
        only_a = sorted(set(map_a) - set(map_b))
        only_b = sorted(set(map_b) - set(map_a))
        if only_a or only_b:
            raise InvalidInputError(
                f"File names in {str(dir_a)!r} and {str(dir_b)!r} do not match: "
                f"{len(only_a)} only in A (e.g. {only_a[:_MAX_EXAMPLES]}), "
                f"{len(only_b)} only in B (e.g. {only_b[:_MAX_EXAMPLES]}). Every A file needs a "
                "B file with the same relative path and name (the extension may differ)."
            )
        return [(map_a[k], map_b[k]) for k in sorted(map_a)]

    def _load_pair(self, index: int) -> tuple[Image.Image, Image.Image]:
        if self.layout == "side_by_side":
            path = self.files[index]
            img = load_rgb(path, draft_size=(2 * self.load_size, self.load_size))
            w, h = img.size
            if w < 2:
                raise InvalidInputError(
                    f"{str(path)!r} is {w} pixel(s) wide and cannot be split into A|B halves."
                )
            half = w // 2
            return img.crop((0, 0, half, h)), img.crop((half, 0, 2 * half, h))
        return (
            load_rgb(self.files[index], draft_size=self.load_size),
            load_rgb(self.files_b[index], draft_size=self.load_size),
        )

    def _load_item(self, index: int) -> dict[str, Any]:
        img_a, img_b = self._load_pair(index)
        out = []
        if self.train:
            load, crop = self.load_size, self.crop_size
            x0, y0, x1, y1 = random_crop_box(load, load, crop, crop)
            flipped = random_flip() if self.flip else False
            for img in (img_a, img_b):
                # The box in load_size coordinates, mapped back onto this image.
                sx, sy = img.width / load, img.height / load
                patch = crop_resize(img, (x0 * sx, y0 * sy, x1 * sx, y1 * sy), crop)
                t = pil_to_tensor(patch)
                out.append(t.flip(-1) if flipped else t)
        else:
            for img in (img_a, img_b):
                out.append(
                    pil_to_tensor(crop_resize(img, (0, 0, img.width, img.height), self.crop_size))
                )
        a, b = (to_signed(t) for t in out)
        if self.direction == "BtoA":
            a, b = b, a
        return {"input": a, "target": b, "index": index}

    def __repr__(self) -> str:
        return (
            f"PairedDataset({len(self.files)} pairs, layout={self.layout!r}, "
            f"direction={self.direction!r}, crop_size={self.crop_size}, load_size={self.load_size}, "
            f"train={self.train})"
        )
