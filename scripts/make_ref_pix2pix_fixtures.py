"""Derive the committed reference-checkpoint fixtures in tests/data/ref_pix2pix/.

Source: the reference pix2pix/CycleGAN I/O pairs (their README documents how the reference
code produced them). The weights files are copied unchanged. The inputs are not stored:
each is ``torch.rand(shape, generator=torch.Generator().manual_seed(seed + 3)) * 2 - 1``,
and manifest.json keeps the sha256 of the reference input's bytes so the tests prove
they regenerated the same tensor. The reference outputs are stored at stride 2
(``[..., ::2, ::2]``, a quarter of the values) to keep the repository small.

Usage:
    python scripts/make_ref_pix2pix_fixtures.py /path/to/ref/pix2pix tests/data/ref_pix2pix
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import torch
from safetensors import safe_open

from cgan_zoo.serialization import save_safetensors, sha256_file

NAMES = ("D_pixel_rf1_in3", "D_nlayers1_rf16_in6", "G_resnet6_3to3_ngf8_inst", "G_unet256_1to2_ngf8")
STRIDE = 2


def tensor_sha256(t: torch.Tensor) -> str:
    return hashlib.sha256(t.detach().contiguous().cpu().numpy().tobytes()).hexdigest()


def main(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    manifest = {"stride": STRIDE, "files": {}}
    for name in NAMES:
        shutil.copyfile(src / f"{name}.safetensors", dst / f"{name}.safetensors")
        with safe_open(str(src / f"io_{name}.safetensors"), "pt") as f:
            meta = f.metadata()
            x = f.get_tensor("input")
            outs = {k: f.get_tensor(k)[..., ::STRIDE, ::STRIDE].contiguous() for k in ("output_eval", "output_train")}
        seed = int(meta["seed"])
        regenerated = torch.rand(x.shape, generator=torch.Generator().manual_seed(seed + 3)) * 2 - 1
        assert torch.equal(regenerated, x), name
        save_safetensors(outs, dst / f"io_{name}.safetensors", metadata={
            "source": f"io_{name}.safetensors of the reference I/O pairs, outputs at [..., ::{STRIDE}, ::{STRIDE}]",
            "constructor": meta["constructor"],
        })
        manifest["files"][name] = {
            "constructor": meta["constructor"],
            "seed": seed,
            "input_shape": list(x.shape),
            "input_sha256": tensor_sha256(x),
            "weights_sha256": sha256_file(dst / f"{name}.safetensors"),
        }
    (dst / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
