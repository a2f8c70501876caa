"""What the demo's buttons do, as plain functions of files, arrays and PIL images.

Each function here takes what a web form hands over (a file path, a numpy array from
the brush editor, a model name, slider values) and returns PIL images, file paths and
a short note for the page. They raise the library's own errors
(:class:`~cgan_zoo.errors.InvalidInputError` and friends) with messages meant for the
user; :mod:`cgan_zoo.demo.app` shows those messages in the page. Nothing here imports
Gradio, so the handlers are unit-tested directly.

Models come from :class:`ModelCache`, which loads each pretrained colorizer once, on
first use, through :meth:`cgan_zoo.pipelines.Colorizer.from_pretrained`.
"""

from __future__ import annotations

import difflib
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .. import get_pretrained_cfg, list_pretrained
from ..errors import InvalidConfigError, InvalidInputError, WeightsError
from ..pipelines import Colorizer, colorize_video

__all__ = [
    "MAX_PIXELS",
    "ModelCache",
    "ModelOptions",
    "PhotoResult",
    "RepairResult",
    "load_photo",
    "to_gray",
    "colorize_photo",
    "editor_mask",
    "load_mask",
    "repair_photo",
    "compare_models",
    "colorize_clip",
]

#: Largest photo the demo accepts, in pixels (50 megapixels, about 8660 x 5770).
MAX_PIXELS = 50_000_000

_DROPOUT = torch.nn.modules.dropout._DropoutNd


@dataclass(frozen=True)
class ModelOptions:
    """What the page may offer for one model.

    Attributes:
        task: ``"colorize"`` or ``"colorize-missing"``.
        temperature: Whether the colorizer has the colour-uncertainty knob
            (``Colorizer.supports_temperature``).
        stochastic: Whether stochastic mode changes anything (the generator has dropout).
        default_temperature: The colorizer's own temperature, where it has one.

    Example:
        >>> ModelOptions("colorize", temperature=False, stochastic=True).stochastic
        True
    """

    task: str
    temperature: bool
    stochastic: bool
    default_temperature: float | None = None


class ModelCache:
    """The models the demo offers, each loaded once on first use.

    Args:
        models: Registered pretrained names or ``save_pretrained`` folders; ``None`` or
            empty means every installed pretrained colorizer (:func:`cgan_zoo.list_pretrained`,
            which includes weight packages).
        device: Device of the colorizers (``"cpu"``, ``"cuda"``, ``"auto"``...).
        size: Working resolution; ``None`` uses each model's training size.

    Raises:
        InvalidConfigError: For a name that is neither installed nor a folder (with close matches).
        WeightsError: If no model is given and none is installed.

    Example:
        >>> import tempfile
        >>> from cgan_zoo import create_model
        >>> folder = tempfile.mkdtemp()
        >>> create_model("unet_tiny").save_pretrained(folder)
        >>> cache = ModelCache([folder], size=32)
        >>> cache.options(folder).task
        'colorize'
    """

    def __init__(
        self,
        models: Sequence[str] | None = None,
        *,
        device: str = "cpu",
        size: int | None = None,
    ) -> None:
        names = [os.fspath(m) for m in models] if models else list_pretrained()
        if not names:
            raise WeightsError(
                "no pretrained colorizers are installed, so the demo has nothing to show. Install "
                "cgan-zoo with its bundled weights, or pass --model FOLDER (written by "
                "model.save_pretrained(folder))."
            )
        installed = list_pretrained()
        for name in names:
            if Path(name).exists():  # a folder, run folder or checkpoint: load_generator's job
                continue
            try:
                get_pretrained_cfg(name)
            except InvalidConfigError:
                close = difflib.get_close_matches(name, installed, n=3, cutoff=0.5)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise InvalidConfigError(
                    f"model {name!r} is not an installed pretrained colorizer (installed: "
                    f"{installed or 'none'}) nor an existing folder.{hint} Pass one of the installed "
                    "names, or a folder written by model.save_pretrained(folder)."
                ) from None
        self.models: list[str] = list(dict.fromkeys(names))
        self.device = device
        self.size = size
        self._loaded: dict[tuple[str, bool], Colorizer] = {}
        self._load_lock = threading.Lock()
        #: held while a colorizer runs: one job at a time uses the CPU/GPU
        self.run_lock = threading.Lock()

    def get(self, name: str, *, stochastic: bool = False) -> Colorizer:
        """The colorizer for ``name`` (loaded on first use; stochastic ones separately).

        Raises:
            InvalidInputError: If ``name`` is not one of :attr:`models`.

        Example:
            >>> import tempfile
            >>> from cgan_zoo import create_model
            >>> folder = tempfile.mkdtemp()
            >>> create_model("unet_tiny").save_pretrained(folder)
            >>> cache = ModelCache([folder], size=32)
            >>> cache.get(folder) is cache.get(folder)
            True
        """
        if name not in self.models:
            raise InvalidInputError(
                f"model {name!r} is not offered by this demo; choose one of {self.models}."
            )
        key = (name, bool(stochastic))
        with self._load_lock:
            if key not in self._loaded:
                kwargs: dict[str, Any] = {"device": self.device, "stochastic": bool(stochastic)}
                if self.size is not None:
                    kwargs["size"] = self.size
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # "stochastic has no effect": see options()
                    self._loaded[key] = Colorizer.from_pretrained(name, **kwargs)
            return self._loaded[key]

    def options(self, name: str) -> ModelOptions:
        """Which knobs the page shows for ``name`` (loads the model).

        Example:
            >>> import tempfile
            >>> from cgan_zoo import create_model
            >>> folder = tempfile.mkdtemp()
            >>> create_model("unet_tiny", dropout=0.5).save_pretrained(folder)
            >>> ModelCache([folder], size=32).options(folder).stochastic
            True
        """
        colorizer = self.get(name)
        supported = bool(getattr(colorizer, "supports_temperature", False))
        default = getattr(colorizer, "temperature", None) if supported else None
        if default is None and supported:
            default = getattr(colorizer.generator, "temperature", None)
        return ModelOptions(
            task=colorizer.task,
            temperature=supported,
            stochastic=any(isinstance(m, _DROPOUT) for m in colorizer.generator.modules()),
            default_temperature=float(default) if isinstance(default, (int, float)) else None,
        )

    def task(self, name: str) -> str:
        """The task of ``name`` (from its registry entry, without loading it when registered).

        Example:
            >>> import tempfile
            >>> from cgan_zoo import create_model
            >>> folder = tempfile.mkdtemp()
            >>> create_model("unet_tiny", task="colorize-missing", in_channels=2, out_channels=3).save_pretrained(folder)
            >>> ModelCache([folder]).task(folder)
            'colorize-missing'
        """
        if not Path(name).exists():
            return get_pretrained_cfg(name).task
        return self.get(name).task


# ---------------------------------------------------------------------------- inputs


def load_photo(path: str | os.PathLike, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open an uploaded photo, refusing what is not an image or is too large.

    The size is checked from the file header before any pixel is decoded. EXIF
    orientation is applied.

    Args:
        path: The uploaded file.
        max_pixels: Largest accepted ``width * height``.

    Returns:
        The photo, decoded.

    Raises:
        InvalidInputError: For a missing file, a file that is not an image, or one larger
            than ``max_pixels``.

    Example:
        >>> import tempfile
        >>> path = tempfile.mkdtemp() + "/notes.txt"
        >>> _ = open(path, "w").write("hello")
        >>> load_photo(path)
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidInputError: 'notes.txt' is not an image that can be read (...). Upload a photo: PNG, JPEG, WebP, TIFF or BMP.
    """
    if path is None or os.fspath(path) == "":
        raise InvalidInputError("no photo was given; upload or drop a photo first.")
    p = Path(path)
    if not p.is_file():
        raise InvalidInputError(f"photo {p.name!r} does not exist or is not a file.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(p)
            width, height = img.size
            if width * height > max_pixels:
                img.close()
                raise InvalidInputError(_too_large(p.name, width, height, max_pixels))
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidInputError(
            f"{p.name!r} is far too large to open safely ({exc}). The demo accepts up to "
            f"{max_pixels / 1e6:.0f} megapixels; downscale the photo first."
        ) from None
    except InvalidInputError:
        raise
    except UnidentifiedImageError:
        raise InvalidInputError(
            f"{p.name!r} is not an image that can be read (Pillow does not recognise its "
            "format). Upload a photo: PNG, JPEG, WebP, TIFF or BMP."
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        detail = str(exc).replace(str(p), p.name)
        raise InvalidInputError(
            f"{p.name!r} is not an image that can be read ({detail}). Upload a photo: PNG, JPEG, "
            "WebP, TIFF or BMP."
        ) from None
    return ImageOps.exif_transpose(img)


def _too_large(name: str, width: int, height: int, max_pixels: int) -> str:
    return (
        f"{name!r} is {width}x{height} pixels ({width * height / 1e6:.1f} megapixels); the demo "
        f"accepts up to {max_pixels / 1e6:.0f} megapixels. Downscale the photo, or colorize it "
        "with `cgan-zoo colorize` on the command line."
    )


def to_gray(image: Any, *, max_pixels: int = MAX_PIXELS) -> tuple[Image.Image, str]:
    """The gray photo the colorizer sees, and a note saying what was converted.

    Colour photos are reduced to their luma (PIL ``"L"``), so the before/after views
    share the same lightness; 16-bit photos are scaled to 8 bits; transparency is dropped.

    Args:
        image: A PIL image or a numpy array ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)``.
        max_pixels: Largest accepted ``width * height``.

    Returns:
        ``(gray, note)``; ``note`` is ``""`` when the photo already was gray.

    Raises:
        InvalidInputError: For something that is not an image, or one too large.

    Example:
        >>> import numpy as np
        >>> gray, note = to_gray(np.zeros((4, 6, 3), np.uint8) + [200, 10, 10])
        >>> gray.mode, gray.size, note.startswith("The colour photo was converted to gray")
        ('L', (6, 4), True)
    """
    if isinstance(image, np.ndarray):
        arr = image
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[..., 0]
        if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
            raise InvalidInputError(
                f"the photo must be an (H, W), (H, W, 3) or (H, W, 4) array, got shape {arr.shape}."
            )
        if arr.dtype != np.uint8:
            if arr.dtype.kind == "f":
                arr = (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
            elif arr.dtype.kind in "ui":
                top = 65535 if arr.max(initial=0) > 255 else 255
                arr = (np.clip(arr, 0, top).astype(np.float64) * (255 / top) + 0.5).astype(np.uint8)
            else:
                raise InvalidInputError(f"the photo has unsupported dtype {arr.dtype}.")
        image = Image.fromarray(arr)
    if not isinstance(image, Image.Image):
        raise InvalidInputError(
            f"the photo must be an image, got {type(image).__name__}; upload a PNG or JPEG photo."
        )
    width, height = image.size
    if width * height > max_pixels:
        raise InvalidInputError(_too_large("the photo", width, height, max_pixels))
    if width == 0 or height == 0:
        raise InvalidInputError(f"the photo is empty ({width}x{height} pixels).")
    notes = []
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr16 = np.asarray(image).astype(np.float64)
        top16 = 65535.0 if arr16.max(initial=0) > 255 else 255.0
        image = Image.fromarray((np.clip(arr16, 0, top16) * (255 / top16) + 0.5).astype(np.uint8))
        notes.append("The 16-bit photo was scaled to 8 bits.")
    elif mode == "F":
        image = Image.fromarray((np.clip(np.asarray(image), 0, 1) * 255 + 0.5).astype(np.uint8))
    if "A" in image.mode or (image.mode == "P" and "transparency" in image.info):
        notes.append("Transparency was ignored.")
    if image.mode not in ("L", "1"):
        rgb = np.asarray(image.convert("RGB"))
        colourful = bool(
            np.any(rgb[..., 0] != rgb[..., 1]) or np.any(rgb[..., 1] != rgb[..., 2])
        )
        if colourful:
            notes.insert(
                0,
                "The colour photo was converted to gray first: the model sees only its "
                "lightness, and the colours you see are the model's own.",
            )
    return image.convert("L"), " ".join(notes)


def load_mask(path: str | os.PathLike, size: tuple[int, int]) -> tuple[np.ndarray, str]:
    """Read an uploaded mask (white = missing) and fit it to a photo of ``size`` (W, H).

    Returns:
        ``(mask, note)``: a boolean ``(H, W)`` array and a note if it was resized.

    Raises:
        InvalidInputError: If the file is not an image.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> path = tempfile.mkdtemp() + "/mask.png"
        >>> Image.new("L", (4, 2), 255).save(path)
        >>> mask, note = load_mask(path, (8, 4))
        >>> mask.shape, bool(mask.all()), note != ""
        ((4, 8), True, True)
    """
    img = load_photo(path)
    note = ""
    if img.size != tuple(size):
        note = (
            f"The mask ({img.size[0]}x{img.size[1]}) was resized to the photo's "
            f"{size[0]}x{size[1]} pixels."
        )
        img = img.resize((int(size[0]), int(size[1])), Image.Resampling.NEAREST)
    if "A" in img.getbands():
        alpha = np.asarray(img.getchannel("A")) > 0
        lum = np.asarray(img.convert("L")) >= 128
        return alpha & lum, note
    return np.asarray(img.convert("L")) >= 128, note


def editor_mask(value: Any) -> tuple[Image.Image | None, np.ndarray | None]:
    """Split an image-editor value into the photo and the brush mask.

    Args:
        value: ``{"background": array, "layers": [array, ...], "composite": array}``
            as the brush editor sends it (RGBA layers; painted pixels have alpha > 0),
            or ``None``.

    Returns:
        ``(photo or None, mask or None)``; the mask is a boolean ``(H, W)`` array, ``None``
        when nothing was painted.

    Example:
        >>> import numpy as np
        >>> layer = np.zeros((4, 6, 4), np.uint8); layer[1, 2, 3] = 255
        >>> photo, mask = editor_mask({"background": np.zeros((4, 6, 4), np.uint8), "layers": [layer]})
        >>> photo.size, int(mask.sum())
        ((6, 4), 1)
    """
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"the editor sent {type(value).__name__}, expected its background and layers."
        )
    background = value.get("background")
    photo: Image.Image | None
    if background is None:
        photo = None
    else:
        if isinstance(background, Image.Image):
            photo = background
        else:
            arr = np.asarray(background)
            photo = Image.fromarray(arr if arr.dtype == np.uint8 else arr.astype(np.uint8))
        if photo.mode == "RGBA" and photo.getchannel("A").getextrema()[0] == 255:
            photo = photo.convert("RGB")  # the editor's canvas is RGBA; an opaque photo has no alpha
    mask = None
    for layer in value.get("layers") or []:
        arr = np.asarray(layer)
        painted = np.asarray(arr[..., 3] > 0 if arr.ndim == 3 and arr.shape[2] == 4 else arr > 0)
        if painted.ndim == 3:
            painted = np.asarray(painted.any(axis=2))
        if photo is not None and painted.shape != (photo.size[1], photo.size[0]):
            painted = np.asarray(
                Image.fromarray(painted).resize(photo.size, Image.Resampling.NEAREST)
            )
        mask = painted if mask is None else (mask | painted)
    if mask is not None and not mask.any():
        mask = None
    return photo, mask


# ---------------------------------------------------------------------------- running


@contextmanager
def _seeded(seed: int | None, device: torch.device) -> Iterator[None]:
    """Fix the random numbers of one stochastic run without touching the global generator."""
    if seed is None:
        yield
        return
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield


def _run(
    cache: ModelCache,
    model: str,
    gray: Image.Image,
    mask: np.ndarray | None,
    *,
    temperature: float | None,
    stochastic: bool,
    seed: int | None,
) -> tuple[Image.Image, list[str]]:
    options = cache.options(model)
    notes = []
    use_stochastic = bool(stochastic) and options.stochastic
    if stochastic and not options.stochastic:
        notes.append(f"{_short(model)} has no dropout, so stochastic mode was not used.")
    colorizer = cache.get(model, stochastic=use_stochastic)
    kwargs: dict[str, Any] = {}
    if mask is not None:
        kwargs["mask"] = mask
    if temperature is not None and options.temperature:
        kwargs["temperature"] = float(temperature)
    with cache.run_lock, _seeded(seed if use_stochastic else None, colorizer.device):
        result = colorizer(gray, **kwargs)
    return result.convert("RGB"), notes


def _short(model: str) -> str:
    return Path(model).name if Path(model).exists() else model


def _png(image: Image.Image, out_dir: str | os.PathLike | None, stem: str) -> str:
    folder = Path(tempfile.mkdtemp(prefix="cgan-zoo-demo-", dir=out_dir))
    path = folder / f"{stem}.png"
    image.save(path, format="PNG")
    return str(path)


def _stem(source: Any, suffix: str) -> str:
    if isinstance(source, (str, os.PathLike)) and os.fspath(source):
        return f"{Path(source).stem}_{suffix}"
    return suffix


def _photo(source: Any, max_pixels: int) -> tuple[Image.Image, str]:
    image = load_photo(source, max_pixels=max_pixels) if isinstance(source, (str, os.PathLike)) else source
    if image is None:
        raise InvalidInputError("no photo was given; upload or drop a photo first.")
    return to_gray(image, max_pixels=max_pixels)


@dataclass
class PhotoResult:
    """A colorized photo.

    Attributes:
        gray: The gray photo the model saw (the "before").
        color: The colorized photo, same size (the "after").
        png: Path of the result saved as PNG, for download.
        note: What was converted or ignored, and the time taken.

    Example:
        >>> from PIL import Image
        >>> r = PhotoResult(Image.new("L", (2, 2)), Image.new("RGB", (2, 2)), "x.png", "")
        >>> r.color.size
        (2, 2)
    """

    gray: Image.Image
    color: Image.Image
    png: str
    note: str


def colorize_photo(
    source: Any,
    model: str,
    cache: ModelCache,
    *,
    temperature: float | None = None,
    stochastic: bool = False,
    seed: int | None = None,
    out_dir: str | os.PathLike | None = None,
    max_pixels: int = MAX_PIXELS,
) -> PhotoResult:
    """Colorize one uploaded photo at its full resolution.

    Args:
        source: Path of the uploaded file, or a PIL image / numpy array.
        model: One of ``cache.models``.
        cache: Where the colorizers come from.
        temperature: Colour-uncertainty knob; passed only to colorizers with
            ``supports_temperature``, ignored otherwise.
        stochastic: Keep dropout active (different colourings per seed), if the model has dropout.
        seed: Seed of the stochastic run; ``None`` draws a fresh colouring.
        out_dir: Folder for the downloadable PNG (a temporary folder by default).
        max_pixels: Largest accepted photo.

    Returns:
        The :class:`PhotoResult`.

    Raises:
        InvalidInputError: For a missing, unreadable or too large photo.

    Example:
        >>> import tempfile, numpy as np
        >>> from cgan_zoo import create_model
        >>> folder = tempfile.mkdtemp()
        >>> create_model("unet_tiny").save_pretrained(folder)
        >>> cache = ModelCache([folder], size=32)
        >>> r = colorize_photo(np.full((20, 30), 128, np.uint8), folder, cache, out_dir=folder)
        >>> r.color.size, r.color.mode, r.png.endswith(".png")
        ((30, 20), 'RGB', True)
    """
    gray, note = _photo(source, max_pixels)
    start = time.perf_counter()
    color, notes = _run(
        cache, model, gray, None, temperature=temperature, stochastic=stochastic, seed=seed
    )
    seconds = time.perf_counter() - start
    png = _png(color, out_dir, _stem(source, "colorized"))
    notes = [note, *notes] if note else notes
    notes.append(
        f"{_short(model)}: {gray.size[0]}x{gray.size[1]} pixels in {seconds:.2f} s."
    )
    return PhotoResult(gray, color, png, " ".join(notes))


@dataclass
class RepairResult:
    """A photo with missing regions, filled and colorized.

    Attributes:
        mask: The missing regions, white on black, at the photo's size.
        fill: What the model put in the missing regions (the rest dimmed).
        result: The repaired, colorized photo.
        png: Path of the result saved as PNG.
        note: Conversions and timing.

    Example:
        >>> from PIL import Image
        >>> im = Image.new("RGB", (2, 2))
        >>> RepairResult(Image.new("L", (2, 2)), im, im, "r.png", "").result.size
        (2, 2)
    """

    mask: Image.Image
    fill: Image.Image
    result: Image.Image
    png: str
    note: str


def repair_photo(
    editor: Any,
    mask_file: str | os.PathLike | None,
    model: str,
    cache: ModelCache,
    *,
    temperature: float | None = None,
    out_dir: str | os.PathLike | None = None,
    max_pixels: int = MAX_PIXELS,
) -> RepairResult:
    """Fill and colorize the regions painted in the editor and/or given by a mask file.

    Args:
        editor: The brush editor's value (see :func:`editor_mask`); its background is the photo.
        mask_file: Optional uploaded mask (white = missing), added to the brush strokes.
        model: A ``"colorize-missing"`` model of ``cache``.
        cache: Where the colorizers come from.
        temperature: Colour-uncertainty knob, for colorizers that support it.
        out_dir: Folder for the downloadable PNG.
        max_pixels: Largest accepted photo.

    Returns:
        The :class:`RepairResult`.

    Raises:
        InvalidInputError: Without a photo, without any missing region, or with a model
            that was not trained for missing regions.

    Example:
        >>> import tempfile, numpy as np
        >>> from cgan_zoo import create_model
        >>> folder = tempfile.mkdtemp()
        >>> create_model("unet_tiny", task="colorize-missing", in_channels=2, out_channels=3).save_pretrained(folder)
        >>> layer = np.zeros((16, 16, 4), np.uint8); layer[4:8, 4:8, 3] = 255
        >>> editor = {"background": np.full((16, 16, 3), 90, np.uint8), "layers": [layer]}
        >>> r = repair_photo(editor, None, folder, ModelCache([folder], size=16), out_dir=folder)
        >>> r.result.size, int((np.asarray(r.mask) > 0).sum())
        ((16, 16), 16)
    """
    photo, mask = editor_mask(editor)
    if photo is None:
        raise InvalidInputError("no photo was given; upload a photo into the editor first.")
    gray, note = to_gray(photo, max_pixels=max_pixels)
    notes = [note] if note else []
    if mask_file:
        uploaded, mask_note = load_mask(mask_file, gray.size)
        mask = uploaded if mask is None else (mask | uploaded)
        if mask_note:
            notes.append(mask_note)
    if mask is None or not mask.any():
        raise InvalidInputError(
            "no missing region was marked: paint over the damaged parts with the brush, or "
            "upload a mask (white = missing)."
        )
    if cache.task(model) != "colorize-missing":
        raise InvalidInputError(
            f"{_short(model)!r} was not trained for missing regions (task {cache.task(model)!r}); "
            "pick a model whose task is 'colorize-missing', such as "
            "'unet_efficientnet_lite0.nature_missing'."
        )
    start = time.perf_counter()
    result, run_notes = _run(
        cache, model, gray, mask, temperature=temperature, stochastic=False, seed=None
    )
    seconds = time.perf_counter() - start
    notes += run_notes
    share = 100.0 * float(mask.mean())
    notes.append(
        f"{_short(model)}: filled {share:.1f}% of {gray.size[0]}x{gray.size[1]} pixels in "
        f"{seconds:.2f} s."
    )
    rgb = np.asarray(result)
    dimmed = (np.asarray(gray.convert("RGB")).astype(np.float32) * 0.35).astype(np.uint8)
    fill = np.where(mask[..., None], rgb, dimmed)
    return RepairResult(
        mask=Image.fromarray((mask * 255).astype(np.uint8)),
        fill=Image.fromarray(fill),
        result=result,
        png=_png(result, out_dir, "repaired"),
        note=" ".join(notes),
    )


def compare_models(
    source: Any,
    models: Sequence[str],
    cache: ModelCache,
    *,
    temperature: float | None = None,
    max_pixels: int = MAX_PIXELS,
) -> tuple[list[tuple[Image.Image, str]], str]:
    """Colorize one photo with several models, for a side-by-side view.

    Args:
        source: Path of the uploaded file, or a PIL image / numpy array.
        models: Names from ``cache.models`` (at least one).
        cache: Where the colorizers come from.
        temperature: Colour-uncertainty knob, for colorizers that support it.
        max_pixels: Largest accepted photo.

    Returns:
        ``([(gray, "input"), (result, caption), ...], note)``: the gray input first, then
        one result per model with its name and time as caption.

    Raises:
        InvalidInputError: For a bad photo or an empty model list.

    Example:
        >>> import tempfile, numpy as np
        >>> from cgan_zoo import create_model
        >>> folder = tempfile.mkdtemp()
        >>> create_model("unet_tiny").save_pretrained(folder)
        >>> items, note = compare_models(np.zeros((8, 8), np.uint8), [folder], ModelCache([folder], size=16))
        >>> [caption.split(" ")[0] for _, caption in items][:1], len(items)
        (['input'], 2)
    """
    if not models:
        raise InvalidInputError(
            "no model was chosen; tick two or more models to compare them side by side."
        )
    gray, note = _photo(source, max_pixels)
    items: list[tuple[Image.Image, str]] = [(gray, "input (gray)")]
    notes = [note] if note else []
    for model in models:
        start = time.perf_counter()
        color, run_notes = _run(
            cache, model, gray, None, temperature=temperature, stochastic=False, seed=None
        )
        items.append((color, f"{_short(model)} ({time.perf_counter() - start:.2f} s)"))
        notes += run_notes
    return items, " ".join(notes)


def colorize_clip(
    path: str | os.PathLike | None,
    model: str,
    cache: ModelCache,
    *,
    out_dir: str | os.PathLike | None = None,
    progress: bool = True,
    smoothing: float = 0.6,
    on_start: Callable[[], None] | None = None,
) -> tuple[str, str]:
    """Colorize an uploaded clip with :func:`cgan_zoo.pipelines.colorize_video`.

    Args:
        path: The uploaded video file.
        model: One of ``cache.models``.
        cache: Where the colorizers come from.
        out_dir: Folder for the colorized ``.mp4`` (a temporary folder by default).
        progress: Show a tqdm progress bar (the page follows it).
        smoothing: Temporal smoothing of the colours in [0, 1).
        on_start: Called once the model is loaded, just before decoding starts.

    Returns:
        ``(output path, note)``.

    Raises:
        InvalidInputError: For a missing file, one that is not a video, or a file
            without a video stream.
        MissingExtraError: If PyAV (the ``[video]`` extra) is not installed.

    Example:
        >>> import tempfile, numpy as np
        >>> from cgan_zoo import create_model
        >>> from cgan_zoo.pipelines.video import write_frames
        >>> folder = tempfile.mkdtemp()
        >>> create_model("unet_tiny").save_pretrained(folder)
        >>> write_frames(folder + "/in.mp4", [np.full((16, 16, 3), 99, np.uint8)] * 2, fps=4)
        >>> cache = ModelCache([folder], size=16)
        >>> out, note = colorize_clip(folder + "/in.mp4", folder, cache, out_dir=folder, progress=False)
        >>> out.endswith(".mp4"), note.split(":")[0] == Path(folder).name
        (True, True)
    """
    if path is None or os.fspath(path) == "":
        raise InvalidInputError("no clip was given; upload a short video first.")
    src = Path(path)
    if not src.is_file():
        raise InvalidInputError(f"clip {src.name!r} does not exist or is not a file.")
    colorizer = cache.get(model)
    if on_start is not None:
        on_start()
    folder = Path(tempfile.mkdtemp(prefix="cgan-zoo-demo-", dir=out_dir))
    dst = folder / f"{src.stem}_colorized.mp4"
    start = time.perf_counter()
    with cache.run_lock:
        info = colorize_video(
            src, dst, colorizer=colorizer, progress=progress, smoothing=smoothing
        )
    seconds = time.perf_counter() - start
    width, height = info["size"]
    cuts = len(info["scene_cuts"])
    return str(dst), (
        f"{_short(model)}: {info['frames']} frames of {width}x{height} at {info['fps']:g} fps in "
        f"{seconds:.1f} s; {cuts} scene cut(s); audio {'copied' if info['audio'] else 'none'}."
    )
