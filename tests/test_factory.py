"""The one front door: ``load_generator`` for every kind of source, its errors,
``HubModel.from_config``, ``TimmUNet(encoder_weights=...)`` and a registry that is a leaf."""

from __future__ import annotations

import ast
import json
import os
import socket
import sys
from pathlib import Path

import pytest
import torch

import cgan_zoo
from cgan_zoo import (
    HubModel,
    InvalidConfigError,
    InvalidInputError,
    PretrainedCfg,
    TimmUNet,
    UNetGenerator,
    WeightsError,
    _builder,
    _registry,
    create_model,
    load_generator,
)
from cgan_zoo.serialization import save_safetensors, sha256_file

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))
from _trainer_utils import ToyColorization, tiny_config  # noqa: E402
from test_hub import COMMIT, build_hf_cache  # noqa: E402

X = torch.randn(1, 1, 32, 32)


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture
def registered(monkeypatch, tmp_path):
    """``unet_tiny.test``: registered weights (the default tag of ``unet_tiny``) in a folder."""
    monkeypatch.setattr(_registry, "_PRETRAINED", dict(_registry._PRETRAINED))
    torch.manual_seed(1)
    model = create_model("unet_tiny", dropout=0.5).eval()
    folder = tmp_path / "weights"
    model.save_pretrained(folder)
    cfg = PretrainedCfg(
        name="unet_tiny.test",
        architecture="unet_tiny",
        sha256=sha256_file(folder / "model.safetensors"),
        license="MIT",
        bundled="unet_tiny.test",
    )
    _registry.register_pretrained(cfg)
    monkeypatch.setattr(_builder, "resolve_pretrained_folder", lambda c: folder)
    return model


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A real (tiny) training run: ``out_dir`` with ``checkpoints/ckpt-*.safetensors``."""
    out = tmp_path_factory.mktemp("run")
    trainer = cgan_zoo.Pix2PixTrainer(
        tiny_config(out, steps=2, ckpt_every=2, ema_decay=0.5), train_dataset=ToyColorization()
    )
    trainer.fit(progress=False)
    return out, trainer


# --------------------------------------------------------------------------- sources


def test_pretrained_tag_and_bare_architecture_name(registered):
    for name in ("unet_tiny.test", "unet_tiny"):  # a bare name loads its default tag
        loaded = load_generator(name)
        assert type(loaded) is UNetGenerator and not loaded.training
        assert _same_weights(loaded, registered)
    assert load_generator("unet_tiny.test", dropout=0.0).config["dropout"] == 0.0


def test_save_pretrained_folder(tmp_path):
    model = create_model("unet_tiny", dropout=0.5)
    model.save_pretrained(tmp_path / "m")
    loaded = load_generator(tmp_path / "m")
    assert _same_weights(loaded, model) and not loaded.training
    assert load_generator(str(tmp_path / "m"), dropout=0.0).config["dropout"] == 0.0


def test_trainer_checkpoint_file_folder_and_run_folder(run_folder, monkeypatch):
    out, trainer = run_folder

    def no_pickle(*args, **kwargs):
        raise AssertionError("torch.load (pickle) was called")

    monkeypatch.setattr(torch, "load", no_pickle)
    ckpt = out / "checkpoints" / "ckpt-00000002.safetensors"
    assert ckpt.is_file()
    for source in (out, out / "checkpoints", ckpt, str(ckpt)):
        loaded = load_generator(source)
        assert type(loaded) is UNetGenerator and not loaded.training
        assert _same_weights(loaded, trainer.ema.module), source  # EMA weights by default
    raw = load_generator(out, use_ema=False)
    assert _same_weights(raw, trainer.generator)
    assert not _same_weights(raw, trainer.ema.module)  # ema_decay=0.5: they differ
    assert load_generator(ckpt, dropout=0.25).config["dropout"] == 0.25


def test_run_folder_without_checkpoints_uses_the_exported_generator(run_folder, tmp_path):
    _, trainer = run_folder
    trainer.export_generator(tmp_path / "run" / "generator")
    loaded = load_generator(tmp_path / "run")
    assert _same_weights(loaded, trainer.ema.module)


def test_hub_id_from_the_offline_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("network"))
    torch.manual_seed(2)
    model = create_model("unet_tiny").eval()
    model.save_pretrained(tmp_path / "src")
    cache = tmp_path / "hf-cache"
    build_hf_cache(cache, "owner/tiny", tmp_path / "src")
    for revision in (None, COMMIT):
        loaded = load_generator("owner/tiny", revision=revision, cache_dir=cache)
        assert _same_weights(loaded, model)
    with pytest.raises(
        WeightsError, match=r"'owner/missing' is not a local folder, and as a Hub repo id"
    ):
        load_generator("owner/missing", cache_dir=cache)


def test_every_front_door_is_load_generator(registered, tmp_path, capsys):
    from cgan_zoo.cli import export_cmd, main
    from cgan_zoo.pipelines import Colorizer

    assert cgan_zoo.pipelines.load_generator is load_generator
    assert cgan_zoo.pipelines.colorizer.load_generator is load_generator
    assert _registry.create_model is create_model  # the old import location still works
    assert _registry.resolve_pretrained_folder is _builder.resolve_pretrained_folder
    assert _same_weights(Colorizer.from_pretrained("unet_tiny", size=32).generator, registered)
    assert _same_weights(export_cmd.load_generator("unet_tiny"), registered)
    random = export_cmd.load_generator("unet_tiny", random_weights=True)
    assert not _same_weights(random, registered) and not random.training
    assert main(["export", "unet_tiny.test", str(tmp_path / "g.pt"), "--size", "32"]) == 0, (
        capsys.readouterr()
    )


# --------------------------------------------------------------------------- errors


def test_architecture_without_weights_is_a_clear_error():
    with pytest.raises(
        InvalidConfigError,
        match=r"'unet_tiny' is an architecture without pretrained weights.*create_model\('unet_tiny'\)",
    ):
        load_generator("unet_tiny")


def test_names_with_typos_suggest_the_right_one(registered):
    with pytest.raises(
        InvalidConfigError,
        match=r"no pretrained weights named 'unet_tiny.tset'\. Did you mean 'unet_tiny.test'\?",
    ):
        load_generator("unet_tiny.tset")
    with pytest.raises(
        InvalidConfigError, match=r"unknown model 'unet_tinx': Did you mean 'unet_tiny"
    ):
        load_generator("unet_tinx")


def test_files_and_folders_that_hold_no_model(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        WeightsError, match=r"holds no model \(found \[\]\).*config.json.*checkpoints/ckpt"
    ):
        load_generator(tmp_path / "empty")
    model = create_model("unet_tiny")
    model.save_pretrained(tmp_path / "m")
    with pytest.raises(
        InvalidInputError,
        match=r"not a cgan-zoo training checkpoint.*pass the folder that holds it",
    ):
        load_generator(tmp_path / "m" / "model.safetensors")
    with pytest.raises(InvalidInputError, match=r"not a cgan-zoo training checkpoint"):
        load_generator(tmp_path / "m" / "config.json")
    with pytest.raises(InvalidConfigError, match=r"unknown model 'a/b/c'.*not an existing folder"):
        load_generator("a/b/c")


def test_missing_weights_package_names_the_pip_command(monkeypatch):
    monkeypatch.setattr(_registry, "_INSTALL_HINTS", {})
    _registry.register_install_hint(
        "unet_tiny.birds", "cgan-zoo-weights-birds", "pip install cgan-zoo-weights-birds"
    )
    with pytest.raises(WeightsError, match=r"pip install cgan-zoo-weights-birds"):
        load_generator("unet_tiny.birds")


def test_encoder_weights_only_where_they_make_sense(registered, tmp_path):
    with pytest.raises(
        InvalidConfigError,
        match=r"encoder_weights='e.safetensors' needs a model with a timm encoder.*'unet_tiny' has none",
    ):
        create_model("unet_tiny", encoder_weights="e.safetensors")
    with pytest.raises(InvalidConfigError, match=r"pretrained=True loads all of 'unet_tiny.test'"):
        create_model("unet_tiny.test", pretrained=True, encoder_weights="e.safetensors")


# --------------------------------------------------------------------------- from_config


def test_from_config_builds_without_weights(tmp_path):
    model = create_model("unet_tiny", dropout=0.5)
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    built = HubModel.from_config(config)
    assert type(built) is UNetGenerator and built.config == model.config
    assert not _same_weights(built, model)  # fresh weights
    assert UNetGenerator.from_config(model.config, dropout=0.0).config["dropout"] == 0.0
    with pytest.raises(
        InvalidConfigError, match=r"describes a 'UNetGenerater'.*Did you mean 'UNetGenerator'"
    ):
        HubModel.from_config({**config, "_class_name": "UNetGenerater"})
    with pytest.raises(InvalidConfigError, match=r"not a PatchDiscriminator subclass"):
        cgan_zoo.PatchDiscriminator.from_config(config)
    with pytest.raises(
        InvalidConfigError,
        match=r"config key 'num_down' is not an argument of UNetGenerator\. Did you mean 'num_downs'",
    ):
        HubModel.from_config({**config, "num_down": 3})
    with pytest.raises(InvalidConfigError, match=r"norm='weird'"):
        HubModel.from_config({**config, "norm": "weird"})


# --------------------------------------------------------------------------- TimmUNet(encoder_weights=...)


def test_timm_unet_takes_encoder_weights_and_never_saves_the_path(tmp_path):
    torch.manual_seed(4)
    source = create_model("timm_unet_tiny")
    path = tmp_path / "encoder.safetensors"
    save_safetensors(source.encoder.state_dict(), path)
    kwargs = {"encoder_name": "tf_efficientnet_lite0", "decoder_channels": [32, 24, 16, 16, 8]}
    for given in (str(path), path):  # a str or a Path (not JSON), both fine
        model = TimmUNet(**kwargs, encoder_weights=given)
        assert _same_weights(model.encoder, source.encoder)
        assert "encoder_weights" not in model.config and "encoder_key_map" not in model.config
        folder = tmp_path / f"saved-{type(given).__name__}"
        model.save_pretrained(folder)
        saved = json.loads((folder / "config.json").read_text())
        assert "encoder_weights" not in saved and "encoder_key_map" not in saved
        assert str(path) not in (folder / "config.json").read_text()
        assert _same_weights(load_generator(folder), model)
    via_factory = create_model("timm_unet_tiny", encoder_weights=str(path))
    assert _same_weights(via_factory.encoder, source.encoder)
    with pytest.raises(WeightsError, match=r"encoder weights"):
        TimmUNet(**{**kwargs, "encoder_name": "resnet18"}, encoder_weights=path)


# --------------------------------------------------------------------------- the registry is a leaf


def test_registry_imports_nothing_of_the_package_but_metadata_and_errors():
    import cgan_zoo._registry as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    lazy = next(
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_ensure_registered"
    )
    typing_only = [
        n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    ]
    lazy_nodes = set(ast.walk(lazy)) | {m for n in typing_only for m in ast.walk(n)}
    relative = [
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level > 0 and node not in lazy_nodes
    ]
    absolute = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import) and node not in lazy_nodes
        for alias in node.names
    ] + [
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node not in lazy_nodes
    ]
    assert sorted(relative) == ["_pretrained", "errors"]
    assert not [
        m for m in absolute if m and m.split(".")[0] in ("cgan_zoo", "torch", "huggingface_hub")
    ]


def test_import_cgan_zoo_and_the_factory_stay_torch_free():
    import subprocess

    code = (
        "import sys, cgan_zoo, cgan_zoo._factory, cgan_zoo._builder; print('torch' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent / "src")}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "False", result.stderr
