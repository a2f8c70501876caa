"""Tests of cgan_zoo.color against scikit-image's reference conversions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.color import lab2rgb, rgb2lab

from cgan_zoo import color
from cgan_zoo.errors import InvalidInputError


def _to_chw(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)


def _to_hwc(t: torch.Tensor) -> np.ndarray:
    return t.permute(1, 2, 0).detach().numpy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rgb_to_lab_matches_skimage(dtype):
    rgb = np.random.default_rng(0).random((16, 20, 3)).astype(dtype)
    ours = _to_hwc(color.rgb_to_lab(_to_chw(rgb)))
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, rgb2lab(rgb), atol=1e-3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lab_to_rgb_matches_skimage(dtype):
    rgb = np.random.default_rng(1).random((16, 20, 3))
    lab = rgb2lab(rgb).astype(dtype)
    ours = _to_hwc(color.lab_to_rgb(_to_chw(lab)))
    np.testing.assert_allclose(ours, lab2rgb(lab), atol=1e-3)
    np.testing.assert_allclose(ours, rgb, atol=1e-3)


def test_primaries_and_white():
    rgb = np.array([[[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [0, 0, 0]]], dtype=np.float64)
    np.testing.assert_allclose(_to_hwc(color.rgb_to_lab(_to_chw(rgb))), rgb2lab(rgb), atol=1e-3)


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5), (2, 2, 3, 4, 5)])
def test_batched_shapes(shape):
    x = torch.rand(shape)
    lab = color.rgb_to_lab(x)
    assert lab.shape == shape
    assert color.lab_to_rgb(lab).shape == shape
    assert color.rgb_to_gray(x).shape == (*shape[:-3], 1, *shape[-2:])
    # Batching does not change the per-image result.
    flat = x.reshape(-1, *shape[-3:])
    per_image = torch.stack([color.rgb_to_lab(img) for img in flat]).reshape(shape)
    torch.testing.assert_close(lab, per_image, atol=1e-4, rtol=1e-5)


def test_gradients_flow_gradcheck():
    x = (0.2 + 0.6 * torch.rand(1, 3, 2, 2, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(color.rgb_to_lab, (x,), eps=1e-6, atol=1e-4)
    lab = color.rgb_to_lab(x).detach().requires_grad_()
    assert torch.autograd.gradcheck(color.lab_to_rgb, (lab,), eps=1e-6, atol=1e-4)


def test_model_lab_gradients_reach_input():
    x = torch.rand(1, 3, 4, 4, requires_grad=True)
    lightness, ab = color.rgb_to_model_lab(x * 0.8 + 0.1)
    (lightness.sum() + ab.sum()).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_gamut_safety():
    # Every combination of extreme L, a, b, most of them far outside sRGB.
    values_l = torch.tensor([-10.0, 0.0, 30.0, 50.0, 75.0, 100.0, 120.0])
    values_ab = torch.tensor([-200.0, -128.0, -60.0, 0.0, 60.0, 127.0, 200.0])
    grid = torch.cartesian_prod(values_l, values_ab, values_ab)  # (N, 3)
    lab = grid.T.reshape(1, 3, -1, 1)
    rgb = color.lab_to_rgb(lab)
    assert torch.isfinite(rgb).all()
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0
    rgb2 = color.model_lab_to_rgb(torch.full((1, 1, 3, 3), 2.0), torch.full((1, 2, 3, 3), -5.0))
    assert torch.isfinite(rgb2).all() and rgb2.min() >= 0.0 and rgb2.max() <= 1.0


@pytest.mark.parametrize("ab_scale", [color.DEFAULT_AB_SCALE, 128.0])
def test_model_lab_round_trip_and_ranges(ab_scale):
    rgb = torch.rand(2, 3, 8, 8)
    lightness, ab = color.rgb_to_model_lab(rgb, ab_scale)
    assert lightness.shape == (2, 1, 8, 8) and ab.shape == (2, 2, 8, 8)
    assert lightness.min() >= -1.0 and lightness.max() <= 1.0
    assert ab.abs().max() <= 1.0
    torch.testing.assert_close(
        color.model_lab_to_rgb(lightness, ab, ab_scale), rgb, atol=1e-3, rtol=0
    )


def test_default_ab_scale_covers_srgb_gamut():
    # Saturated sRGB corners have |a|, |b| < 110, so nothing gets clamped.
    corners = torch.tensor(
        [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1]]
    ).float()
    lab = color.rgb_to_lab(corners.T.reshape(1, 3, 6, 1))
    assert lab[:, 1:].abs().max() < color.DEFAULT_AB_SCALE


def test_normalize_helpers_invert():
    lightness = torch.linspace(0, 100, 11)
    torch.testing.assert_close(color.denormalize_l(color.normalize_l(lightness)), lightness)
    ab = torch.linspace(-100, 100, 11)
    torch.testing.assert_close(color.denormalize_ab(color.normalize_ab(ab)), ab)


def test_wrong_channels_and_types():
    with pytest.raises(InvalidInputError, match=r"\(\.\.\., 3, H, W\)"):
        color.rgb_to_lab(torch.rand(1, 4, 5, 5))
    with pytest.raises(InvalidInputError, match="got"):
        color.lab_to_rgb(torch.rand(1, 1, 5, 5))
    with pytest.raises(InvalidInputError):
        color.rgb_to_lab(torch.rand(5, 5))
    with pytest.raises(TypeError, match="torch.Tensor"):
        color.rgb_to_lab(np.zeros((3, 4, 4)))
    with pytest.raises(TypeError, match="floating point"):
        color.rgb_to_lab(torch.zeros(1, 3, 4, 4, dtype=torch.uint8))
    with pytest.raises(InvalidInputError, match="non-finite"):
        color.rgb_to_model_lab(torch.full((1, 3, 2, 2), float("nan")))
    with pytest.raises(InvalidInputError, match="spatial size"):
        color.model_lab_to_rgb(torch.zeros(1, 1, 4, 4), torch.zeros(1, 2, 5, 4))


# -------------------------------------------------------------------------- to_uint8


def test_to_uint8_rounds_half_to_even_and_clamps():
    values = [-1.0, 0.0, 0.5 / 255, 1.5 / 255, 2.5 / 255, 0.2, 0.5, 254.5 / 255, 1.0, 7.0]
    expected = [0, 0, 0, 2, 2, 51, 128, 254, 255, 255]
    assert color.to_uint8(torch.tensor(values, dtype=torch.float64)).tolist() == expected
    out = color.to_uint8(np.array(values))
    assert out.dtype == np.uint8 and out.tolist() == expected


def test_to_uint8_keeps_kind_shape_and_device_and_maps_nan_to_zero():
    x = torch.rand(2, 3, 4, 5)
    x[0, 0, 0, 0] = float("nan")
    t = color.to_uint8(x)
    assert t.dtype == torch.uint8 and t.shape == x.shape and t.device == x.device
    assert int(t[0, 0, 0, 0]) == 0
    reference = np.round(np.nan_to_num(x.numpy(), nan=0.0) * 255.0).astype(np.uint8)
    assert np.array_equal(t.numpy(), reference)
    assert np.array_equal(color.to_uint8(x.numpy()), reference)
    assert np.array_equal(
        color.to_uint8(x.half()).numpy(), color.to_uint8(x.half().float()).numpy()
    )


@pytest.mark.parametrize("bad", [torch.zeros(2, dtype=torch.uint8), np.zeros(2, np.uint8), [0.5]])
def test_to_uint8_rejects_non_float_inputs(bad):
    with pytest.raises(TypeError, match="to_uint8"):
        color.to_uint8(bad)
