"""Build a pix2pix for any paired A → B task from the components: edges → photo.

Pairs are made from sample photos of scikit-learn and scikit-image: A is the Canny edge
map of a photo, B the photo itself, stored side by side (``A|B``) as in the original
pix2pix datasets. The training loop is written out in full so each piece is visible:

* data: :class:`cgan_zoo.data.PairedDataset` (random crop + flip of both images);
* generator: a registered U-Net with 3 input and 3 output channels (``task="generic"``);
* discriminator: a :class:`cgan_zoo.PatchDiscriminator` on the 6-channel (A, B) pair;
* losses: :class:`cgan_zoo.losses.AdversarialLoss` + 100 × L1, Adam(2e-4, β = (0.5, 0.999)).

``Pix2PixTrainer`` with ``task="paired"`` runs the same objective with checkpoints,
exact resume and logging; see the guide "Build your own pix2pix".

Usage::

    python examples/custom_pix2pix.py --out out/custom_pix2pix [--steps 300]
    python examples/custom_pix2pix.py --fast   # tiny models, five steps
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

import cgan_zoo
from cgan_zoo.data import PairedDataset
from cgan_zoo.losses import AdversarialLoss, WeightedL1Loss


def make_pairs(folder: Path, side: int) -> Path:
    """Write ``edges|photo`` pairs, each half ``side × side`` pixels, into ``folder``."""
    from skimage import data
    from skimage.feature import canny
    from sklearn.datasets import load_sample_image

    photos = {
        "china": load_sample_image("china.jpg"),
        "flower": load_sample_image("flower.jpg"),
        "chelsea": data.chelsea(),
        "coffee": data.coffee(),
        "rocket": data.rocket(),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in photos.items():
        photo = Image.fromarray(array).resize((side, side), Image.Resampling.BICUBIC)
        gray = np.asarray(photo.convert("L"), dtype=np.float64) / 255.0
        edges = canny(gray, sigma=1.5)  # (side, side) bool
        edges_rgb = np.repeat((edges * 255).astype(np.uint8)[:, :, None], 3, axis=2)
        Image.fromarray(np.concatenate([edges_rgb, np.asarray(photo)], axis=1)).save(
            folder / f"{name}.png"
        )
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=Path("out/custom_pix2pix"), help="output folder"
    )
    parser.add_argument(
        "--steps", type=int, default=None, help="training steps (default 300, 5 with --fast)"
    )
    parser.add_argument("--fast", action="store_true", help="tiny models, small crops, five steps")
    args = parser.parse_args()
    steps = args.steps or (5 if args.fast else 300)
    crop, load = (64, 72) if args.fast else (128, 143)
    torch.manual_seed(0)

    pairs = make_pairs(args.out / "pairs", side=load)
    dataset = PairedDataset(
        pairs, layout="side_by_side", direction="AtoB", crop_size=crop, load_size=load
    )
    loader = DataLoader(dataset, batch_size=2, shuffle=True, drop_last=True)

    if args.fast:
        generator = cgan_zoo.create_model(
            "unet_tiny", in_channels=3, out_channels=3, task="generic"
        )
        discriminator = cgan_zoo.PatchDiscriminator(
            in_channels=6, receptive_field=34, base_channels=8
        )
    else:  # the paper's 128 x 128 generator and 70 x 70 PatchGAN
        generator = cgan_zoo.create_model(
            "pix2pix_unet128", in_channels=3, out_channels=3, task="generic"
        )
        discriminator = cgan_zoo.create_model("patchgan_70", in_channels=6)
    adversarial, l1 = AdversarialLoss("vanilla"), WeightedL1Loss()
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))

    generator.train()
    discriminator.train()
    batches = itertools.chain.from_iterable(itertools.repeat(loader))
    for step, batch in zip(range(1, steps + 1), batches):
        a, b = batch["input"], batch["target"]  # (B, 3, crop, crop) each, in [-1, 1]
        fake = generator(a)

        # discriminator: real pairs (A, B) against generated pairs (A, G(A))
        opt_d.zero_grad(set_to_none=True)
        loss_d = 0.5 * (
            adversarial(discriminator(torch.cat([a, b], dim=1)), True)
            + adversarial(discriminator(torch.cat([a, fake.detach()], dim=1)), False)
        )
        loss_d.backward()
        opt_d.step()

        # generator: fool D and stay close to B
        opt_g.zero_grad(set_to_none=True)
        discriminator.requires_grad_(False)
        loss_gan = adversarial(
            discriminator(torch.cat([a, fake], dim=1)), True, for_discriminator=False
        )
        loss_l1 = l1(fake, b)
        (loss_gan + 100.0 * loss_l1).backward()
        discriminator.requires_grad_(True)
        opt_g.step()

        assert torch.isfinite(loss_d) and torch.isfinite(loss_gan), step
        if step == 1 or step % 50 == 0 or step == steps:
            print(
                f"step {step:4d}  loss_d {loss_d.item():.3f}  loss_gan {loss_gan.item():.3f}  l1 {loss_l1.item():.3f}"
            )

    # inference: edges of a held-in photo, whole image (eval mode: centred resize, no crop)
    generator.eval()
    item = PairedDataset(pairs, crop_size=crop, load_size=load, train=False)[0]
    with torch.no_grad():
        fake = generator(item["input"][None])[0]
    row = torch.cat([item["input"], fake, item["target"]], dim=2)  # A | G(A) | B
    grid = ((row.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    Image.fromarray(grid).save(args.out / "edges_generated_photo.png")
    # reload later with cgan_zoo.HubModel.from_pretrained(folder)
    generator.save_pretrained(args.out / "generator")

    assert grid.shape == (crop, 3 * crop, 3), grid.shape
    print(
        f"ok: {steps} steps; wrote {args.out / 'edges_generated_photo.png'} (edges | generated | photo)"
    )


if __name__ == "__main__":
    main()
