"""UNetGenerator: shape contracts, the paper's seed architecture, gradients, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cgan_zoo import (
    Colorizer,
    HubModel,
    InvalidConfigError,
    InvalidInputError,
    UNetGenerator,
    create_model,
)
from cgan_zoo.layers.factories import NORM_CHOICES

FINAL_ACTIVATIONS = ("tanh", "sigmoid", "none", "relu", "leaky_relu")


def _task_for(in_channels: int, out_channels: int) -> str:
    return {(1, 2): "colorize", (2, 3): "colorize-missing"}.get((in_channels, out_channels), "generic")


# --------------------------------------------------------------------------- shape contract


@st.composite
def unet_cases(draw):
    in_ch, out_ch = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    num_downs = draw(st.integers(2, 5))
    norm = draw(st.sampled_from(NORM_CHOICES))
    batch = draw(st.integers(1, 3))
    # BatchNorm in training mode needs more than one sample; otherwise test both modes.
    train = draw(st.booleans()) and not (norm == "batch" and batch == 1)
    kwargs = dict(
        in_channels=in_ch,
        out_channels=out_ch,
        base_channels=draw(st.integers(2, 8)),
        num_downs=num_downs,
        max_channels=draw(st.sampled_from([8, 16, 512])),
        norm=norm,
        dropout=draw(st.sampled_from([0.0, 0.5])),
        upsample=draw(st.sampled_from(["transpose", "resize"])),
        final_activation=draw(st.sampled_from(FINAL_ACTIVATIONS)),
        task=_task_for(in_ch, out_ch),
    )
    stride = 2**num_downs
    h = stride * draw(st.integers(1, 3))
    w = stride * draw(st.integers(1, 3))
    return kwargs, (batch, in_ch, h, w), train


@settings(max_examples=25, deadline=None)
@given(unet_cases())
def test_unet_shape_contract(case):
    kwargs, shape, train = case
    model = UNetGenerator(**kwargs).train(train)
    x = torch.randn(*shape) * 3  # large inputs push the final activation towards its bounds
    y = model(x)
    assert y.shape == (shape[0], kwargs["out_channels"], shape[2], shape[3])
    assert y.dtype == x.dtype
    assert torch.isfinite(y).all()
    lo, hi = model.output_range
    assert y.min().item() >= lo and y.max().item() <= hi
    assert model.stride == 2 ** kwargs["num_downs"]


@pytest.mark.parametrize(
    ("activation", "expected"),
    [("tanh", (-1.0, 1.0)), ("sigmoid", (0.0, 1.0)), ("relu", (0.0, math.inf)), ("none", (-math.inf, math.inf))],
)
def test_output_range_property(activation, expected):
    assert create_model("unet_tiny", final_activation=activation).output_range == expected


# --------------------------------------------------------------------------- the paper's seed


@pytest.fixture(scope="module")
def seed_unet():
    torch.manual_seed(0)
    return UNetGenerator().eval()


def test_default_unet_is_the_pix2pix_seed(seed_unet):
    model = seed_unet
    assert len(model.down_blocks) == 8 and len(model.up_blocks) == 7
    shapes: dict[str, tuple[int, ...]] = {}

    def hook(name):
        def fn(_module, _inputs, output):
            shapes[name] = tuple(output.shape)

        return fn

    handles = [b.register_forward_hook(hook(f"down{i}")) for i, b in enumerate(model.down_blocks)]
    handles += [b.register_forward_hook(hook(f"up{j}")) for j, b in enumerate(model.up_blocks)]
    with torch.no_grad():
        y = model(torch.rand(1, 1, 256, 256) * 2 - 1)
    for h in handles:
        h.remove()

    # 256x256 reaches a 1x1x512 bottleneck
    assert shapes["down7"] == (1, 512, 1, 1)
    enc = [64, 128, 256, 512, 512, 512, 512, 512]
    assert [shapes[f"down{i}"][1] for i in range(8)] == enc
    assert [shapes[f"down{i}"][2] for i in range(8)] == [256 // 2 ** (i + 1) for i in range(8)]
    dec = [512, 512, 512, 512, 256, 128, 64]
    assert [shapes[f"up{j}"][1] for j in range(7)] == dec
    assert [shapes[f"up{j}"][2] for j in range(7)] == [2 ** (j + 1) for j in range(7)]
    assert y.shape == (1, 2, 256, 256)
    assert y.abs().max() <= 1.0

    # encoder layer recipe: 4x4 stride-2 convs, LeakyReLU(0.2), BN on all but the first and innermost
    for i, block in enumerate(model.down_blocks):
        convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
        assert len(convs) == 1 and convs[0].kernel_size == (4, 4) and convs[0].stride == (2, 2)
        bns = [m for m in block.modules() if isinstance(m, nn.BatchNorm2d)]
        assert len(bns) == (0 if i in (0, 7) else 1)
        relus = [m for m in block.modules() if isinstance(m, nn.LeakyReLU)]
        assert len(relus) == (0 if i == 0 else 1)
        assert all(r.negative_slope == 0.2 for r in relus)

    # dropout p=0.5 in decoder blocks 1-3 counted from the bottleneck, as in the reference code
    for j, block in enumerate(model.up_blocks):
        drops = [m for m in block.modules() if isinstance(m, nn.Dropout)]
        if 1 <= j <= 3:
            assert len(drops) == 1 and drops[0].p == 0.5
        else:
            assert drops == []
        assert any(isinstance(m, nn.ConvTranspose2d) for m in block.modules())
    assert not any(isinstance(m, nn.Dropout) for m in model.head.modules())
    assert isinstance(model.head[-1], nn.Tanh)


def _reference_unet_parameters(input_nc: int, output_nc: int, ngf: int = 64) -> int:
    """Count unet_256's parameters from the reference block recipe, by arithmetic only.

    Reference UnetSkipConnectionBlock(outer_nc, inner_nc, input_nc) with BatchNorm
    (so convs have no bias, except the outermost up-conv):
      down conv input_nc -> inner_nc (4x4), down norm on inner_nc unless outermost/innermost;
      up conv (inner_nc if innermost else 2*inner_nc) -> outer_nc (4x4), up norm on outer_nc
      unless outermost (which has a bias and tanh instead).
    """

    def conv(cin, cout, bias=False):
        return 4 * 4 * cin * cout + (cout if bias else 0)

    def bn(c):
        return 2 * c  # weight + bias (running stats are buffers)

    # (outer_nc, inner_nc, input_nc, kind), innermost first, as unet_256 builds them
    blocks = [(ngf * 8, ngf * 8, ngf * 8, "innermost")]
    blocks += [(ngf * 8, ngf * 8, ngf * 8, "middle")] * 3  # the dropout blocks
    blocks += [(ngf * 4, ngf * 8, ngf * 4, "middle"), (ngf * 2, ngf * 4, ngf * 2, "middle")]
    blocks += [(ngf, ngf * 2, ngf, "middle"), (output_nc, ngf, input_nc, "outermost")]
    total = 0
    for outer, inner, inp, kind in blocks:
        total += conv(inp, inner)
        if kind == "middle":
            total += bn(inner)
        if kind == "innermost":
            total += conv(inner, outer) + bn(outer)
        elif kind == "middle":
            total += conv(2 * inner, outer) + bn(outer)
        else:
            total += conv(2 * inner, outer, bias=True)
    return total


@pytest.mark.parametrize(
    ("in_channels", "out_channels", "expected"), [(1, 2, 54_409_858), (3, 3, 54_413_955)]
)
def test_parameter_count_matches_reference(in_channels, out_channels, expected):
    assert _reference_unet_parameters(in_channels, out_channels) == expected
    task = _task_for(in_channels, out_channels)
    model = create_model("pix2pix_unet256", in_channels=in_channels, out_channels=out_channels, task=task)
    assert model.num_parameters() == expected
    assert sum(p.numel() for p in model.parameters()) == expected
    assert model.num_parameters(trainable_only=True) == expected
    if (in_channels, out_channels) == (3, 3):
        assert f"{expected / 1e6:.3f} M" == "54.414 M"


# --------------------------------------------------------------------------- input errors


def test_non_divisible_input_names_nearest_sizes():
    model = create_model("unet_tiny").eval()  # stride 16
    with pytest.raises(ValueError, match=r"divisible by 16, got 250x300") as info:
        model(torch.zeros(1, 1, 250, 300))
    assert isinstance(info.value, InvalidInputError)
    msg = str(info.value)
    assert "240 or 256" in msg and "288 or 304" in msg
    assert "pad_to_multiple" in msg


def test_non_divisible_input_default_unet_suggests_256(seed_unet):
    with pytest.raises(InvalidInputError, match=r"divisible by 256, got 300x512.*256 or 512"):
        seed_unet(torch.zeros(1, 1, 300, 512))


def test_wrong_channels_and_rank():
    model = create_model("unet_tiny")
    with pytest.raises(InvalidInputError, match=r"must have 1 channel\(s\), got 3"):
        model(torch.zeros(1, 3, 32, 32))
    with pytest.raises(InvalidInputError, match=r"unsqueeze\(0\)"):
        model(torch.zeros(1, 32, 32))
    with pytest.raises(TypeError, match="floating-point"):
        model(torch.zeros(1, 1, 32, 32, dtype=torch.uint8))
    # values are not checked in a forward (that would sync the device): NaN propagates,
    # and the pipeline that feeds the model refuses it once per call
    with torch.no_grad():
        assert torch.isnan(model.eval()(torch.full((1, 1, 32, 32), float("nan")))).all()
    with pytest.raises(InvalidInputError, match="non-finite"):
        Colorizer(model, size=32)(np.full((20, 20), np.nan, np.float32))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"num_downs": 1}, r"num_downs must be an integer >= 2, got 1"),
        ({"base_channels": 0}, r"base_channels must be an integer >= 1"),
        ({"in_channels": 1.5}, r"in_channels must be an integer"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
        ({"norm": "layer"}, r"norm='layer' is not supported; choose one of \['batch', 'instance', 'group', 'none'\]"),
        ({"upsample": "bilinear"}, r"upsample='bilinear' is not supported; choose one of \['transpose', 'resize'\]"),
        ({"final_activation": "softmax"}, r"activation='softmax' is not supported"),
        ({"in_channels": 3, "out_channels": 3, "task": "colorize"}, r"task='colorize' needs in_channels=1 and out_channels=2.*task='generic'"),
        ({"in_channels": 1, "out_channels": 2, "task": "colorize-missing"}, r"task='colorize-missing' needs in_channels=2 and out_channels=3"),
        ({"task": "denoise"}, r"task='denoise' is not supported"),
        ({"ab_scale": 0}, r"ab_scale must be positive"),
    ],
)
def test_invalid_config_messages(kwargs, pattern):
    with pytest.raises(InvalidConfigError, match=pattern):
        UNetGenerator(**{"base_channels": 4, "num_downs": 3, **kwargs})


# --------------------------------------------------------------------------- gradients, dropout


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"norm": "instance"},
        {"norm": "group"},
        {"norm": "none", "upsample": "resize"},
        {"dropout": 0.5, "dropout_blocks": 3},
        {"dropout": 0.2, "dropout_blocks": 10, "final_activation": "sigmoid"},
    ],
)
def test_every_parameter_gets_a_gradient(overrides):
    model = create_model("unet_tiny", **overrides).train()
    x = torch.randn(2, 1, 32, 32)
    loss = (model(x) - torch.rand(2, 2, 32, 32)).abs().mean()
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        if p.ndim > 1:  # every kernel is on the path to the output
            assert p.grad.abs().sum() > 0, name


def test_dropout_is_noise_in_train_and_off_in_eval():
    model = create_model("unet_tiny", norm="instance", dropout=0.5)
    x = torch.randn(1, 1, 32, 32)
    model.train()
    assert not torch.equal(model(x), model(x))
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), model(x))


def test_no_dropout_layers_when_disabled():
    model = create_model("unet_tiny", dropout=0.0)
    assert not any(isinstance(m, nn.Dropout) for m in model.modules())


def test_dtype_and_batch_independence_in_eval():
    model = create_model("unet_tiny").eval().double()
    x = torch.randn(3, 1, 32, 48, dtype=torch.float64)
    with torch.no_grad():
        full = model(x)
        single = torch.cat([model(x[i : i + 1]) for i in range(3)])
    assert full.dtype == torch.float64
    torch.testing.assert_close(full, single)


# --------------------------------------------------------------------------- any channels, the task


@pytest.mark.parametrize(
    ("channels", "task"),
    [((1, 2), "colorize"), ((2, 3), "colorize-missing"), ((3, 3), "generic"), ((1, 3), "generic"), ((4, 1), "generic")],
)
def test_task_is_inferred_from_the_channels_and_recorded(channels, task, tmp_path):
    g = UNetGenerator(in_channels=channels[0], out_channels=channels[1], base_channels=4, num_downs=3)
    assert g.task == task and g.config["task"] == task
    g.save_pretrained(tmp_path)
    assert HubModel.from_pretrained(tmp_path).task == task


def test_facades_style_generic_unet_builds_and_trains():
    """The paper's own RGB -> RGB network: a plain constructor takes any channels."""
    torch.manual_seed(0)
    g = UNetGenerator(in_channels=3, out_channels=3, base_channels=8, num_downs=4, dropout=0.0)
    assert g.task == "generic"
    x, y = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    opt = torch.optim.Adam(g.parameters(), lr=1e-3)
    losses = []
    for _ in range(8):
        loss = (g(x) - y).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_colorizer_refuses_a_generic_model_clearly():
    g = UNetGenerator(in_channels=3, out_channels=3, base_channels=4, num_downs=3)
    with pytest.raises(InvalidConfigError, match=r"Colorizer needs a generator trained for task 'colorize'.*got task='generic'.*no Lab contract"):
        Colorizer(g)
    with pytest.raises(InvalidConfigError, match=r"lacks \['task', 'ab_scale', 'stride'"):
        Colorizer(nn.Identity())


def test_plain_generic_unet_trains_with_the_trainer(tmp_path):
    """``UNetGenerator(in_channels=3, out_channels=3)`` handed to the trainer for paired data."""
    from torch.utils.data import Dataset

    from cgan_zoo.training import Pix2PixConfig, Pix2PixTrainer

    class Pairs(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            x = torch.rand(3, 32, 32) * 2 - 1
            return {"input": x, "target": -x}

    torch.manual_seed(0)
    g = UNetGenerator(in_channels=3, out_channels=3, base_channels=8, num_downs=4)
    cfg = Pix2PixConfig(
        out_dir=str(tmp_path), task="paired", discriminator="patchgan_tiny", steps=3, batch_size=2,
        crop_size=32, log_every=1, tensorboard=False,
    )  # fmt: skip
    trainer = Pix2PixTrainer(cfg, generator=g, train_dataset=Pairs())
    assert trainer.discriminator.in_channels == 6  # 3 + 3, read from the generator's contract
    history = trainer.fit(progress=False)
    assert len(history) == 3 and all(math.isfinite(h["loss_l1"]) for h in history)
