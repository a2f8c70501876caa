"""Tests for cgan_zoo.losses: references by hand, gradchecks, module == function, errors."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck

from cgan_zoo import MultiScaleDiscriminator, PatchDiscriminator
from cgan_zoo.errors import InvalidConfigError, InvalidInputError, UnsafeWeightsError, WeightsError
from cgan_zoo.losses import (
    ADVERSARIAL_MODES,
    AdversarialLoss,
    FeatureMatchingLoss,
    PerceptualLoss,
    R1Penalty,
    WeightedL1Loss,
    WGANGPPenalty,
    adversarial_loss,
    feature_matching_loss,
    hole_weight_map,
    r1_penalty,
    weighted_l1_loss,
    wgan_gp_penalty,
)
from cgan_zoo.serialization import save_safetensors


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # The tensors here are tiny: with several threads, OpenMP synchronisation dominates
    # (tens of ms per op on a busy machine), so run this module single-threaded.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ----------------------------------------------------------------------------- references


def _sigmoid(x):
    return 1.0 / (1.0 + torch.exp(-x))


def _reference(x, case, mode, real_label=1.0, fake_label=0.0):
    """Adversarial losses written out with plain torch ops."""
    if mode == "vanilla":
        if case == "fake":
            t = fake_label
        else:
            t = real_label
        s = _sigmoid(x)
        return (-(t * torch.log(s) + (1 - t) * torch.log(1 - s))).mean()
    if mode == "lsgan":
        t = fake_label if case == "fake" else real_label
        return ((x - t) ** 2).mean()
    if mode == "hinge":
        if case == "real":
            return torch.clamp(1 - x, min=0).mean()
        if case == "fake":
            return torch.clamp(1 + x, min=0).mean()
        return -x.mean()
    # wgan
    return x.mean() if case == "fake" else -x.mean()


_CASES = {"real": (True, True), "fake": (False, True), "gen": (True, False)}


def _logits(*shape, dtype=torch.float32):
    # values in (-3, 3), kept away from the hinge kinks at +-1
    x = torch.rand(*shape, dtype=dtype) * 6 - 3
    near = (x.abs() - 1).abs() < 0.1
    return torch.where(near, x + 0.3, x)


# ----------------------------------------------------------------------------- adversarial


@pytest.mark.parametrize("mode", ADVERSARIAL_MODES)
@pytest.mark.parametrize("case", list(_CASES))
def test_adversarial_matches_reference_tensor_and_multiscale(mode, case):
    target_is_real, for_d = _CASES[case]
    a, b = _logits(2, 1, 6, 6), _logits(2, 1, 3, 3)
    got = adversarial_loss(a, target_is_real, mode, for_d)
    torch.testing.assert_close(got, _reference(a, case, mode))
    got_ms = adversarial_loss([a, b], target_is_real, mode, for_d)
    want_ms = (_reference(a, case, mode) + _reference(b, case, mode)) / 2
    torch.testing.assert_close(got_ms, want_ms)
    assert got.ndim == 0 and got_ms.ndim == 0


@pytest.mark.parametrize("case", ["real", "fake"])
def test_adversarial_label_smoothing_matches_reference(case):
    x = _logits(3, 1, 4, 4)
    target_is_real, _ = _CASES[case]
    for mode in ("vanilla", "lsgan"):
        got = adversarial_loss(x, target_is_real, mode, real_label=0.9, fake_label=0.1)
        torch.testing.assert_close(got, _reference(x, case, mode, 0.9, 0.1))
        module = AdversarialLoss(mode, real_label=0.9, fake_label=0.1)
        torch.testing.assert_close(module(x, target_is_real), got)


def test_adversarial_accepts_discriminator_output_forms():
    x = torch.randn(1, 3, 32, 32)
    patch = PatchDiscriminator(3, receptive_field=16, base_channels=4)
    logits, feats = patch(x, return_features=True)
    assert torch.equal(adversarial_loss((logits, feats), True), adversarial_loss(logits, True))

    multi = MultiScaleDiscriminator(3, num_scales=2, receptive_field=16, base_channels=4)
    pairs = multi(x, return_features=True)
    plain = [p[0] for p in pairs]
    for mode in ADVERSARIAL_MODES:
        want = (_reference(plain[0], "fake", mode) + _reference(plain[1], "fake", mode)) / 2
        torch.testing.assert_close(adversarial_loss(pairs, False, mode), want)
        torch.testing.assert_close(adversarial_loss(tuple(plain), False, mode), want)


@pytest.mark.parametrize("mode", ADVERSARIAL_MODES)
def test_adversarial_gradcheck(mode):
    a = _logits(2, 1, 3, 3, dtype=torch.float64).requires_grad_(True)
    b = _logits(1, 1, 2, 2, dtype=torch.float64).requires_grad_(True)
    for target_is_real, for_d in _CASES.values():

        def single(x, t=target_is_real, d=for_d):
            return adversarial_loss(x, t, mode, d)

        def multi(x, y, t=target_is_real, d=for_d):
            return adversarial_loss([x, y], t, mode, d)

        assert gradcheck(single, (a,))
        assert gradcheck(multi, (a, b))


@pytest.mark.parametrize("mode", ADVERSARIAL_MODES)
def test_adversarial_module_equals_functional(mode):
    module = AdversarialLoss(mode)
    x = [_logits(2, 1, 5, 5), _logits(2, 1, 2, 2)]
    for target_is_real, for_d in _CASES.values():
        assert torch.equal(
            module(x, target_is_real, for_d), adversarial_loss(x, target_is_real, mode, for_d)
        )


def test_adversarial_module_labels_are_buffers_outside_state_dict():
    module = AdversarialLoss("lsgan", real_label=0.9)
    buffers = dict(module.named_buffers())
    assert set(buffers) == {"real_label", "fake_label"}
    assert buffers["real_label"].item() == pytest.approx(0.9)
    assert module.state_dict() == {}
    module = module.double()
    assert module.real_label.dtype == torch.float64
    x = _logits(1, 1, 3, 3, dtype=torch.float64)
    assert module(x, True).dtype == torch.float64
    assert "mode='lsgan'" in repr(module)


def test_adversarial_errors():
    x = torch.zeros(1, 1, 2, 2)
    with pytest.raises(
        InvalidConfigError, match=r"mode='bce'.*\['vanilla', 'lsgan', 'hinge', 'wgan'\]"
    ):
        adversarial_loss(x, True, mode="bce")
    with pytest.raises(InvalidConfigError, match=r"mode='bce'.*choose one of"):
        AdversarialLoss("bce")
    with pytest.raises(
        InvalidInputError, match=r"generator loss .* always aims for real.*target_is_real=False"
    ):
        adversarial_loss(x, False, "hinge", for_discriminator=False)
    with pytest.raises(TypeError, match=r"target_is_real must be a bool, got Tensor"):
        adversarial_loss(x, torch.tensor(1.0))
    with pytest.raises(InvalidInputError, match=r"logits is an empty list"):
        adversarial_loss([], True)
    with pytest.raises(TypeError, match=r"floating-point tensor of logits, got dtype torch.int64"):
        adversarial_loss(torch.zeros(2, dtype=torch.long), True)
    with pytest.raises(TypeError, match=r"logits\[1\] must be a logit tensor, got str"):
        adversarial_loss([x, "oops"], True)
    with pytest.raises(InvalidConfigError, match=r"real_label=1.5 is outside \[0, 1\]"):
        adversarial_loss(x, True, real_label=1.5)
    with pytest.raises(
        InvalidConfigError, match=r"only apply to modes 'vanilla' and 'lsgan'; mode='hinge'"
    ):
        AdversarialLoss("hinge", real_label=0.9)


# ----------------------------------------------------------------------------- weighted L1


def test_weighted_l1_none_equals_ones_equals_l1():
    pred, target = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    plain = F.l1_loss(pred, target)
    torch.testing.assert_close(weighted_l1_loss(pred, target), plain)
    torch.testing.assert_close(weighted_l1_loss(pred, target, torch.ones(2, 3, 4, 4)), plain)
    torch.testing.assert_close(weighted_l1_loss(pred, target, torch.ones(2, 1, 4, 4)), plain)
    torch.testing.assert_close(weighted_l1_loss(pred, target, torch.full((1, 1, 1, 1), 7.0)), plain)


def test_hole_weighting_follows_the_formula():
    mask = torch.zeros(1, 1, 2, 2)
    mask[0, 0, 0, 0] = 1.0
    weight = hole_weight_map(mask, hole_weight=6.0)
    assert weight.tolist() == [[[[6.0, 1.0], [1.0, 1.0]]]]
    target = torch.zeros(1, 2, 2, 2)
    # an error of 1 only inside the hole: (6 * 1 * 2 channels) / (2 * (6 + 3)) = 2/3
    pred = mask.expand(1, 2, 2, 2).clone()
    loss = weighted_l1_loss(pred, target, weight)
    torch.testing.assert_close(loss, torch.tensor(12.0 / 18.0))
    assert loss > F.l1_loss(pred, target)  # plain L1 is 2/8
    # an error of 1 only outside the hole is down-weighted: (1 * 3 * 2) / 18 = 1/3
    torch.testing.assert_close(weighted_l1_loss(1 - pred, target, weight), torch.tensor(6.0 / 18.0))
    # constant error: any weighting gives the error itself
    torch.testing.assert_close(
        weighted_l1_loss(torch.full_like(target, 2.0), target, weight), torch.tensor(2.0)
    )
    # general formula with soft masks and random values
    pred, target, soft = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4), torch.rand(2, 1, 4, 4)
    w = (1 + 5 * soft).expand(2, 3, 4, 4)
    want = ((pred - target).abs() * w).sum() / w.sum()
    torch.testing.assert_close(weighted_l1_loss(pred, target, hole_weight_map(soft)), want)


def test_hole_weight_map_bool_mask_and_errors():
    assert hole_weight_map(torch.tensor([True, False]), 3.0).tolist() == [3.0, 1.0]
    assert hole_weight_map(torch.tensor([1.0, 0.0]), 1.0).tolist() == [1.0, 1.0]
    with pytest.raises(
        InvalidConfigError, match=r"hole_weight must be a non-negative number, got -2"
    ):
        hole_weight_map(torch.ones(1), -2.0)


def test_weighted_l1_zero_weights_give_zero():
    pred, target = torch.randn(1, 1, 2, 2), torch.randn(1, 1, 2, 2)
    assert weighted_l1_loss(pred, target, torch.zeros(1, 1, 2, 2)).item() == 0.0


def test_weighted_l1_gradcheck():
    pred = torch.randn(2, 2, 3, 3, dtype=torch.float64)
    offset = (torch.rand_like(pred) + 0.2) * torch.where(torch.rand_like(pred) > 0.5, 1.0, -1.0)
    target = (pred + offset).requires_grad_(True)
    pred.requires_grad_(True)
    weight = (1 + torch.rand(2, 1, 3, 3, dtype=torch.float64)).requires_grad_(True)
    assert gradcheck(weighted_l1_loss, (pred, target, weight))
    assert gradcheck(lambda p, t: weighted_l1_loss(p, t), (pred, target))


def test_weighted_l1_module_equals_functional():
    pred, target, w = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4), torch.rand(2, 1, 4, 4)
    module = WeightedL1Loss()
    assert torch.equal(module(pred, target, w), weighted_l1_loss(pred, target, w))
    assert torch.equal(module(pred, target), weighted_l1_loss(pred, target))


def test_weighted_l1_errors():
    with pytest.raises(InvalidInputError, match=r"pred \(2, 3, 4, 4\) and target \(2, 3, 8, 8\)"):
        weighted_l1_loss(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 8, 8))
    with pytest.raises(
        InvalidInputError,
        match=r"weight of shape \(2, 2, 4, 4\) does not broadcast to .*\(2, 3, 4, 4\)",
    ):
        weighted_l1_loss(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 4), torch.ones(2, 2, 4, 4))
    with pytest.raises(
        InvalidInputError, match=r"weight of shape \(1, 2, 3, 4, 4\) does not broadcast"
    ):
        weighted_l1_loss(
            torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 4), torch.ones(1, 2, 3, 4, 4)
        )
    with pytest.raises(
        TypeError, match=r"pred must be a floating-point tensor, got dtype torch.int64"
    ):
        weighted_l1_loss(torch.zeros(2, dtype=torch.long), torch.zeros(2))


# ----------------------------------------------------------------------------- feature matching


def test_feature_matching_matches_reference():
    real = [[torch.randn(2, 4, 8, 8), torch.randn(2, 8, 4, 4)], [torch.randn(2, 4, 4, 4)]]
    fake = [[torch.randn(2, 4, 8, 8), torch.randn(2, 8, 4, 4)], [torch.randn(2, 4, 4, 4)]]

    def l1(a, b):
        return (a - b).abs().mean()

    scale0 = (l1(fake[0][0], real[0][0]) + l1(fake[0][1], real[0][1])) / 2
    scale1 = l1(fake[1][0], real[1][0])
    torch.testing.assert_close(feature_matching_loss(real, fake), (scale0 + scale1) / 2)
    # one scale given as a flat list of layers
    torch.testing.assert_close(feature_matching_loss(real[0], fake[0]), scale0)
    assert torch.equal(FeatureMatchingLoss()(real, fake), feature_matching_loss(real, fake))


def test_feature_matching_accepts_discriminator_outputs_and_detaches_real():
    multi = MultiScaleDiscriminator(3, num_scales=2, receptive_field=16, base_channels=4)
    real_x = torch.randn(1, 3, 32, 32, requires_grad=True)
    fake_x = torch.randn(1, 3, 32, 32, requires_grad=True)
    real_out = multi(real_x, return_features=True)
    fake_out = multi(fake_x, return_features=True)
    want = feature_matching_loss([f for _, f in real_out], [f for _, f in fake_out])
    loss = feature_matching_loss(real_out, fake_out)
    torch.testing.assert_close(loss, want)
    assert loss > 0
    loss.backward()
    assert real_x.grad is None
    assert fake_x.grad is not None and fake_x.grad.abs().sum() > 0

    patch = PatchDiscriminator(3, receptive_field=16, base_channels=4)
    a, b = patch(real_x, return_features=True), patch(fake_x, return_features=True)
    torch.testing.assert_close(feature_matching_loss(a, b), feature_matching_loss(a[1], b[1]))
    assert feature_matching_loss(a, a).item() == 0.0


def test_feature_matching_gradcheck():
    real = [
        [
            torch.randn(1, 2, 3, 3, dtype=torch.float64),
            torch.randn(1, 3, 2, 2, dtype=torch.float64),
        ],
        [torch.randn(1, 2, 2, 2, dtype=torch.float64)],
    ]
    fakes = [
        (r + torch.where(torch.rand_like(r) > 0.5, 0.5, -0.5)).requires_grad_(True)
        for scale in real
        for r in scale
    ]

    def fn(f0, f1, f2):
        return feature_matching_loss(real, [[f0, f1], [f2]])

    assert gradcheck(fn, tuple(fakes))


def test_feature_matching_errors():
    a = [torch.zeros(1, 2, 4, 4)]
    with pytest.raises(
        InvalidInputError, match=r"real_features has 2 scale\(s\) but fake_features has 1"
    ):
        feature_matching_loss([a, a], [a])
    with pytest.raises(
        InvalidInputError, match=r"scale 0: real_features has 2 layer\(s\) but fake_features has 1"
    ):
        feature_matching_loss(a * 2, a)
    with pytest.raises(
        InvalidInputError,
        match=r"real_features\[0\]\[0\] \(1, 2, 4, 4\) and fake_features\[0\]\[0\] \(1, 2, 8, 8\)",
    ):
        feature_matching_loss(a, [torch.zeros(1, 2, 8, 8)])
    with pytest.raises(InvalidInputError, match=r"real_features is an empty list"):
        feature_matching_loss([], a)
    with pytest.raises(TypeError, match=r"fake_features must be a tensor or a \(nested\) list"):
        feature_matching_loss(a, {"x": 1})


# ----------------------------------------------------------------------------- gradient penalties


def _linear_d(u):
    """D(x) = <x, u> per sample: its input gradient is u everywhere."""
    return lambda x: (x.flatten(1) * u.flatten()).sum(dim=1)


def test_wgan_gp_zero_for_unit_gradient_norm_and_positive_otherwise():
    real, fake = torch.randn(4, 2, 3, 3), torch.randn(4, 2, 3, 3)
    u = torch.randn(2 * 3 * 3)
    u = u / u.norm()
    assert wgan_gp_penalty(_linear_d(u), real, fake).item() == pytest.approx(0.0, abs=1e-6)
    # norm 2 -> weight * (2 - 1)^2; norm 0.5 -> weight * 0.25
    torch.testing.assert_close(wgan_gp_penalty(_linear_d(2 * u), real, fake), torch.tensor(10.0))
    torch.testing.assert_close(
        wgan_gp_penalty(_linear_d(0.5 * u), real, fake, weight=4.0), torch.tensor(1.0)
    )
    # multi-scale: the outputs are summed, so the gradient is u1 + u2
    u1, u2 = 0.25 * u, 0.75 * u
    multi = lambda x: [_linear_d(u1)(x), _linear_d(u2)(x).view(-1, 1, 1, 1)]  # noqa: E731
    assert wgan_gp_penalty(multi, real, fake).item() == pytest.approx(0.0, abs=1e-6)


def test_wgan_gp_interpolates_with_alpha():
    real, fake = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2)
    alpha = torch.tensor([0.0, 0.3, 1.0])
    quadratic = lambda x: 0.5 * (x**2).flatten(1).sum(1)  # noqa: E731  (gradient = x)
    x_hat = alpha.view(3, 1, 1, 1) * real + (1 - alpha.view(3, 1, 1, 1)) * fake
    want = 10.0 * ((x_hat.flatten(1).norm(dim=1) - 1) ** 2).mean()
    torch.testing.assert_close(wgan_gp_penalty(quadratic, real, fake, alpha=alpha), want)
    module = WGANGPPenalty(weight=10.0)
    assert torch.equal(
        module(quadratic, real, fake, alpha), wgan_gp_penalty(quadratic, real, fake, alpha=alpha)
    )
    # random alpha stays within the segment: penalty between the two extremes per sample
    p = wgan_gp_penalty(quadratic, real, fake)
    assert torch.isfinite(p) and p >= 0


def test_wgan_gp_trains_d_not_g():
    d = torch.nn.Conv2d(2, 1, 3, padding=1)
    real = torch.randn(2, 2, 4, 4, requires_grad=True)
    fake = torch.randn(2, 2, 4, 4, requires_grad=True)
    wgan_gp_penalty(lambda x: torch.tanh(d(x)), real, fake).backward()
    assert d.weight.grad is not None and d.weight.grad.abs().sum() > 0
    assert real.grad is None and fake.grad is None


def test_wgan_gp_gradcheck():
    real = torch.randn(2, 2, 3, 3, dtype=torch.float64)
    fake = torch.randn(2, 2, 3, 3, dtype=torch.float64)
    alpha = torch.tensor([0.25, 0.7], dtype=torch.float64)
    w = torch.randn(1, 2, 2, 2, dtype=torch.float64, requires_grad=True)

    def penalty(weight):
        def d(x):
            h = torch.tanh(F.conv2d(x, weight))
            return [h, F.conv2d(F.avg_pool2d(x, 2), weight[..., :1, :1]) ** 2]

        return wgan_gp_penalty(d, real, fake, weight=1.0, alpha=alpha)

    assert gradcheck(penalty, (w,))


def test_r1_matches_analytic_value_for_linear_d():
    u = torch.randn(3 * 2 * 2)
    real = torch.randn(5, 3, 2, 2)
    torch.testing.assert_close(r1_penalty(_linear_d(u), real), 10.0 / 2 * u.pow(2).sum())
    torch.testing.assert_close(r1_penalty(_linear_d(u), real, weight=1.0), 0.5 * u.pow(2).sum())
    # quadratic D: gradient = x, so R1 = gamma / 2 * mean ||x||^2
    quadratic = lambda x: 0.5 * (x**2).flatten(1).sum(1)  # noqa: E731
    torch.testing.assert_close(
        r1_penalty(quadratic, real), 5.0 * real.flatten(1).pow(2).sum(1).mean()
    )
    # multi-scale outputs are summed
    multi = lambda x: [_linear_d(u)(x), _linear_d(u)(x)]  # noqa: E731
    torch.testing.assert_close(r1_penalty(multi, real), 5.0 * (2 * u).pow(2).sum())
    assert torch.equal(R1Penalty(3.0)(quadratic, real), r1_penalty(quadratic, real, 3.0))


def test_r1_gradcheck():
    real = torch.randn(2, 2, 3, 3, dtype=torch.float64)
    w = torch.randn(1, 2, 2, 2, dtype=torch.float64, requires_grad=True)

    def penalty(weight):
        return r1_penalty(lambda x: torch.tanh(F.conv2d(x, weight)), real, weight=1.0)

    assert gradcheck(penalty, (w,))


def test_penalty_errors():
    d = _linear_d(torch.ones(4))
    with pytest.raises(InvalidInputError, match=r"real \(2, 1, 2, 2\) and fake \(3, 1, 2, 2\)"):
        wgan_gp_penalty(d, torch.zeros(2, 1, 2, 2), torch.zeros(3, 1, 2, 2))
    with pytest.raises(
        InvalidInputError, match=r"alpha must be a tensor of shape \(2,\).*got \(3,\)"
    ):
        wgan_gp_penalty(d, torch.zeros(2, 1, 2, 2), torch.zeros(2, 1, 2, 2), alpha=torch.zeros(3))
    with pytest.raises(InvalidConfigError, match=r"weight must be a non-negative number, got -1"):
        WGANGPPenalty(weight=-1)
    with pytest.raises(TypeError, match=r"discriminator output must be .*got str"):
        r1_penalty(lambda x: "logits", torch.zeros(2, 4))
    with pytest.raises(TypeError, match=r"real must be a floating-point tensor, got torch.int64"):
        r1_penalty(d, torch.zeros(2, 4, dtype=torch.long))


# ----------------------------------------------------------------------------- perceptual


def _random_perceptual(encoder_name: str = "test_efficientnet", **kwargs) -> PerceptualLoss:
    # timm's tiny test_efficientnet keeps these encoder-agnostic tests fast; the
    # default tf_efficientnet_lite0 is covered by the safetensors test and the doctest.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return PerceptualLoss(encoder_name, weights_path=None, **kwargs)


@pytest.fixture(scope="module")
def perceptual():
    return _random_perceptual(layers=(1, 2))


def test_perceptual_zero_for_identical_positive_for_different(perceptual):
    x = torch.rand(2, 3, 32, 32)
    assert perceptual(x, x.clone()).item() == pytest.approx(0.0, abs=1e-7)
    assert perceptual(x, torch.rand(2, 3, 32, 32)).item() > 0
    assert perceptual(x, x * 0.5).item() > 0


def test_perceptual_is_frozen_and_stays_in_eval(perceptual):
    assert all(not p.requires_grad for p in perceptual.parameters())
    parent = torch.nn.ModuleDict({"loss": perceptual})
    parent.train()
    assert perceptual.training and not perceptual.backbone.training
    assert all(not m.training for m in perceptual.backbone.modules())
    stats = {k: v.clone() for k, v in perceptual.backbone.state_dict().items()}
    pred = torch.rand(2, 3, 32, 32, requires_grad=True)
    perceptual(pred, torch.rand(2, 3, 32, 32)).backward()
    after = perceptual.backbone.state_dict()
    assert all(torch.equal(stats[k], after[k]) for k in stats)  # BN statistics untouched
    assert pred.grad is not None and pred.grad.abs().sum() > 0
    assert all(p.grad is None for p in perceptual.parameters())
    assert not any(k in perceptual.state_dict() for k in ("mean", "std"))
    perceptual.eval()
    assert not perceptual.training


def test_perceptual_normalises_with_mean_std():
    loss = _random_perceptual(layers=(1,), mean=(0.2, 0.3, 0.4), std=(0.5, 0.6, 0.7))
    x, y = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    mean, std = (
        torch.tensor([0.2, 0.3, 0.4]).view(1, 3, 1, 1),
        torch.tensor([0.5, 0.6, 0.7]).view(1, 3, 1, 1),
    )
    (fx,), (fy,) = loss.backbone((x - mean) / std), loss.backbone((y - mean) / std)
    torch.testing.assert_close(loss(x, y), (fx - fy).abs().mean())


def test_perceptual_random_init_warns():
    with pytest.warns(UserWarning, match=r"randomly initialised weights.*only meant for tests"):
        PerceptualLoss("test_efficientnet", layers=(1,))


def test_perceptual_loads_safetensors_from_timm_state_dict(tmp_path):
    import timm

    full = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    with torch.no_grad():
        full.bn1.running_mean.uniform_(-1, 1)
    state = full.state_dict()
    path = tmp_path / "lite0.safetensors"
    save_safetensors(state, path)
    loss = PerceptualLoss("tf_efficientnet_lite0", weights_path=path, layers=(1, 2))
    own = loss.backbone.state_dict()
    assert set(own) < set(state)
    for key, value in own.items():
        assert torch.equal(value, state[key]), key
    x, y = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    assert loss(x, y).item() > 0


def test_perceptual_custom_key_map(tmp_path):
    import timm

    state = timm.create_model("test_efficientnet", pretrained=False).state_dict()
    prefixed = tmp_path / "prefixed.safetensors"  # e.g. saved from a wrapper module
    save_safetensors({f"model.{k}": v for k, v in state.items()}, prefixed)
    with pytest.raises(WeightsError, match=r"missing keys"):
        PerceptualLoss("test_efficientnet", weights_path=prefixed, layers=(1,))
    mapped = PerceptualLoss(
        "test_efficientnet",
        weights_path=prefixed,
        key_map=lambda sd: {k.removeprefix("model."): v for k, v in sd.items()},
        layers=(1,),
    )
    for key, value in mapped.backbone.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_perceptual_refuses_pickle(tmp_path):
    path = tmp_path / "lite0.pth"
    torch.save({"w": torch.zeros(1)}, path)
    with pytest.raises(UnsafeWeightsError, match=r"pickle"):
        PerceptualLoss("test_efficientnet", weights_path=path, layers=(1,))


def test_perceptual_config_errors():
    with pytest.raises(
        InvalidConfigError,
        match=r"key_map='nope' is unknown; choose one of \['efficientnet_lite0', 'identity'\]",
    ):
        PerceptualLoss("test_efficientnet", key_map="nope")
    with pytest.raises(
        InvalidConfigError, match=r"layers=\(1, 9\) is out of range .* 5 feature levels"
    ):
        _random_perceptual(layers=(1, 9))
    with pytest.raises(InvalidConfigError, match=r"layers must be a non-empty sequence"):
        _random_perceptual(layers=())
    with pytest.raises(InvalidConfigError, match=r"encoder_name='no_such_net' is not a timm model"):
        _random_perceptual(encoder_name="no_such_net")
    with pytest.raises(InvalidConfigError, match=r"std must be three positive numbers"):
        _random_perceptual(std=(0.5, 0.0, 0.5))


def test_perceptual_input_errors(perceptual):
    x = torch.rand(1, 3, 32, 32)
    with pytest.raises(
        InvalidInputError, match=r"must have 4 dims \(B, C, H, W\), got 3 dims.*unsqueeze\(0\)"
    ):
        perceptual(x[0], x[0])
    with pytest.raises(InvalidInputError, match=r"must be RGB with 3 channels, got 1 .*expand"):
        perceptual(x[:, :1], x[:, :1])
    with pytest.raises(
        InvalidInputError, match=r"pred \(1, 3, 32, 32\) and target \(1, 3, 64, 64\)"
    ):
        perceptual(x, torch.rand(1, 3, 64, 64))
