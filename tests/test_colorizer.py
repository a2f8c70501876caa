"""Tests of cgan_zoo.pipelines.Colorizer: input kinds, full resolution, masks, errors."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from PIL import Image

from cgan_zoo import (
    CganZooError,
    InvalidConfigError,
    InvalidInputError,
    PretrainedCfg,
    WeightsError,
    create_model,
    list_pretrained,
)
from cgan_zoo.color import rgb_to_lab
from cgan_zoo.pipelines import Colorizer
from cgan_zoo.pipelines.defaults import DEFAULT_COLORIZER, DEFAULT_INPAINTER, default_model_name
from cgan_zoo.pipelines.images import image_to_tensor, mask_to_tensor


def lab_l(rgb: np.ndarray) -> torch.Tensor:
    """Lab L of an (H, W, 3) uint8 or float array, or of an (H, W) gray array."""
    x = torch.from_numpy(np.asarray(rgb).astype(np.float32))
    if np.asarray(rgb).dtype == np.uint8:
        x = x / 255.0
    x = x.unsqueeze(-1).expand(-1, -1, 3) if x.ndim == 2 else x
    return rgb_to_lab(x.permute(2, 0, 1)[None])[0, 0]


def checkerboard(h: int, w: int, cell: int = 2, lo: int = 60, hi: int = 190) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    return np.where(((yy // cell) + (xx // cell)) % 2 == 0, lo, hi).astype(np.uint8)


def gradient(h: int, w: int) -> np.ndarray:
    return np.tile(np.linspace(30, 220, w), (h, 1)).astype(np.uint8)


@pytest.fixture
def colorizer() -> Colorizer:
    return Colorizer(create_model("unet_tiny"), size=64)


@pytest.fixture
def inpainter() -> Colorizer:
    g = create_model("unet_tiny", in_channels=2, out_channels=3, task="colorize-missing")
    return Colorizer(g, size=64)


# ----------------------------------------------------------------------------- kinds


GRAY = gradient(37, 53)
RGB = np.stack([GRAY, GRAY[::-1], np.full_like(GRAY, 90)], axis=-1)


@pytest.mark.parametrize(
    "image, kind, dtype",
    [
        (Image.fromarray(GRAY, "L"), "pil", None),
        (Image.fromarray(RGB, "RGB"), "pil", None),
        (Image.fromarray(RGB, "RGB").convert("RGBA"), "pil", None),
        (Image.fromarray(RGB, "RGB").convert("P"), "pil", None),
        (Image.fromarray(GRAY.astype(np.uint16) * 257), "pil", None),
        (GRAY, "numpy", np.uint8),
        (GRAY[..., None], "numpy", np.uint8),
        (RGB, "numpy", np.uint8),
        (GRAY.astype(np.float32) / 255, "numpy", np.float32),
        (RGB.astype(np.float64) / 255, "numpy", np.float64),
        (GRAY.astype(np.uint16) * 257, "numpy", np.uint16),
        (torch.from_numpy(GRAY).float()[None] / 255, "tensor", torch.float32),
        (torch.from_numpy(RGB).permute(2, 0, 1).double() / 255, "tensor", torch.float64),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_output_kind_size_and_dtype(colorizer, image, kind, dtype):
    out = colorizer(image)
    if kind == "pil":
        assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == (53, 37)
    elif kind == "numpy":
        assert isinstance(out, np.ndarray) and out.shape == (37, 53, 3) and out.dtype == dtype
        if np.issubdtype(dtype, np.floating):
            assert 0.0 <= out.min() and out.max() <= 1.0
    else:
        assert isinstance(out, torch.Tensor) and out.shape == (3, 37, 53) and out.dtype == dtype


def test_rgb_input_uses_only_its_lightness(colorizer):
    lab_gray = colorizer.predict_lab(RGB)
    gray_of_rgb = lab_l(RGB)
    assert torch.allclose(lab_gray[0], gray_of_rgb, atol=1e-4)


# ----------------------------------------------------------------------------- resolution


def test_full_resolution_lightness_and_detail_are_kept(colorizer):
    h, w = 150, 220
    img = gradient(h, w)
    img[40:110, 60:160] = checkerboard(70, 100, cell=1)  # 1-px detail, far below working size 64
    out = colorizer(img)
    assert out.shape == (h, w, 3)
    diff = (lab_l(out) - lab_l(img)).abs()
    assert float(diff.mean()) < 1.0  # gamut clipping may move a few pixels slightly
    # the 1-px checkerboard survives: neighbouring pixels keep their full contrast
    patch_in, patch_out = lab_l(img)[40:110, 60:160], lab_l(out)[40:110, 60:160]
    contrast_in = (patch_in[:, 1:] - patch_in[:, :-1]).abs().mean()
    contrast_out = (patch_out[:, 1:] - patch_out[:, :-1]).abs().mean()
    assert float(contrast_out) > 0.95 * float(contrast_in)


def test_working_size_keeps_aspect_and_pads_to_stride(colorizer):
    seen = []
    colorizer.generator.register_forward_pre_hook(lambda m, inp: seen.append(tuple(inp[0].shape)))
    out = colorizer(np.zeros((100, 300), np.uint8))
    # long side 300 -> 64, short side 100 -> 21 (aspect kept), padded to the stride 16 -> 32
    assert seen == [(1, 1, 32, 64)]
    assert out.shape == (100, 300, 3)


def test_color_varies_smoothly_from_working_resolution(colorizer):
    lab = colorizer.predict_lab(gradient(64, 256))  # working size 16x64
    assert lab.shape == (3, 64, 256)
    assert float(lab[1:].abs().max()) > 0  # the random model predicts some colour


def test_batch_equals_single_calls(colorizer):
    images = [gradient(20, 30), checkerboard(30, 20), gradient(20, 30)[::-1].copy()]
    batch = colorizer.colorize_batch(images)
    for img, out in zip(images, batch):
        np.testing.assert_allclose(out.astype(int), colorizer(img).astype(int), atol=1)


# ----------------------------------------------------------------------------- modes


def test_deterministic_by_default(colorizer):
    img = gradient(32, 40)
    np.testing.assert_array_equal(colorizer(img), colorizer(img))
    assert not colorizer.generator.training


def test_stochastic_keeps_dropout_on_and_batchnorm_in_eval():
    c = Colorizer(create_model("unet_tiny"), size=32, stochastic=True)
    img = gradient(32, 32)
    a, b = c.predict_lab(img), c.predict_lab(img)
    assert not torch.equal(a[1:], b[1:])
    modes = {
        type(m).__name__: m.training
        for m in c.generator.modules()
        if type(m).__name__ in ("Dropout", "BatchNorm2d")
    }
    assert modes == {"Dropout": True, "BatchNorm2d": False}


def test_fast_mode_or_clear_error():
    try:
        import cgan_zoo.export.fast  # noqa: F401
    except ImportError:
        with pytest.raises(InvalidConfigError, match="fast=False"):
            Colorizer(create_model("unet_tiny"), size=32, fast=True)
        return
    img = gradient(24, 40)
    fast = Colorizer(create_model("unet_tiny"), size=32, fast=True)(img)
    torch.manual_seed(0)
    slow = Colorizer(create_model("unet_tiny"), size=32)(img)
    assert fast.shape == slow.shape


# ----------------------------------------------------------------------------- masks


def test_mask_fills_holes_and_keeps_known_luminance_exactly(inpainter):
    img = gradient(48, 80)
    damaged = img.copy()
    damaged[10:30, 20:50] = 255  # garbage inside the hole
    mask = np.zeros((48, 80), bool)
    mask[10:30, 20:50] = True
    seen = []
    inpainter.generator.register_forward_pre_hook(lambda m, inp: seen.append(inp[0].clone()))
    lab = inpainter.predict_lab(damaged, mask)
    known = ~torch.from_numpy(mask)
    assert torch.equal(lab[0][known], lab_l(damaged)[known])
    assert (
        float((lab[0][~known] - lab_l(damaged)[~known]).abs().mean()) > 1.0
    )  # holes were refilled
    # the model saw masked L plus the mask, at working size 38x64 padded to 48x64
    x = seen[0]
    assert x.shape == (1, 2, 48, 64)
    assert set(x[0, 1].unique().tolist()) == {0.0, 1.0}
    assert float(x[0, 0][x[0, 1] > 0].abs().max()) == 0.0
    out = inpainter(damaged, mask * 255)
    assert float((lab_l(out) - lab[0]).abs()[known].mean()) < 1.0


@pytest.mark.parametrize(
    "make_mask",
    [
        lambda m: Image.fromarray(m.astype(np.uint8) * 255, "L"),
        lambda m: Image.fromarray(m).convert("1"),
        lambda m: m,
        lambda m: m.astype(np.uint8)[..., None] * 255,
        lambda m: torch.from_numpy(m).float()[None],
    ],
)
def test_mask_kinds(make_mask):
    m = np.zeros((6, 7), bool)
    m[1:3, 2:5] = True
    assert torch.equal(mask_to_tensor(make_mask(m), (6, 7))[0, 0], torch.from_numpy(m).float())


def test_no_mask_means_nothing_missing(inpainter):
    img = gradient(24, 40)
    np.testing.assert_array_equal(inpainter(img), inpainter(img, np.zeros((24, 40), np.uint8)))


def test_mask_size_mismatch_names_both_sizes(inpainter):
    with pytest.raises(InvalidInputError, match=r"20x30.*24x40"):
        inpainter(gradient(24, 40), np.zeros((20, 30), np.uint8))


def test_mask_for_colorize_model_names_inpainting_model(colorizer):
    with pytest.raises(InvalidInputError, match="not trained for missing regions") as info:
        colorizer(gradient(24, 40), np.zeros((24, 40), np.uint8))
    assert DEFAULT_INPAINTER in str(info.value)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.zeros((8, 8, 2), np.uint8), InvalidInputError, "1 .gray. or 3 .RGB. channels"),
        (np.zeros((8, 8, 4), np.uint8), InvalidInputError, r"arr\[\.\.\., :3\]"),
        (np.zeros((3, 8, 8), np.uint8), InvalidInputError, "transpose"),
        (np.zeros((1, 8, 8, 3), np.uint8), InvalidInputError, "2 or 3 dims"),
        (np.zeros((0, 8), np.uint8), InvalidInputError, "empty"),
        (np.full((8, 8), np.nan, np.float32), InvalidInputError, "NaN"),
        (np.full((8, 8), 200.0, np.float32), InvalidInputError, "divide by 255"),
        (np.zeros((8, 8), np.int64), TypeError, "uint8"),
        (torch.zeros(1, 1, 8, 8), InvalidInputError, "colorize_batch"),
        (torch.zeros(4, 8, 8), InvalidInputError, r"x\[:3\]"),
        (torch.zeros(1, 8, 8, dtype=torch.uint8), TypeError, "255"),
        ("photo.jpg", TypeError, "PIL.Image.open"),
        ([[0, 1], [1, 0]], TypeError, "numpy array"),
    ],
)
def test_invalid_images(colorizer, bad, error, match):
    with pytest.raises(error, match=match):
        colorizer(bad)


def test_invalid_configs():
    g = create_model("unet_tiny")
    with pytest.raises(TypeError, match="nn.Module"):
        Colorizer("unet_tiny")
    with pytest.raises(InvalidConfigError, match="task"):
        Colorizer(create_model("unet_tiny", in_channels=3, out_channels=3, task="generic"))
    with pytest.raises(InvalidConfigError, match="size"):
        Colorizer(g, size=8)  # below the stride 16
    with pytest.raises(InvalidConfigError, match="batch_size"):
        Colorizer(g, batch_size=0)
    with pytest.raises(InvalidInputError, match="device"):
        Colorizer(g, device="tpu")
    assert Colorizer(g, device="auto").device.type in ("cpu", "cuda", "mps")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_cuda_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="CUDA is not available"):
        Colorizer(create_model("unet_tiny"), device="cuda")


@pytest.mark.parametrize(
    "exc",
    [
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"),
        RuntimeError("DefaultCPUAllocator: out of memory"),
    ],
)
def test_out_of_memory_suggests_smaller_size(colorizer, monkeypatch, exc):
    def boom(x):
        raise exc

    monkeypatch.setattr(colorizer, "_net", boom)
    with pytest.raises(CganZooError, match="smaller size") as info:
        colorizer(gradient(16, 16))
    assert "batch_size" in str(info.value)


def test_other_runtime_errors_pass_through(colorizer, monkeypatch):
    def boom(x):
        raise RuntimeError("something else")

    monkeypatch.setattr(colorizer, "_net", boom)
    with pytest.raises(RuntimeError, match="something else"):
        colorizer(gradient(16, 16))


def test_batch_argument_errors(colorizer):
    with pytest.raises(InvalidInputError, match="empty"):
        colorizer.colorize_batch([])
    with pytest.raises(InvalidInputError, match="one entry"):
        colorizer.colorize_batch([GRAY], masks=[None, None])
    with pytest.raises(InvalidInputError, match="image 1"):
        colorizer.colorize_batch([GRAY, np.zeros((4, 4, 2), np.uint8)])


def test_image_to_tensor_records_spec():
    x, spec = image_to_tensor(Image.fromarray(RGB).convert("RGBA"))
    assert x.shape == (1, 3, 37, 53) and spec.kind == "pil" and spec.size == (37, 53)


# ----------------------------------------------------------------------------- loading


def test_from_pretrained_folder(tmp_path):
    create_model("unet_tiny").save_pretrained(tmp_path / "m")
    c = Colorizer.from_pretrained(tmp_path / "m", size=32, batch_size=2)
    assert (c.task, c.size, c.batch_size) == ("colorize", 32, 2)
    assert c(gradient(10, 12)).shape == (10, 12, 3)


def test_from_pretrained_registered_name(tmp_path, monkeypatch):
    from cgan_zoo import _builder, _registry

    folder = tmp_path / "w"
    create_model("unet_tiny").save_pretrained(folder)
    sha = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    cfg = PretrainedCfg(
        name="unet_tiny.test",
        architecture="unet_tiny",
        sha256=sha,
        license="MIT",
        bundled="unet_tiny.test",
        input_size=48,
    )
    monkeypatch.setitem(_registry._PRETRAINED, cfg.name, cfg)
    monkeypatch.setattr(_builder, "resolve_pretrained_folder", lambda cfg: folder)
    c = Colorizer.from_pretrained("unet_tiny.test")
    assert c.size == 48  # the weights' training size is the default working size


def test_from_pretrained_unknown_names():
    with pytest.raises(InvalidConfigError, match="unknown model 'no_such_model'"):
        Colorizer.from_pretrained("no_such_model")
    with pytest.raises(InvalidConfigError, match="architecture without pretrained weights"):
        Colorizer.from_pretrained("unet_tiny")
    with pytest.raises(WeightsError):
        Colorizer.from_pretrained("nobody/nothing")  # Hub id, offline in tests


@pytest.mark.skipif(DEFAULT_COLORIZER in list_pretrained(), reason="default weights are installed")
def test_default_model_error_is_clear():
    with pytest.raises(WeightsError, match="no default pretrained weights are installed") as info:
        default_model_name()
    assert "--model" in str(info.value) and DEFAULT_COLORIZER in str(info.value)
    with pytest.raises(WeightsError, match=DEFAULT_INPAINTER):
        default_model_name(missing=True)
