"""Tests of cgan_zoo.data.random_mask."""

from __future__ import annotations

import pytest
import torch

from cgan_zoo.data import random_mask
from cgan_zoo.data.masks import FRACTION_TOLERANCE
from cgan_zoo.errors import InvalidConfigError


def _fractions(n, height, width, fraction, kinds=("rectangles", "strokes"), seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.tensor(
        [random_mask(height, width, fraction, kinds, gen).mean().item() for _ in range(n)]
    )


def test_shape_dtype_and_values():
    m = random_mask(48, 64)
    assert m.shape == (1, 48, 64) and m.dtype == torch.float32
    assert set(m.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.6, 0.9])
def test_fraction_statistics(fraction):
    fr = _fractions(60, 64, 64, fraction)
    assert (fr - fraction).abs().max() <= FRACTION_TOLERANCE + 1e-6
    assert abs(fr.mean().item() - fraction) < 0.03
    assert fr.std() > 0  # not the same coverage every time


@pytest.mark.parametrize("kinds", [("rectangles",), ("strokes",)])
def test_each_kind_alone(kinds):
    fr = _fractions(30, 64, 80, 0.3, kinds)
    assert (fr - 0.3).abs().max() <= FRACTION_TOLERANCE + 1e-6


def test_rectangles_are_boxes_and_strokes_are_not():
    gen = torch.Generator().manual_seed(5)
    # A single small rectangle fills its bounding box exactly.
    m = random_mask(64, 64, 0.06, ("rectangles",), gen)[0]
    ys, xs = torch.nonzero(m, as_tuple=True)
    box = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
    assert m.sum() <= box and m.sum() / box > 0.5
    # Brush strokes leave much of their bounding box empty and are not axis-aligned boxes.
    fills = []
    for _ in range(10):
        s = random_mask(64, 64, 0.1, ("strokes",), gen)[0]
        ys, xs = torch.nonzero(s, as_tuple=True)
        fills.append((s.sum() / ((ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1))).item())
    assert min(fills) < 0.9


def test_mixture_uses_both_kinds():
    # With both kinds, masks are neither all boxes nor all strokes: compare coverage
    # patterns with the single-kind masks drawn from the same seed.
    a = random_mask(64, 64, 0.3, ("rectangles", "strokes"), torch.Generator().manual_seed(2))
    r = random_mask(64, 64, 0.3, ("rectangles",), torch.Generator().manual_seed(2))
    s = random_mask(64, 64, 0.3, ("strokes",), torch.Generator().manual_seed(2))
    assert not torch.equal(a, r) and not torch.equal(a, s)


def test_determinism_with_seeded_generator():
    a = random_mask(50, 70, 0.3, generator=torch.Generator().manual_seed(123))
    b = random_mask(50, 70, 0.3, generator=torch.Generator().manual_seed(123))
    c = random_mask(50, 70, 0.3, generator=torch.Generator().manual_seed(124))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_global_rng_when_no_generator():
    torch.manual_seed(7)
    a = random_mask(32, 32, 0.3)
    torch.manual_seed(7)
    b = random_mask(32, 32, 0.3)
    assert torch.equal(a, b)


def test_seeded_generator_leaves_global_rng_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    random_mask(32, 32, 0.3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(torch.rand(3), expected)


def test_fraction_zero_is_all_zeros():
    assert random_mask(40, 30, 0.0).sum() == 0
    assert random_mask(1, 1, 0.0).sum() == 0


@pytest.mark.parametrize("size", [(1, 1), (1, 7), (3, 2), (5, 5), (2, 40)])
@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.95])
def test_tiny_sizes(size, fraction):
    m = random_mask(*size, fraction, generator=torch.Generator().manual_seed(0))
    assert m.shape == (1, *size)
    n = size[0] * size[1]
    # Within the tolerance, or the nearest count that exists for so few pixels.
    err = abs(m.mean().item() - fraction)
    assert err <= FRACTION_TOLERANCE + 1e-6 or m.sum().item() == round(fraction * n)


def test_max_fraction():
    fr = _fractions(5, 32, 32, 0.95)
    assert (fr - 0.95).abs().max() <= FRACTION_TOLERANCE + 1e-6


@pytest.mark.parametrize("fraction", [-0.1, 0.96, 1.0, float("nan"), "0.3", None])
def test_invalid_fraction(fraction):
    with pytest.raises(InvalidConfigError, match=r"fraction must be .*\[0, 0.95\]"):
        random_mask(8, 8, fraction)


def test_invalid_kinds_and_sizes():
    with pytest.raises(InvalidConfigError, match="rectangles"):
        random_mask(8, 8, 0.3, kinds=("circles",))
    with pytest.raises(InvalidConfigError, match="non-empty"):
        random_mask(8, 8, 0.3, kinds=())
    with pytest.raises(InvalidConfigError, match="height"):
        random_mask(0, 8, 0.3)
    with pytest.raises(InvalidConfigError, match="width"):
        random_mask(8, 2.5, 0.3)
    # A bare string is read as one kind.
    assert random_mask(16, 16, 0.3, kinds="strokes").shape == (1, 16, 16)
