"""Export a generator for deployment, and make it faster for CPU inference in PyTorch.

Three exports, each with dynamic batch, height and width (multiples of the model's
stride): a ``torch.export`` program (``.pt2``), TorchScript (``.pt``) and, with the
``[export]`` extra (``pip install "cgan-zoo[export]"``), ONNX. Each file is loaded back
and compared with the eager model at a size other than the one used for tracing. Then
``optimize_for_inference`` gives a faster module for PyTorch itself (BatchNorm folded,
channels-last and, without ``--fast``, ``torch.compile``).

Usage::

    python examples/export.py --out out/export
    python examples/export.py --fast   # tiny random model, TorchScript only, no compile

If this installation has no ``cgan_zoo.export`` module, the script says so and stops.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import torch

import cgan_zoo

PRETRAINED = "unet_efficientnet_lite0.nature"


def make_generator(fast: bool) -> torch.nn.Module:
    """The pretrained colorizer's generator, or a tiny random one (``--fast``, or none installed)."""
    if not fast and PRETRAINED in cgan_zoo.list_pretrained():
        return cgan_zoo.create_model(PRETRAINED, pretrained=True)
    if not fast:
        print(f"{PRETRAINED!r} is not installed; exporting a tiny random model.")
    return cgan_zoo.create_model("unet_tiny").eval()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("out/export"), help="output folder")
    parser.add_argument(
        "--fast", action="store_true", help="tiny model, TorchScript only, no torch.compile"
    )
    args = parser.parse_args()
    if importlib.util.find_spec("cgan_zoo.export") is None:
        print("skipped: this version of cgan-zoo has no cgan_zoo.export module.")
        sys.exit(0)
    from cgan_zoo.errors import MissingExtraError
    from cgan_zoo.export import export_generator, optimize_for_inference

    generator = make_generator(args.fast)
    stride = generator.stride  # H and W must be multiples of this
    example = 2 * stride if args.fast else 256
    x = torch.randn(2, generator.in_channels, stride, 3 * stride)  # not the tracing size
    with torch.no_grad():
        expected = generator(x)

    formats = {"torchscript": "generator.pt"}
    if not args.fast:  # torch.export traces take a while; --fast keeps to TorchScript
        formats.update({"exported-program": "generator.pt2", "onnx": "generator.onnx"})
    for fmt, name in formats.items():
        try:
            path = export_generator(generator, args.out / name, fmt, example_size=example)
        except MissingExtraError as exc:
            print(f"skipped {fmt}: {exc}")
            continue
        if fmt == "exported-program":
            got = torch.export.load(str(path)).module()(x)
        elif fmt == "torchscript":
            got = torch.jit.load(str(path))(x)
        else:
            import onnxruntime

            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            got = torch.from_numpy(session.run(None, {"input": x.numpy()})[0])
        assert torch.allclose(got, expected, atol=1e-4), fmt
        print(f"{fmt:17s} {path}  matches the eager model at input {tuple(x.shape)}")

    fast = optimize_for_inference(generator, compile=not args.fast, example_size=example)
    assert torch.allclose(fast(x), expected, atol=1e-4)
    print(f"optimize_for_inference: compiled={fast.compiled}, same outputs as the eager model")
    print(f"ok: exports in {args.out}")


if __name__ == "__main__":
    main()
