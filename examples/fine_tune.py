"""Fine-tune the pretrained colorizer on your own photos, with its encoder frozen.

The photos here are a few of scikit-image's sample photos; point
``--photos`` (and ``--val``) at your own folders instead. Training starts from the
pretrained colorizer (``init``), keeps its ImageNet encoder fixed (``freeze_encoder``)
and trains the decoder and a fresh PatchGAN discriminator. The result is written as a
``save_pretrained`` folder that ``Colorizer.from_pretrained`` and ``cgan-zoo colorize
--model`` load. The same run from the command line::

    cgan-zoo train --init unet_efficientnet_lite0.nature --freeze-encoder \\
        --data my_photos/ --val my_val/ --out runs/mine --steps 200 --lr 1e-4

Usage::

    python examples/fine_tune.py --out out/fine_tune [--photos DIR --val DIR --steps N]
    python examples/fine_tune.py --fast   # a tiny random stand-in model, two steps

Without ``--fast`` the bundled pretrained colorizer is the starting point when it is
installed; otherwise a tiny random stand-in is used.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image

import cgan_zoo
from cgan_zoo.pipelines import Colorizer
from cgan_zoo.training import Pix2PixConfig, Pix2PixTrainer

PRETRAINED = "unet_efficientnet_lite0.nature"


def starting_point(out: Path, fast: bool) -> str:
    """A pretrained name, or the folder of a tiny random stand-in saved with ``save_pretrained``."""
    if not fast and PRETRAINED in cgan_zoo.list_pretrained():
        return PRETRAINED
    if not fast:
        print(f"{PRETRAINED!r} is not installed; fine-tuning a tiny random stand-in instead.")
    folder = out / "stand_in"
    cgan_zoo.create_model("timm_unet_tiny").save_pretrained(folder)  # a TimmUNet: it has an encoder
    return str(folder)


def sample_photos(folder: Path, names: list[str], fast: bool) -> Path:
    """Write colour sample photos into ``folder`` (smaller ones with ``--fast``)."""
    from skimage import data

    sources = {
        "rocket": data.rocket,
        "astronaut": data.astronaut,
        "coffee": data.coffee,
        "chelsea": data.chelsea,
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        img = Image.fromarray(sources[name]())
        if fast:
            img = img.resize((img.width // 4, img.height // 4))
        img.save(folder / f"{name}.jpg", quality=92)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=Path, help="folder of colour training photos")
    parser.add_argument("--val", type=Path, help="folder of held-out colour photos")
    parser.add_argument("--out", type=Path, default=Path("out/fine_tune"), help="output folder")
    parser.add_argument(
        "--steps", type=int, default=None, help="optimiser steps (default 200, 2 with --fast)"
    )
    parser.add_argument(
        "--fast", action="store_true", help="tiny stand-in model, small crops, two steps"
    )
    args = parser.parse_args()
    steps = args.steps or (2 if args.fast else 200)

    photos = args.photos or sample_photos(
        args.out / "photos", ["rocket", "astronaut", "coffee"], args.fast
    )
    val = args.val or sample_photos(args.out / "val", ["chelsea"], args.fast)
    config = Pix2PixConfig(
        data_dir=str(photos),
        val_dir=str(val),
        out_dir=str(args.out / "run"),
        task="colorize",
        init=starting_point(args.out, args.fast),
        freeze_encoder=True,
        discriminator="patchgan_70",
        discriminator_kwargs={"base_channels": 16 if args.fast else 32},
        gan_mode="lsgan",
        steps=steps,
        batch_size=2 if args.fast else 4,
        crop_size=64 if args.fast else 192,
        lr_g=1e-4,
        lr_d=1e-4,
        ema_decay=0.99,
        log_every=1,
        val_every=steps,  # validate, save a sample grid and a checkpoint at the end
        sample_every=steps,
        ckpt_every=steps,
        tensorboard=False,
    )
    trainer = Pix2PixTrainer(config)
    encoder_before = {k: v.clone() for k, v in trainer.generator.encoder.state_dict().items()}
    history = trainer.fit(progress=not args.fast)
    folder = trainer.save_generator()  # out/run/generator: config.json + model.safetensors

    colorizer = Colorizer.from_pretrained(folder, size=config.crop_size)
    gray = Image.open(next(Path(val).glob("*.jpg"))).convert("L")
    colorizer(gray).save(args.out / "colorized_by_fine_tuned.png")

    encoder_after = trainer.generator.encoder.state_dict()
    assert all(torch.equal(v, encoder_after[k]) for k, v in encoder_before.items()), (
        "encoder changed"
    )
    assert len(history) == steps and (args.out / "run" / "val_metrics.csv").is_file()
    print(
        f"ok: {steps} steps, last losses "
        + ", ".join(f"{k}={v:.3g}" for k, v in history[-1].items() if k.startswith("loss"))
    )
    print(
        f"    fine-tuned generator in {folder}; try: cgan-zoo colorize photo.jpg -o out/ --model {folder}"
    )


if __name__ == "__main__":
    main()
