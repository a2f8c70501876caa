"""ResnetGenerator: shape contract, the reference's parameter counts, gradients, round trip, errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cgan_zoo import HubModel, InvalidConfigError, InvalidInputError, ResnetGenerator, create_model
from cgan_zoo.layers.factories import NORM_CHOICES
from cgan_zoo.models.resnet import PADDING_MODES

FINAL_ACTIVATIONS = ("tanh", "sigmoid", "none", "relu", "leaky_relu")


def _task_for(in_channels: int, out_channels: int) -> str:
    return {(1, 2): "colorize", (2, 3): "colorize-missing"}.get((in_channels, out_channels), "generic")


# --------------------------------------------------------------------------- shape contract


@st.composite
def resnet_cases(draw):
    in_ch, out_ch = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    norm = draw(st.sampled_from(NORM_CHOICES))
    padding_mode = draw(st.sampled_from(PADDING_MODES))
    batch = draw(st.integers(1, 3))
    train = draw(st.booleans())  # batch norm trains even at batch size 1: the bottleneck has 2x2 pixels
    kwargs = dict(
        in_channels=in_ch,
        out_channels=out_ch,
        base_channels=draw(st.integers(1, 6)),
        num_blocks=draw(st.integers(0, 3)),
        norm=norm,
        dropout=draw(st.sampled_from([0.0, 0.5])),
        padding_mode=padding_mode,
        final_activation=draw(st.sampled_from(FINAL_ACTIVATIONS)),
        task=_task_for(in_ch, out_ch),
        instance_running_stats=draw(st.booleans()),
    )
    h, w = 4 * draw(st.integers(2, 9)), 4 * draw(st.integers(2, 9))  # any multiple of 4 from 8
    return kwargs, (batch, in_ch, h, w), train


@settings(max_examples=25, deadline=None)
@given(resnet_cases())
def test_resnet_shape_contract(case):
    kwargs, shape, train = case
    model = ResnetGenerator(**kwargs).train(train)
    x = torch.randn(*shape) * 3
    y = model(x)
    assert y.shape == (shape[0], kwargs["out_channels"], shape[2], shape[3])
    assert y.dtype == x.dtype and torch.isfinite(y).all()
    lo, hi = model.output_range
    assert y.min().item() >= lo and y.max().item() <= hi
    assert model.stride == 4


@pytest.mark.parametrize(("mode", "norm"), [(m, n) for m in PADDING_MODES for n in ("batch", "instance")])
def test_smallest_input_is_eight_pixels_in_every_mode(mode, norm):
    g = ResnetGenerator(base_channels=2, num_blocks=1, padding_mode=mode, norm=norm)
    assert g.min_input_size == 8
    for train in (True, False):  # a 2x2 bottleneck reflects and normalises even at batch size 1
        assert g.train(train)(torch.zeros(1, 1, 8, 8)).shape == (1, 2, 8, 8)
        with pytest.raises(InvalidInputError, match=r"4x4 is smaller than the minimum 8x8"):
            g(torch.zeros(1, 1, 4, 4))


def test_bad_inputs_are_named():
    reflect = ResnetGenerator(base_channels=2, num_blocks=1).eval()
    with pytest.raises(InvalidInputError, match=r"divisible by 4, got 30x32"):
        reflect(torch.zeros(1, 1, 30, 32))
    with pytest.raises(InvalidInputError, match=r"must have 1 channel\(s\), got 3"):
        reflect(torch.zeros(1, 3, 32, 32))


# --------------------------------------------------------------------------- the reference's networks


def _reference_resnet_parameters(input_nc: int, output_nc: int, ngf: int, n_blocks: int, norm: str) -> int:
    """Count the reference ResnetGenerator's parameters by arithmetic only.

    7x7 conv input_nc -> ngf; 3x3 stride-2 convs ngf -> 2ngf -> 4ngf; n_blocks blocks of two
    3x3 convs 4ngf -> 4ngf; 3x3 transposed convs 4ngf -> 2ngf -> ngf; 7x7 conv ngf -> output_nc
    with a bias. Instance norm has no parameters and its convs have a bias; batch norm has
    weight and bias and its convs have none.
    """
    conv_bias = norm == "instance"

    def conv(k, cin, cout, bias=conv_bias):
        return k * k * cin * cout + (cout if bias else 0)

    def norm_params(c):
        return 2 * c if norm == "batch" else 0

    total = conv(7, input_nc, ngf) + norm_params(ngf)
    total += conv(3, ngf, 2 * ngf) + norm_params(2 * ngf) + conv(3, 2 * ngf, 4 * ngf) + norm_params(4 * ngf)
    total += n_blocks * 2 * (conv(3, 4 * ngf, 4 * ngf) + norm_params(4 * ngf))
    total += conv(3, 4 * ngf, 2 * ngf) + norm_params(2 * ngf) + conv(3, 2 * ngf, ngf) + norm_params(ngf)
    return total + conv(7, ngf, output_nc, bias=True)


@pytest.mark.parametrize(
    ("name", "blocks", "norm", "expected"),
    [
        ("pix2pix_resnet9", 9, "instance", 11_378_179),  # CycleGAN's default resnet_9blocks
        ("pix2pix_resnet6", 6, "instance", 7_837_699),
        ("pix2pix_resnet9", 9, "batch", None),
    ],
)
def test_parameter_count_matches_reference(name, blocks, norm, expected):
    count = _reference_resnet_parameters(3, 3, 64, blocks, norm)
    if expected is not None:
        assert count == expected
    model = create_model(name, in_channels=3, out_channels=3, norm=norm, task="generic")
    assert model.num_parameters() == count
    assert model.config["num_blocks"] == blocks


def test_small_instance_norm_network_has_the_reference_tensors():
    g = ResnetGenerator(3, 3, base_channels=8, num_blocks=6, norm="instance", task="generic",
                        instance_running_stats=True)
    assert g.num_parameters() == _reference_resnet_parameters(3, 3, 8, 6, "instance") == 124_931
    assert len(g.state_dict()) == 87  # as in the reference file G_resnet6_3to3_ngf8_inst
    assert list(g.state_dict())[:3] == ["stem.conv.weight", "stem.conv.bias", "stem.norm.running_mean"]


def test_layer_recipe():
    g = ResnetGenerator(3, 3, base_channels=4, num_blocks=2, dropout=0.5, task="generic")
    assert isinstance(g.stem.pad, nn.ReflectionPad2d) and g.stem.conv.kernel_size == (7, 7)
    assert [b.conv.stride for b in g.down_blocks] == [(2, 2), (2, 2)]
    assert [b.conv.output_padding for b in g.up_blocks] == [(1, 1), (1, 1)]
    block = g.res_blocks[0]
    assert [n for n, _ in block.named_children()] == ["pad1", "conv1", "norm1", "relu", "dropout", "pad2", "conv2", "norm2"]
    assert isinstance(block.dropout, nn.Dropout) and block.dropout.p == 0.5
    assert g.stem.conv.bias is None and g.head.conv.bias is not None  # batch norm: only the head has a bias
    assert isinstance(g.head.act, nn.Tanh)


# --------------------------------------------------------------------------- gradients, modes, round trip


@pytest.mark.parametrize(
    "overrides",
    [{}, {"norm": "instance"}, {"norm": "group", "padding_mode": "zeros"}, {"norm": "none", "dropout": 0.3}],
)
def test_every_parameter_gets_a_gradient(overrides):
    model = create_model("pix2pix_resnet6", base_channels=4, **overrides).train()
    loss = (model(torch.randn(2, 1, 16, 16)) - torch.rand(2, 2, 16, 16)).abs().mean()
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        if p.ndim > 1:
            assert p.grad.abs().sum() > 0, name


def test_instance_running_stats_are_used_in_eval_only():
    g = ResnetGenerator(base_channels=4, num_blocks=1, norm="instance", instance_running_stats=True)
    x = torch.randn(2, 1, 16, 16)
    g.train()(x)  # updates the running statistics
    with torch.no_grad():
        assert not torch.allclose(g.eval()(x), g.train()(x))
    plain = ResnetGenerator(base_channels=4, num_blocks=1, norm="instance")
    assert not any("running" in k for k in plain.state_dict())


def test_dropout_is_noise_in_train_and_off_in_eval():
    g = create_model("pix2pix_resnet6", base_channels=4, norm="instance", dropout=0.5)
    x = torch.randn(1, 1, 16, 16)
    assert not torch.equal(g.train()(x), g(x))
    with torch.no_grad():
        assert torch.equal(g.eval()(x), g(x))


@pytest.mark.parametrize("overrides", [{}, {"norm": "instance", "instance_running_stats": True, "padding_mode": "replicate"}])
def test_save_pretrained_round_trip(tmp_path, overrides):
    g = create_model("pix2pix_resnet6", base_channels=4, **overrides)
    g.train()(torch.randn(2, 1, 16, 16))  # non-default running statistics
    g.save_pretrained(tmp_path)
    loaded = HubModel.from_pretrained(tmp_path)
    assert type(loaded) is ResnetGenerator and loaded.config == g.config
    x = torch.randn(1, 1, 16, 16)
    with torch.no_grad():
        assert torch.equal(loaded(x), g.eval()(x))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"num_blocks": -1}, r"num_blocks must be an integer >= 0, got -1"),
        ({"base_channels": 0}, r"base_channels must be an integer >= 1"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
        ({"padding_mode": "circular"}, r"padding_mode='circular' is not supported; choose one of \['reflect', 'replicate', 'zeros'\]"),
        ({"norm": "layer"}, r"norm='layer' is not supported"),
        ({"instance_running_stats": "yes"}, r"instance_running_stats must be True or False, got 'yes'"),
        ({"in_channels": 3, "out_channels": 3, "task": "colorize"}, r"task='colorize' needs in_channels=1 and out_channels=2.*task='generic'"),
        ({"ab_scale": 0}, r"ab_scale must be positive"),
    ],
)
def test_invalid_config_messages(kwargs, pattern):
    with pytest.raises(InvalidConfigError, match=pattern):
        ResnetGenerator(**{"base_channels": 4, "num_blocks": 1, **kwargs})
