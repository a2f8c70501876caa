"""Colorize a gray photo that has about 30% of its pixels missing.

A random mask of rectangles and brush strokes (``cgan_zoo.data.random_mask``) removes
about 30% of scikit-image's ``chelsea`` photo. An inpainting colorizer (task
``"colorize-missing"``) sees the masked lightness plus the mask, invents the missing
content and colours everything. Known pixels keep their original lightness exactly;
the script checks that.

Usage::

    python examples/missing_regions.py --out out/missing_regions
    python examples/missing_regions.py --fast   # tiny random model, for tests

The same from the command line, with ``masks/<name>.png`` white where pixels are missing::

    cgan-zoo colorize photo.jpg --masks masks/ -o out/
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import cgan_zoo
from cgan_zoo.color import rgb_to_lab
from cgan_zoo.data import random_mask
from cgan_zoo.pipelines import Colorizer

PRETRAINED = "unet_efficientnet_lite0.nature_missing"


def make_colorizer(fast: bool) -> Colorizer:
    """The pretrained inpainting colorizer, or a tiny random one (``--fast``, or none installed)."""
    if not fast and PRETRAINED in cgan_zoo.list_pretrained():
        return Colorizer.from_pretrained(PRETRAINED)
    if not fast:
        print(f"{PRETRAINED!r} is not installed; using a tiny random model (colours are noise).")
    tiny = cgan_zoo.create_model(
        "unet_tiny", in_channels=2, out_channels=3, task="colorize-missing"
    )
    return Colorizer(tiny, size=64)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=Path("out/missing_regions"), help="output folder"
    )
    parser.add_argument("--fraction", type=float, default=0.3, help="share of missing pixels")
    parser.add_argument("--fast", action="store_true", help="tiny random model and a small image")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from skimage import data

    photo = Image.fromarray(data.chelsea())  # 451 x 300
    if args.fast:
        photo = photo.resize((150, 100))
    gray = np.asarray(photo.convert("L"))
    h, w = gray.shape

    seed = torch.Generator().manual_seed(0)
    mask = random_mask(h, w, args.fraction, generator=seed)  # (1, H, W), 1 = missing
    missing = mask[0].numpy() > 0.5
    damaged = gray.copy()
    damaged[missing] = 128  # what a damaged print might look like; the model only sees the mask

    colorizer = make_colorizer(args.fast)
    result = colorizer(damaged, mask=missing)  # numpy in, numpy (H, W, 3) uint8 out
    lab = colorizer.predict_lab(damaged, mask=missing)  # the same result in Lab, before RGB

    Image.fromarray(damaged).save(args.out / "damaged_gray.png")
    Image.fromarray(missing.astype(np.uint8) * 255).save(args.out / "mask.png")
    Image.fromarray(result).save(args.out / "restored.png")

    assert result.shape == (h, w, 3) and result.dtype == np.uint8, (result.shape, result.dtype)
    assert abs(missing.mean() - args.fraction) <= 0.05, missing.mean()
    gray_rgb = torch.from_numpy(damaged).float().div(255).expand(1, 3, h, w)
    known = torch.from_numpy(~missing)
    original_lightness = rgb_to_lab(gray_rgb)[0, 0]
    assert torch.allclose(lab[0][known], original_lightness[known], atol=1e-3), (
        "known pixels changed"
    )
    print(f"ok: {missing.mean():.0%} of the pixels were missing; wrote {args.out / 'restored.png'}")


if __name__ == "__main__":
    main()
