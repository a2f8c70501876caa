"""Draw the receptive field of every PatchGAN discriminator as a measured gradient footprint.

For each receptive field (1, 16, 34, 70, 142, 286) a :class:`cgan_zoo.PatchDiscriminator`
(randomly initialised, eval mode) scores a 256×256 photo (scikit-image's ``astronaut``).
The gradient of ONE output logit, the one at the centre of the logit map, with respect to
the input pixels shows which pixels that logit can see: it is exactly zero outside the
receptive field. Each panel overlays ``log10 |gradient|`` on the photo and frames the
non-zero region; the panel title gives the size of that region as measured here
("image edge" when the receptive field is larger than the photo and the region is cut
off by the image border).

Usage::

    pip install "cgan-zoo[docs]" scikit-image
    python scripts/plot_receptive_fields.py [--out docs/assets/receptive_fields.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from cgan_zoo import PatchDiscriminator
from cgan_zoo.models import RECEPTIVE_FIELDS

SIZE = 256
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "docs" / "assets" / "receptive_fields.png"


def load_photo(size: int = SIZE) -> torch.Tensor:
    """scikit-image's astronaut as an RGB tensor ``(1, 3, size, size)`` in [-1, 1]."""
    from PIL import Image
    from skimage import data

    img = Image.fromarray(data.astronaut()).resize((size, size), Image.Resampling.BICUBIC)
    x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 127.5 - 1.0)
    return x.permute(2, 0, 1).unsqueeze(0)


def gradient_footprint(
    receptive_field: int, photo: torch.Tensor
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """``|d logit / d input|`` summed over channels, and the box ``(top, left, bottom, right)`` where it is non-zero.

    The logit is the centre one of the discriminator's output map. The box is inclusive.
    """
    torch.manual_seed(0)
    disc = PatchDiscriminator(in_channels=3, receptive_field=receptive_field).eval()
    x = photo.clone().requires_grad_(True)
    logits = disc(x)
    _, _, h, w = logits.shape
    logits[0, 0, h // 2, w // 2].backward()
    grad = x.grad.abs().sum(dim=1)[0].double().numpy()  # type: ignore[union-attr]
    rows = np.flatnonzero(grad.any(axis=1))
    cols = np.flatnonzero(grad.any(axis=0))
    return grad, (int(rows[0]), int(cols[0]), int(rows[-1]), int(cols[-1]))


def plot(out: Path) -> Path:
    """Draw the figure and save it to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    photo = load_photo()
    gray = ((photo[0].mean(dim=0) + 1) / 2).numpy()
    fields = sorted(RECEPTIVE_FIELDS)
    fig, axes = plt.subplots(2, 3, figsize=(9.6, 6.9), constrained_layout=True)
    for ax, rf in zip(axes.flat, fields):
        grad, (top, left, bottom, right) = gradient_footprint(rf, photo)
        seen = grad > 0
        log_grad = np.full(grad.shape, np.nan)
        log_grad[seen] = np.log10(grad[seen])
        ax.imshow(gray, cmap="gray", vmin=0, vmax=1, alpha=0.55)
        ax.imshow(log_grad, cmap="magma", alpha=0.85, interpolation="nearest")
        height, width = bottom - top + 1, right - left + 1
        # a 1-pixel footprint is drawn as a larger square so that it stays visible
        pad = 0.5 if height > 4 else 4.5
        ax.add_patch(
            Rectangle(
                (left - pad, top - pad),
                width - 1 + 2 * pad,
                height - 1 + 2 * pad,
                fill=False,
                edgecolor="#00e5ff",
                linewidth=1.4,
            )
        )
        clipped = top == 0 or left == 0 or bottom == SIZE - 1 or right == SIZE - 1
        note = " (image edge)" if clipped else ""
        ax.set_title(f"patchgan_{rf}: footprint {height}×{width} px{note}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        "Pixels that one output logit sees (centre logit, log10 |gradient|, 256×256 input)",
        fontsize=11,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output PNG file")
    args = parser.parse_args()
    print(f"wrote {plot(args.out)}")


if __name__ == "__main__":
    main()
