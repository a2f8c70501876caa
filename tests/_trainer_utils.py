"""Small datasets and configs shared by the trainer tests (importable by subprocesses)."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from cgan_zoo.training import Pix2PixConfig


class ToyColorization(Dataset):
    """L -> ab pairs where ab is a fixed smooth function of L; augmentation noise uses torch RNG."""

    def __init__(self, n: int = 8, size: int = 32, nan_indices: tuple[int, ...] = ()) -> None:
        self.n, self.size, self.nan_indices = n, size, set(nan_indices)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        g = torch.Generator().manual_seed(1000 + i)
        base = torch.rand(1, self.size, self.size, generator=g) * 2 - 1
        x = (base + 0.05 * torch.randn(1, self.size, self.size)).clamp(-1, 1)  # global RNG: augmentation
        y = torch.cat([0.5 * x, -0.3 * x.abs()])
        if i in self.nan_indices:
            x = x.clone()
            x[0, 0, 0] = float("nan")
        return {"input": x, "target": y}


def tiny_config(out_dir, **overrides) -> Pix2PixConfig:
    base = dict(
        out_dir=str(out_dir),
        generator="unet_tiny",
        discriminator="patchgan_tiny",
        steps=6,
        batch_size=2,
        crop_size=32,
        log_every=1,
        val_every=0,
        sample_every=0,
        ckpt_every=0,
        tensorboard=False,
        ema_decay=0.9,
    )
    base.update(overrides)
    return Pix2PixConfig(**base)
