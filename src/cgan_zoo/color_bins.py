"""Colour as a distribution: quantised ab bins, soft encoding, class rebalancing, annealed mean.

A regression to one ab value per pixel either washes colour out or commits to a
confident wrong hue. Following Zhang, Isola & Efros (*Colorful Image Colorization*,
ECCV 2016), a colour-bin model predicts, per pixel, a distribution over the in-gamut
cells of a regular ab grid and decodes it with the **annealed mean**

.. math::  \\hat{ab} = \\sum_q \\operatorname{softmax}(z / T)_q \\, c_q

whose temperature ``T`` is the user's knob: ``T = 1`` is the mean of the distribution
(safe, muted where the model is unsure: a scene that could be any colour stays nearly
gray), small ``T`` approaches the mode (vivid, committed).

Everything here works in the normalised ab units of the ``lab-v1`` contract
(:mod:`cgan_zoo.color`: ``ab / ab_scale`` in [-1, 1]).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from einops import einsum

from .color import DEFAULT_AB_SCALE
from .errors import InvalidConfigError

__all__ = [
    "ab_bin_centers",
    "soft_encode",
    "annealed_mean",
    "bin_histogram",
    "rebalancing_weights",
    "check_temperature",
]


def _lab_to_linear_rgb(lab: np.ndarray) -> np.ndarray:
    """CIE Lab (D65) → linear sRGB without clipping, for the gamut test."""
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    fy = (L + 16.0) / 116.0
    fx, fz = fy + a / 500.0, fy - b / 200.0
    eps = 6.0 / 29.0

    def finv(t: np.ndarray) -> np.ndarray:
        return np.where(t > eps, t**3, 3 * eps**2 * (t - 4.0 / 29.0))

    xyz = np.stack([0.95047 * finv(fx), finv(fy), 1.08883 * finv(fz)], axis=-1)
    m = np.array(
        [[3.2404542, -1.5371385, -0.4985314], [-0.9692660, 1.8760108, 0.0415560], [0.0556434, -0.2040259, 1.0572252]]
    )
    return xyz @ m.T


def ab_bin_centers(bin_size: float = 10.0, ab_scale: float = DEFAULT_AB_SCALE) -> torch.Tensor:
    """Centres of the in-gamut cells of a regular ab grid, in normalised units.

    The grid has cells of ``bin_size`` Lab units centred on multiples of ``bin_size``
    inside ``[-ab_scale, ab_scale]``; a cell is kept when some point of it (its centre,
    corners or edge midpoints) is a displayable sRGB colour at some lightness L in 1..99.
    With the defaults this gives 262 bins (Zhang et al. report 313 for their gamut test).

    Args:
        bin_size: Cell width in Lab a/b units.
        ab_scale: The a/b normalisation of the colour contract.

    Returns:
        The (a, b) centres divided by ``ab_scale``.

    Shape:
        - returns: ``(Q, 2)`` float32.

    Example:
        >>> centers = ab_bin_centers()
        >>> centers.shape
        torch.Size([262, 2])
        >>> bool(centers.abs().max() <= 1.0)
        True
    """
    if not (isinstance(bin_size, (int, float)) and 0 < float(bin_size) <= float(ab_scale)):
        raise InvalidConfigError(f"bin_size must be in (0, ab_scale={ab_scale}], got {bin_size!r}.")
    half = math.floor(float(ab_scale) / float(bin_size) + 1e-9)
    values = np.arange(-half, half + 1) * float(bin_size)
    a, b = np.meshgrid(values, values, indexing="ij")
    ab = np.stack([a.ravel(), b.ravel()], axis=-1)
    lightness = np.arange(1.0, 100.0, 1.0)
    in_gamut = np.zeros(len(ab), dtype=bool)
    for da in (-0.5, 0.0, 0.5):
        for db in (-0.5, 0.0, 0.5):
            point = ab + np.array([da, db]) * float(bin_size)
            lab = np.concatenate(
                [
                    np.repeat(lightness[:, None, None], len(point), axis=1),
                    np.broadcast_to(point, (len(lightness), *point.shape)),
                ],
                axis=-1,
            )
            rgb = _lab_to_linear_rgb(lab)
            in_gamut |= ((rgb >= 0.0) & (rgb <= 1.0)).all(axis=-1).any(axis=0)
    return torch.from_numpy(ab[in_gamut] / float(ab_scale)).float()


def _check_centers(centers: torch.Tensor) -> None:
    if centers.ndim != 2 or centers.shape[1] != 2:
        raise InvalidConfigError(f"bin centers must have shape (Q, 2), got {tuple(centers.shape)}.")


def soft_encode(ab: torch.Tensor, centers: torch.Tensor, sigma: float = 5.0 / 110.0, neighbours: int = 5) -> torch.Tensor:
    """Soft one-hot targets: a Gaussian over the ``neighbours`` nearest bins of each pixel.

    Args:
        ab: Normalised ab targets.
        centers: ``(Q, 2)`` bin centres from :func:`ab_bin_centers`.
        sigma: Gaussian width in normalised units (Zhang et al.: 5 Lab units).
        neighbours: How many nearest bins share each pixel's mass.

    Shape:
        - ab: ``(B, 2, H, W)``.
        - returns: ``(B, Q, H, W)``, summing to 1 over Q.

    Example:
        >>> import torch
        >>> c = ab_bin_centers()
        >>> t = soft_encode(torch.zeros(1, 2, 3, 3), c)
        >>> t.shape, round(float(t.sum(1).mean()), 5)
        (torch.Size([1, 262, 3, 3]), 1.0)
    """
    _check_centers(centers)
    b, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    dist2 = torch.cdist(flat.float(), centers.to(flat.device).float()).pow(2)
    k = min(int(neighbours), centers.shape[0])
    near_d2, near_idx = dist2.topk(k, dim=1, largest=False)
    weights = torch.softmax(-near_d2 / (2 * float(sigma) ** 2), dim=1)
    target = torch.zeros_like(dist2).scatter_(1, near_idx, weights)
    return target.reshape(b, h, w, -1).permute(0, 3, 1, 2).contiguous()


def check_temperature(temperature: float) -> float:
    """Validate an annealed-mean temperature; returns it as a float.

    Example:
        >>> check_temperature(0.4)
        0.4
        >>> check_temperature(0)
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidConfigError: temperature must be a number in (0, 1] (1 = the mean: safest, most muted colour; smaller = more vivid, e.g. 0.38), got 0.
    """
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0.0 < float(temperature) <= 1.0:
        raise InvalidConfigError(
            "temperature must be a number in (0, 1] (1 = the mean: safest, most muted colour; "
            f"smaller = more vivid, e.g. 0.38), got {temperature!r}."
        )
    return float(temperature)


def annealed_mean(logits: torch.Tensor, centers: torch.Tensor, temperature: float = 0.38) -> torch.Tensor:
    """Decode bin logits to ab: the mean of the distribution sharpened by ``temperature``.

    Args:
        logits: Per-pixel bin logits.
        centers: ``(Q, 2)`` bin centres.
        temperature: In (0, 1]; 1 gives the mean, values near 0 the mode.

    Shape:
        - logits: ``(B, Q, H, W)``.
        - returns: ``(B, 2, H, W)`` normalised ab, inside the hull of the centres.

    Example:
        >>> import torch
        >>> c = ab_bin_centers()
        >>> logits = torch.full((1, len(c), 1, 1), -30.0)
        >>> logits[0, 0] = 0.0
        >>> torch.allclose(annealed_mean(logits, c, 1.0)[0, :, 0, 0], c[0])
        True
    """
    _check_centers(centers)
    t = check_temperature(temperature)
    probs = torch.softmax(logits.float() / t, dim=1)
    return einsum(probs, centers.to(probs), "b q h w, q c -> b c h w").to(logits.dtype)


def bin_histogram(ab: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Counts of pixels whose nearest bin is each centre.

    Shape:
        - ab: ``(B, 2, H, W)`` normalised.
        - returns: ``(Q,)`` float64 counts.

    Example:
        >>> import torch
        >>> c = ab_bin_centers()
        >>> int(bin_histogram(torch.zeros(1, 2, 4, 4), c).sum())
        16
    """
    _check_centers(centers)
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2).float()
    nearest = torch.cdist(flat, centers.to(flat.device).float()).argmin(dim=1)
    return torch.bincount(nearest, minlength=centers.shape[0]).double().cpu()


def rebalancing_weights(
    counts: torch.Tensor, centers: torch.Tensor, mix: float = 0.5, sigma: float = 5.0 / 110.0
) -> torch.Tensor:
    """Class-rebalancing weights ``w ∝ 1 / ((1 - mix)·p̃ + mix / Q)`` with ``E_p̃[w] = 1``.

    ``p̃`` is the empirical bin distribution smoothed by a Gaussian of width ``sigma`` in
    ab space. Rare, saturated colours get larger weights so that the model does not
    learn to predict the desaturated majority everywhere (Zhang et al., λ = 0.5).

    Shape:
        - counts: ``(Q,)``; returns ``(Q,)`` float32.

    Example:
        >>> import torch
        >>> c = ab_bin_centers()
        >>> counts = torch.zeros(len(c)); counts[0] = 10.0
        >>> w = rebalancing_weights(counts, c)
        >>> bool(w[0] < w[-1])
        True
    """
    _check_centers(centers)
    if not 0.0 <= float(mix) <= 1.0:
        raise InvalidConfigError(f"mix must be in [0, 1], got {mix!r}.")
    counts = counts.double().clamp_min(0)
    if float(counts.sum()) <= 0:
        return torch.ones(centers.shape[0])
    c = centers.double()
    kernel = torch.exp(-torch.cdist(c, c).pow(2) / (2 * float(sigma) ** 2))
    smoothed = kernel @ (counts / counts.sum())
    smoothed = smoothed / smoothed.sum()
    weights = 1.0 / ((1 - float(mix)) * smoothed + float(mix) / len(smoothed))
    weights = weights / (smoothed * weights).sum()
    return weights.float()
