"""The model registry: listing, creating, overrides, errors and pretrained entries."""

from __future__ import annotations

import hashlib
import shutil

import pytest
import torch

import cgan_zoo
from cgan_zoo import (
    ChecksumError,
    HubModel,
    InvalidConfigError,
    MultiScaleDiscriminator,
    PatchDiscriminator,
    PretrainedCfg,
    TimmUNet,
    UNetGenerator,
    WeightsError,
    _builder,
    _registry,
    create_model,
    get_pretrained_cfg,
    list_models,
    list_pretrained,
    register_model,
    register_pretrained,
)
from cgan_zoo.serialization import sha256_file

COMMIT = "89abcdef0123456789abcdef0123456789abcdef"

# forward passes only for these; the others are only built
TINY = {
    "unet_tiny": (2, 1, 32, 32),
    "timm_unet_tiny": (1, 1, 32, 32),
    "patchgan_tiny": (2, 3, 48, 48),
    "multiscale_patchgan_tiny": (2, 3, 64, 64),
}


@pytest.fixture
def isolated_registry(monkeypatch):
    """Registrations made by a test vanish afterwards."""
    monkeypatch.setattr(_registry, "_MODELS", dict(_registry._MODELS))
    monkeypatch.setattr(_registry, "_PRETRAINED", dict(_registry._PRETRAINED))


def test_list_models_patterns():
    names = list_models()
    assert names == sorted(names) and len(names) == len(set(names))
    for expected in ("pix2pix_unet256", "pix2pix_unet128", "unet_tiny", "patchgan_70", "multiscale_patchgan"):
        assert expected in names
    assert list_models("patchgan_*") == [
        "patchgan_1", "patchgan_142", "patchgan_16", "patchgan_286", "patchgan_34", "patchgan_70", "patchgan_tiny",
    ]  # fmt: skip
    assert list_models("*_tiny") == ["multiscale_patchgan_tiny", "patchgan_tiny", "timm_unet_tiny", "unet_tiny"]
    assert list_models("pix2pix_unet25?") == ["pix2pix_unet256"]
    assert list_models("no_such_*") == []
    assert set(list_models("*unet*")) >= {"unet_tiny", "unet_resnet18", "pix2pix_unet256_half"}


def test_every_tiny_variant_is_listed():
    assert set(TINY) <= set(list_models("*tiny*"))


@pytest.mark.parametrize("name", list_models())
def test_every_registered_model_builds(name):
    model = create_model(name)
    assert isinstance(model, HubModel)
    assert model.num_parameters() > 0
    assert set(model.config) >= {"in_channels"}
    if name in TINY:
        model.eval()
        with torch.no_grad():
            out = model(torch.randn(*TINY[name]))
        outs = out if isinstance(out, list) else [out]
        assert all(torch.isfinite(o).all() for o in outs)


def test_variants_build_the_right_classes():
    assert type(create_model("pix2pix_unet256")) is UNetGenerator
    assert create_model("pix2pix_unet128").num_downs == 7
    half = create_model("pix2pix_unet256_half")
    assert half.config["base_channels"] == 32 and half.config["max_channels"] == 256
    assert type(create_model("unet_tiny")) is UNetGenerator
    assert [create_model(f"pix2pix_resnet{n}", base_channels=2).config["num_blocks"] for n in (9, 6)] == [9, 6]
    assert type(create_model("timm_unet_tiny")) is TimmUNet
    assert type(create_model("patchgan_34", base_channels=2)) is PatchDiscriminator
    ms = create_model("multiscale_patchgan", base_channels=2)
    assert type(ms) is MultiScaleDiscriminator and len(ms.discriminators) == 3
    assert ms.discriminators[0].receptive_field == 70


def test_overrides_win_over_variant_defaults():
    g = create_model("unet_tiny", base_channels=4, num_downs=3, max_channels=512)
    assert g.config["base_channels"] == 4 and g.config["num_downs"] == 3 and g.stride == 8
    assert g.down_blocks[0].out_channels == 4
    assert create_model("unet_tiny").down_blocks[0].out_channels == 8  # the variant's default
    d = create_model("patchgan_70", receptive_field=16, base_channels=2)
    assert d.receptive_field == 16
    assert create_model("patchgan_tiny", receptive_field=70).receptive_field == 70
    ms = create_model("multiscale_patchgan_tiny", num_scales=3)
    assert len(ms.discriminators) == 3
    t = create_model("timm_unet_tiny", decoder_channels=[8, 8, 8, 8, 8])
    assert t.config["decoder_channels"] == [8, 8, 8, 8, 8]
    assert t.config["encoder_name"] == "tf_efficientnet_lite0"  # untouched default


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [
        ("unet_tiyn", "unet_tiny"),
        ("patchgan_71", "patchgan_70"),
        ("pix2pix_unet255", "pix2pix_unet256"),
        ("untet_tiny", "unet_tiny"),
        ("multiscale_patchgn", "multiscale_patchgan"),
    ],
)
def test_unknown_model_names_similar_ones(typo, suggestion):
    with pytest.raises(InvalidConfigError, match=rf"unknown model '{typo}'\. Similar names: \[.*'{suggestion}'") as info:
        create_model(typo)
    assert isinstance(info.value, ValueError)
    assert "cgan_zoo.list_models()" in str(info.value)


def test_bad_override_is_a_config_error():
    with pytest.raises(InvalidConfigError, match=r"receptive_field=50 is not supported"):
        create_model("patchgan_70", receptive_field=50)


def test_register_model_decorator(isolated_registry):
    @register_model
    def my_test_unet(**kwargs):
        return UNetGenerator(**{"base_channels": 2, "num_downs": 2, **kwargs})

    assert list_models("my_test_*") == ["my_test_unet"]
    assert create_model("my_test_unet", base_channels=3).config["base_channels"] == 3


# --------------------------------------------------------------------------- pretrained entries


def _cfg(**kwargs) -> PretrainedCfg:
    base = dict(name="unet_tiny.test", architecture="unet_tiny", sha256="0" * 64, license="MIT")
    return PretrainedCfg(**{**base, **kwargs})


def test_hub_weights_need_a_pinned_revision(isolated_registry):
    with pytest.raises(InvalidConfigError, match=r"'unet_tiny.test' is on the Hub but has no pinned revision"):
        register_pretrained(_cfg(hub_id="owner/name"))
    with pytest.raises(InvalidConfigError, match=r"revision 'main'; pin a full 40-character commit sha"):
        register_pretrained(_cfg(hub_id="owner/name", revision="main"))
    with pytest.raises(InvalidConfigError, match=r"40-character commit sha"):
        register_pretrained(_cfg(hub_id="owner/name", revision=COMMIT[:12]))
    assert "unet_tiny.test" not in list_pretrained()
    register_pretrained(_cfg(hub_id="owner/name", revision=COMMIT))
    assert "unet_tiny.test" in list_pretrained()


def test_pretrained_for_unknown_architecture(isolated_registry):
    with pytest.raises(InvalidConfigError, match=r"names unknown architecture 'nope'"):
        register_pretrained(_cfg(name="nope.x", architecture="nope", bundled="nope.x"))


def test_pretrained_lookup(isolated_registry):
    first = register_pretrained(_cfg(name="unet_tiny.a", hub_id="o/a", revision=COMMIT))
    register_pretrained(_cfg(name="unet_tiny.b", hub_id="o/b", revision=COMMIT))
    assert list_pretrained("unet_tiny.*") == ["unet_tiny.a", "unet_tiny.b"]
    assert get_pretrained_cfg("unet_tiny") is first  # the first tag is the default
    assert get_pretrained_cfg("unet_tiny.b").hub_id == "o/b"
    assert first.tag == "a" and first.to_dict()["revision"] == COMMIT
    with pytest.raises(InvalidConfigError, match=r"no pretrained weights named 'unet_tiny.zzz'.*Available: \["):
        get_pretrained_cfg("unet_tiny.zzz")
    assert _builder.resolve_pretrained_folder(first) == "o/a"


def test_missing_bundled_weights(isolated_registry):
    cfg = register_pretrained(_cfg(bundled="definitely-not-shipped"))
    with pytest.raises(WeightsError, match=r"weights 'unet_tiny.test' registered by cgan-zoo \(bundled\) are missing.*reinstall"):
        _builder.resolve_pretrained_folder(cfg)
    with pytest.raises(WeightsError, match=r"neither bundled weights nor a Hub id"):
        _builder.resolve_pretrained_folder(_cfg())


def test_create_model_pretrained_from_offline_hub_cache(isolated_registry, monkeypatch, tmp_path):
    """End to end: a Hub-hosted entry resolves from the local cache, checked by sha256."""
    from huggingface_hub import constants

    torch.manual_seed(5)
    model = create_model("unet_tiny").eval()
    model.save_pretrained(tmp_path / "src")
    repo = tmp_path / "cache" / "models--owner--tiny"
    snapshot = repo / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tmp_path / "src" / name, snapshot / name)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "cache"))

    digest = sha256_file(snapshot / "model.safetensors")
    assert digest == hashlib.sha256((snapshot / "model.safetensors").read_bytes()).hexdigest()
    register_pretrained(_cfg(name="unet_tiny.hubtest", sha256=digest, hub_id="owner/tiny", revision=COMMIT))
    loaded = create_model("unet_tiny.hubtest", pretrained=True)
    assert type(loaded) is UNetGenerator and not loaded.training
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    # shape-preserving overrides are allowed with pretrained weights
    assert create_model("unet_tiny.hubtest", pretrained=True, dropout=0.0).config["dropout"] == 0.0

    register_pretrained(_cfg(name="unet_tiny.badsum", sha256="f" * 64, hub_id="owner/tiny", revision=COMMIT))
    with pytest.raises(ChecksumError, match="was expected"):
        create_model("unet_tiny.badsum", pretrained=True)


def test_public_api_exports():
    for name in cgan_zoo.__all__:
        assert hasattr(cgan_zoo, name), name
