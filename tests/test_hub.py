"""HubModel I/O: bit-exact round trips, dispatch, strictness, safety and offline Hub resolution."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import pickle
import shutil
import socket
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelHubMixin, PyTorchModelHubMixin
from torch import nn

from cgan_zoo import (
    ChecksumError,
    HubModel,
    InvalidConfigError,
    MultiScaleDiscriminator,
    PatchDiscriminator,
    TimmUNet,
    UNetGenerator,
    UnsafeWeightsError,
    WeightsError,
    create_model,
)
from cgan_zoo.serialization import (
    load_safetensors,
    load_state_dict_strict,
    save_safetensors,
    sha256_file,
)

META_KEYS = {"_class_name", "_cgan_zoo_version"}


@pytest.fixture
def no_network(monkeypatch):
    """Fail loudly if anything tries to open a connection."""

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _perturb_buffers(model: nn.Module) -> None:
    """Give BN running statistics and spectral-norm vectors non-default values."""
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if buf.is_floating_point():
                if "running_var" in name:
                    buf.uniform_(0.5, 2.0)
                else:
                    buf.normal_()
            else:
                buf.fill_(7)


def _make(kind: str) -> HubModel:
    if kind == "unet":
        return create_model("unet_tiny", dropout=0.3, norm="batch")
    if kind == "unet_resize":
        return UNetGenerator(3, 3, base_channels=4, num_downs=3, upsample="resize", norm="group", task="generic")
    if kind == "timm":
        return create_model("timm_unet_tiny")
    if kind == "patch":
        return create_model("patchgan_tiny", in_channels=3)
    if kind == "patch_sn":
        return PatchDiscriminator(4, receptive_field=16, base_channels=4, spectral_norm=True)
    if kind == "multiscale":
        return create_model("multiscale_patchgan_tiny", in_channels=3, spectral_norm=True)
    raise AssertionError(kind)


INPUTS = {
    "unet": (2, 1, 32, 32),
    "unet_resize": (2, 3, 16, 24),
    "timm": (2, 1, 64, 64),
    "patch": (2, 3, 48, 48),
    "patch_sn": (2, 4, 32, 32),
    "multiscale": (2, 3, 64, 64),
}
CLASSES = {
    "unet": UNetGenerator,
    "unet_resize": UNetGenerator,
    "timm": TimmUNet,
    "patch": PatchDiscriminator,
    "patch_sn": PatchDiscriminator,
    "multiscale": MultiScaleDiscriminator,
}


@pytest.mark.parametrize("kind", list(INPUTS))
def test_round_trip_is_bit_exact(kind, tmp_path):
    torch.manual_seed(1)
    model = _make(kind)
    _perturb_buffers(model)
    model.eval()
    x = torch.randn(*INPUTS[kind])
    with torch.no_grad():
        before = model(x)
    model.save_pretrained(tmp_path)
    assert (tmp_path / "config.json").is_file() and (tmp_path / "model.safetensors").is_file()
    assert not list(tmp_path.glob("*.bin"))

    klass = CLASSES[kind]
    for loader in (klass, HubModel):
        loaded = loader.from_pretrained(tmp_path)
        assert type(loaded) is klass
        assert not loaded.training
        own, other = model.state_dict(), loaded.state_dict()
        assert own.keys() == other.keys()
        for key in own:
            assert own[key].dtype == other[key].dtype, key
            assert torch.equal(own[key], other[key]), key
        with torch.no_grad():
            after = loaded(x)
        if isinstance(before, list):
            assert all(torch.equal(a, b) for a, b in zip(before, after))
        else:
            assert torch.equal(before, after)
        assert loaded.config == model.config


@pytest.mark.parametrize("kind", list(INPUTS))
def test_config_json_records_every_init_argument(kind, tmp_path):
    model = _make(kind)
    model.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    klass = CLASSES[kind]
    params = set(list(inspect.signature(klass.__init__).parameters)[1:])
    # build-only arguments (a path to initial encoder weights) are not saved: the weights are
    assert set(saved) - META_KEYS == params - set(klass._build_only_args)
    assert saved["_class_name"] == klass.__name__
    assert {k: v for k, v in saved.items() if k not in META_KEYS} == model.config
    # the config alone rebuilds an identical architecture
    rebuilt = klass(**{k: v for k, v in saved.items() if k not in META_KEYS})
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {
        k: v.shape for k, v in model.state_dict().items()
    }


def test_non_default_config_values_survive(tmp_path):
    model = UNetGenerator(
        in_channels=2, out_channels=3, base_channels=3, num_downs=3, max_channels=10, norm="instance",
        dropout=0.25, dropout_blocks=1, upsample="resize", final_activation="sigmoid",
        task="colorize-missing", ab_scale=100.0,
    )  # fmt: skip
    model.save_pretrained(tmp_path)
    loaded = HubModel.from_pretrained(tmp_path)
    assert loaded.config == model.config
    assert loaded.config["task"] == "colorize-missing" and loaded.config["ab_scale"] == 100.0
    assert loaded.output_range == (0.0, 1.0)


def test_overrides_on_load(tmp_path):
    create_model("unet_tiny", dropout=0.5).save_pretrained(tmp_path)
    loaded = UNetGenerator.from_pretrained(tmp_path, dropout=0.0)
    assert loaded.config["dropout"] == 0.0
    assert not any(isinstance(m, nn.Dropout) for m in loaded.modules())
    with pytest.raises(WeightsError, match=r"down_blocks\.0\.weight.*has shape"):
        UNetGenerator.from_pretrained(tmp_path, base_channels=4)
    with pytest.raises(WeightsError, match=r"override 'colour' is not an argument of UNetGenerator"):
        UNetGenerator.from_pretrained(tmp_path, colour="red")


def test_wrong_base_class_is_refused(tmp_path):
    create_model("unet_tiny").save_pretrained(tmp_path)
    with pytest.raises(WeightsError, match=r"describes a 'UNetGenerator', which is not a PatchDiscriminator"):
        PatchDiscriminator.from_pretrained(tmp_path)
    with pytest.raises(WeightsError, match=r"not a TimmUNet"):
        TimmUNet.from_pretrained(tmp_path)


def test_unknown_class_and_bad_config_are_refused(tmp_path):
    create_model("unet_tiny").save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "_class_name": "os.system"}))
    with pytest.raises(WeightsError, match=r"describes a 'os.system'.*known: \["):
        HubModel.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(WeightsError, match=r"is not valid JSON"):
        HubModel.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text("[1, 2]")
    with pytest.raises(WeightsError, match=r"must hold a JSON object"):
        HubModel.from_pretrained(tmp_path)


# --------------------------------------------------------------------------- non-JSON arguments


class _TinyHubTestModel(HubModel):
    """A minimal HubModel whose ``scale`` accepts anything float() understands."""

    def __init__(self, channels: int = 2, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = float(scale)
        self.conv = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        return self.conv(x) * self.scale


class _NoDefaultHubTestModel(HubModel):
    def __init__(self, activation) -> None:
        super().__init__()
        self.activation = activation
        self.conv = nn.Conv2d(1, 1, 1)


def test_plain_subclass_round_trips(tmp_path):
    model = _TinyHubTestModel(channels=3, scale=2.5)
    model.save_pretrained(tmp_path)
    loaded = HubModel.from_pretrained(tmp_path)
    assert type(loaded) is _TinyHubTestModel and loaded.scale == 2.5
    assert json.loads((tmp_path / "config.json").read_text())["channels"] == 3


@pytest.mark.parametrize(
    "make",
    [
        # a value the mixin cannot serialise, for an argument that has a JSON default:
        # it must not be replaced silently by that default
        lambda: _TinyHubTestModel(scale=torch.tensor(3.0)),
        lambda: _TinyHubTestModel(2, torch.tensor(3.0)),
        lambda: _NoDefaultHubTestModel(nn.ReLU()),
        lambda: _NoDefaultHubTestModel(activation=lambda t: t),
    ],
)
def test_non_json_argument_refuses_to_save(make, tmp_path):
    model = make()
    name = "scale" if isinstance(model, _TinyHubTestModel) else "activation"
    with pytest.raises(InvalidConfigError, match=rf"cannot be saved: constructor arguments \['{name}'\] are not JSON-serialisable"):
        model.save_pretrained(tmp_path / "out")
    assert not (tmp_path / "out" / "model.safetensors").exists()
    assert not (tmp_path / "out" / "config.json").exists()


def test_timm_unet_numpy_decoder_channels_refuse_to_save(tmp_path):
    np = pytest.importorskip("numpy")
    model = TimmUNet(decoder_channels=np.array([16, 16, 8, 8, 8]))
    with pytest.raises(InvalidConfigError, match=r"\['decoder_channels'\] are not JSON-serialisable"):
        model.save_pretrained(tmp_path)
    # plain lists (and tuples) are fine and come back as lists
    ok = TimmUNet(decoder_channels=(16, 16, 8, 8, 8))
    ok.save_pretrained(tmp_path)
    assert HubModel.from_pretrained(tmp_path).config["decoder_channels"] == [16, 16, 8, 8, 8]


# --------------------------------------------------------------------------- pickle safety


class _Canary:
    """Unpickling this object creates a file: proof that code ran."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _pickle_payloads(canary: Path) -> dict[str, bytes]:
    import io

    buf = io.BytesIO()
    torch.save({"down_blocks.0.weight": _Canary(canary)}, buf)
    return {"pickle": pickle.dumps({"w": _Canary(canary)}, protocol=2), "torch-zip": buf.getvalue()}


def test_canary_is_live(tmp_path):
    proof = tmp_path / "proof"
    pickle.loads(_pickle_payloads(proof)["pickle"])
    assert proof.exists()  # so a missing canary below really means "never unpickled"


@pytest.mark.parametrize("payload", ["pickle", "torch-zip"])
def test_pickle_only_folder_is_refused(payload, tmp_path):
    canary = tmp_path / "canary"
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "pytorch_model.bin").write_bytes(_pickle_payloads(canary)[payload])
    with pytest.raises(WeightsError, match=r"must contain config.json and model.safetensors.*pytorch_model.bin"):
        HubModel.from_pretrained(folder)
    # even with a config, the .bin is never used as a fallback
    create_model("unet_tiny").save_pretrained(tmp_path / "good")
    shutil.copy(tmp_path / "good" / "config.json", folder / "config.json")
    with pytest.raises(WeightsError, match=r"safetensors only"):
        UNetGenerator.from_pretrained(folder)
    assert not canary.exists()


@pytest.mark.parametrize("payload", ["pickle", "torch-zip"])
def test_pickle_disguised_as_safetensors_is_never_unpickled(payload, tmp_path):
    canary = tmp_path / "canary"
    create_model("unet_tiny").save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(_pickle_payloads(canary)[payload])
    with pytest.raises(UnsafeWeightsError, match=r"pickle-based checkpoint; cgan-zoo never unpickles"):
        HubModel.from_pretrained(tmp_path)
    assert not canary.exists()


# --------------------------------------------------------------------------- strict loading


def _bad_state(model: nn.Module, problem: str) -> dict[str, torch.Tensor]:
    """Every tensor differs from the model's, plus one problem placed last."""
    state = {k: torch.full_like(v, 3) for k, v in model.state_dict().items()}
    if problem == "missing":
        state.pop("head.1.weight")
    elif problem == "extra":
        state["extra.weight"] = torch.zeros(3)
    elif problem == "shape":
        state.pop("head.1.weight")
        state["head.1.weight"] = torch.zeros(16, 2, 3, 3)
    elif problem == "dtype":
        state.pop("head.1.bias")
        state["head.1.bias"] = torch.zeros(2, dtype=torch.int64)
    return state


PROBLEMS = {
    "missing": r"missing keys \['head.1.weight'\]",
    "extra": r"unexpected keys \['extra.weight'\]",
    "shape": r"tensor 'head.1.weight' has shape \(16, 2, 3, 3\) but UNetGenerator expects \(16, 2, 4, 4\)",
    "dtype": r"tensor 'head.1.bias' has dtype torch.int64",
}


@pytest.mark.parametrize("problem", list(PROBLEMS))
def test_strict_load_refuses_and_leaves_model_unchanged(problem):
    model = create_model("unet_tiny")
    snapshot = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(WeightsError, match=PROBLEMS[problem]):
        load_state_dict_strict(model, _bad_state(model, problem))
    for key, value in model.state_dict().items():
        assert torch.equal(value, snapshot[key]), f"{key} was partially loaded"


@pytest.mark.parametrize("problem", ["missing", "extra", "shape"])
def test_tampered_weights_file_is_refused(problem, tmp_path):
    model = create_model("unet_tiny")
    model.save_pretrained(tmp_path)
    save_safetensors(_bad_state(model, problem), tmp_path / "model.safetensors")
    with pytest.raises(WeightsError, match=PROBLEMS[problem]):
        HubModel.from_pretrained(tmp_path)


def test_strict_load_casts_half_precision_storage():
    model = create_model("patchgan_tiny")
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    target = create_model("patchgan_tiny")
    load_state_dict_strict(target, half)
    for key, value in target.state_dict().items():
        assert value.dtype == model.state_dict()[key].dtype
        assert torch.equal(value, half[key].to(value.dtype))


# --------------------------------------------------------------------------- checksums


def test_sha256_is_checked(tmp_path):
    create_model("unet_tiny").save_pretrained(tmp_path)
    weights = tmp_path / "model.safetensors"
    digest = sha256_file(weights)
    assert digest == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert isinstance(HubModel.from_pretrained(tmp_path, sha256=digest), UNetGenerator)
    assert isinstance(HubModel.from_pretrained(tmp_path, sha256=digest.upper()), UNetGenerator)
    with pytest.raises(ChecksumError, match=rf"has sha256 {digest} but {'0' * 64} was expected"):
        HubModel.from_pretrained(tmp_path, sha256="0" * 64)
    # flip one byte of tensor data: the header still parses, the checksum catches it
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="corrupt or was modified"):
        HubModel.from_pretrained(tmp_path, sha256=digest)


def test_truncated_file_is_refused(tmp_path):
    create_model("unet_tiny").save_pretrained(tmp_path)
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(WeightsError, match=r"truncated"):
        HubModel.from_pretrained(tmp_path)


def test_non_finite_weights_are_refused(tmp_path):
    model = create_model("unet_tiny")
    model.save_pretrained(tmp_path)
    state = dict(model.state_dict())
    state["head.1.bias"] = torch.tensor([0.0, float("nan")])
    save_safetensors(state, tmp_path / "model.safetensors")
    with pytest.raises(WeightsError, match=r"'head.1.bias' contains NaN or Inf"):
        HubModel.from_pretrained(tmp_path)
    assert torch.isnan(load_safetensors(tmp_path / "model.safetensors", allow_non_finite=True)["head.1.bias"]).any()


def test_not_a_folder_nor_repo_id(tmp_path):
    with pytest.raises(WeightsError, match=r"neither a folder made by save_pretrained nor a Hub repo id"):
        HubModel.from_pretrained(tmp_path / "a" / "b" / "c")
    (tmp_path / "file").write_text("x")
    with pytest.raises(WeightsError, match=r"neither a folder"):
        HubModel.from_pretrained(tmp_path / "file")


# --------------------------------------------------------------------------- offline Hub cache

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def build_hf_cache(cache: Path, repo_id: str, folder: Path, commit: str = COMMIT) -> Path:
    """Lay out ``folder``'s files as huggingface_hub's cache does after a download.

    ``models--owner--name/blobs/<etag>`` holds the bytes (sha256 for LFS files such as
    safetensors, the git blob sha1 for small text files), ``snapshots/<commit>/<file>``
    points at the blob and ``refs/main`` holds the commit sha.
    """
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        data = (folder / name).read_bytes()
        etag = hashlib.sha256(data).hexdigest() if name.endswith(".safetensors") else _git_blob_sha1(data)
        (repo / "blobs" / etag).write_bytes(data)
        try:
            os.symlink(Path("..", "..", "blobs", etag), snapshot / name)
        except OSError:  # file systems without symlinks get copies, as huggingface_hub does
            (snapshot / name).write_bytes(data)
    (repo / "refs" / "main").write_text(commit)
    return snapshot


@pytest.fixture
def hub_cache(tmp_path):
    torch.manual_seed(3)
    model = create_model("unet_tiny").eval()
    src = tmp_path / "src"
    model.save_pretrained(src)
    cache = tmp_path / "hf-cache"
    build_hf_cache(cache, "owner/name", src)
    return model, cache, sha256_file(src / "model.safetensors")


def test_offline_mode_is_on():
    from huggingface_hub import constants

    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert constants.HF_HUB_OFFLINE


def test_offline_hub_resolution_by_commit(hub_cache, no_network):
    model, cache, digest = hub_cache
    loaded = HubModel.from_pretrained("owner/name", cache_dir=cache, revision=COMMIT, sha256=digest)
    assert type(loaded) is UNetGenerator
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    # the default branch resolves through refs/main, and local_files_only is accepted
    again = UNetGenerator.from_pretrained("owner/name", cache_dir=cache, local_files_only=True)
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), loaded.state_dict().values()))


def test_offline_hub_missing_repo_or_revision(hub_cache, no_network):
    _, cache, _ = hub_cache
    with pytest.raises(WeightsError, match=r"Hub repo 'owner/missing' \(revision main\) is not in the local cache.*offline"):
        HubModel.from_pretrained("owner/missing", cache_dir=cache)
    other = "f" * 40
    with pytest.raises(WeightsError, match=rf"\(revision {other}\) is not in the local cache.*pass a local folder"):
        HubModel.from_pretrained("owner/name", cache_dir=cache, revision=other)


def test_offline_hub_wrong_class_and_checksum(hub_cache, no_network):
    _, cache, _ = hub_cache
    with pytest.raises(WeightsError, match=r"not a PatchDiscriminator"):
        PatchDiscriminator.from_pretrained("owner/name", cache_dir=cache, revision=COMMIT)
    with pytest.raises(ChecksumError):
        HubModel.from_pretrained("owner/name", cache_dir=cache, revision=COMMIT, sha256="1" * 64)


# --------------------------------------------------------------------------- push_to_hub


def test_push_to_hub_is_the_mixin_method():
    for klass in (UNetGenerator, TimmUNet, PatchDiscriminator, MultiScaleDiscriminator, HubModel):
        assert issubclass(klass, PyTorchModelHubMixin)
        assert klass.push_to_hub is ModelHubMixin.push_to_hub
    model = create_model("unet_tiny")
    assert callable(model.push_to_hub)
    assert "repo_id" in inspect.signature(model.push_to_hub).parameters


def test_push_to_hub_uploads_a_loadable_folder(monkeypatch, tmp_path, no_network):
    import huggingface_hub.hub_mixin as hub_mixin

    uploaded = tmp_path / "uploaded"

    class FakeApi:
        def __init__(self, token=None):
            self.token = token

        def create_repo(self, repo_id, private=None, exist_ok=False):
            return type("RepoUrl", (), {"repo_id": repo_id})()

        def upload_folder(self, *, repo_id, folder_path, **kwargs):
            shutil.copytree(folder_path, uploaded)
            return f"https://huggingface.co/{repo_id}/commit/{COMMIT}"

    monkeypatch.setattr(hub_mixin, "HfApi", FakeApi)
    model = create_model("unet_tiny").eval()
    url = model.push_to_hub("me/tiny-unet")
    assert url.endswith(COMMIT)
    assert {"config.json", "model.safetensors", "README.md"} <= {p.name for p in uploaded.iterdir()}
    loaded = HubModel.from_pretrained(uploaded)
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values()))


def test_model_card_of_a_local_save_states_facts_only(tmp_path):
    g = create_model("unet_tiny")
    g.save_pretrained(tmp_path / "m")
    card = (tmp_path / "m" / "README.md").read_text()
    assert "pushed to the Hub" not in card and "More Information Needed" not in card
    assert "UNetGenerator" in card and f"{g.num_parameters():,}" in card
    assert "| `base_channels` | `8` |" in card and "HubModel.from_pretrained" in card
