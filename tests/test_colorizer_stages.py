"""The public stages of Colorizer (prepare -> infer -> compose) give what one call gives."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from cgan_zoo import InvalidInputError, create_model
from cgan_zoo.color import normalize_l, rgb_to_lab
from cgan_zoo.pipelines import Colorizer, Prediction, PreparedImage


def gradient(h: int, w: int) -> np.ndarray:
    return np.tile(np.linspace(30, 220, w), (h, 1)).astype(np.uint8)


@pytest.fixture(scope="module")
def colorizer() -> Colorizer:
    torch.manual_seed(0)
    return Colorizer(create_model("unet_tiny"), size=48, batch_size=2)


@pytest.fixture(scope="module")
def inpainter() -> Colorizer:
    torch.manual_seed(0)
    g = create_model("unet_tiny", in_channels=2, out_channels=3, task="colorize-missing")
    return Colorizer(g, size=48)


def staged(c: Colorizer, images, masks=None):
    masks = masks or [None] * len(images)
    prepared = [c.prepare(img, m) for img, m in zip(images, masks)]
    return [c.compose(p, out) for p, out in zip(prepared, c.infer(prepared))]


def test_stages_equal_one_call_for_every_input_kind(colorizer):
    gray = gradient(30, 50)
    rgb = np.stack([gray, gray[::-1], np.full_like(gray, 90)], axis=-1)
    images = [gray, rgb, Image.fromarray(gray), torch.from_numpy(gray).float()[None] / 255.0]
    for image, out in zip(images, staged(colorizer, images)):
        expected = colorizer(image)
        if isinstance(expected, Image.Image):
            assert isinstance(out, Image.Image) and out.size == expected.size
            out, expected = np.asarray(out), np.asarray(expected)
        if isinstance(expected, torch.Tensor):
            assert torch.equal(out, expected)
        else:
            assert out.dtype == expected.dtype and np.array_equal(out, expected)


def test_a_batch_of_different_sizes_runs_by_working_shape(colorizer):
    images = [
        gradient(20, 30),
        gradient(64, 64),
        gradient(40, 60),
        gradient(10, 90),
        gradient(8, 8),
    ]
    seen = []
    hook = colorizer.generator.register_forward_pre_hook(
        lambda m, inp: seen.append(tuple(inp[0].shape))
    )
    try:
        prepared = [colorizer.prepare(img) for img in images]
        predictions = colorizer.infer(prepared)
    finally:
        hook.remove()
    # 20x30 and 40x60 share the working shape 32x48; 64x64 and 8x8 share 48x48: batches of 2
    assert [p.work_shape for p in prepared] == [(32, 48), (48, 48), (32, 48), (5, 48), (48, 48)]
    assert sorted(seen) == sorted([(2, 1, 32, 48), (2, 1, 48, 48), (1, 1, 16, 48)])
    for item, prediction in zip(prepared, predictions):
        assert isinstance(prediction, Prediction) and prediction.lightness is None
        assert tuple(prediction.ab.shape) == (1, 2, *item.work_shape)
    outputs = [colorizer.compose(p, out) for p, out in zip(prepared, predictions)]
    assert [o.shape[:2] for o in outputs] == [img.shape for img in images]
    for img, out in zip(images, outputs):  # batching does not change a result
        np.testing.assert_allclose(out.astype(int), colorizer(img).astype(int), atol=1)


def test_prepared_image_holds_the_documented_tensors(colorizer):
    img = gradient(30, 60)
    p = colorizer.prepare(img)
    assert isinstance(p, PreparedImage) and p.mask is None and p.spec.kind == "numpy"
    assert p.size == (30, 60) and p.work_shape == (24, 48)
    expected_l = rgb_to_lab(torch.from_numpy(img).float().div(255).expand(1, 3, -1, -1))[:, :1]
    assert p.lightness.shape == (1, 1, 30, 60) and torch.allclose(p.lightness, expected_l)
    assert p.model_input.shape == (1, 1, 24, 48)
    assert float(p.model_input.min()) >= -1 and float(p.model_input.max()) <= 1
    low, high = normalize_l(expected_l.min()), normalize_l(expected_l.max())
    assert low - 1e-3 <= float(p.model_input.min()) and float(p.model_input.max()) <= high + 1e-3


def test_mask_goes_through_the_stages(inpainter):
    img = gradient(36, 48)
    mask = np.zeros((36, 48), bool)
    mask[5:20, 10:30] = True
    p = inpainter.prepare(img, mask)
    assert p.mask is not None and p.mask.shape == (1, 1, 36, 48)
    assert torch.equal(p.mask[0, 0].bool(), torch.from_numpy(mask))
    assert p.model_input.shape == (1, 2, 36, 48)  # masked L plus the mask
    [prediction] = inpainter.infer([p])
    assert prediction.lightness is not None and prediction.lightness.shape == (1, 1, 36, 48)
    lab = inpainter.compose_lab(p, prediction)
    assert torch.equal(lab[0], inpainter.predict_lab(img, mask))
    known = ~torch.from_numpy(mask)
    assert torch.equal(lab[0, 0][known], p.lightness[0, 0][known])  # known pixels keep their L
    assert np.array_equal(inpainter.compose(p, prediction), inpainter(img, mask))


def test_a_changed_prediction_changes_the_result(colorizer):
    img = gradient(24, 40)
    p = colorizer.prepare(img)
    [prediction] = colorizer.infer([p])
    gray = colorizer.compose_lab(
        p, dataclasses.replace(prediction, ab=torch.zeros_like(prediction.ab))
    )
    assert float(gray[:, 1:].abs().max()) == 0.0 and torch.equal(gray[:, :1], p.lightness)


def test_temperature_passes_through_infer():
    torch.manual_seed(0)
    g = create_model("timm_unet_tiny", color_head="bins", decoder_channels=[32, 24, 16])
    c = Colorizer(g, size=32)
    p = c.prepare(gradient(32, 32))
    hot, cold = c.infer([p], temperature=1.0)[0], c.infer([p], temperature=0.2)[0]
    assert not torch.equal(hot.ab, cold.ab)
    assert torch.equal(c.compose_lab(p, cold)[0], c.predict_lab(gradient(32, 32), temperature=0.2))


def test_stage_errors(colorizer):
    p = colorizer.prepare(gradient(8, 8))
    with pytest.raises(TypeError, match=r"infer\(\[prepared\]\)"):
        colorizer.infer(p)
    with pytest.raises(TypeError, match="PreparedImage"):
        colorizer.infer([gradient(8, 8)])
    assert colorizer.infer([]) == []
    with pytest.raises(InvalidInputError, match="frame 7 contains non-finite values"):
        colorizer.prepare(np.full((8, 8), np.nan, np.float32), name="frame 7")
    with pytest.raises(InvalidInputError, match=r"non-finite values \(0 NaN, 1 Inf\)"):
        colorizer(torch.tensor([[[0.5, float("inf")]]]))
    with pytest.raises(InvalidInputError, match="not trained for missing regions"):
        colorizer.prepare(gradient(8, 8), np.zeros((8, 8), bool))
