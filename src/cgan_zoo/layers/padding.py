"""Pad any image to a model's stride and crop the output back."""

from __future__ import annotations

import operator

import torch
import torch.nn.functional as F

from .._validation import check_image_tensor
from ..errors import InvalidConfigError

__all__ = ["pad_to_multiple", "crop_padding", "run_padded"]


def pad_to_multiple(
    x: torch.Tensor, multiple: int, mode: str = "reflect"
) -> tuple[torch.Tensor, tuple[int, int, int, int]]:
    """Pad ``x`` on the right and bottom so H and W are divisible by ``multiple``.

    Args:
        x: Image batch.
        multiple: Required divisor, e.g. ``model.stride``.
        mode: ``"reflect"`` (falls back to ``"replicate"`` when the image is too small
            to reflect), ``"replicate"`` or ``"constant"`` (zeros).

    Returns:
        ``(padded, padding)`` where ``padding = (left, right, top, bottom)`` feeds
        :func:`crop_padding`.

    Shape:
        - x: ``(B, C, H, W)``
        - padded: ``(B, C, ceil(H / m) * m, ceil(W / m) * m)``

    Example:
        >>> import torch
        >>> y, pad = pad_to_multiple(torch.zeros(1, 1, 250, 300), 32)
        >>> tuple(y.shape), pad
        ((1, 1, 256, 320), (0, 20, 0, 6))
    """
    if not isinstance(multiple, int) or multiple < 1:
        raise InvalidConfigError(f"multiple must be a positive integer, got {multiple!r}.")
    if mode not in ("reflect", "replicate", "constant"):
        raise InvalidConfigError(f"mode={mode!r} is not supported; choose 'reflect', 'replicate' or 'constant'.")
    check_image_tensor(x, name="pad_to_multiple input", allow_non_finite=True)
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    padding = (0, pw, 0, ph)
    if ph == 0 and pw == 0:
        return x, padding
    if mode == "reflect" and (ph >= h or pw >= w):
        mode = "replicate"
    return F.pad(x, padding, mode=mode), padding


def crop_padding(y: torch.Tensor, padding: tuple[int, int, int, int]) -> torch.Tensor:
    """Undo :func:`pad_to_multiple` on a model output of the padded size.

    Shape:
        - y: ``(*, H_pad, W_pad)``, typically ``(B, C, H_pad, W_pad)``.
        - returns: ``(*, H_pad - top - bottom, W_pad - left - right)``.

    Example:
        >>> import torch
        >>> crop_padding(torch.zeros(1, 2, 256, 320), (0, 20, 0, 6)).shape
        torch.Size([1, 2, 250, 300])
    """
    left, right, top, bottom = padding
    h, w = y.shape[-2:]
    return y[..., top : h - bottom, left : w - right]


def run_padded(model: torch.nn.Module, x: torch.Tensor, multiple: int | None = None) -> torch.Tensor:
    """Run a fully convolutional model on any H, W by padding then cropping.

    Args:
        model: A generator with a ``stride`` attribute (or pass ``multiple``).
        x: Input batch of any size.
        multiple: Override for the model's stride.

    Shape:
        - x: ``(B, C_in, H, W)`` with any H, W.
        - returns: ``(B, C_out, H, W)``.

    Example:
        >>> import torch
        >>> from cgan_zoo import create_model
        >>> g = create_model("unet_tiny").eval()
        >>> run_padded(g, torch.zeros(1, 1, 37, 50)).shape
        torch.Size([1, 2, 37, 50])
    """
    if multiple is None:
        stride = getattr(model, "stride", 1)
        try:
            multiple = operator.index(stride)
        except TypeError:
            # e.g. a plain nn.Conv2d, whose ``stride`` is a tuple with another meaning
            raise InvalidConfigError(
                f"{type(model).__name__}.stride is {stride!r}, not the integer a cgan-zoo generator "
                "reports; pass multiple=... to run_padded."
            ) from None
    m = multiple
    padded, padding = pad_to_multiple(x, m)
    return crop_padding(model(padded), padding)
