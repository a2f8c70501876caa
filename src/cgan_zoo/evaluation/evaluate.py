"""Evaluate a :class:`~cgan_zoo.pipelines.Colorizer` on colour photos, optionally with missing regions.

Protocol, per photo (already downscaled, :func:`~cgan_zoo.evaluation.load_images`):

1. The input is the photo's Lab lightness only, as a one-channel gray image
   (:func:`~cgan_zoo.evaluation.gray_input`). With masks, the holes of the input are
   blanked (set to 0) so nothing of the original leaks in, and the mask is passed along.
2. The colorizer is called like a user calls it, ``colorizer(gray, mask=mask, **call_kwargs)``,
   so any ``Colorizer`` (any model, working size, device) and any extra call argument it
   accepts (for example a colour-uncertainty knob) can be evaluated.
3. The output and each baseline (:mod:`~cgan_zoo.evaluation.baselines`) are scored
   against the colour photo (:func:`~cgan_zoo.evaluation.image_scores`), then
   aggregated into rows (:mod:`~cgan_zoo.evaluation.aggregate`).
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from .. import metrics as M
from ..errors import InvalidConfigError, InvalidInputError
from .aggregate import NEAR_GRAY, VIVID, by_subject, hue_breakdown, subsets, summarize
from .baselines import BASELINES, MASK_BASELINES, run_baseline
from .masks import DEFAULT_MASK_FRACTION, eval_mask, load_mask
from .per_image import image_scores, mean_hue
from .photos import DEFAULT_MAX_SIDE, EvalImage, load_images, split_names

__all__ = [
    "default_baselines",
    "check_call_kwargs",
    "photo_mask",
    "predict",
    "evaluate_images",
    "evaluate_folder",
]

MaskOption = bool | str | os.PathLike


def default_baselines(masks: bool) -> tuple[str, ...]:
    """``("gray",)``, and ``("gray", "telea")`` with masks.

    Example:
        >>> default_baselines(False), default_baselines(True)
        (('gray',), ('gray', 'telea'))
    """
    return ("gray", "telea") if masks else ("gray",)


def check_call_kwargs(colorizer: Any, call_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check that ``colorizer(image, mask=..., **call_kwargs)`` accepts every extra argument.

    Raises:
        InvalidConfigError: Naming the arguments the colorizer does not take, and those it does.

    Example:
        >>> from cgan_zoo import create_model
        >>> from cgan_zoo.pipelines import Colorizer
        >>> check_call_kwargs(Colorizer(create_model("unet_tiny"), size=32), None)
        {}
    """
    kwargs = dict(call_kwargs or {})
    if not kwargs:
        return kwargs
    if "mask" in kwargs:
        raise InvalidConfigError(
            "call_kwargs must not contain 'mask'; use the masks option instead."
        )
    try:
        params = inspect.signature(colorizer.__call__).parameters
    except (TypeError, ValueError):
        return kwargs
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return kwargs
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        accepted = [n for n, p in params.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL]
        raise InvalidConfigError(
            f"this colorizer ({type(colorizer).__name__}) does not accept the call argument(s) "
            f"{unknown}; its call takes {accepted}. Drop them, or use a cgan-zoo version whose "
            "Colorizer supports them."
        )
    return kwargs


def photo_mask(
    image: EvalImage,
    masks: MaskOption,
    fraction: float = DEFAULT_MASK_FRACTION,
    seed: int = 0,
) -> torch.Tensor | None:
    """The mask of one photo: ``None`` (``masks=False``), the deterministic random mask
    (``masks=True``, :func:`~cgan_zoo.evaluation.eval_mask`), or the photo's mask file in
    folder ``masks`` (``MASKS/<name>.png``, else ``MASKS/<stem>.png``; white = missing).

    Raises:
        InvalidInputError: If a mask folder has no mask for the photo.

    Shape:
        - returns: ``(1, H, W)`` of 0s and 1s, or ``None``.

    Example:
        >>> im = EvalImage("a.png", torch.zeros(1, 3, 32, 32))
        >>> photo_mask(im, False) is None, photo_mask(im, True).shape
        (True, torch.Size([1, 32, 32]))
    """
    if masks is False or masks is None:
        return None
    h, w = image.size
    if masks is True:
        return eval_mask(h, w, image.name, fraction, seed)
    folder = Path(masks)
    for candidate in (
        folder / Path(image.name).with_suffix(".png"),
        folder / (Path(image.name).stem + ".png"),
    ):
        if candidate.is_file():
            return load_mask(candidate, (h, w))
    raise InvalidInputError(
        f"no mask for {image.name!r} in {str(folder)!r}: expected "
        f"{str(folder / Path(image.name).with_suffix('.png'))!r} (white = missing)."
    )


def predict(
    colorizer: Any,
    rgb: torch.Tensor,
    mask: torch.Tensor | None = None,
    call_kwargs: Mapping[str, Any] | None = None,
) -> torch.Tensor:
    """Colorize the gray version of colour photo ``rgb`` the way a user would.

    The colorizer gets the one-channel gray image (holes blanked when ``mask`` is given)
    and the mask; ``call_kwargs`` are passed on.

    Shape:
        - rgb: ``(1, 3, H, W)`` in [0, 1]; mask: ``(1, H, W)`` or ``None``.
        - returns: ``(1, 3, H, W)`` float32 on the CPU.

    Example:
        >>> from cgan_zoo import create_model
        >>> from cgan_zoo.pipelines import Colorizer
        >>> predict(Colorizer(create_model("unet_tiny"), size=32), torch.rand(1, 3, 20, 24)).shape
        torch.Size([1, 3, 20, 24])
    """
    gray = M.gray_baseline(rgb)[0].mean(dim=0, keepdim=True).clamp(0.0, 1.0)
    kwargs = dict(call_kwargs or {})
    with torch.no_grad():
        if mask is None:
            out = colorizer(gray, **kwargs)
        else:
            blanked = torch.where(mask > 0.5, torch.zeros_like(gray), gray)
            out = colorizer(blanked, mask=mask, **kwargs)
    if not isinstance(out, torch.Tensor):
        raise InvalidInputError(
            f"the colorizer returned {type(out).__name__} for a tensor input; expected a (3, H, W) "
            "float tensor in [0, 1], as cgan_zoo.pipelines.Colorizer returns."
        )
    out = out.detach().float().cpu()
    if out.ndim == 3:
        out = out[None]
    if tuple(out.shape) != tuple(rgb.shape):
        raise InvalidInputError(
            f"the colorizer returned shape {tuple(out.shape)} for a photo of shape {tuple(rgb.shape)}; "
            "it must return the input's size."
        )
    return out.clamp(0.0, 1.0)


def _check_baselines(baselines: Iterable[str] | None, with_masks: bool) -> tuple[str, ...]:
    chosen = default_baselines(with_masks) if baselines is None else tuple(baselines)
    for b in chosen:
        if b not in BASELINES:
            run_baseline(b, torch.zeros(1, 3, 1, 1))  # raises the did-you-mean error
        if b in MASK_BASELINES and not with_masks:
            raise InvalidConfigError(
                f"baseline {b!r} fills missing regions and needs masks; evaluate with masks "
                "(masks=True, or --masks on the command line) or drop it."
            )
        if b == "ours":
            raise InvalidConfigError("'ours' is the colorizer itself, not a baseline.")
    if len(set(chosen)) != len(chosen):
        raise InvalidConfigError(f"baselines {list(chosen)} name a baseline twice.")
    return chosen


def evaluate_images(
    colorizer: Any,
    images: Sequence[EvalImage],
    *,
    masks: MaskOption = False,
    mask_fraction: float = DEFAULT_MASK_FRACTION,
    seed: int = 0,
    baselines: Iterable[str] | None = None,
    call_kwargs: Mapping[str, Any] | None = None,
    near_gray: float = NEAR_GRAY,
    vivid: float = VIVID,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:
    """Score a colorizer and the baselines on loaded photos.

    Args:
        colorizer: A :class:`~cgan_zoo.pipelines.Colorizer` (or anything called the same way).
        images: The photos (:func:`~cgan_zoo.evaluation.load_images`).
        masks: ``False`` (plain colorization), ``True`` (a deterministic random mask per
            photo covering ``mask_fraction``, seeded by ``seed`` and the photo's name) or a
            folder of mask files (:func:`photo_mask`). Masks need a ``colorize-missing``
            colorizer.
        mask_fraction: Share of missing pixels of the random masks.
        seed: Seed of the random masks.
        baselines: Names from :data:`~cgan_zoo.evaluation.BASELINES`; default
            :func:`default_baselines`.
        call_kwargs: Extra arguments of every colorizer call.
        near_gray: Colourfulness below which an original is near-gray.
        vivid: Colourfulness from which an original is vivid.
        progress: Called as ``progress(i, n, name)`` after each photo.

    Returns:
        A JSON-ready dict (:func:`~cgan_zoo.evaluation.to_jsonable` turns NaN into null):
        ``mode`` (``"colorize"`` or ``"missing"``), ``methods`` (``"ours"`` then the
        baselines), ``settings``, ``summary`` (rows ``all``, ``near_gray``, ``vivid``
        and, with differing thresholds, ``in_between``; :func:`~cgan_zoo.evaluation.summarize`), ``subjects``
        (one row per subject group), ``hue_bins`` (per method), ``per_image`` and ``seconds``.

    Raises:
        InvalidConfigError: For masks with a plain colorizer, unknown baselines or call arguments.
        MissingExtraError: For the Telea baseline without OpenCV.

    Example:
        >>> from cgan_zoo import create_model
        >>> from cgan_zoo.pipelines import Colorizer
        >>> photos = [EvalImage("a.png", torch.rand(1, 3, 24, 32))]
        >>> result = evaluate_images(Colorizer(create_model("unet_tiny"), size=32), photos)
        >>> result["methods"], result["summary"]["all"]["n"]
        (['ours', 'gray'], 1.0)
    """
    with_masks = masks is not False and masks is not None
    chosen = _check_baselines(baselines, with_masks)
    kwargs = check_call_kwargs(colorizer, call_kwargs)
    task = getattr(colorizer, "task", "colorize")
    if with_masks and task != "colorize-missing":
        raise InvalidConfigError(
            f"evaluating with masks needs a colorizer for missing regions (task 'colorize-missing'), "
            f"but this one has task {task!r}; load an inpainting model such as "
            "'unet_efficientnet_lite0.nature_missing', or evaluate without masks."
        )
    if not images:
        raise InvalidInputError("no photos to evaluate; pass at least one.")
    methods = ["ours", *chosen]
    start = time.perf_counter()
    records = []
    for i, image in enumerate(images):
        mask = photo_mask(image, masks, mask_fraction, seed)
        outputs = {"ours": predict(colorizer, image.rgb, mask, kwargs)}
        for b in chosen:
            outputs[b] = run_baseline(b, image.rgb, mask)
        hue, chroma = mean_hue(image.rgb)
        h, w = image.size
        rec: dict[str, Any] = {
            "image": image.name,
            "package": image.package,
            "subject": image.subject,
            "group": image.group,
            "size": [h, w],
            "colorfulness_original": float(M.colorfulness(image.rgb)[0]),
            "mean_hue_original": hue,
            "mean_chroma_original": chroma,
        }
        rec["near_gray"] = rec["colorfulness_original"] < near_gray
        rec["vivid"] = rec["colorfulness_original"] >= vivid
        if mask is not None:
            rec["mask_fraction"] = float(mask.mean())
        for m, out in outputs.items():
            rec[m] = image_scores(out, image.rgb, mask)
        records.append(rec)
        if progress is not None:
            progress(i + 1, len(images), image.name)
    keys = list(records[0]["ours"]) if records else []
    return {
        "mode": "missing" if with_masks else "colorize",
        "task": task,
        "methods": methods,
        "settings": {
            "size": getattr(colorizer, "size", None),
            "call_kwargs": kwargs,
            "masks": ("none" if not with_masks else ("random" if masks is True else "files")),
            "mask_fraction": mask_fraction if masks is True else None,
            "mask_seed": seed if masks is True else None,
            "near_gray": near_gray,
            "vivid": vivid,
        },
        "summary": {
            k: summarize(v, methods, keys) for k, v in subsets(records, near_gray, vivid).items()
        },
        "subjects": {g: summarize(v, methods, keys) for g, v in by_subject(records).items()},
        "hue_bins": {m: hue_breakdown(records, m) for m in methods},
        "per_image": records,
        "seconds": time.perf_counter() - start,
    }


def evaluate_folder(
    colorizer: Any,
    folder: str | os.PathLike,
    *,
    files: Iterable[str] | None = None,
    split: str | os.PathLike | Mapping[str, Any] | None = None,
    split_part: str = "val",
    max_side: int = DEFAULT_MAX_SIDE,
    limit: int | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Evaluate a colorizer on the colour photos of a folder.

    Args:
        colorizer: A :class:`~cgan_zoo.pipelines.Colorizer`.
        folder: The data folder. ``SOURCES.tsv`` tables in it (and in its direct
            subfolders) give each photo's package and subject.
        files: Photo paths relative to ``folder`` (default: every photo under it).
        split: Instead of ``files``: a split dict or JSON file (such as
            ``recipes/nature_split.json``) whose ``split_part`` list names the photos.
        split_part: Which list of the split.
        max_side: Photos are downscaled so their long side is at most this.
        limit: Only this many photos, spread over the list.
        **kwargs: Passed to :func:`evaluate_images` (``masks``, ``baselines``,
            ``call_kwargs={"temperature": 0.4}``, ...).

    Returns:
        :func:`evaluate_images`'s dict plus ``data`` (``folder``, ``split``, ``n_images``,
        ``max_side``, ``images``).

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> from cgan_zoo import create_model
        >>> from cgan_zoo.pipelines import Colorizer
        >>> root = Path(tempfile.mkdtemp())
        >>> Image.new("RGB", (40, 30), (30, 120, 60)).save(root / "grass.png")
        >>> r = evaluate_folder(Colorizer(create_model("unet_tiny"), size=32), root, max_side=32)
        >>> r["data"]["n_images"], sorted(r["summary"])
        (1, ['all', 'near_gray', 'vivid'])
    """
    if files is not None and split is not None:
        raise InvalidConfigError("pass either files or split, not both.")
    names = (
        split_names(split, split_part)
        if split is not None
        else (None if files is None else list(files))
    )
    images = load_images(folder, names, max_side=max_side, limit=limit)
    result = evaluate_images(colorizer, images, **kwargs)
    result["data"] = {
        "folder": str(folder),
        "split": None if split is None or isinstance(split, Mapping) else str(split),
        "split_part": split_part if split is not None else None,
        "n_images": len(images),
        "max_side": max_side,
        "images": [im.name for im in images],
    }
    return result
