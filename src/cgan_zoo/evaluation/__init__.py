"""Evaluate colorizers on colour photos: the same code for the bundled weights and your fine-tunes.

:func:`evaluate_folder` colorizes the gray version of each photo of a folder (or of a
file list, or of a split's ``val`` list) with any :class:`~cgan_zoo.pipelines.Colorizer`,
optionally with missing regions, scores the output and the baselines (the gray input,
OpenCV Telea inpainting) against the colour original, and aggregates the scores into
rows: all photos, near-gray originals, vivid originals and subject groups.
:func:`write_json` and :func:`write_markdown` save the result; ``cgan-zoo evaluate``
does all of it from the command line.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from cgan_zoo import create_model
    >>> from cgan_zoo.pipelines import Colorizer
    >>> root = Path(tempfile.mkdtemp())
    >>> Image.new("RGB", (48, 32), (200, 60, 40)).save(root / "red.png")
    >>> result = evaluate_folder(Colorizer(create_model("unet_tiny"), size=32), root)
    >>> round(result["summary"]["all"]["colorfulness_ratio_gray"], 3)
    0.0
"""

from __future__ import annotations

from .aggregate import (
    NEAR_GRAY,
    SUBSET_LABELS,
    TONALITY_MIN_CHROMA,
    VIVID,
    by_subject,
    circular_std,
    hue_breakdown,
    nanmean,
    subset_labels,
    subsets,
    summarize,
)
from .baselines import BASELINES, MASK_BASELINES, gray_input, run_baseline, telea_fill
from .evaluate import (
    check_call_kwargs,
    default_baselines,
    evaluate_folder,
    evaluate_images,
    photo_mask,
    predict,
)
from .masks import DEFAULT_MASK_FRACTION, eval_mask, load_mask, mask_seed
from .per_image import (
    CAST_MIN_CHROMA,
    HUE_BINS,
    HUE_MAX_DEG,
    HUE_MIN_CHROMA,
    HUE_PRED_MIN_CHROMA,
    hue_counts,
    image_scores,
    masked_psnr,
    mean_hue,
)
from .photos import (
    DEFAULT_MAX_SIDE,
    IMAGE_SUFFIXES,
    SUBJECT_GROUPS,
    EvalImage,
    list_photos,
    load_images,
    load_photo,
    read_sources,
    split_names,
    subject_group,
)
from .report import fmt, markdown_report, to_jsonable, write_json, write_markdown

__all__ = [
    # running an evaluation
    "evaluate_folder",
    "evaluate_images",
    "predict",
    "check_call_kwargs",
    "default_baselines",
    "photo_mask",
    # photos
    "EvalImage",
    "load_images",
    "load_photo",
    "list_photos",
    "split_names",
    "read_sources",
    "subject_group",
    "DEFAULT_MAX_SIDE",
    "IMAGE_SUFFIXES",
    "SUBJECT_GROUPS",
    # masks
    "eval_mask",
    "mask_seed",
    "load_mask",
    "DEFAULT_MASK_FRACTION",
    # baselines
    "gray_input",
    "telea_fill",
    "run_baseline",
    "BASELINES",
    "MASK_BASELINES",
    # per-image scores
    "image_scores",
    "masked_psnr",
    "hue_counts",
    "mean_hue",
    "HUE_BINS",
    "CAST_MIN_CHROMA",
    "HUE_MIN_CHROMA",
    "HUE_PRED_MIN_CHROMA",
    "HUE_MAX_DEG",
    # aggregation
    "summarize",
    "subsets",
    "by_subject",
    "hue_breakdown",
    "nanmean",
    "circular_std",
    "NEAR_GRAY",
    "VIVID",
    "TONALITY_MIN_CHROMA",
    "SUBSET_LABELS",
    "subset_labels",
    # reports
    "markdown_report",
    "write_json",
    "write_markdown",
    "to_jsonable",
    "fmt",
]
