"""TimmUNet: shape contracts with a small decoder, stem adaptation, gradients, errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from cgan_zoo import InvalidConfigError, InvalidInputError, TimmUNet, create_model, run_padded
from cgan_zoo.layers.factories import NORM_CHOICES

TINY_DECODER = [32, 24, 16, 16, 8]


def _task_for(in_channels: int, out_channels: int) -> str:
    return {(1, 2): "colorize", (2, 3): "colorize-missing"}.get((in_channels, out_channels), "generic")


@st.composite
def timm_cases(draw):
    in_ch, out_ch = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(st.integers(1, 2))
    # the encoder has BatchNorm and reaches 1x1 at 32x32: train only with a batch of 2
    train = draw(st.booleans()) and batch > 1
    kwargs = dict(
        in_channels=in_ch,
        out_channels=out_ch,
        decoder_channels=draw(st.sampled_from([TINY_DECODER, [8, 8, 8, 8, 4]])),
        norm=draw(st.sampled_from(NORM_CHOICES)),
        final_activation=draw(st.sampled_from(["tanh", "sigmoid", "none", "relu"])),
        dropout=draw(st.sampled_from([0.0, 0.2])),
        task=_task_for(in_ch, out_ch),
    )
    h, w = 32 * draw(st.integers(1, 2)), 32 * draw(st.integers(1, 2))
    return kwargs, (batch, in_ch, h, w), train


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timm_cases())
def test_timm_unet_shape_contract(case):
    kwargs, shape, train = case
    model = create_model("timm_unet_tiny", **kwargs).train(train)
    x = torch.randn(*shape) * 3
    y = model(x)
    assert y.shape == (shape[0], kwargs["out_channels"], shape[2], shape[3])
    assert torch.isfinite(y).all()
    lo, hi = model.output_range
    assert y.min().item() >= lo and y.max().item() <= hi


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return create_model("timm_unet_tiny")


def test_structure_of_the_tiny_variant(tiny):
    assert tiny.stride == 32
    assert tiny.encoder.feature_info.channels() == [16, 24, 40, 112, 320]
    assert tiny.encoder.feature_info.reduction() == [2, 4, 8, 16, 32]
    # one stage per skip, deepest first: four encoder levels, then the input itself
    assert len(tiny.decoder_blocks) == 5
    assert [b[0].out_channels for b in tiny.decoder_blocks] == TINY_DECODER[:5]
    assert [b[0].in_channels for b in tiny.decoder_blocks] == [320 + 112, 32 + 40, 24 + 24, 16 + 16, 16 + 1]
    assert tiny.head[0].in_channels == TINY_DECODER[4]
    assert isinstance(tiny.head[-1], nn.Tanh)
    assert tiny.config["encoder_name"] == "tf_efficientnet_lite0"


def test_stem_is_adapted_to_the_input_channels():
    torch.manual_seed(0)
    one = create_model("timm_unet_tiny", in_channels=1)
    two = create_model("timm_unet_tiny", in_channels=2, out_channels=3, task="colorize-missing")
    three = create_model("timm_unet_tiny", in_channels=3, task="generic")
    assert one.encoder.conv_stem.weight.shape == (32, 1, 3, 3)
    assert two.encoder.conv_stem.weight.shape == (32, 2, 3, 3)
    assert three.encoder.conv_stem.weight.shape == (32, 3, 3, 3)
    assert torch.all(two.encoder.conv_stem.weight[:, 1] == 0)  # extra channels start at zero
    assert one.encoder.conv_stem.in_channels == 1
    # the replaced stem keeps its class (TF "same" padding) and is a trainable parameter
    assert type(one.encoder.conv_stem) is type(three.encoder.conv_stem)
    assert any(p is one.encoder.conv_stem.weight for p in one.parameters())


def test_timm_unet_any_size_with_run_padded(tiny):
    tiny.eval()
    with torch.no_grad():
        y = run_padded(tiny, torch.rand(1, 1, 37, 50) * 2 - 1)
    assert y.shape == (1, 2, 37, 50) and torch.isfinite(y).all()


def test_non_divisible_input_names_nearest_sizes(tiny):
    with pytest.raises(InvalidInputError, match=r"divisible by 32, got 250x64.*Nearest valid heights: 224 or 256"):
        tiny.eval()(torch.zeros(1, 1, 250, 64))
    with pytest.raises(InvalidInputError, match=r"must have 1 channel\(s\), got 3"):
        tiny(torch.zeros(1, 3, 64, 64))


def test_every_parameter_gets_a_gradient():
    torch.manual_seed(0)
    model = create_model("timm_unet_tiny", dropout=0.2, norm="group").train()
    x = torch.randn(2, 1, 64, 64)
    (model(x) - torch.rand(2, 2, 64, 64)).abs().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        if p.ndim > 1:
            assert p.grad.abs().sum() > 0, name


def test_every_decoder_channels_entry_is_used():
    a = TimmUNet(decoder_channels=[8, 8, 8, 8, 8])
    b = TimmUNet(decoder_channels=[8, 8, 8, 8, 4])
    assert a.state_dict()["head.0.weight"].shape != b.state_dict()["head.0.weight"].shape or len(
        a.state_dict()
    ) != len(b.state_dict())


def test_resnet18_encoder():
    model = create_model("unet_resnet18", decoder_channels=[16, 16, 8, 8, 8]).eval()
    assert model.encoder.feature_info.reduction() == [2, 4, 8, 16, 32]
    assert model.encoder.conv1.weight.shape[1] == 1
    with torch.no_grad():
        assert model(torch.randn(1, 1, 64, 32)).shape == (1, 2, 64, 32)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"encoder_name": "no_such_net"}, r"encoder_name='no_such_net' is not a timm model"),
        ({"decoder_channels": [8, 8, 8]}, r"decoder_channels needs 5 entries.*got 3"),
        ({"norm": "layer"}, r"norm='layer' is not supported"),
        ({"final_activation": "softmax"}, r"activation='softmax' is not supported"),
        ({"dropout": 1.5}, r"dropout must be in \[0, 1\)"),
        ({"in_channels": 3, "task": "colorize"}, r"task='colorize' needs in_channels=1 and out_channels=2"),
        ({"in_channels": 0, "task": "generic"}, r"in_channels must be an integer >= 1, got 0"),
    ],
)
def test_invalid_configs(kwargs, pattern):
    with pytest.raises(InvalidConfigError, match=pattern):
        TimmUNet(**{"decoder_channels": TINY_DECODER, **kwargs})
