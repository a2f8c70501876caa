"""The push-pull hole fill and the missing-regions model option that uses it."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cgan_zoo.errors import InvalidConfigError
from cgan_zoo.layers.hole_fill import pyramid_fill
from cgan_zoo.models import TimmUNet


@settings(max_examples=25, deadline=None)
@given(
    b=st.integers(1, 2),
    c=st.integers(1, 3),
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    share=st.floats(0.0, 0.95),
    seed=st.integers(0, 2**16),
)
def test_known_pixels_unchanged_and_fill_within_known_range(b, c, h, w, share, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, c, h, w, generator=g)
    missing = (torch.rand(b, 1, h, w, generator=g) < share).float()
    missing[..., 0, 0] = 0.0  # at least one known pixel per sample
    y = pyramid_fill(x, missing)
    assert y.shape == x.shape
    known = missing.expand_as(x) == 0
    assert torch.equal(y[known], x[known])
    # a convex combination of known values: never outside their range (per sample/channel)
    for i in range(b):
        for j in range(c):
            vals = x[i, j][missing[i, 0] == 0]
            filled = y[i, j][missing[i, 0] == 1]
            if filled.numel():
                assert filled.min() >= vals.min() - 1e-5 and filled.max() <= vals.max() + 1e-5


def test_constant_image_fills_with_the_constant_and_ignores_hole_values():
    x = torch.full((1, 1, 16, 16), 0.25)
    missing = torch.zeros(1, 1, 16, 16)
    missing[..., 4:12, 2:14] = 1
    x_garbage = x.clone()
    x_garbage[missing.bool()] = 7.0
    assert torch.allclose(pyramid_fill(x_garbage, missing), x, atol=1e-6)


def test_fill_follows_a_gradient_across_a_hole():
    # left half dark, right half bright, a hole across the middle column band
    x = torch.linspace(0, 1, 32).repeat(1, 1, 32, 1)
    missing = torch.zeros(1, 1, 32, 32)
    missing[..., :, 12:20] = 1
    y = pyramid_fill(x, missing)[0, 0, 16]
    assert y[12] < y[19]  # increases across the hole, like its surroundings
    assert abs(float(y[12:20].mean()) - float(x[0, 0, 16, 12:20].mean())) < 0.1


def test_all_missing_gives_zeros_not_nan():
    y = pyramid_fill(torch.rand(1, 2, 8, 8), torch.ones(1, 1, 8, 8))
    assert torch.isfinite(y).all() and float(y.abs().max()) == 0.0


def test_timm_unet_hole_fill_changes_only_what_is_in_the_holes():
    torch.manual_seed(0)
    m = TimmUNet(
        in_channels=2,
        out_channels=3,
        task="colorize-missing",
        decoder_channels=[32, 24, 16, 16, 16],
        hole_fill="pyramid",
    ).eval()
    x = torch.rand(1, 2, 64, 64) * 2 - 1
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 16:48, 16:48] = 1
    a = torch.cat([x[:, :1] * (1 - mask), mask], 1)
    b = torch.cat([torch.where(mask > 0, torch.full_like(x[:, :1], 0.9), x[:, :1]), mask], 1)
    with torch.no_grad():
        # what the masked input holds inside the holes does not matter: the fill replaces it
        assert torch.allclose(m(a), m(b), atol=1e-5)
    assert m.config["hole_fill"] == "pyramid"


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(hole_fill="telea", in_channels=2, out_channels=3, task="colorize-missing"),
        dict(hole_fill="pyramid"),
    ],
)
def test_timm_unet_hole_fill_bad_values(kwargs):
    with pytest.raises(InvalidConfigError, match="hole_fill"):
        TimmUNet(decoder_channels=[16, 16, 16, 16, 16], **kwargs)
