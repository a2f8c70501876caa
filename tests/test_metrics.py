"""Tests of cgan_zoo.metrics, each against an independent computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage import data
from skimage.color import rgb2lab
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from skimage.transform import resize

from cgan_zoo import color, metrics
from cgan_zoo.errors import InvalidInputError


def _hwc(t: torch.Tensor) -> np.ndarray:
    return t.permute(1, 2, 0).detach().cpu().numpy()


@pytest.fixture(scope="module")
def photos() -> torch.Tensor:
    """Two small natural photos from scikit-image, (2, 3, 96, 96) float64 in [0, 1]."""
    imgs = [
        resize(img, (96, 96), anti_aliasing=True)
        for img in (data.astronaut(), data.coffee()[:, :400])
    ]
    return torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).contiguous()


@pytest.fixture(scope="module")
def degraded(photos) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1)
    noisy = photos + 0.08 * torch.randn(photos.shape, generator=gen, dtype=photos.dtype)
    return noisy.clamp(0, 1)


# -- colourfulness --------------------------------------------------------------------------


def _np_colorfulness(img: np.ndarray) -> float:
    """Hasler & Süsstrunk 2003 straight from the paper, HxWx3 in [0, 1]."""
    r, g, b = (img[..., i].astype(np.float64) * 255.0 for i in range(3))
    rg = r - g
    yb = 0.5 * (r + g) - b
    std_root = np.sqrt(np.std(rg) ** 2 + np.std(yb) ** 2)
    mean_root = np.sqrt(np.mean(rg) ** 2 + np.mean(yb) ** 2)
    return float(std_root + 0.3 * mean_root)


def test_colorfulness_matches_numpy(photos):
    rand = torch.rand(1, 3, 96, 96, dtype=torch.float64)
    flat = torch.tensor([0.9, 0.3, 0.1], dtype=torch.float64).view(1, 3, 1, 1).expand(1, 3, 96, 96)
    x = torch.cat([photos, rand, flat])
    got = metrics.colorfulness(x)
    assert got.shape == (4,)
    want = [_np_colorfulness(_hwc(img)) for img in x]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


def test_colorfulness_gray_is_zero_and_float32(photos):
    gray = photos.mean(dim=1, keepdim=True).expand(-1, 3, -1, -1).float()
    torch.testing.assert_close(metrics.colorfulness(gray), torch.zeros(2), atol=1e-3, rtol=0)
    got = metrics.colorfulness(photos.float())
    np.testing.assert_allclose(got.numpy(), [_np_colorfulness(_hwc(p)) for p in photos], rtol=1e-4)


# -- PSNR and SSIM --------------------------------------------------------------------------


def test_psnr_matches_skimage(photos, degraded):
    got = metrics.psnr(degraded, photos)
    assert got.shape == (2,)
    want = [
        peak_signal_noise_ratio(_hwc(t), _hwc(p), data_range=1.0) for p, t in zip(degraded, photos)
    ]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    got2 = metrics.psnr(degraded * 2, photos * 2, data_range=2.0)
    np.testing.assert_allclose(got2.numpy(), want, rtol=1e-6)


def test_psnr_identical_is_inf(photos):
    assert torch.isinf(metrics.psnr(photos, photos)).all()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_ssim_matches_skimage(photos, degraded, dtype):
    pred, target = degraded.to(dtype), photos.to(dtype)
    got = metrics.ssim(pred, target)
    assert got.shape == (2,) and got.dtype == dtype
    want = [
        structural_similarity(
            _hwc(p),
            _hwc(t),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
            channel_axis=-1,
        )
        for p, t in zip(pred, target)
    ]
    np.testing.assert_allclose(got.numpy(), want, atol=1e-4)


@pytest.mark.parametrize("size", [(11, 11), (13, 29)])
def test_ssim_small_and_non_square_match_skimage(size):
    gen = torch.Generator().manual_seed(3)
    a = torch.rand(1, 3, *size, generator=gen, dtype=torch.float64)
    b = (a + 0.3 * torch.rand(a.shape, generator=gen, dtype=torch.float64)).clamp(0, 1)
    want = structural_similarity(
        _hwc(a[0]),
        _hwc(b[0]),
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=1.0,
        channel_axis=-1,
    )
    np.testing.assert_allclose(metrics.ssim(a, b).item(), want, atol=1e-4)


def test_ssim_identical_is_one_and_too_small_raises(photos):
    torch.testing.assert_close(metrics.ssim(photos, photos), torch.ones(2, dtype=photos.dtype))
    with pytest.raises(InvalidInputError, match="11x11"):
        metrics.ssim(torch.rand(1, 3, 10, 40), torch.rand(1, 3, 10, 40))


def test_psnr_and_ssim_are_differentiable(photos, degraded):
    pred = degraded.float().clone().requires_grad_()
    (metrics.ssim(pred, photos.float()).sum() + metrics.psnr(pred, photos.float()).sum()).backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all()


# -- ab error -------------------------------------------------------------------------------


def test_ab_error_matches_numpy_over_skimage_lab(photos, degraded):
    got = metrics.ab_error(degraded, photos)
    assert got.shape == (2,)
    want = []
    for p, t in zip(degraded, photos):
        d = rgb2lab(_hwc(p))[..., 1:] - rgb2lab(_hwc(t))[..., 1:]
        want.append(np.sqrt((d**2).sum(-1)).mean())
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-4)


def test_ab_error_ignores_lightness():
    lab = torch.tensor([50.0, 20.0, -10.0]).view(1, 3, 1, 1).expand(1, 3, 4, 4).clone()
    darker = lab.clone()
    darker[:, 0] = 40.0
    err = metrics.ab_error(color.lab_to_rgb(lab), color.lab_to_rgb(darker))
    assert err.item() < 0.05


# -- hue accuracy ---------------------------------------------------------------------------


def _lab_pixels(pixels: list[tuple[float, float, float]]) -> torch.Tensor:
    """(L, chroma, hue_deg) triples -> RGB image (1, 3, 1, N) in float64."""
    lab = torch.tensor(
        [
            [lum, c * math.cos(math.radians(h)), c * math.sin(math.radians(h))]
            for lum, c, h in pixels
        ],
        dtype=torch.float64,
    )
    return color.lab_to_rgb(lab.T.reshape(1, 3, 1, -1))


def test_hue_accuracy_constructed_pixels():
    target_spec = [
        (60, 30, 100),  # pred 29° away -> correct
        (60, 30, 100),  # pred 31° away -> wrong
        (60, 30, 10),  # pred at 341° (29° across 0°) -> correct
        (60, 30, 200),  # pred same hue but chroma 4 -> wrong (washed out)
        (60, 30, 250),  # pred identical -> correct
        (60, 10, 45),  # target chroma 10 < 15 -> not counted at all
    ]
    pred_spec = [
        (60, 30, 129),
        (60, 30, 131),
        (60, 30, 341),
        (60, 4, 200),
        (60, 30, 250),
        (60, 30, 225),
    ]
    target = _lab_pixels(target_spec)
    pred = _lab_pixels(pred_spec)
    # The constructed colours are in gamut: hues survive the RGB round trip.
    lab_t = color.rgb_to_lab(target)
    hues = torch.rad2deg(torch.atan2(lab_t[0, 2, 0], lab_t[0, 1, 0])).remainder(360)
    torch.testing.assert_close(
        hues, torch.tensor([100, 100, 10, 200, 250, 45.0], dtype=torch.float64), atol=0.05, rtol=0
    )
    acc = metrics.hue_accuracy(pred, target)
    assert acc.shape == (1,)
    assert acc.item() == pytest.approx(3 / 5)
    # Thresholds are parameters.
    assert metrics.hue_accuracy(pred, target, max_hue_deg=32.0).item() == pytest.approx(4 / 5)
    assert metrics.hue_accuracy(pred, target, pred_min_chroma=3.0).item() == pytest.approx(4 / 5)
    assert metrics.hue_accuracy(pred, target, min_chroma=5.0).item() == pytest.approx(3 / 6)


def test_hue_accuracy_nan_for_gray_target_and_nanmean():
    gray = torch.full((1, 3, 4, 4), 0.5, dtype=torch.float64)
    red = torch.zeros(1, 3, 4, 4, dtype=torch.float64)
    red[:, 0] = 0.8
    scores = metrics.hue_accuracy(torch.cat([red, red]), torch.cat([red, gray]))
    assert scores[0].item() == 1.0 and torch.isnan(scores[1])
    assert torch.nanmean(scores).item() == 1.0
    assert metrics.hue_accuracy(gray, red).item() == 0.0  # gray prediction of a red photo


def test_gray_baseline_zero_chroma_same_lightness(photos):
    gray = metrics.gray_baseline(photos)
    assert gray.shape == photos.shape
    lab_g, lab_p = color.rgb_to_lab(gray), color.rgb_to_lab(photos)
    assert lab_g[:, 1:].abs().max() < 1e-3
    torch.testing.assert_close(lab_g[:, 0], lab_p[:, 0], atol=1e-3, rtol=0)
    assert metrics.colorfulness(gray).max() < 1e-2
    assert torch.nanmean(metrics.hue_accuracy(gray, photos)).item() == 0.0
    assert (metrics.ab_error(gray, photos) > 1.0).all()


# -- batching and validation ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["psnr", "ssim", "ab_error", "hue_accuracy"])
def test_batch_equals_per_image(name, photos, degraded):
    fn = getattr(metrics, name)
    batched = fn(degraded, photos)
    single = torch.cat([fn(degraded[i : i + 1], photos[i : i + 1]) for i in range(2)])
    torch.testing.assert_close(batched, single)


@pytest.mark.parametrize("name", ["psnr", "ssim", "ab_error", "hue_accuracy"])
def test_pair_validation(name):
    fn = getattr(metrics, name)
    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(TypeError, match="got ndarray"):
        fn(np.zeros((1, 3, 16, 16)), x)
    with pytest.raises(InvalidInputError, match=r"\(B, 3, H, W\).*got \(1, 1, 16, 16\)"):
        fn(torch.rand(1, 1, 16, 16), x)
    with pytest.raises(InvalidInputError, match=r"same shape.*\(1, 3, 16, 16\).*\(2, 3, 16, 16\)"):
        fn(x, torch.rand(2, 3, 16, 16))
    with pytest.raises(InvalidInputError, match="unsqueeze"):
        fn(x[0], x[0])
    with pytest.raises(TypeError, match="floating-point"):
        fn(torch.zeros(1, 3, 16, 16, dtype=torch.uint8), x)


@pytest.mark.parametrize("name", ["colorfulness", "gray_baseline"])
def test_single_input_validation(name):
    fn = getattr(metrics, name)
    with pytest.raises(TypeError, match="torch.Tensor"):
        fn([[0.0]])
    with pytest.raises(InvalidInputError, match="RGB"):
        fn(torch.rand(2, 4, 8, 8))


# -- flicker --------------------------------------------------------------------------------


def _reference_flicker(frames: np.ndarray, shifts: list[tuple[int, int]]) -> float:
    """Mean |Δab| written out pixel by pixel: frame t at (y, x) vs frame t-1 at (y-dy, x-dx)."""
    t_count, channels, h, w = frames.shape
    per_pair = []
    for t in range(1, t_count):
        dy, dx = shifts[t - 1]
        diffs = [
            abs(float(frames[t, c, y, x]) - float(frames[t - 1, c, y - dy, x - dx]))
            for c in range(channels)
            for y in range(h)
            for x in range(w)
            if 0 <= y - dy < h and 0 <= x - dx < w
        ]
        per_pair.append(sum(diffs) / len(diffs))
    return sum(per_pair) / len(per_pair)


@pytest.mark.parametrize("shifts", [[(0, 0)] * 3, [(0, -2)] * 3, [(1, -1), (-2, 0), (0, 3)]])
def test_flicker_matches_a_pixel_by_pixel_reference(shifts):
    frames = np.random.default_rng(3).normal(size=(4, 2, 7, 9)).astype(np.float32) * 20
    expected = _reference_flicker(frames, shifts)
    one_pair = shifts[0] if len(set(shifts)) == 1 else shifts
    assert metrics.flicker(torch.from_numpy(frames), one_pair) == pytest.approx(expected, rel=1e-9)
    assert metrics.flicker(list(frames), shifts) == pytest.approx(expected, rel=1e-9)


def test_flicker_of_a_panned_photo_is_zero_only_with_the_right_shift(photos):
    ab = color.rgb_to_lab(photos[:1].float())[0, 1:]  # (2, 96, 96)
    clip = torch.stack([ab[:, 10:50, 3 * t : 3 * t + 60] for t in range(5)])  # pans right 3 px
    assert metrics.flicker(clip, (0, -3)) == 0.0
    assert metrics.flicker(clip, (0, -2)) > 0.5
    assert metrics.flicker(clip) == pytest.approx(
        _reference_flicker(clip.numpy(), [(0, 0)] * 4), rel=1e-6
    )


def test_flicker_is_the_same_object_at_its_old_address():
    from cgan_zoo.pipelines import flicker as from_pipelines
    from cgan_zoo.pipelines.video import flicker as from_video

    assert from_pipelines is metrics.flicker and from_video is metrics.flicker


def test_flicker_errors():
    with pytest.raises(TypeError, match="ab_frames"):
        metrics.flicker(3.0)
    with pytest.raises(InvalidInputError, match=r"\(C, H, W\)"):
        metrics.flicker(torch.zeros(2, 4, 4))
    with pytest.raises(InvalidInputError, match="frame 1 has shape"):
        metrics.flicker([torch.zeros(2, 4, 4), torch.zeros(2, 4, 5)])
