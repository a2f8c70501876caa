"""pad_to_multiple / crop_padding / run_padded: any image size works with any model stride."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cgan_zoo import (
    InvalidConfigError,
    InvalidInputError,
    create_model,
    crop_padding,
    pad_to_multiple,
    run_padded,
)

# sizes that include 1x1, very thin images and sizes just off a multiple
SIDES = st.one_of(st.integers(1, 3), st.integers(1, 70), st.sampled_from([15, 17, 31, 33, 63, 65]))


@settings(max_examples=40, deadline=None)
@given(
    h=SIDES,
    w=SIDES,
    c=st.integers(1, 3),
    multiple=st.sampled_from([1, 2, 7, 8, 16, 32]),
    mode=st.sampled_from(["reflect", "replicate", "constant"]),
)
def test_pad_then_crop_is_identity(h, w, c, multiple, mode):
    x = torch.randn(2, c, h, w)
    padded, padding = pad_to_multiple(x, multiple, mode=mode)
    left, right, top, bottom = padding
    assert left == 0 and top == 0
    assert padded.shape[-2] % multiple == 0 and padded.shape[-1] % multiple == 0
    assert padded.shape[-2] - h == bottom < multiple and padded.shape[-1] - w == right < multiple
    assert padded.shape[:2] == x.shape[:2]
    # the original image sits untouched in the top-left corner
    assert torch.equal(padded[..., :h, :w], x)
    assert torch.equal(crop_padding(padded, padding), x)
    if mode == "constant":
        assert padded[..., h:, :].abs().sum() == 0 and padded[..., :, w:].abs().sum() == 0
    elif bottom and (mode == "replicate" or bottom >= h or right >= w):
        # replicate (also the fallback for images too small to reflect) repeats the last row
        assert torch.equal(padded[..., h:, :w], x[..., -1:, :].expand(-1, -1, bottom, -1))
    elif bottom:  # reflect mirrors about the last row, without repeating it
        mirrored = x[..., h - 2 - torch.arange(bottom), :]
        assert torch.equal(padded[..., h:, :w], mirrored)


def test_pad_examples_from_the_docs():
    padded, padding = pad_to_multiple(torch.zeros(1, 1, 250, 300), 32)
    assert tuple(padded.shape) == (1, 1, 256, 320) and padding == (0, 20, 0, 6)
    same, padding = pad_to_multiple(torch.ones(1, 1, 64, 32), 32)
    assert padding == (0, 0, 0, 0) and same.shape == (1, 1, 64, 32)


@pytest.fixture(scope="module")
def tiny_unet():
    torch.manual_seed(0)
    return create_model("unet_tiny").eval()  # stride 16


@settings(max_examples=12, deadline=None)
@given(h=SIDES, w=SIDES, batch=st.integers(1, 2))
def test_run_padded_works_for_any_size(tiny_unet, h, w, batch):
    x = torch.rand(batch, 1, h, w) * 2 - 1
    with torch.no_grad():
        y = run_padded(tiny_unet, x)
        padded, padding = pad_to_multiple(x, tiny_unet.stride)
        expected = crop_padding(tiny_unet(padded), padding)
    assert y.shape == (batch, 2, h, w)
    assert torch.isfinite(y).all()
    lo, hi = tiny_unet.output_range
    assert lo <= y.min().item() and y.max().item() <= hi
    assert torch.equal(y, expected)


@pytest.mark.parametrize("shape", [(1, 1), (1, 97), (97, 1), (2, 300), (33, 17)])
def test_run_padded_extreme_shapes(tiny_unet, shape):
    x = torch.rand(1, 1, *shape)
    with torch.no_grad():
        y = run_padded(tiny_unet, x)
    assert y.shape == (1, 2, *shape) and torch.isfinite(y).all()
    # without padding the same input is refused with the nearest valid sizes
    if shape[0] % 16 or shape[1] % 16:
        with pytest.raises(InvalidInputError, match="Nearest valid heights"):
            tiny_unet(x)


def test_run_padded_with_explicit_multiple():
    x = torch.rand(1, 1, 5, 9)
    plain = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding=1))  # no stride attribute
    assert run_padded(plain, x).shape == (1, 1, 5, 9)  # stride defaults to 1
    assert run_padded(plain, x, multiple=4).shape == (1, 1, 5, 9)
    conv = torch.nn.Conv2d(1, 1, 3, padding=1)  # its .stride is a tuple with another meaning
    with pytest.raises(InvalidConfigError, match=r"Conv2d.stride is \(1, 1\).*pass multiple="):
        run_padded(conv, x)
    assert run_padded(conv, x, multiple=8).shape == (1, 1, 5, 9)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"multiple": 0}, InvalidConfigError, r"multiple must be a positive integer, got 0"),
        ({"multiple": 2.5}, InvalidConfigError, r"multiple must be a positive integer, got 2.5"),
        ({"multiple": 8, "mode": "wrap"}, InvalidConfigError, r"mode='wrap' is not supported; choose 'reflect'"),
    ],
)
def test_pad_rejects_bad_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        pad_to_multiple(torch.zeros(1, 1, 5, 5), **kwargs)


def test_pad_rejects_bad_tensors():
    with pytest.raises(InvalidInputError, match=r"must have 4 dims"):
        pad_to_multiple(torch.zeros(5, 5), 4)
    with pytest.raises(TypeError, match=r"torch.Tensor"):
        pad_to_multiple([[0.0]], 4)
