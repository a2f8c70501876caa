"""Datasets for colorization: a folder of colour photos → (L, ab) training pairs.

Every item is a dict of tensors that the default ``collate_fn`` batches:

* ``"input"``: ``(C_in, H, W)`` float32, the generator input;
* ``"target"``: ``(C_out, H, W)`` float32, what the generator should produce;
* ``"mask"`` (:class:`MissingRegionsDataset` only): ``(1, H, W)`` float32, 1 = missing;
* ``"index"``: int, the position of the file in ``dataset.files``.

Colours follow the ``lab-v1`` contract of :mod:`cgan_zoo.color`: L and ab both in
[-1, 1], with ab divided by ``ab_scale``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from .. import color
from ..errors import InvalidConfigError, InvalidInputError
from ..models._contract import masked_generator_input
from .folder import SafeImageDataset, gather_image_files, load_rgb, probe_images, warn_skipped
from .masks import MASK_KINDS, _check_args, random_mask
from .transforms import (
    center_square_box,
    check_scales,
    crop_resize,
    pil_to_tensor,
    random_flip,
    random_square_box,
)

__all__ = ["ColorizationDataset", "MissingRegionsDataset"]

PathLike = str | os.PathLike[str]

# Base seed of the per-index masks of MissingRegionsDataset in eval mode.
_EVAL_MASK_SEED = 20_240_601


def _check_positive_int(name: str, value: object, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidConfigError(f"{name} must be a positive int, got {value!r}; pass an integer >= 1" + (" or None." if allow_none else "."))


class ColorizationDataset(SafeImageDataset):
    """Colour photos → ``(L, ab)`` pairs for training a colorizer.

    Train mode (``train=True``): a random square crop whose side is a random fraction
    ``s ~ U(scales)`` of the image's short side, at a random position, resized
    (antialiased bicubic) to ``crop_size x crop_size``, then a random horizontal flip.
    Eval mode: the centred square of the short side resized to ``crop_size`` (no
    randomness).

    Files are checked when the dataset is built (PIL header + verify, plus a full decode
    of JPEGs that look truncated); unreadable ones are dropped with ONE warning listing
    them all, so they never reach ``DataLoader`` workers. A file that still fails later is
    replaced by the next good index, with one warning per file.

    Randomness comes only from torch's RNG, so ``torch.manual_seed`` (and the per-worker
    seeding of ``DataLoader``) makes the crops reproducible.

    Args:
        root: A folder (searched recursively), an image file, or a list of both.
            Ignored when ``files`` is given.
        crop_size: Side of the square output, in pixels.
        scales: ``(min, max)`` crop side as a fraction of the short side (train mode).
        flip: Random horizontal flips in train mode.
        train: Random crops/flips (``True``) or a deterministic centre crop (``False``).
        ab_scale: Divisor of a/b (see :func:`cgan_zoo.color.normalize_ab`).
        files: Explicit list of image files, used instead of listing ``root``.
        min_side: Drop images whose short side is below this many pixels.

    Attributes:
        files: The usable image files; ``files[item["index"]]`` is an item's source.
        skipped: ``(path, reason)`` for every file dropped at construction.

    Shape:
        - ``item["input"]``: ``(1, crop_size, crop_size)``, L in [-1, 1].
        - ``item["target"]``: ``(2, crop_size, crop_size)``, ab in [-1, 1].

    Raises:
        InvalidInputError: If no (readable) image file is found.
        InvalidConfigError: If an argument is out of range.

    Example:
        >>> import tempfile, pathlib
        >>> from PIL import Image
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> Image.new("RGB", (80, 60), (200, 120, 40)).save(d / "a.jpg")
        >>> ds = ColorizationDataset(d, crop_size=32)
        >>> item = ds[0]
        >>> item["input"].shape, item["target"].shape, item["index"]
        (torch.Size([1, 32, 32]), torch.Size([2, 32, 32]), 0)
    """

    def __init__(
        self,
        root: PathLike | Sequence[PathLike] | None,
        crop_size: int = 256,
        scales: tuple[float, float] = (0.6, 1.0),
        flip: bool = True,
        train: bool = True,
        ab_scale: float = color.DEFAULT_AB_SCALE,
        files: Sequence[PathLike] | None = None,
        min_side: int | None = None,
    ) -> None:
        _check_positive_int("crop_size", crop_size)
        _check_positive_int("min_side", min_side, allow_none=True)
        if (
            isinstance(ab_scale, bool)
            or not isinstance(ab_scale, (int, float))
            or not (math.isfinite(ab_scale) and ab_scale > 0)
        ):
            raise InvalidConfigError(
                f"ab_scale must be a positive number, got {ab_scale!r}; use the default 110, which covers the sRGB gamut."
            )
        self.root = root
        self.crop_size = int(crop_size)
        self.scales = check_scales(scales)
        self.flip = bool(flip)
        self.train = bool(train)
        self.ab_scale = float(ab_scale)
        self.min_side = min_side

        candidates = gather_image_files(root, files)
        good, bad = probe_images(candidates, min_side=min_side)
        self.files: list[Path] = good
        self.skipped: list[tuple[Path, str]] = bad
        warn_skipped(bad)
        if not good:
            raise InvalidInputError(
                f"None of the {len(candidates)} image files could be used (see the warning "
                f"above); first problem: {bad[0][0]}: {bad[0][1]}. The dataset needs at least one "
                "readable photo: check the folder, or remove or replace the broken files."
            )

    # -- loading -------------------------------------------------------------------
    def _draft_size(self) -> int:
        # The smallest crop (scales[0] of the short side) must still have at least
        # crop_size pixels after JPEG draft downscaling.
        need = self.crop_size / (self.scales[0] if self.train else 1.0)
        return int(math.ceil(need))

    def _crop_image(self, img: Image.Image) -> tuple[Image.Image, bool]:
        w, h = img.size
        if self.train:
            box = random_square_box(w, h, self.scales)
            flipped = random_flip() if self.flip else False
        else:
            box = center_square_box(w, h)
            flipped = False
        return crop_resize(img, box, self.crop_size), flipped

    def _lab(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Load file ``index`` and return normalised ``(L, ab)``, shapes (1,H,W) and (2,H,W)."""
        img = load_rgb(self.files[index], draft_size=self._draft_size())
        patch, flipped = self._crop_image(img)
        rgb = pil_to_tensor(patch)
        if flipped:
            rgb = rgb.flip(-1)
        lightness, ab = color.rgb_to_model_lab(rgb.unsqueeze(0), self.ab_scale)
        return lightness[0].contiguous(), ab[0].contiguous()

    def _load_item(self, index: int) -> dict[str, Any]:
        lightness, ab = self._lab(index)
        return {"input": lightness, "target": ab, "index": index}

    def __repr__(self) -> str:
        mode = "train" if self.train else "eval"
        return (
            f"{type(self).__name__}({len(self.files)} images, crop_size={self.crop_size}, "
            f"mode={mode}, ab_scale={self.ab_scale})"
        )


class MissingRegionsDataset(ColorizationDataset):
    """Colour photos with random missing regions → full Lab, for colorize-and-fill models.

    Crops and flips are those of :class:`ColorizationDataset`. A mask covering about
    ``missing_fraction`` of the crop is drawn with :func:`~cgan_zoo.data.random_mask`;
    the input is the masked L plus the mask
    (:func:`cgan_zoo.models._contract.masked_generator_input`, task
    ``"colorize-missing"``) and the target is the full normalised Lab image.

    In train mode the mask comes from torch's global RNG. In eval mode it is seeded from
    the item's index, so validation numbers are reproducible.

    Args:
        root: As for :class:`ColorizationDataset`.
        crop_size: As for :class:`ColorizationDataset`.
        scales: As for :class:`ColorizationDataset`.
        flip: As for :class:`ColorizationDataset`.
        train: As for :class:`ColorizationDataset`.
        ab_scale: As for :class:`ColorizationDataset`.
        files: As for :class:`ColorizationDataset`.
        min_side: As for :class:`ColorizationDataset`.
        missing_fraction: Share of missing pixels, in [0, 0.95].
        mask_kinds: Subset of ``("rectangles", "strokes")``.

    Shape:
        - ``item["input"]``: ``(2, crop_size, crop_size)``: masked L (missing → 0), mask.
        - ``item["target"]``: ``(3, crop_size, crop_size)``: L, a, b in [-1, 1].
        - ``item["mask"]``: ``(1, crop_size, crop_size)``, 1 = missing.

    Example:
        >>> import tempfile, pathlib
        >>> from PIL import Image
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> Image.new("RGB", (64, 64), (20, 160, 60)).save(d / "a.png")
        >>> item = MissingRegionsDataset(d, crop_size=32, train=False)[0]
        >>> item["input"].shape, item["target"].shape, item["mask"].shape
        (torch.Size([2, 32, 32]), torch.Size([3, 32, 32]), torch.Size([1, 32, 32]))
    """

    def __init__(
        self,
        root: PathLike | Sequence[PathLike] | None,
        crop_size: int = 256,
        scales: tuple[float, float] = (0.6, 1.0),
        flip: bool = True,
        train: bool = True,
        ab_scale: float = color.DEFAULT_AB_SCALE,
        files: Sequence[PathLike] | None = None,
        min_side: int | None = None,
        missing_fraction: float = 0.3,
        mask_kinds: Sequence[str] = MASK_KINDS,
    ) -> None:
        self.mask_kinds = _check_args(1, 1, missing_fraction, mask_kinds)
        self.missing_fraction = float(missing_fraction)
        super().__init__(
            root,
            crop_size=crop_size,
            scales=scales,
            flip=flip,
            train=train,
            ab_scale=ab_scale,
            files=files,
            min_side=min_side,
        )

    def _mask(self, index: int) -> torch.Tensor:
        generator = None
        if not self.train:
            generator = torch.Generator().manual_seed(_EVAL_MASK_SEED + index)
        return random_mask(
            self.crop_size, self.crop_size, self.missing_fraction, self.mask_kinds, generator
        )

    def _load_item(self, index: int) -> dict[str, Any]:
        lightness, ab = self._lab(index)
        mask = self._mask(index)
        inp = masked_generator_input(lightness.unsqueeze(0), mask.unsqueeze(0))[0]
        target = torch.cat([lightness, ab], dim=0)
        return {"input": inp, "target": target, "mask": mask, "index": index}
