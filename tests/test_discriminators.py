"""PatchDiscriminator and MultiScaleDiscriminator: sizes, receptive fields, logits, gradients."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cgan_zoo import (
    InvalidConfigError,
    InvalidInputError,
    MultiScaleDiscriminator,
    PatchDiscriminator,
    create_model,
)
from cgan_zoo.layers.factories import NORM_CHOICES
from cgan_zoo.models.patch_discriminator import output_size_of, receptive_field_of

SUPPORTED = (1, 16, 34, 70, 142, 286)
STRIDE2_LAYERS = {1: 0, 16: 1, 34: 2, 70: 3, 142: 4, 286: 5}


def documented_output_size(size: int, receptive_field: int) -> int:
    """The docstring's formula: floor(H / 2**n) - 2 for n stride-2 layers (H for the PixelGAN)."""
    n = STRIDE2_LAYERS[receptive_field]
    return size if n == 0 else size // 2**n - 2


# --------------------------------------------------------------------------- output sizes


@st.composite
def patch_cases(draw):
    rf = draw(st.sampled_from(SUPPORTED))
    n = STRIDE2_LAYERS[rf]
    # smallest side that still gives one logit (2 for the PixelGAN: training-mode norms
    # need more than one value; the 1x1 case is tested separately in eval mode)
    smallest = 2 if n == 0 else 3 * 2**n
    norm = draw(st.sampled_from(NORM_CHOICES))
    batch = draw(st.integers(1, 3))
    train = draw(st.booleans()) and not (norm == "batch" and batch == 1)
    h = draw(st.integers(smallest, smallest + 40))
    w = draw(st.integers(smallest, smallest + 40))
    kwargs = dict(
        in_channels=draw(st.integers(1, 6)),
        receptive_field=rf,
        base_channels=draw(st.integers(2, 8)),
        norm=norm,
        spectral_norm=draw(st.booleans()),
    )
    return kwargs, batch, h, w, train


@settings(max_examples=25, deadline=None)
@given(patch_cases())
def test_patch_output_size_matches_formula(case):
    kwargs, batch, h, w, train = case
    d = PatchDiscriminator(**kwargs).train(train)
    out = d(torch.randn(batch, kwargs["in_channels"], h, w))
    rf = kwargs["receptive_field"]
    assert out.shape == (batch, 1, documented_output_size(h, rf), documented_output_size(w, rf))
    assert out.shape[-2:] == (d.output_size(h), d.output_size(w))
    assert out.shape[-1] == output_size_of(d, w)
    assert torch.isfinite(out).all()
    assert d.receptive_field == rf


@st.composite
def multiscale_cases(draw):
    rf = draw(st.sampled_from((1, 16, 34, 70)))
    num_scales = draw(st.integers(1, 3))
    n = STRIDE2_LAYERS[rf]
    smallest = 2 if n == 0 else 3 * 2**n
    # the coarsest scale sees ceil(H / 2**(num_scales-1)) pixels
    min_side = (smallest - 1) * 2 ** (num_scales - 1) + 1
    h = draw(st.integers(min_side, min_side + 48))
    w = draw(st.integers(min_side, min_side + 48))
    kwargs = dict(
        in_channels=draw(st.integers(1, 4)),
        num_scales=num_scales,
        receptive_field=rf,
        base_channels=draw(st.integers(2, 6)),
        norm=draw(st.sampled_from(["instance", "group", "none"])),
        spectral_norm=draw(st.booleans()),
    )
    return kwargs, draw(st.integers(1, 2)), h, w


@settings(max_examples=15, deadline=None)
@given(multiscale_cases())
def test_multiscale_output_sizes(case):
    kwargs, batch, h, w = case
    d = MultiScaleDiscriminator(**kwargs)
    assert d.min_input_size <= min(h, w)
    outs = d(torch.randn(batch, kwargs["in_channels"], h, w))
    assert isinstance(outs, list) and len(outs) == kwargs["num_scales"]
    rf = kwargs["receptive_field"]
    for i, out in enumerate(outs):
        hi, wi = math.ceil(h / 2**i), math.ceil(w / 2**i)  # 3x3 stride-2 average pools
        assert out.shape == (batch, 1, documented_output_size(hi, rf), documented_output_size(wi, rf))
        assert out.shape[-1] == output_size_of(d.discriminators[i], wi)
        assert torch.isfinite(out).all()


def test_default_patchgan_on_256_gives_30x30():
    d = PatchDiscriminator(in_channels=3).eval()
    with torch.no_grad():
        out = d(torch.randn(1, 3, 256, 256))
    assert out.shape == (1, 1, 30, 30)
    assert d.receptive_field == 70 and d.output_size(256) == 30


def test_default_patchgan_parameter_count_matches_reference():
    # reference NLayerDiscriminator(input_nc=6, ndf=64, n_layers=3) with BatchNorm: "2.769 M"
    def conv(cin, cout, bias):
        return 16 * cin * cout + (cout if bias else 0)

    expected = conv(6, 64, True)
    expected += conv(64, 128, False) + 2 * 128
    expected += conv(128, 256, False) + 2 * 256
    expected += conv(256, 512, False) + 2 * 512  # the stride-1 layer
    expected += conv(512, 1, True)
    assert expected == 2_768_705
    assert PatchDiscriminator(in_channels=6).num_parameters() == expected


def test_pixel_discriminator_parameter_count_matches_reference():
    # reference PixelDiscriminator(input_nc=3, ndf=64) with BatchNorm: the last 1x1 conv has no bias
    expected = (3 * 64 + 64) + (64 * 128) + 2 * 128 + 128 * 1
    assert expected == 8_832
    d = create_model("patchgan_1", in_channels=3)
    assert d.num_parameters() == expected and d.head.bias is None
    # with a norm without shift (instance, none) the head keeps its bias, as in the reference
    assert PatchDiscriminator(3, receptive_field=1, norm="instance").head.bias is not None


def test_multiscale_doc_example():
    d = MultiScaleDiscriminator(in_channels=3, num_scales=2, base_channels=8)
    assert [tuple(o.shape) for o in d(torch.randn(1, 3, 128, 128))] == [(1, 1, 14, 14), (1, 1, 6, 6)]


# --------------------------------------------------------------------------- receptive field


@pytest.mark.parametrize("rf", SUPPORTED)
def test_receptive_field_property(rf):
    d = PatchDiscriminator(3, receptive_field=rf, base_channels=2)
    assert d.receptive_field == rf == receptive_field_of(d)
    assert create_model(f"patchgan_{rf}", base_channels=2).receptive_field == rf


@pytest.mark.parametrize("bad", [0, 2, 69, 71, 128, 512, "70"])
def test_invalid_receptive_field_lists_valid_ones(bad):
    with pytest.raises(ValueError, match=r"choose one of \[1, 16, 34, 70, 142, 286\]") as info:
        PatchDiscriminator(3, receptive_field=bad)
    assert isinstance(info.value, InvalidConfigError)
    assert repr(bad) in str(info.value)


def _gradient_support(d: nn.Module, in_channels: int, size: int) -> torch.Tensor:
    """Boolean map of the input pixels that influence the centre output logit."""
    x = torch.randn(1, in_channels, size, size, dtype=torch.float64, requires_grad=True)
    out = d(x)
    oh, ow = out.shape[-2:]
    out[0, 0, oh // 2, ow // 2].backward()
    return x.grad.abs().sum(dim=(0, 1)) > 0


@pytest.mark.parametrize("rf", SUPPORTED)
def test_empirical_receptive_field_is_an_exact_square(rf):
    size = -(-3 * rf // 32) * 32  # 3 * RF rounded up to a multiple of 32: the field is interior
    torch.manual_seed(rf)
    d = PatchDiscriminator(2, receptive_field=rf, base_channels=2, norm="none").double()
    support = _gradient_support(d, 2, size)
    rows = support.any(dim=1).nonzero().flatten()
    cols = support.any(dim=0).nonzero().flatten()
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    assert 0 < top and bottom < size - 1 and 0 < left and right < size - 1, "field touches the border"
    assert (bottom - top + 1, right - left + 1) == (rf, rf)
    assert int(support.sum()) == rf * rf  # every pixel of the square, nothing outside it
    assert support[top : bottom + 1, left : right + 1].all()


@pytest.mark.parametrize("variant", ["batch-eval", "spectral-eval", "instance-excluded"])
def test_empirical_receptive_field_with_norms(variant):
    rf, size = 70, 224
    if variant == "instance-excluded":
        # instance norm mixes statistics of the whole image: the field becomes global,
        # which is why the exact-square test uses norm="none" or eval-mode batch norm
        d = PatchDiscriminator(2, rf, base_channels=2, norm="instance").double()
        support = _gradient_support(d, 2, size)
        assert int(support.sum()) > rf * rf
        return
    spectral = variant == "spectral-eval"
    d = PatchDiscriminator(2, rf, base_channels=2, norm="batch", spectral_norm=spectral).double()
    with torch.no_grad():  # non-trivial running statistics
        for m in d.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    d.eval()
    support = _gradient_support(d, 2, size)
    assert int(support.sum()) == rf * rf
    rows = support.any(dim=1).nonzero().flatten()
    assert rows.max() - rows.min() + 1 == rf


# --------------------------------------------------------------------------- logits, spectral norm


def test_discriminator_returns_unbounded_logits():
    d = PatchDiscriminator(3, receptive_field=34, base_channels=4, norm="none")
    assert not any(isinstance(m, (nn.Sigmoid, nn.Tanh)) for m in d.modules())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        d.head.bias.fill_(-5.0)
        assert (d(x) < 0).any()
        d.head.bias.fill_(5.0)
        assert (d(x) > 1).any()
        d.head.weight.mul_(1e3)
        out = d(x)
    assert out.abs().max() > 10 and torch.isfinite(out).all()


def test_spectral_norm_option():
    torch.manual_seed(0)
    d = PatchDiscriminator(3, receptive_field=34, base_channels=4, spectral_norm=True)
    keys = d.state_dict().keys()
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 4  # two stride-2 convs, the stride-1 conv and the head
    assert all(hasattr(c, "weight_orig") and hasattr(c, "weight_u") for c in convs)
    assert sum(k.endswith("weight_orig") for k in keys) == 4
    plain = PatchDiscriminator(3, receptive_field=34, base_channels=4)
    assert d.num_parameters() == plain.num_parameters()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        for _ in range(40):  # power iterations converge in training mode
            d(x)
    for conv in convs:
        w = conv.weight.reshape(conv.weight.shape[0], -1)
        sigma = torch.linalg.matrix_norm(w, ord=2).item()
        assert sigma == pytest.approx(1.0, abs=0.05)
    out = d.eval()(x)
    assert out.shape == (2, 1, 14, 14) and torch.isfinite(out).all()


def test_return_features():
    d = PatchDiscriminator(3, receptive_field=70, base_channels=4)
    out, feats = d(torch.randn(2, 3, 64, 64), return_features=True)
    assert out.shape == (2, 1, 6, 6)
    assert [f.shape[1] for f in feats] == [4, 8, 16, 32]
    ms = create_model("multiscale_patchgan_tiny", in_channels=3)
    pairs = ms(torch.randn(1, 3, 64, 64), return_features=True)
    assert len(pairs) == 2 and all(isinstance(p, tuple) and len(p) == 2 for p in pairs)
    assert pairs[1][0].shape == (1, 1, 6, 6)  # 32x32 at the second scale, RF 34


# --------------------------------------------------------------------------- errors


def test_too_small_input_is_refused_clearly():
    d = PatchDiscriminator(3, receptive_field=70, base_channels=2)
    assert d.min_input_size == 24
    assert d(torch.randn(1, 3, 24, 24)).shape == (1, 1, 1, 1)
    with pytest.raises(InvalidInputError, match=r"23x23 is smaller than the minimum 24x24"):
        d(torch.randn(1, 3, 23, 23))
    ms = MultiScaleDiscriminator(3, num_scales=3, receptive_field=70, base_channels=2)
    assert ms.min_input_size == 93
    assert [o.shape[-1] for o in ms(torch.randn(1, 3, 93, 93))] == [9, 3, 1]
    with pytest.raises(InvalidInputError, match=r"smaller than the minimum 93x93"):
        ms(torch.randn(1, 3, 92, 92))
    pixel = PatchDiscriminator(3, receptive_field=1, base_channels=2).eval()
    assert pixel.min_input_size == 1
    assert pixel(torch.randn(1, 3, 1, 1)).shape == (1, 1, 1, 1)


@pytest.mark.parametrize(
    ("factory", "kwargs", "pattern"),
    [
        (PatchDiscriminator, {"base_channels": 0}, r"base_channels must be a positive integer, got 0"),
        (PatchDiscriminator, {"in_channels": True}, r"in_channels must be a positive integer, got True"),
        (PatchDiscriminator, {"norm": "layer"}, r"norm='layer' is not supported"),
        (MultiScaleDiscriminator, {"num_scales": 0}, r"num_scales must be an integer >= 1, got 0"),
        (MultiScaleDiscriminator, {"receptive_field": 50}, r"choose one of \[1, 16, 34, 70, 142, 286\]"),
    ],
)
def test_invalid_discriminator_configs(factory, kwargs, pattern):
    with pytest.raises(InvalidConfigError, match=pattern):
        factory(**kwargs)


def test_wrong_input_channels():
    with pytest.raises(InvalidInputError, match=r"must have 3 channel\(s\), got 2"):
        create_model("patchgan_tiny", in_channels=3)(torch.randn(1, 2, 64, 64))
    with pytest.raises(InvalidInputError, match=r"must have 3 channel\(s\), got 2"):
        create_model("multiscale_patchgan_tiny")(torch.randn(1, 2, 64, 64))


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("patchgan_tiny", {}),
        ("patchgan_tiny", {"norm": "instance"}),
        ("patchgan_tiny", {"norm": "group", "spectral_norm": True}),
        ("patchgan_1", {"base_channels": 4}),
        ("patchgan_70", {"base_channels": 4, "norm": "none"}),
        ("multiscale_patchgan_tiny", {}),
        ("multiscale_patchgan_tiny", {"norm": "batch", "spectral_norm": True, "num_scales": 3}),
    ],
)
def test_every_parameter_gets_a_gradient(name, overrides):
    d = create_model(name, in_channels=3, **overrides).train()
    out = d(torch.randn(2, 3, 96, 96))
    loss = sum(o.sum() for o in out) if isinstance(out, list) else out.sum()
    loss.backward()
    for pname, p in d.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname
        if p.ndim > 1:
            assert p.grad.abs().sum() > 0, pname
