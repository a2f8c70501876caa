"""Colour bins: quantisation, soft encoding, rebalancing, the bin head, the loss and the knob."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import cgan_zoo as cz
from _trainer_utils import ToyColorization, tiny_config
from cgan_zoo.color_bins import (
    ab_bin_centers,
    annealed_mean,
    bin_histogram,
    check_temperature,
    rebalancing_weights,
    soft_encode,
)
from cgan_zoo.errors import InvalidConfigError, InvalidInputError
from cgan_zoo.losses import BinCrossEntropyLoss, bin_cross_entropy_loss
from cgan_zoo.pipelines import Colorizer
from cgan_zoo.training import Pix2PixTrainer

CENTERS = ab_bin_centers()


def tiny_bins(**kwargs):
    return cz.create_model("timm_unet_tiny", color_head="bins", decoder_channels=[32, 24, 16], **kwargs)


# ---------------------------------------------------------------- quantisation


def _displayable(lab: np.ndarray) -> np.ndarray:
    """Independent gamut test through scikit-image: in-gamut Lab survives Lab -> sRGB -> Lab."""
    import warnings

    from skimage.color import lab2rgb, rgb2lab

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = rgb2lab(lab2rgb(lab))
    return np.abs(back - lab).max(axis=-1) < 0.5


def test_bin_centers_are_the_displayable_cells_of_the_grid():
    ab = CENTERS.numpy() * 110.0
    assert np.allclose(ab / 10.0, np.round(ab / 10.0), atol=1e-4)  # on the 10-unit grid
    assert len({tuple(p) for p in np.round(ab).astype(int)}) == len(ab)
    lightness = np.arange(2.0, 99.0, 2.0)
    offsets = [(da, db) for da in (-4.9, 0.0, 4.9) for db in (-4.9, 0.0, 4.9)]
    for point in ab:
        lab = np.array([[L, point[0] + da, point[1] + db] for L in lightness for da, db in offsets])
        assert _displayable(lab[None])[0].any(), point
    # saturated corners of the square are not displayable at any lightness, and are left out
    corner = np.array([[[L, -110.0, 110.0] for L in lightness]])
    assert not _displayable(corner).any()
    assert not any(np.allclose(p, [-110, 110]) for p in ab)
    assert any(np.allclose(p, [0, 0]) for p in ab)


@pytest.mark.parametrize("bad", [0, -1.0, 500.0, "10"])
def test_bin_size_is_validated(bad):
    with pytest.raises(InvalidConfigError, match="bin_size"):
        ab_bin_centers(bad)


# ---------------------------------------------------------------- encoding and decoding


@settings(max_examples=20, deadline=None)
@given(b=st.integers(1, 2), h=st.integers(1, 5), w=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_soft_encode_is_a_distribution_peaked_at_the_nearest_bin(b, h, w, seed):
    ab = torch.rand(b, 2, h, w, generator=torch.Generator().manual_seed(seed)) * 1.2 - 0.6
    target = soft_encode(ab, CENTERS)
    assert target.shape == (b, len(CENTERS), h, w)
    assert torch.allclose(target.sum(1), torch.ones(b, h, w), atol=1e-5)
    assert ((target > 0).sum(1) <= 5).all()
    nearest = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), CENTERS).argmin(1)
    assert torch.equal(target.permute(0, 2, 3, 1).reshape(-1, len(CENTERS)).argmax(1), nearest)


def test_annealed_mean_matches_an_independent_numpy_reference():
    logits = torch.randn(2, len(CENTERS), 3, 4, generator=torch.Generator().manual_seed(0))
    for t in (1.0, 0.38, 0.1):
        z = logits.double().numpy() / t
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        ref = np.einsum("bqhw,qc->bchw", p, CENTERS.double().numpy())
        assert np.allclose(annealed_mean(logits, CENTERS, t).numpy(), ref, atol=1e-5)


def test_low_temperature_approaches_the_mode_and_one_gives_the_mean():
    logits = torch.full((1, len(CENTERS), 1, 1), 0.0)
    logits[0, 7] = 3.0
    mean = annealed_mean(logits, CENTERS, 1.0)[0, :, 0, 0]
    mode = annealed_mean(logits, CENTERS, 0.01)[0, :, 0, 0]
    assert torch.allclose(mode, CENTERS[7], atol=1e-4)
    probs = torch.softmax(logits[0, :, 0, 0], 0)
    assert torch.allclose(mean, probs @ CENTERS, atol=1e-6)


@pytest.mark.parametrize("bad", [0, 0.0, -0.5, 1.5, float("nan"), True, "0.4", None])
def test_temperature_is_validated(bad):
    with pytest.raises(InvalidConfigError, match=r"temperature must be a number in \(0, 1\]"):
        check_temperature(bad)


def test_rebalancing_weights_have_unit_expectation_and_favour_rare_colours():
    ab = torch.zeros(1, 2, 10, 10)
    ab[..., :2] = 0.4  # a few saturated pixels
    counts = bin_histogram(ab, CENTERS)
    assert counts.sum() == 100
    w = rebalancing_weights(counts, CENTERS)
    c = CENTERS.double()
    kernel = torch.exp(-torch.cdist(c, c).pow(2) / (2 * (5 / 110) ** 2))
    p = kernel @ (counts / counts.sum())
    p = p / p.sum()
    assert math.isclose(float((p * w.double()).sum()), 1.0, rel_tol=1e-5)
    common = torch.cdist(torch.zeros(1, 2), CENTERS).argmin()
    rare = torch.cdist(torch.full((1, 2), 0.4), CENTERS).argmin()
    assert w[rare] > w[common]
    assert torch.allclose(rebalancing_weights(counts, CENTERS, mix=1.0), torch.ones(len(CENTERS)))


# ---------------------------------------------------------------- the loss


def test_bin_loss_uniform_logits_give_log_q_and_module_equals_function():
    logits = torch.zeros(1, len(CENTERS), 2, 2, requires_grad=True)
    target = torch.rand(1, 2, 8, 8) * 0.4 - 0.2
    loss = bin_cross_entropy_loss(logits, target, CENTERS)
    assert math.isclose(loss.item(), math.log(len(CENTERS)), rel_tol=1e-5)
    loss.backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
    w = torch.rand(len(CENTERS)) + 0.5
    assert torch.equal(
        BinCrossEntropyLoss()(logits, target, CENTERS, w), bin_cross_entropy_loss(logits, target, CENTERS, w)
    )


def test_bin_loss_is_lowest_for_the_true_bin():
    target = torch.full((1, 2, 4, 4), 0.3)
    right = torch.full((1, len(CENTERS), 1, 1), -5.0)
    right[0, soft_encode(target[..., :1, :1], CENTERS)[0, :, 0, 0].argmax()] = 5.0
    wrong = torch.roll(right, 40, dims=1)
    assert bin_cross_entropy_loss(right, target, CENTERS) < bin_cross_entropy_loss(wrong, target, CENTERS)


@pytest.mark.parametrize(
    "logits, target, match",
    [
        (torch.zeros(1, 5, 2, 2), torch.zeros(1, 2, 8, 8), "bins but there are"),
        (torch.zeros(1, len(CENTERS), 3, 3), torch.zeros(1, 2, 8, 8), "integer multiple"),
        (torch.zeros(len(CENTERS), 2, 2), torch.zeros(1, 2, 8, 8), r"\(B, Q, h, w\)"),
    ],
)
def test_bin_loss_rejects_bad_shapes(logits, target, match):
    with pytest.raises(InvalidInputError, match=match):
        bin_cross_entropy_loss(logits, target, CENTERS)


# ---------------------------------------------------------------- the model


@settings(max_examples=6, deadline=None)
@given(h=st.integers(1, 3), w=st.integers(1, 3), b=st.integers(1, 2))
def test_bin_head_shapes(h, w, b):
    g = tiny_bins().eval()
    x = torch.randn(b, 1, 32 * h, 32 * w)
    ab, logits = g.forward_with_logits(x)
    assert ab.shape == (b, 2, 32 * h, 32 * w)
    assert logits.shape == (b, len(CENTERS), 8 * h, 8 * w)
    assert ab.abs().max() <= 1.0
    assert torch.equal(g(x), ab)


def test_bin_model_round_trip_keeps_weights_and_knob(tmp_path):
    g = tiny_bins(temperature=0.5).eval()
    g.bin_weights.uniform_(0.5, 2.0)
    g.save_pretrained(tmp_path / "m")
    g2 = cz.HubModel.from_pretrained(tmp_path / "m").eval()
    assert g2.color_head == "bins" and g2.temperature == 0.5
    assert torch.equal(g2.bin_weights, g.bin_weights)
    x = torch.randn(1, 1, 32, 32)
    assert torch.equal(g(x), g2(x))


def test_bin_head_config_errors():
    with pytest.raises(InvalidConfigError, match="decoder_channels needs 3 entries"):
        cz.create_model("timm_unet_tiny", color_head="bins")
    with pytest.raises(InvalidConfigError, match="needs task='colorize'"):
        cz.create_model(
            "timm_unet_tiny", color_head="bins", decoder_channels=[8, 8, 8], task="colorize-missing",
            in_channels=2, out_channels=3,
        )
    with pytest.raises(InvalidConfigError, match="color_head must be"):
        cz.create_model("timm_unet_tiny", color_head="softmax")
    with pytest.raises(InvalidConfigError, match="forward_logits needs"):
        cz.create_model("timm_unet_tiny").forward_logits(torch.zeros(1, 1, 32, 32))


# ---------------------------------------------------------------- the knob in the Colorizer


def test_colorizer_temperature_knob_changes_colour_and_matches_the_model():
    torch.manual_seed(0)
    g = tiny_bins()
    with torch.no_grad():  # a confident, colourful random head
        g.head[-1].weight.mul_(40.0)
    c = Colorizer(g, size=64)
    assert c.supports_temperature
    img = (np.random.default_rng(0).random((40, 56)) * 255).astype(np.uint8)
    vivid = c.predict_lab(img, temperature=0.05)
    muted = c.predict_lab(img, temperature=1.0)
    default = c.predict_lab(img)
    chroma = {k: float(v[1:].norm(dim=0).mean()) for k, v in (("vivid", vivid), ("muted", muted))}
    assert chroma["vivid"] > chroma["muted"]
    assert g.temperature == 0.38  # per-call values do not stick
    g.temperature = 1.0
    assert torch.allclose(Colorizer(g, size=64).predict_lab(img), muted)
    g.temperature = 0.38
    assert torch.allclose(Colorizer(g, size=64, temperature=1.0).predict_lab(img), muted)
    assert not torch.allclose(default, muted)


def test_temperature_on_a_regression_model_is_a_clear_error():
    c = Colorizer(cz.create_model("unet_tiny"), size=32)
    assert not c.supports_temperature
    with pytest.raises(InvalidConfigError, match="needs a colour-bin model"):
        c(np.zeros((8, 8), np.uint8), temperature=0.5)
    with pytest.raises(InvalidConfigError, match="needs a colour-bin model"):
        Colorizer(cz.create_model("unet_tiny"), size=32, temperature=0.5)


# ---------------------------------------------------------------- training


def test_trainer_trains_a_bin_model_with_rebalancing_and_resumes(tmp_path):
    def cfg(out, **kw):
        return tiny_config(
            out, generator="timm_unet_tiny", generator_kwargs={"color_head": "bins", "decoder_channels": [16, 8, 8]},
            lambda_gan=0.0, lambda_l1=0.0, steps=3, **kw,
        )

    torch.manual_seed(1)
    straight = Pix2PixTrainer(cfg(tmp_path / "a"), train_dataset=ToyColorization())
    w = straight.generator.bin_weights.clone()
    assert not torch.allclose(w, torch.ones_like(w))  # estimated from the data
    logs = straight.fit(progress=False)
    assert all("loss_bins" in row for row in logs)
    torch.manual_seed(1)
    first = Pix2PixTrainer(cfg(tmp_path / "b", ckpt_every=2), train_dataset=ToyColorization())
    first.fit(steps=2, progress=False)
    second = Pix2PixTrainer(cfg(tmp_path / "b", ckpt_every=2), train_dataset=ToyColorization())
    second.fit(resume=True, progress=False)
    for (k, a), b in zip(straight.generator.state_dict().items(), second.generator.state_dict().values()):
        assert torch.equal(a, b), k


def test_init_strict_false_copies_matching_tensors(tmp_path, capsys):
    source = cz.create_model("timm_unet_tiny", decoder_channels=[16, 8, 8, 8, 8])
    source.save_pretrained(tmp_path / "src")
    config = tiny_config(
        tmp_path / "run", generator="timm_unet_tiny", init=str(tmp_path / "src"), init_strict=False,
        generator_kwargs={"color_head": "bins", "decoder_channels": [16, 8, 8]}, lambda_gan=0.0, steps=1,
    )
    trainer = Pix2PixTrainer(config, train_dataset=ToyColorization())
    g = trainer.generator
    assert g.color_head == "bins"
    for key, value in source.state_dict().items():
        if key.startswith(("encoder.", "decoder_blocks.0.", "decoder_blocks.2.")):
            assert torch.equal(g.state_dict()[key], value), key
    out = capsys.readouterr().out
    assert "(init_strict=False): copied" in out and "unused" in out


def test_cli_temperature_flag(tmp_path, capsys):
    from PIL import Image

    from cgan_zoo.cli import main

    tiny_bins().save_pretrained(tmp_path / "bins")
    Image.fromarray(np.full((24, 40), 120, np.uint8)).save(tmp_path / "gray.png")
    rc = main(["colorize", str(tmp_path / "gray.png"), "-o", str(tmp_path / "a.png"), "--model",
               str(tmp_path / "bins"), "--size", "64", "--temperature", "0.5"])
    assert rc == 0 and Image.open(tmp_path / "a.png").size == (40, 24)
    rc = main(["colorize", str(tmp_path / "gray.png"), "-o", str(tmp_path / "b.png"), "--model",
               str(tmp_path / "bins"), "--size", "64", "--temperature", "1.5"])
    assert rc == 1 and "temperature must be a number in (0, 1]" in capsys.readouterr().err
    cz.create_model("unet_tiny").save_pretrained(tmp_path / "reg")
    rc = main(["colorize", str(tmp_path / "gray.png"), "-o", str(tmp_path / "c.png"), "--model",
               str(tmp_path / "reg"), "--size", "32", "--temperature", "0.5"])
    assert rc == 1 and "needs a colour-bin model" in capsys.readouterr().err
