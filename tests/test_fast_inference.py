"""optimize_for_inference and fold_batchnorm: same outputs as eager eval, kept attributes."""

import warnings

import pytest
import torch
from torch import nn

from cgan_zoo import InvalidInputError, create_model
from cgan_zoo.export import InferenceModule, fold_batchnorm, optimize_for_inference
from cgan_zoo.export import fast as fast_mod

ATOL = 1e-4


def _randomize_bn(model: nn.Module) -> nn.Module:
    """Non-trivial BatchNorm statistics, so that folding is really tested."""
    gen = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            if m.weight is not None:
                m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
                m.bias.data.copy_(torch.rand(n, generator=gen) - 0.5)
    return model.eval()


def _count_bn(model: nn.Module) -> int:
    return sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


UNET_VARIANTS = [
    {"norm": "batch", "upsample": "transpose"},
    {"norm": "batch", "upsample": "resize"},
    {"norm": "instance", "upsample": "transpose"},
    {"norm": "group", "upsample": "resize"},
    {
        "norm": "batch",
        "dropout": 0.5,
        "in_channels": 2,
        "out_channels": 3,
        "task": "colorize-missing",
    },
]


@pytest.mark.parametrize(
    "kwargs", UNET_VARIANTS, ids=lambda k: "-".join(str(v) for v in k.values())
)
def test_unet_tiny_eager_parity(kwargs):
    g = _randomize_bn(create_model("unet_tiny", **kwargs))
    fast = optimize_for_inference(g, compile=False)
    x = torch.randn(2, g.in_channels, 32, 48)
    with torch.no_grad():
        expected = g(x)
    got = fast(x)
    assert got.shape == expected.shape
    assert (got - expected).abs().max() <= ATOL
    assert _count_bn(fast.module) == 0
    assert _count_bn(g) > 0 or kwargs["norm"] != "batch"  # the original is untouched


def test_timm_unet_tiny_eager_parity():
    g = _randomize_bn(create_model("timm_unet_tiny"))
    fast = optimize_for_inference(g, compile=False)
    x = torch.randn(1, 1, 64, 96)
    with torch.no_grad():
        expected = g(x)
    assert (fast(x) - expected).abs().max() <= ATOL
    assert _count_bn(fast.module) == 0  # BatchNormAct2d folded too, activations kept
    assert not any(type(m).__name__ == "Conv2dSame" for m in fast.module.modules())


def test_attributes_forwarded():
    g = create_model("unet_tiny", ab_scale=100.0)
    fast = optimize_for_inference(g, compile=False)
    assert isinstance(fast, InferenceModule)
    assert (fast.stride, fast.task, fast.ab_scale) == (16, "colorize", 100.0)
    assert (fast.in_channels, fast.out_channels) == (1, 2)
    assert fast.config == g.config
    assert fast.output_range == g.output_range
    assert fast.num_downs == 4  # falls through to the wrapped model
    assert not fast.training


def test_outputs_are_contiguous_and_deterministic():
    g = create_model("unet_tiny", dropout=0.5).train()  # dropout must be off after optimizing
    fast = optimize_for_inference(g, compile=False)
    x = torch.randn(1, 1, 32, 32)
    a, b = fast(x), fast(x)
    assert a.is_contiguous()
    assert torch.equal(a, b)
    assert g.training  # the caller's model keeps its mode


def test_invalid_input_message():
    fast = optimize_for_inference(create_model("unet_tiny"), compile=False)
    with pytest.raises(InvalidInputError, match="divisible by 16"):
        fast(torch.randn(1, 1, 30, 32))


def test_train_refused():
    fast = optimize_for_inference(create_model("unet_tiny"), compile=False)
    with pytest.raises(ValueError, match="cannot be trained"):
        fast.train()
    fast.eval()  # allowed


def test_fold_conv_transpose_groups():
    model = nn.Sequential(
        nn.ConvTranspose2d(4, 6, 4, 2, 1, groups=2, bias=False), nn.BatchNorm2d(6), nn.ReLU()
    )
    _randomize_bn(model)
    x = torch.randn(2, 4, 5, 7)
    folded = fold_batchnorm(model, x)
    assert _count_bn(folded) == 0 and folded[0].bias is not None
    with torch.no_grad():
        assert (folded(x) - model(x)).abs().max() <= 1e-5


def test_fold_conv_with_bias_and_no_affine():
    model = nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.BatchNorm2d(5, affine=False))
    _randomize_bn(model)
    x = torch.randn(1, 3, 8, 8)
    folded = fold_batchnorm(model, x)
    with torch.no_grad():
        assert (folded(x) - model(x)).abs().max() <= 1e-5


class _SharedOutput(nn.Module):
    """The conv output also feeds a skip, so its BatchNorm must not be folded."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        h = self.conv(x)
        return self.bn(h) + h


def test_fold_skips_shared_conv_output():
    model = _randomize_bn(_SharedOutput())
    x = torch.randn(1, 3, 8, 8)
    folded = fold_batchnorm(model, x)
    assert _count_bn(folded) == 1
    with torch.no_grad():
        assert (folded(x) - model(x)).abs().max() <= 1e-5


def test_compile_failure_falls_back_to_eager(monkeypatch):
    class _Broken:
        def __call__(self, x):
            raise torch._dynamo.exc.TorchDynamoException("no compiler")

    monkeypatch.setattr(fast_mod, "_compile", lambda *a, **k: _Broken())
    g = create_model("unet_tiny").eval()
    with pytest.warns(RuntimeWarning, match="eager"):
        fast = optimize_for_inference(g, compile=True, example_size=32)
    assert not fast.compiled
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        assert (fast(x) - g(x)).abs().max() <= ATOL


@pytest.mark.slow  # 8-20 s with a warm Inductor cache, about a minute cold on 2 shared cores
def test_compiled_parity_unet_tiny():
    g = _randomize_bn(create_model("unet_tiny"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fast = optimize_for_inference(g, compile=True, example_size=32)
    if not fast.compiled:
        pytest.skip("torch.compile is not available here")
    assert fast.compile_seconds > 0
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        expected = g(x)
    assert (fast(x) - expected).abs().max() <= ATOL
    with pytest.raises(InvalidInputError):  # checks still run before the compiled graph
        fast(torch.randn(1, 1, 32, 40))
    # values are not checked (no device sync): NaN/Inf are refused by the pipelines, once per call
    assert torch.isnan(fast(torch.full((1, 1, 32, 32), float("nan")))).all()


@pytest.mark.slow
def test_compiled_new_size_and_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "unused"))  # restored afterwards
    g = _randomize_bn(create_model("timm_unet_tiny"))
    fast = optimize_for_inference(g, example_size=32, cache_dir=tmp_path / "cache")
    assert any((tmp_path / "cache").iterdir())
    for shape in [(1, 1, 32, 32), (2, 1, 64, 32)]:
        x = torch.randn(*shape)
        with torch.no_grad():
            assert (fast(x) - g(x)).abs().max() <= ATOL
