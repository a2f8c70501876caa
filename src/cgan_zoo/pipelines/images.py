"""Turn user images and masks (PIL, numpy, torch) into float tensors, and back.

The pipelines accept what people actually have in hand: a ``PIL.Image`` in any mode,
a numpy array ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)`` in ``uint8``, ``uint16`` or
float in [0, 1], or a float tensor ``(H, W)``, ``(1, H, W)`` or ``(3, H, W)`` in [0, 1].
:func:`image_to_tensor` converts any of them to one ``(1, C, H, W)`` float tensor and
records how the input looked (:class:`ImageSpec`), so :func:`tensor_to_image` can hand
the result back in the same kind. :func:`mask_to_tensor` parses missing-region masks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from einops import rearrange

from ..color import to_uint8
from ..errors import InvalidInputError

__all__ = ["ImageSpec", "image_to_tensor", "tensor_to_image", "mask_to_tensor", "describe"]

_ACCEPTED = (
    "a PIL.Image, a numpy array (H, W), (H, W, 1) or (H, W, 3) in uint8/uint16 or float "
    "in [0, 1], or a float tensor (H, W), (1, H, W) or (3, H, W) in [0, 1]"
)


@dataclass(frozen=True)
class ImageSpec:
    """How an input image looked, so the output can be returned in the same kind.

    Attributes:
        kind: ``"pil"``, ``"numpy"`` or ``"tensor"``.
        height: Image height in pixels.
        width: Image width in pixels.
        dtype: numpy dtype (for ``"numpy"``) or torch dtype (for ``"tensor"``); ``None`` for PIL.
        device: Device of an input tensor; ``None`` otherwise.

    Example:
        >>> ImageSpec("numpy", 4, 6, np.dtype("uint8")).size
        (4, 6)
    """

    kind: str
    height: int
    width: int
    dtype: Any = None
    device: Any = None

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)``."""
        return (self.height, self.width)


def describe(obj: object) -> str:
    """A short description of an object for error messages.

    Example:
        >>> describe(np.zeros((2, 3), dtype=np.uint8))
        'numpy array of shape (2, 3) and dtype uint8'
    """
    if isinstance(obj, np.ndarray):
        return f"numpy array of shape {obj.shape} and dtype {obj.dtype}"
    if isinstance(obj, torch.Tensor):
        return f"tensor of shape {tuple(obj.shape)} and dtype {obj.dtype}"
    try:
        from PIL import Image

        if isinstance(obj, Image.Image):
            return f"PIL image of mode {obj.mode!r} and size {obj.width}x{obj.height} (WxH)"
    except ImportError:  # pragma: no cover - pillow is a core dependency
        pass
    return type(obj).__name__


def _is_pil(obj: object) -> bool:
    from PIL import Image

    return isinstance(obj, Image.Image)


def _pil_to_array(img: Any) -> np.ndarray:
    """PIL image → numpy ``(H, W)`` or ``(H, W, 3)``; alpha is dropped, palettes expanded."""
    mode = img.mode
    if mode in ("L", "RGB"):
        return np.asarray(img)
    if mode in ("1", "LA"):
        return np.asarray(img.convert("L"))
    if mode.startswith("I;16"):
        return np.asarray(img).astype(np.uint16)
    if mode == "I":
        arr = np.asarray(img)
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise InvalidInputError(
                f"PIL image of mode 'I' holds values in [{arr.min()}, {arr.max()}], expected 16-bit "
                "values in [0, 65535]. Rescale it, or convert it to mode 'L' first."
            )
        return arr.astype(np.uint16)
    if mode == "F":
        return np.asarray(img, dtype=np.float32)
    # RGBA, P, CMYK, YCbCr, LAB, HSV, ...: PIL knows how to reach RGB.
    return np.asarray(img.convert("RGB"))


def _array_to_tensor(arr: np.ndarray, name: str) -> torch.Tensor:
    """numpy ``(H, W[, C])`` → float32 ``(1, C, H, W)`` in [0, 1], validated."""
    if not arr.dtype.isnative:  # e.g. big-endian 16-bit data from some TIFF/FITS readers
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.size == 0:
        raise InvalidInputError(
            f"{name} is empty ({describe(arr)}); expected at least one pixel. "
            "Pass a non-empty image."
        )
    if arr.ndim == 2:
        arr = arr[:, :, None]
    elif arr.ndim == 3:
        if arr.shape[2] not in (1, 3):
            fix = (
                " Drop the alpha channel with arr[..., :3]."
                if arr.shape[2] == 4
                else " numpy images are channel-last: use arr.transpose(1, 2, 0) for (C, H, W) arrays."
                if arr.shape[0] in (1, 3)
                else " Pass a gray (H, W) or RGB (H, W, 3) image."
            )
            raise InvalidInputError(
                f"{name} must have 1 (gray) or 3 (RGB) channels in the last axis, got {describe(arr)}.{fix}"
            )
    else:
        raise InvalidInputError(
            f"{name} must have 2 or 3 dims (H, W) / (H, W, C), got {arr.ndim} dims ({describe(arr)}). "
            "Pass one image at a time, or use colorize_batch for a list."
        )
    if arr.dtype == np.uint8:
        x = torch.from_numpy(arr.astype(np.float32)) / 255.0
    elif arr.dtype == np.uint16:
        x = torch.from_numpy(arr.astype(np.float32)) / 65535.0
    elif np.issubdtype(arr.dtype, np.floating):
        x = torch.from_numpy(arr.astype(np.float32))
        _check_unit_range(x, name)
    else:
        raise TypeError(
            f"{name} has dtype {arr.dtype}, expected uint8, uint16 or float in [0, 1]. "
            "Convert with arr.astype(np.uint8) for 8-bit data, or arr.astype(np.float32) / 255."
        )
    return rearrange(x, "h w c -> 1 c h w").contiguous()


def _check_unit_range(x: torch.Tensor, name: str) -> None:
    if not bool(torch.isfinite(x).all()):
        n_nan, n_inf = int(torch.isnan(x).sum()), int(torch.isinf(x).sum())
        raise InvalidInputError(
            f"{name} contains non-finite values ({n_nan} NaN, {n_inf} Inf); expected only finite "
            "values in [0, 1]. Clean it first, for example with np.nan_to_num / torch.nan_to_num."
        )
    lo, hi = float(x.min()), float(x.max())
    if lo < -1e-3 or hi > 1.0 + 1e-3:
        hint = (
            " It looks like 8-bit data: divide by 255."
            if hi > 1.5 and lo >= 0
            else " Rescale it to [0, 1], or clip it with np.clip(x, 0, 1) / x.clamp(0, 1)."
        )
        raise InvalidInputError(
            f"{name} is floating point with values in [{lo:.4g}, {hi:.4g}], expected [0, 1].{hint}"
        )


def image_to_tensor(image: object, *, name: str = "image") -> tuple[torch.Tensor, ImageSpec]:
    """Convert a PIL image, numpy array or tensor to a float tensor in [0, 1].

    Gray stays one channel, RGB stays three; RGBA/LA/palette PIL images are converted
    to RGB/L (alpha dropped). 16-bit inputs keep their precision.

    Args:
        image: The image (see the module docstring for accepted kinds).
        name: Name used in error messages.

    Returns:
        ``(x, spec)`` with ``x`` a float32 CPU tensor (or one on the input tensor's
        device) and ``spec`` describing the input for :func:`tensor_to_image`.

    Raises:
        TypeError: For objects that are not images, or unsupported dtypes.
        InvalidInputError: For wrong dims or channel counts, empty images, NaN/Inf, or
            float values outside [0, 1].

    Shape:
        - returns: ``(1, C, H, W)`` with ``C`` 1 (gray) or 3 (RGB).

    Example:
        >>> x, spec = image_to_tensor(np.full((4, 6), 255, dtype=np.uint8))
        >>> tuple(x.shape), float(x.max()), spec.kind
        ((1, 1, 4, 6), 1.0, 'numpy')
    """
    if _is_pil(image):
        arr = _pil_to_array(image)
        return _array_to_tensor(arr, name), ImageSpec("pil", arr.shape[0], arr.shape[1])
    if isinstance(image, np.ndarray):
        x = _array_to_tensor(image, name)
        return x, ImageSpec("numpy", x.shape[-2], x.shape[-1], image.dtype)
    if isinstance(image, torch.Tensor):
        t = image.detach()
        if t.numel() == 0:
            raise InvalidInputError(
                f"{name} is empty ({describe(t)}); expected at least one pixel. "
                "Pass a non-empty image."
            )
        if not t.is_floating_point():
            raise TypeError(
                f"{name} is a tensor of dtype {t.dtype}, expected float in [0, 1]. "
                "Convert 8-bit images with x.float() / 255."
            )
        if t.ndim == 2:
            t = t.unsqueeze(0)
        if t.ndim != 3:
            hint = (
                " Remove the batch dimension with x[0], or use colorize_batch."
                if t.ndim == 4
                else " Pass one image shaped (1, H, W) (gray) or (3, H, W) (RGB)."
            )
            raise InvalidInputError(
                f"{name} must be a tensor (C, H, W) or (H, W), got {t.ndim} dims ({describe(image)}).{hint}"
            )
        if t.shape[0] not in (1, 3):
            hint = " Drop the alpha channel with x[:3]." if t.shape[0] == 4 else ""
            if t.shape[-1] in (1, 3) and t.shape[0] not in (1, 3):
                hint += " Tensors are channel-first: use x.permute(2, 0, 1) for (H, W, C) tensors."
            if not hint:
                hint = " Pass a gray (1, H, W) or RGB (3, H, W) tensor."
            raise InvalidInputError(
                f"{name} must have 1 (gray) or 3 (RGB) channels first, got {describe(image)}.{hint}"
            )
        x = t.float()
        _check_unit_range(x, name)
        return x.unsqueeze(0), ImageSpec(
            "tensor", x.shape[-2], x.shape[-1], image.dtype, image.device
        )
    raise TypeError(
        f"{name} must be {_ACCEPTED}; got {describe(image)}. "
        "Open files with PIL.Image.open(path) or use the `cgan-zoo colorize` command."
    )


def tensor_to_image(rgb: torch.Tensor, spec: ImageSpec) -> Any:
    """Return an RGB tensor in [0, 1] in the kind described by ``spec``.

    PIL in → PIL ``RGB`` out; numpy in → ``(H, W, 3)`` numpy of the input dtype
    (``uint8``/``uint16`` rounded half to even, ``uint8`` by :func:`cgan_zoo.color.to_uint8`;
    floats in [0, 1]); tensor in → ``(3, H, W)`` tensor of
    the input dtype and device.

    Shape:
        - rgb: ``(1, 3, H, W)`` or ``(3, H, W)`` in [0, 1].

    Example:
        >>> out = tensor_to_image(torch.ones(1, 3, 2, 2), ImageSpec("numpy", 2, 2, np.dtype("uint8")))
        >>> out.shape, out.dtype, int(out.max())
        ((2, 2, 3), dtype('uint8'), 255)
    """
    if rgb.ndim == 4:
        rgb = rgb[0]
    rgb = rgb.clamp(0.0, 1.0)
    if spec.kind == "tensor":
        return rgb.to(device=spec.device, dtype=spec.dtype)
    hwc = rearrange(rgb, "c h w -> h w c").float().cpu().numpy()
    if spec.kind == "pil":
        from PIL import Image

        return Image.fromarray(to_uint8(hwc), mode="RGB")
    dtype = np.dtype(spec.dtype)
    native = dtype.newbyteorder("=")  # big-endian input comes back big-endian, same values
    if native == np.uint8:
        return to_uint8(hwc).astype(dtype, copy=False)
    if native == np.uint16:
        return np.round(hwc * 65535.0).astype(dtype)
    return hwc.astype(dtype)


def mask_to_tensor(mask: object, size: tuple[int, int], *, name: str = "mask") -> torch.Tensor:
    """Parse a missing-region mask: ``255``/``True``/``1.0`` = missing, ``0`` = known.

    Values are binarised at the middle of their range (``> 127`` for uint8, ``> 0.5``
    for floats, ``True`` for bool). RGB(A) masks are reduced to their lightness.

    Args:
        mask: PIL image, numpy array ``(H, W)``/``(H, W, 1)`` or tensor ``(H, W)``/``(1, H, W)``.
        size: ``(height, width)`` of the image the mask belongs to.
        name: Name used in error messages.

    Returns:
        A float tensor of zeros and ones.

    Raises:
        InvalidInputError: If the mask's size differs from ``size`` (both are named),
            or it has the wrong dims, channels or values.
        TypeError: If it is not a mask-like object.

    Shape:
        - returns: ``(1, 1, H, W)``.

    Example:
        >>> m = np.zeros((2, 3), dtype=np.uint8); m[0, 0] = 255
        >>> mask_to_tensor(m, (2, 3))[0, 0].tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    if _is_pil(mask):
        from PIL import Image

        img: Image.Image = mask  # type: ignore[assignment]
        if img.mode == "1":
            arr: Any = np.asarray(img, dtype=bool)
        elif img.mode in ("L", "F") or img.mode.startswith("I"):
            arr = np.asarray(img)
            arr = arr > (0.5 if img.mode == "F" else 127 if img.mode == "L" else 32767)
        else:
            arr = np.asarray(img.convert("L")) > 127
        t = torch.from_numpy(np.array(arr))
    elif isinstance(mask, np.ndarray):
        if mask.dtype.kind not in "biuf":
            raise TypeError(
                f"{name} has dtype {mask.dtype} ({describe(mask)}); expected bool, uint8 (255 = missing) "
                "or float (1.0 = missing). Convert it with mask.astype(np.uint8)."
            )
        arr = mask > 32767 if mask.dtype == np.uint16 else mask
        t = torch.from_numpy(np.array(arr))
        if t.ndim == 3 and t.shape[-1] == 1:
            t = t[..., 0]
    elif isinstance(mask, torch.Tensor):
        t = mask.detach().cpu()
        if t.ndim == 3 and t.shape[0] == 1:
            t = t[0]
    else:
        raise TypeError(
            f"{name} must be a PIL image, numpy array (H, W) or tensor (H, W) with 255/True = missing; "
            f"got {describe(mask)}. Open mask files with PIL.Image.open(path) and pass the image."
        )
    if t.ndim != 2:
        raise InvalidInputError(
            f"{name} must be a single-channel (H, W) mask, got {describe(mask)}. "
            "Reduce a multi-channel mask with mask[..., 0] (numpy) or mask[0] (tensor)."
        )
    if t.numel() == 0:
        raise InvalidInputError(
            f"{name} is empty ({describe(mask)}); expected an (H, W) mask of the image's size "
            f"{size[0]}x{size[1]}. Pass a non-empty mask, or no mask at all."
        )
    h, w = size
    if tuple(t.shape) != (h, w):
        raise InvalidInputError(
            f"{name} is {t.shape[0]}x{t.shape[1]} (HxW) but the image is {h}x{w} (HxW); "
            "a mask must have exactly its image's size. Resize it with nearest-neighbour "
            "interpolation (PIL: mask.resize((W, H), Image.NEAREST))."
        )
    if t.dtype == torch.bool:
        binary = t
    elif t.dtype == torch.uint8:
        binary = t > 127
    elif t.is_floating_point():
        if not bool(torch.isfinite(t).all()):
            n_nan, n_inf = int(torch.isnan(t).sum()), int(torch.isinf(t).sum())
            raise InvalidInputError(
                f"{name} contains non-finite values ({n_nan} NaN, {n_inf} Inf); expected 0 for known "
                "and 1 for missing pixels. Clean it first, for example with np.nan_to_num(mask)."
            )
        binary = t > 0.5
    elif t.dtype in (torch.int16, torch.int32, torch.int64, torch.int8):
        hi = int(t.max())
        binary = t > (127 if hi > 1 else 0)
    else:
        raise TypeError(
            f"{name} has unsupported dtype {t.dtype}; expected bool, uint8 (255 = missing) or float. "
            "Convert it, for example with mask.astype(np.uint8) or mask.to(torch.uint8)."
        )
    return binary.to(torch.float32).view(1, 1, h, w)
