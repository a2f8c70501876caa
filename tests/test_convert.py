"""cgan_zoo.convert and `cgan-zoo convert`: reference pix2pix/CycleGAN checkpoints, converted exactly."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from cgan_zoo import (
    HubModel,
    PatchDiscriminator,
    ResnetGenerator,
    UNetGenerator,
    UnsafeWeightsError,
    WeightsError,
)
from cgan_zoo.cli import main
from cgan_zoo.convert import detect_reference, from_reference, read_state_dict

DATA = Path(__file__).parent / "data" / "ref_pix2pix"
MANIFEST = json.loads((DATA / "manifest.json").read_text())
STRIDE = MANIFEST["stride"]
NAMES = sorted(MANIFEST["files"])
# the full reference I/O pairs, where a checkout has them next to it (or CGAN_ZOO_REF_PIX2PIX points at them)
SHARED = Path(os.environ.get("CGAN_ZOO_REF_PIX2PIX", Path(__file__).resolve().parents[1].parent / "shared" / "ref" / "pix2pix"))
TOL = 1e-5

EXPECTED = {
    "D_pixel_rf1_in3": ("pixel", PatchDiscriminator, {"in_channels": 3, "receptive_field": 1, "base_channels": 64, "norm": "batch"}),
    "D_nlayers1_rf16_in6": ("n_layers (n_layers_D=1)", PatchDiscriminator,
                            {"in_channels": 6, "receptive_field": 16, "base_channels": 64, "norm": "batch"}),
    "G_resnet6_3to3_ngf8_inst": ("resnet_6blocks", ResnetGenerator,
                                 {"in_channels": 3, "out_channels": 3, "base_channels": 8, "num_blocks": 6,
                                  "norm": "instance", "instance_running_stats": True, "dropout": 0.0, "task": "generic"}),
    "G_unet256_1to2_ngf8": ("unet_256", UNetGenerator,
                            {"in_channels": 1, "out_channels": 2, "base_channels": 8, "num_downs": 8,
                             "max_channels": 64, "norm": "batch", "dropout": 0.5, "dropout_blocks": 3, "task": "colorize"}),
}


def _input(name: str) -> torch.Tensor:
    entry = MANIFEST["files"][name]
    g = torch.Generator().manual_seed(entry["seed"] + 3)
    x = torch.rand(entry["input_shape"], generator=g) * 2 - 1
    assert hashlib.sha256(x.numpy().tobytes()).hexdigest() == entry["input_sha256"]  # the reference's input
    return x


def _outputs(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval output, and train output with every dropout off, computed on a copy (as the reference did)."""
    with torch.no_grad():
        out_eval = model.eval()(x)
        train_copy = copy.deepcopy(model).train()
        for m in train_copy.modules():
            if isinstance(m, nn.Dropout):
                m.p = 0.0
        return out_eval, train_copy(x)


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape
    return (a - b).abs().max().item()


# --------------------------------------------------------------------------- the reference I/O pairs


def test_fixture_files_are_the_reference_files():
    from cgan_zoo.serialization import sha256_file

    for name in NAMES:
        assert sha256_file(DATA / f"{name}.safetensors") == MANIFEST["files"][name]["weights_sha256"]


@pytest.mark.parametrize("name", NAMES)
def test_reference_checkpoint_converts_and_matches(name):
    ref_name, cls, kwargs = EXPECTED[name]
    path = DATA / f"{name}.safetensors"
    arch = detect_reference(read_state_dict(path))
    assert arch.reference_name == ref_name
    assert {k: arch.kwargs[k] for k in kwargs} == kwargs
    model = from_reference(path)
    assert type(model) is cls and not model.training
    ref = load_file(str(DATA / f"io_{name}.safetensors"))
    out_eval, out_train = _outputs(model, _input(name))
    assert _max_diff(out_eval[..., ::STRIDE, ::STRIDE], ref["output_eval"]) <= TOL
    assert _max_diff(out_train[..., ::STRIDE, ::STRIDE], ref["output_train"]) <= TOL
    # the two reference outputs differ far more than the tolerance: a wrong mode would fail
    assert _max_diff(ref["output_eval"], ref["output_train"]) > 100 * TOL


@pytest.mark.skipif(not SHARED.is_dir(), reason="the full reference I/O pairs are not in ../shared")
@pytest.mark.parametrize("path", sorted(SHARED.glob("[DG]_*.safetensors")) if SHARED.is_dir() else [], ids=lambda p: p.stem)
def test_full_reference_pairs_match(path):
    ref = load_file(str(path.with_name(f"io_{path.name}")))
    out_eval, out_train = _outputs(from_reference(path), ref["input"])
    assert _max_diff(out_eval, ref["output_eval"]) <= TOL
    assert _max_diff(out_train, ref["output_train"]) <= TOL


def test_pixel_discriminator_head_has_no_bias_like_the_reference():
    model = from_reference(DATA / "D_pixel_rf1_in3.safetensors")
    assert model.head.bias is None and model.num_parameters() == 8_832


def test_dropping_instance_statistics_gives_per_sample_norm_in_eval():
    name = "G_resnet6_3to3_ngf8_inst"
    model = from_reference(DATA / f"{name}.safetensors", instance_running_stats=False)
    assert not any(k.endswith("running_mean") for k in model.state_dict())
    ref = load_file(str(DATA / f"io_{name}.safetensors"))
    with torch.no_grad():
        out = model.eval()(_input(name))
    assert _max_diff(out[..., ::STRIDE, ::STRIDE], ref["output_train"]) <= TOL


# --------------------------------------------------------------------------- dropout positions


class _RefUnetBlock(nn.Module):
    """The layout of the reference's UnetSkipConnectionBlock (batch norm), per the fixture README."""

    def __init__(self, outer, inner, input_nc=None, sub=None, outermost=False, innermost=False, dropout=False):
        super().__init__()
        input_nc = input_nc or outer
        conv = nn.Conv2d(input_nc, inner, 4, 2, 1, bias=False)
        if outermost:
            layers = [conv, sub, nn.ReLU(), nn.ConvTranspose2d(2 * inner, outer, 4, 2, 1), nn.Tanh()]
        elif innermost:
            layers = [nn.LeakyReLU(0.2), conv, nn.ReLU(), nn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=False),
                      nn.BatchNorm2d(outer)]
        else:
            layers = [nn.LeakyReLU(0.2), conv, nn.BatchNorm2d(inner), sub, nn.ReLU(),
                      nn.ConvTranspose2d(2 * inner, outer, 4, 2, 1, bias=False), nn.BatchNorm2d(outer)]
            layers += [nn.Dropout(0.5)] if dropout else []
        self.outermost = outermost
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


def _ref_unet256(input_nc, output_nc, ngf):
    block = _RefUnetBlock(ngf * 8, ngf * 8, innermost=True)
    for _ in range(3):
        block = _RefUnetBlock(ngf * 8, ngf * 8, sub=block, dropout=True)
    for mult in (4, 2, 1):
        block = _RefUnetBlock(ngf * mult, ngf * mult * 2, sub=block)
    net = nn.Module()
    net.model = _RefUnetBlock(output_nc, ngf, input_nc=input_nc, sub=block, outermost=True)
    net.forward = net.model.forward  # type: ignore[method-assign]
    return net


def test_unet_dropout_masks_match_the_reference_layout_with_the_same_seed():
    path = DATA / "G_unet256_1to2_ngf8.safetensors"
    state = read_state_dict(path)
    ref = _ref_unet256(1, 2, 8)
    ref.load_state_dict(state, strict=True)  # the layout above has exactly the file's keys
    ours = from_reference(path)
    x = _input("G_unet256_1to2_ngf8")
    with torch.no_grad():
        torch.manual_seed(7)
        y_ref = ref.train()(x)
        torch.manual_seed(7)
        y_ours = ours.train()(x)
        torch.manual_seed(8)
        y_other = ours(x)
    assert _max_diff(y_ours, y_ref) <= TOL
    assert _max_diff(y_other, y_ref) > 1e-3  # dropout is live: another seed gives another output


class _RefResnetBlock(nn.Module):
    def __init__(self, dim, dropout):
        super().__init__()
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=False), nn.BatchNorm2d(dim), nn.ReLU()]
        layers += [nn.Dropout(0.5)] if dropout else []
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=False), nn.BatchNorm2d(dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


def _ref_resnet(input_nc, output_nc, ngf, n_blocks, dropout):
    """The layout of the reference's ResnetGenerator (batch norm), per the fixture README."""
    layers = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, bias=False), nn.BatchNorm2d(ngf), nn.ReLU()]
    for m in (1, 2):
        layers += [nn.Conv2d(ngf * m, ngf * m * 2, 3, 2, 1, bias=False), nn.BatchNorm2d(ngf * m * 2), nn.ReLU()]
    layers += [_RefResnetBlock(ngf * 4, dropout) for _ in range(n_blocks)]
    for m in (4, 2):
        layers += [nn.ConvTranspose2d(ngf * m, ngf * m // 2, 3, 2, 1, output_padding=1, bias=False),
                   nn.BatchNorm2d(ngf * m // 2), nn.ReLU()]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
    net = nn.Module()
    net.model = nn.Sequential(*layers)
    net.forward = net.model.forward  # type: ignore[method-assign]
    return net


@pytest.mark.parametrize("dropout", [False, True])
def test_resnet_with_and_without_dropout_keys(dropout):
    ref = _ref_resnet(3, 3, 4, 2, dropout)
    for m in ref.modules():  # non-trivial norms and statistics
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5), m.bias.data.uniform_(-0.5, 0.5)
            m.running_mean.uniform_(-0.1, 0.1), m.running_var.uniform_(0.5, 2.0)
    ours = from_reference(ref.state_dict())
    assert isinstance(ours, ResnetGenerator) and ours.num_parameters() == sum(p.numel() for p in ref.parameters())
    assert ours.config["dropout"] == (0.5 if dropout else 0.0) and ours.config["norm"] == "batch"
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), ref.eval()(x), atol=TOL, rtol=0)
        torch.manual_seed(3)
        y_ref = ref.train()(x)
        torch.manual_seed(3)
        torch.testing.assert_close(ours.train()(x), y_ref, atol=TOL, rtol=0)


# --------------------------------------------------------------------------- containers and key variants


@pytest.fixture(scope="module")
def pixel_state():
    return read_state_dict(DATA / "D_pixel_rf1_in3.safetensors")


def _same_weights(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def test_pth_input_as_the_reference_writes_it(tmp_path, pixel_state):
    path = tmp_path / "latest_net_D.pth"
    torch.save(pixel_state, path)
    _same_weights(from_reference(path), from_reference(DATA / "D_pixel_rf1_in3.safetensors"))


def test_module_prefix_and_wrapper_dict(tmp_path, pixel_state):
    path = tmp_path / "ddp.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in pixel_state.items()}, "epoch": 3}, path)
    _same_weights(from_reference(path), from_reference(pixel_state))


def test_missing_num_batches_tracked_starts_at_zero(pixel_state):
    state = {k: v for k, v in pixel_state.items() if not k.endswith("num_batches_tracked")}
    assert len(state) < len(pixel_state)
    model = from_reference(state)
    assert model.blocks[1][1].num_batches_tracked.item() == 0
    torch.testing.assert_close(model.blocks[1][1].running_var, pixel_state["net.3.running_var"], atol=0, rtol=0)


class _Payload:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))  # unpickling this would create the marker file


def test_pickle_with_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "executed"
    path = tmp_path / "evil.pth"
    torch.save({"net.0.weight": torch.zeros(1, 1, 1, 1), "x": _Payload(marker)}, path)
    with pytest.raises(UnsafeWeightsError, match=r"refusing to unpickle.*state dict of tensors"):
        from_reference(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("obj", "pattern"),
    [
        ([torch.zeros(1)], r"holds a list, not a state dict"),
        ({"net.0.weight": torch.zeros(1), "epoch": 3}, r"entry 'epoch' is a int, not a tensor"),
        ({}, r"is empty"),
        ({"w": torch.tensor([float("nan")])}, r"'w' contains NaN"),
    ],
)
def test_non_state_dicts_are_refused(tmp_path, obj, pattern):
    path = tmp_path / "bad.pth"
    torch.save(obj, path)
    with pytest.raises(WeightsError, match=pattern):
        read_state_dict(path)


@pytest.mark.parametrize(
    ("state", "pattern"),
    [
        ({"encoder.weight": torch.zeros(2, 2)}, r"not a reference pix2pix/CycleGAN network"),
        ({"step": torch.zeros(())}, r"no tensors named like network parameters"),
        ({"net.0.weight": torch.zeros(8, 3, 1, 1), "net.2.weight": torch.zeros(16, 8, 1, 1),
          "net.5.weight": torch.zeros(1, 16, 1, 1)}, r"--norm none"),
    ],
)
def test_unsupported_networks_are_named(state, pattern):
    with pytest.raises(WeightsError, match=pattern):
        from_reference(state)


def test_unknown_keys_and_shape_changing_overrides(pixel_state):
    with pytest.raises(WeightsError, match=r"do not belong to a reference pixel: \['net.9.weight'\]"):
        from_reference({**pixel_state, "net.9.weight": torch.zeros(1)})
    with pytest.raises(WeightsError, match=r"has shape"):
        from_reference(pixel_state, base_channels=32)


def test_damaged_pth_files_are_refused_cleanly(tmp_path, pixel_state):
    good = tmp_path / "good.pth"
    torch.save(pixel_state, good)
    data = good.read_bytes()
    gen = torch.Generator().manual_seed(0)
    cases = {"empty": b"", "truncated": data[: len(data) // 3], "head": data[:300]}
    for i in range(12):
        n = int(torch.randint(1, 4000, (1,), generator=gen))
        cases[f"random{i}"] = bytes(torch.randint(0, 256, (n,), generator=gen, dtype=torch.uint8).tolist())
        flipped = bytearray(data)
        for pos in torch.randint(0, len(data), (8,), generator=gen).tolist():
            flipped[pos] ^= 0xFF
        cases[f"flipped{i}"] = bytes(flipped)
    for name, payload in cases.items():
        path = tmp_path / f"{name}.pth"
        path.write_bytes(payload)
        try:
            from_reference(path)
        except WeightsError:
            pass  # every refusal is a WeightsError (UnsafeWeightsError included)
        # a flip can also leave a loadable file (torch keeps no checksum of tensor data): it then converts


def test_unsuffixed_and_missing_files(tmp_path):
    with pytest.raises(WeightsError, match=r"does not exist"):
        read_state_dict(tmp_path / "nope.pth")
    (tmp_path / "w.npz").write_bytes(b"x")
    with pytest.raises(WeightsError, match=r"expected a \.pth"):
        read_state_dict(tmp_path / "w.npz")


# --------------------------------------------------------------------------- CLI


def test_cli_round_trip(tmp_path, capsys):
    src = tmp_path / "latest_net_G.pth"
    torch.save(read_state_dict(DATA / "G_resnet6_3to3_ngf8_inst.safetensors"), src)
    out = tmp_path / "converted"
    assert main(["convert", str(src), str(out)]) == 0
    printed = capsys.readouterr().out
    assert "reference resnet_6blocks -> ResnetGenerator(" in printed and "124,931 parameters" in printed
    loaded = HubModel.from_pretrained(out)
    assert isinstance(loaded, ResnetGenerator) and loaded.config["instance_running_stats"] is True
    _same_weights(loaded, from_reference(src))
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        assert torch.equal(loaded(x), from_reference(src)(x))

    assert main(["convert", str(src), str(out)]) == 1  # not empty
    assert "not empty; pass --force" in capsys.readouterr().err
    assert main(["convert", str(src), str(out), "--force", "--drop-instance-stats", "--set", "ab_scale=100"]) == 0
    cfg = HubModel.from_pretrained(out).config
    assert cfg["instance_running_stats"] is False and cfg["ab_scale"] == 100


def test_cli_unet_flags(tmp_path, capsys):
    out = tmp_path / "g"
    args = ["convert", str(DATA / "G_unet256_1to2_ngf8.safetensors"), str(out), "--no-dropout", "--task", "generic"]
    assert main(args) == 0
    cfg = HubModel.from_pretrained(out).config
    assert cfg["dropout"] == 0.0 and cfg["task"] == "generic" and cfg["num_downs"] == 8
    assert main(["convert", str(tmp_path / "missing.pth"), str(tmp_path / "h")]) == 1
    assert "does not exist" in capsys.readouterr().err
