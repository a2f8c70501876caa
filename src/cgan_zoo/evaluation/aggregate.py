"""Aggregate per-image scores into the rows of an evaluation table.

Aggregates are means over images, except:

* ``colorfulness_ratio``: ``mean(output colourfulness) / mean(original colourfulness)``;
* ``hue_accuracy``: the nan-mean over the images that have clearly coloured pixels
  (an image without any has no hue accuracy); ``hue_accuracy_pooled`` pools the pixels
  of all images instead;
* ``hue_spread``: the "tonality" measure, the circular standard deviation (degrees) of
  the per-image mean hue (:func:`~cgan_zoo.evaluation.mean_hue`) across the images
  whose original has a colour cast (mean chroma >= :data:`TONALITY_MIN_CHROMA`); outputs
  without a cast of their own (gray ones) are left out of the output's spread, so a gray
  baseline has none. A colorizer that gives every photo the same tint has a much smaller
  spread than the originals (``hue_spread_original``).

Rows: the whole set, near-gray originals (colourfulness < :data:`NEAR_GRAY`), vivid
originals (colourfulness >= :data:`VIVID`), with a row for the ones in between when the
two thresholds differ, and one row per subject group. Colourfulness is
Hasler–Süsstrunk's (:func:`cgan_zoo.metrics.colorfulness`) on the 0–255 scale: they call
about 15 "slightly colourful", 33 "moderately" and 45 "averagely colourful"; fog, dusk
silhouettes, snow, bare rock and overcast skies are below 20, vivid nature photos are
40–110. Both thresholds default to 20, so near-gray and vivid split every set in two,
as in the project's colour-calibration notes (vivid >= 20, the rest nearly colourless).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "NEAR_GRAY",
    "VIVID",
    "TONALITY_MIN_CHROMA",
    "SUBSET_LABELS",
    "subset_labels",
    "nanmean",
    "circular_std",
    "summarize",
    "subsets",
    "by_subject",
    "hue_breakdown",
]

#: Originals with colourfulness below this are "near-gray".
NEAR_GRAY = 20.0
#: Originals with colourfulness from this on are "vivid".
VIVID = 20.0
#: Images whose original's mean Lab chroma is below this have no colour cast and are
#: left out of the hue spread.
TONALITY_MIN_CHROMA = 2.0


def subset_labels(near_gray: float = NEAR_GRAY, vivid: float = VIVID) -> dict[str, str]:
    """Row names of :func:`subsets` with their descriptions (``in_between`` only when the thresholds differ).

    Example:
        >>> subset_labels()["near_gray"], list(subset_labels(10, 20))
        ('near-gray originals (colourfulness < 20)', ['all', 'near_gray', 'in_between', 'vivid'])
    """
    labels = {
        "all": "all photos",
        "near_gray": f"near-gray originals (colourfulness < {near_gray:g})",
        "in_between": f"in between ({near_gray:g} ≤ colourfulness < {vivid:g})",
        "vivid": f"vivid originals (colourfulness ≥ {vivid:g})",
    }
    if near_gray == vivid:
        del labels["in_between"]
    return labels


#: Row names of :func:`subsets` at the default thresholds, with their descriptions.
SUBSET_LABELS = subset_labels()

_NOT_AVERAGED = {"hue_counts", "mean_hue", "mean_chroma"}


def nanmean(values: Sequence[float]) -> float:
    """Mean of the values that are not NaN; NaN if there are none.

    Example:
        >>> nanmean([1.0, float("nan"), 3.0]), math.isnan(nanmean([]))
        (2.0, True)
    """
    vals = [float(v) for v in values if not math.isnan(float(v))]
    return sum(vals) / len(vals) if vals else math.nan


def circular_std(degrees: Sequence[float]) -> float:
    """Circular standard deviation ``sqrt(-2 ln R)`` of angles in degrees, in degrees.

    ``R`` is the length of the mean unit vector. Equal angles give 0, angles spread
    evenly around the circle give a very large value. NaN for no angles.

    Example:
        >>> circular_std([10.0, 10.0]), round(circular_std([350.0, 10.0]), 2)
        (0.0, 10.03)
    """
    angles = [math.radians(d) for d in degrees if not math.isnan(d)]
    if not angles:
        return math.nan
    c = sum(math.cos(a) for a in angles) / len(angles)
    s = sum(math.sin(a) for a in angles) / len(angles)
    r = min(1.0, math.hypot(c, s))
    if r <= 1e-12:
        return math.inf
    return math.degrees(math.sqrt(max(0.0, -2.0 * math.log(r))))


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 and not math.isnan(a) else math.nan


def summarize(
    records: Sequence[Mapping[str, Any]],
    methods: Sequence[str],
    score_keys: Sequence[str] | None = None,
) -> dict[str, float]:
    """One row: aggregates of per-image records (see the module docstring).

    The first method (the colorizer, ``"ours"``) has unsuffixed keys, the others
    (baselines) ``<key>_<method>``, for example ``psnr`` and ``psnr_gray``.

    Args:
        records: Per-image records as :func:`~cgan_zoo.evaluation.evaluate_images`
            writes them: ``colorfulness_original``, ``mean_hue_original``,
            ``mean_chroma_original`` and one score dict per method.
        methods: The methods to aggregate, the colorizer first.
        score_keys: The per-image scores to average (default: those the records have), so
            that an empty row still has every key (as NaN).

    Returns:
        ``n``, ``colorfulness_original``, ``hue_images`` (images with a hue accuracy),
        ``hue_spread_original``, ``hue_spread_images``, ``mask_fraction`` (with masks) and
        per method every averaged score plus ``colorfulness_ratio``,
        ``hue_accuracy_pooled`` and ``hue_spread``.

    Example:
        >>> rec = {"colorfulness_original": 40.0, "mean_hue_original": 100.0, "mean_chroma_original": 9.0,
        ...        "ours": {"psnr": 25.0, "colorfulness": 30.0, "hue_accuracy": 0.5, "mean_hue": 90.0,
        ...                 "hue_counts": {"green": [10, 5]}}}
        >>> s = summarize([rec, rec], ["ours"])
        >>> s["n"], s["psnr"], s["colorfulness_ratio"], s["hue_accuracy_pooled"], s["hue_spread"]
        (2.0, 25.0, 0.75, 0.5, 0.0)
    """
    out: dict[str, float] = {"n": float(len(records))}
    cf_orig = nanmean([r["colorfulness_original"] for r in records])
    out["colorfulness_original"] = cf_orig
    if (records and "mask_fraction" in records[0]) or "hole_psnr" in (score_keys or ()):
        out["mask_fraction"] = nanmean([r["mask_fraction"] for r in records])
    cast = [r for r in records if r.get("mean_chroma_original", 0.0) >= TONALITY_MIN_CHROMA]
    out["hue_spread_original"] = circular_std([r["mean_hue_original"] for r in cast])
    out["hue_spread_images"] = float(len(cast))
    if methods:
        out["hue_images"] = float(
            sum(not math.isnan(r[methods[0]].get("hue_accuracy", math.nan)) for r in records)
        )
    for i, m in enumerate(methods):
        suffix = "" if i == 0 else f"_{m}"
        keys: list[str] = [k for k in (score_keys or ()) if k not in _NOT_AVERAGED]
        for r in records:
            keys += [k for k in r[m] if k not in _NOT_AVERAGED and k not in keys]
        for k in keys:
            out[k + suffix] = nanmean([r[m].get(k, math.nan) for r in records])
        out["colorfulness_ratio" + suffix] = _ratio(
            out.get("colorfulness" + suffix, math.nan), cf_orig
        )
        eligible = sum(c[0] for r in records for c in r[m].get("hue_counts", {}).values())
        correct = sum(c[1] for r in records for c in r[m].get("hue_counts", {}).values())
        out["hue_accuracy_pooled" + suffix] = correct / eligible if eligible else math.nan
        out["hue_spread" + suffix] = circular_std([r[m].get("mean_hue", math.nan) for r in cast])
    return out


def subsets(
    records: Sequence[Mapping[str, Any]],
    near_gray: float = NEAR_GRAY,
    vivid: float = VIVID,
) -> dict[str, list[Mapping[str, Any]]]:
    """Split records by the original's colourfulness: ``all``, ``near_gray``, ``vivid``
    (and ``in_between`` when ``near_gray < vivid``).

    Example:
        >>> recs = [{"colorfulness_original": c} for c in (3.0, 15.0, 60.0)]
        >>> {k: len(v) for k, v in subsets(recs).items()}
        {'all': 3, 'near_gray': 2, 'vivid': 1}
        >>> {k: len(v) for k, v in subsets(recs, near_gray=10).items()}
        {'all': 3, 'near_gray': 1, 'in_between': 1, 'vivid': 1}
    """
    if not near_gray <= vivid:
        from ..errors import InvalidConfigError

        raise InvalidConfigError(f"near_gray ({near_gray}) must not exceed vivid ({vivid}).")
    cf = [float(r["colorfulness_original"]) for r in records]
    rows = {
        "all": list(records),
        "near_gray": [r for r, c in zip(records, cf) if c < near_gray],
        "in_between": [r for r, c in zip(records, cf) if near_gray <= c < vivid],
        "vivid": [r for r, c in zip(records, cf) if c >= vivid],
    }
    if near_gray == vivid:
        del rows["in_between"]
    return rows


def by_subject(records: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Records per subject group (the ``group`` of each record), groups sorted by name.

    Records without subject information (group ``"none"``) form no group, so a data
    folder without ``SOURCES.tsv`` has no subject rows.

    Example:
        >>> {k: len(v) for k, v in by_subject([{"group": "skies"}, {"group": "none"}, {"group": "skies"}]).items()}
        {'skies': 2}
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in records:
        g = str(r.get("group", "none"))
        if g != "none":
            groups.setdefault(g, []).append(r)
    return dict(sorted(groups.items()))


def hue_breakdown(
    records: Sequence[Mapping[str, Any]], method: str = "ours"
) -> dict[str, dict[str, float]]:
    """Pixel-pooled hue accuracy of ``method`` per hue range of the original, with each range's pixel share.

    Example:
        >>> rec = {"ours": {"hue_counts": {"green": [30, 15], "red/pink": [10, 10]}}}
        >>> b = hue_breakdown([rec])
        >>> b["green"]["accuracy"], b["green"]["share"], b["red/pink"]["accuracy"]
        (0.5, 0.75, 1.0)
    """
    totals: dict[str, list[int]] = {}
    for r in records:
        for label, (e, c) in r[method].get("hue_counts", {}).items():
            t = totals.setdefault(label, [0, 0])
            t[0] += int(e)
            t[1] += int(c)
    every = sum(e for e, _ in totals.values())
    return {
        label: {
            "pixels": float(e),
            "share": e / every if every else math.nan,
            "accuracy": c / e if e else math.nan,
        }
        for label, (e, c) in totals.items()
    }
