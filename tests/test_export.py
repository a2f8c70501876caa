"""export_generator: parity with eager at two sizes per format, errors, and the CLI."""

import os
import sys

import pytest
import torch

from cgan_zoo import InvalidConfigError, MissingExtraError, create_model
from cgan_zoo.cli import main
from cgan_zoo.export import (
    EXPORT_FORMATS,
    export_generator,
    int8_onnx_generator,
    onnx_generator,
)
from cgan_zoo.export.formats import run_exported

ATOL = 1e-4
SUFFIX = {"onnx": ".onnx", "torchscript": ".pt", "exported-program": ".pt2"}


def _bn_stats(model):
    gen = torch.Generator().manual_seed(2)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.copy_(torch.rand(m.num_features, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
    return model.eval()


def _check_parity(model, path, fmt, shapes):
    for shape in shapes:
        x = torch.randn(*shape)
        with torch.no_grad():
            expected = model(x)
        got = run_exported(path, fmt, x)
        assert got.shape == expected.shape, (fmt, shape)
        assert (got - expected).abs().max() <= ATOL, (fmt, shape)


NEEDS_EXPORT = pytest.mark.requires_extra("export")


@pytest.mark.parametrize(
    "fmt", [pytest.param(f, marks=NEEDS_EXPORT) if f == "onnx" else f for f in EXPORT_FORMATS]
)
def test_unet_tiny_parity(fmt, tmp_path):
    g = _bn_stats(create_model("unet_tiny", upsample="resize"))
    path = export_generator(g, tmp_path / f"g{SUFFIX[fmt]}", fmt, example_size=32)
    assert path.is_file() and path.stat().st_size > 1000
    _check_parity(g, path, fmt, [(1, 1, 16, 16), (3, 1, 48, 32)])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp files left


@pytest.mark.parametrize(
    "fmt", ["exported-program", "torchscript", pytest.param("onnx", marks=[pytest.mark.slow, NEEDS_EXPORT])]
)
def test_timm_unet_tiny_parity(fmt, tmp_path):
    g = _bn_stats(create_model("timm_unet_tiny"))
    path = export_generator(g, tmp_path / f"g{SUFFIX[fmt]}", fmt, example_size=64, verify=False)
    _check_parity(g, path, fmt, [(1, 1, 32, 64), (2, 1, 96, 32)])


@pytest.mark.slow  # about 10 s per format on 2 cores
@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_resnet_parity_from_its_smallest_size(fmt, tmp_path):
    # a ResnetGenerator takes multiples of 4 from 8 pixels: the export and its check respect that
    g = _bn_stats(create_model("pix2pix_resnet6", base_channels=2, num_blocks=1))
    path = export_generator(g, tmp_path / f"g{SUFFIX[fmt]}", fmt, example_size=16)
    _check_parity(g, path, fmt, [(1, 1, 8, 8), (2, 1, 12, 20)])


def test_overwrites_atomically(tmp_path):
    target = tmp_path / "g.pt2"
    target.write_bytes(b"old")
    export_generator(
        create_model("unet_tiny"), target, "exported-program", example_size=32, verify=False
    )
    assert target.read_bytes() != b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["g.pt2"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_unknown_format(tmp_path):
    with pytest.raises(InvalidConfigError, match="tflite"):
        export_generator(create_model("unet_tiny"), tmp_path / "g.x", "tflite")


def test_missing_onnx_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # import now raises ImportError
    with pytest.raises(MissingExtraError, match=r"cgan-zoo\[export\]"):
        export_generator(create_model("unet_tiny"), tmp_path / "g.onnx", "onnx")


@NEEDS_EXPORT
def test_onnxruntime_modules(tmp_path):
    g = _bn_stats(create_model("unet_tiny"))
    fp32 = onnx_generator(g, tmp_path / "g.onnx", example_size=32)
    assert (fp32.stride, fp32.task, fp32.in_channels, fp32.ab_scale) == (16, "colorize", 1, 110.0)
    x = torch.randn(2, 1, 32, 48)
    with torch.no_grad():
        expected = g(x)
    assert (fp32(x) - expected).abs().max() <= ATOL
    calibration = [torch.randn(1, 1, 30, 40) for _ in range(3)]  # padded to the stride
    int8 = int8_onnx_generator(g, calibration, tmp_path / "g.int8.onnx", example_size=32)
    got = int8(x)
    assert got.shape == expected.shape and torch.isfinite(got).all()
    assert (got - expected).abs().mean() < 0.1  # int8 changes outputs, but not wildly
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.int8.onnx", "g.onnx"]


def test_cli_random_weights(tmp_path, capsys):
    out = tmp_path / "g.pt2"
    code = main(["export", "unet_tiny", str(out), "--size", "32", "--random-weights"])
    assert code == 0, capsys.readouterr().err
    assert out.is_file()
    assert "exported-program" in capsys.readouterr().out


def test_cli_folder(tmp_path, capsys):
    g = _bn_stats(create_model("unet_tiny"))
    g.save_pretrained(tmp_path / "model")
    out = tmp_path / "g.ts"
    assert main(["export", str(tmp_path / "model"), str(out), "--size", "32"]) == 0
    _check_parity(g, out, "torchscript", [(1, 1, 32, 16)])


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["export", "unet_tiny", str(tmp_path / "g.onnx")]) == 1
    err = capsys.readouterr().err
    assert "--random-weights" in err and len(err.strip().splitlines()) == 1
    assert main(["export", "no_such_model", str(tmp_path / "g.onnx")]) == 1
    assert "unknown model" in capsys.readouterr().err
    assert main(["export", "unet_tiny", str(tmp_path / "g.bin"), "--random-weights"]) == 1
    assert "--format" in capsys.readouterr().err
