"""Colorize grayscale photos of any size, optionally with missing regions.

The generator runs at a small working resolution (the long side scaled to ``size``,
aspect kept, reflection-padded to the model's stride, never stretched). Only colour is
taken from it: the predicted ``ab`` is upsampled to the photo's full resolution and
recombined with the photo's own full-resolution lightness, so edges and fine texture
stay exactly as sharp as in the input. With a ``"colorize-missing"`` generator the
predicted lightness is used only inside the missing regions.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .._factory import load_generator
from ..color import (
    DEFAULT_AB_SCALE,
    denormalize_ab,
    denormalize_l,
    lab_to_rgb,
    normalize_l,
    rgb_to_lab,
)
from ..errors import InvalidConfigError, InvalidInputError, MissingExtraError
from ..layers.padding import crop_padding, pad_to_multiple
from ..models._contract import masked_generator_input
from .defaults import DEFAULT_INPAINTER
from .images import ImageSpec, image_to_tensor, mask_to_tensor, tensor_to_image
from .memory import MAX_TENSOR_NUMEL, ForwardCost, available_memory, measure_forward_cost

__all__ = ["Colorizer", "load_generator", "resolve_device"]

TASKS = ("colorize", "colorize-missing")
#: forward passes on at most this many pixels (batch x height x width) are not checked
#: against the free memory: they need well under a gigabyte
_CHECK_ABOVE_PIXELS = 2**20
#: share of the free memory a forward pass may use
_MEMORY_HEADROOM = 0.8
_OOM_TYPES: tuple[type[BaseException], ...] = tuple(
    t
    for t in (
        getattr(torch, "OutOfMemoryError", None),
        getattr(torch.cuda, "OutOfMemoryError", None),
    )
    if t
)


def resolve_device(device: str | torch.device) -> torch.device:
    """Turn ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"auto"`` into an available device.

    ``"auto"`` picks CUDA, then MPS, then CPU.

    Raises:
        InvalidInputError: If the device is unknown or not available on this machine.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if isinstance(device, str) and device.strip().lower() == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device.strip().lower() if isinstance(device, str) else device)
    except (RuntimeError, TypeError) as exc:
        raise InvalidInputError(
            f"device={device!r} is not a valid device ({exc}); use 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto'."
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InvalidInputError(
                f"device={device!r} was requested but CUDA is not available on this machine "
                "(torch.cuda.is_available() is False). Use device='cpu' or device='auto'."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InvalidInputError(
                f"device={device!r} was requested but only {torch.cuda.device_count()} CUDA device(s) exist; "
                f"use an index below {torch.cuda.device_count()}."
            )
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise InvalidInputError(
                f"device={device!r} was requested but Apple MPS is not available on this machine. "
                "Use device='cpu' or device='auto'."
            )
    elif dev.type != "cpu":
        raise InvalidInputError(
            f"device={device!r} is not supported; use 'cpu', 'cuda', 'mps' or 'auto'."
        )
    return dev


@dataclass
class _Item:
    """One prepared image: full-resolution L (and mask) plus the working-size model input."""

    lightness: torch.Tensor  # (1, 1, H, W), L in [0, 100]
    mask: torch.Tensor | None  # (1, 1, H, W), 1 = missing
    spec: ImageSpec
    model_input: torch.Tensor  # (1, C_in, h, w), unpadded, normalised

    @property
    def work_shape(self) -> tuple[int, int]:
        return (self.model_input.shape[-2], self.model_input.shape[-1])


class Colorizer:
    """Colorize gray (or RGB) photos of any size with a pix2pix-style generator.

    The generator runs at working size ``size`` (long side, aspect kept, reflection-padded
    to ``generator.stride``). The predicted ``ab`` is cropped, upsampled bilinearly to the
    input's size and combined with the input's own full-resolution Lab lightness, then
    converted to sRGB gamut-safely (:func:`cgan_zoo.color.lab_to_rgb`). RGB inputs are
    reduced to their Lab lightness first, so their colours are ignored.

    With a ``"colorize-missing"`` generator, ``mask`` (255/True = missing) marks pixels
    whose content is unknown: the model sees the masked lightness plus the mask, and its
    predicted lightness fills the holes, while known pixels keep their original
    lightness exactly. Without a mask nothing is treated as missing.

    Args:
        generator: A model with ``task`` ``"colorize"`` or ``"colorize-missing"``, ``stride``
            and ``ab_scale`` (every cgan-zoo generator has them).
        size: Working resolution of the long side, in pixels (at least ``generator.stride``).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"`` or ``"auto"``.
        stochastic: Keep dropout active at test time (the pix2pix paper's noise), so
            repeated calls give different plausible colourings; BatchNorm stays in eval mode.
        batch_size: Images of the same working shape run together in batches this large.
        fast: Run ``generator.optimize_for_inference()`` instead of the generator.
        temperature: The colour-uncertainty knob of colour-bin models
            (:attr:`supports_temperature`), in (0, 1]: the annealed-mean temperature of
            the predicted colour distribution. 1 gives its mean, so colour the model is
            unsure of stays muted (nearly colourless scenes stay nearly colourless);
            smaller values commit to the most likely colours (more vivid, more often
            wrong). ``None`` uses the model's default, stated in its model card. Each
            call can override it.

    Raises:
        TypeError: If ``generator`` is not a torch module.
        InvalidConfigError: For a generator of another task, or bad ``size``/``batch_size``.
        InvalidInputError: If ``device`` is not available.

    Note:
        The generator is moved to ``device`` and its train/eval modes are set in place.

    Example:
        >>> import numpy as np
        >>> from cgan_zoo import create_model
        >>> colorizer = Colorizer(create_model("unet_tiny"), size=64)
        >>> out = colorizer(np.zeros((30, 50), dtype=np.uint8))
        >>> out.shape, out.dtype
        ((30, 50, 3), dtype('uint8'))
    """

    def __init__(
        self,
        generator: nn.Module,
        size: int = 256,
        device: str | torch.device = "cpu",
        stochastic: bool = False,
        batch_size: int = 8,
        fast: bool = False,
        temperature: float | None = None,
    ) -> None:
        if not isinstance(generator, nn.Module):
            raise TypeError(
                f"generator must be a torch.nn.Module, got {type(generator).__name__}. "
                "Use Colorizer.from_pretrained(name_or_folder) to load one."
            )
        task = getattr(generator, "task", None)
        if task not in TASKS:
            raise InvalidConfigError(
                f"Colorizer needs a generator trained for task 'colorize' or 'colorize-missing', "
                f"got task={task!r}. Build one with create_model(name, task='colorize') or load "
                "colorization weights."
            )
        stride = int(getattr(generator, "stride", 1))
        for name, value, low in (("size", size, max(1, stride)), ("batch_size", batch_size, 1)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise InvalidConfigError(f"{name} must be an integer >= {low}, got {value!r}.")
        if stochastic and fast:
            raise InvalidConfigError(
                "stochastic=True and fast=True cannot be combined: the optimized module runs in "
                "deterministic inference mode. Choose one."
            )
        self.generator = generator
        self.task: str = task
        self.stride = stride
        self.ab_scale = float(getattr(generator, "ab_scale", DEFAULT_AB_SCALE))
        self.size = size
        self.batch_size = batch_size
        self.stochastic = bool(stochastic)
        self.fast = bool(fast)
        self.device = resolve_device(device)
        generator.to(self.device)
        self._set_modes()
        if stochastic and not any(
            isinstance(m, nn.modules.dropout._DropoutNd) for m in generator.modules()
        ):
            warnings.warn(
                "stochastic=True has no effect: the generator has no dropout layers.", stacklevel=2
            )
        self._net: nn.Module = self._optimize(generator) if fast else generator
        self._cost: ForwardCost | None = None
        self.temperature = self._check_temperature(temperature)
        # the modules whose annealed-mean temperature a call may set (found once, not per forward)
        found = {id(m): m for net in (generator, self._net) for m in net.modules()}
        self._bin_heads = [m for m in found.values() if getattr(m, "color_head", None) == "bins"]

    @property
    def supports_temperature(self) -> bool:
        """Whether the generator predicts a colour distribution (``color_head="bins"``),
        so that ``temperature`` applies."""
        return getattr(self.generator, "color_head", "regression") == "bins"

    def _check_temperature(self, temperature: float | None) -> float | None:
        if temperature is None:
            return None
        if not self.supports_temperature:
            raise InvalidConfigError(
                f"temperature={temperature!r} needs a colour-bin model (color_head='bins'), but "
                f"{type(self.generator).__name__} predicts one colour per pixel. Load one, for "
                "example Colorizer.from_pretrained('unet_efficientnet_lite0.nature_bins'), or "
                "leave temperature unset."
            )
        from ..color_bins import check_temperature

        return check_temperature(temperature)

    @staticmethod
    def _optimize(generator: nn.Module) -> nn.Module:
        optimize = getattr(generator, "optimize_for_inference", None)
        if optimize is None:
            raise InvalidConfigError(
                f"fast=True needs generator.optimize_for_inference(), which {type(generator).__name__} "
                "does not have; use fast=False."
            )
        try:
            return optimize()
        except MissingExtraError:
            raise
        except ImportError as exc:
            raise InvalidConfigError(
                f"fast=True needs cgan_zoo.export.fast.optimize_for_inference, which could not be "
                f"imported ({exc}). This installation lacks the fast inference path; use fast=False."
            ) from exc

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        *,
        size: int | None = None,
        revision: str | None = None,
        **kwargs: Any,
    ) -> Colorizer:
        """Build a colorizer from pretrained weights.

        Args:
            name_or_path: Anything :func:`cgan_zoo.load_generator` loads: a registered
                pretrained name (``"arch.tag"``), a folder written by ``save_pretrained``,
                a trainer run folder or checkpoint (its EMA generator), or a Hub repo id
                ``"owner/name"``.
            size: Working resolution; defaults to the weights' training ``input_size`` for
                registered weights and 256 otherwise.
            revision: Hub revision, for repo ids.
            **kwargs: Other :class:`Colorizer` arguments (``device``, ``stochastic``,
                ``batch_size``, ``fast``).

        Returns:
            The colorizer.

        Raises:
            InvalidConfigError: For an unknown name.
            WeightsError: If the weights are missing or do not match.

        Example:
            >>> import tempfile
            >>> from cgan_zoo import create_model
            >>> folder = tempfile.mkdtemp()
            >>> create_model("unet_tiny").save_pretrained(folder)
            >>> Colorizer.from_pretrained(folder, size=64).task
            'colorize'
        """
        generator = load_generator(name_or_path, revision=revision)
        if size is None:
            from .._registry import get_pretrained_cfg

            try:
                size = int(get_pretrained_cfg(os.fspath(name_or_path)).input_size)
            except (InvalidConfigError, TypeError):
                size = 256
        return cls(generator, size=size, **kwargs)

    def __repr__(self) -> str:
        return (
            f"Colorizer({type(self.generator).__name__}, task={self.task!r}, size={self.size}, "
            f"device={str(self.device)!r}, stochastic={self.stochastic}, batch_size={self.batch_size}, "
            f"fast={self.fast}, temperature={self.temperature})"
        )

    # ------------------------------------------------------------------ public API

    def __call__(self, image: Any, mask: Any = None, *, temperature: float | None = None) -> Any:
        """Colorize one image.

        Args:
            image: PIL image, numpy array ``(H, W)``/``(H, W, 1)``/``(H, W, 3)`` (uint8,
                uint16 or float in [0, 1]) or float tensor ``(1, H, W)``/``(3, H, W)`` in [0, 1].
            mask: Optional missing-region mask of the same H×W (255/True = missing); only
                for ``"colorize-missing"`` generators.
            temperature: Overrides the colorizer's ``temperature`` for this call.

        Returns:
            The RGB result, exactly H×W, in the input's kind: PIL ``RGB`` image, numpy
            ``(H, W, 3)`` of the input dtype, or float tensor ``(3, H, W)``.

        Raises:
            TypeError: For non-image inputs or unsupported dtypes.
            InvalidInputError: For bad shapes/values, a mask of another size, or a mask
                given to a ``"colorize"`` generator.
            InvalidConfigError: If the forward pass at this ``size`` (and ``batch_size``)
                would not fit in the device's free memory; the message names a size that fits.

        Shape:
            - image (tensor): ``(1, H, W)`` or ``(3, H, W)``; returns ``(3, H, W)``.

        Example:
            >>> import torch
            >>> from cgan_zoo import create_model
            >>> Colorizer(create_model("unet_tiny"), size=32)(torch.rand(1, 20, 24)).shape
            torch.Size([3, 20, 24])
        """
        return self.colorize_batch([image], None if mask is None else [mask], temperature=temperature)[0]

    def colorize_batch(
        self,
        images: Sequence[Any],
        masks: Sequence[Any] | None = None,
        *,
        temperature: float | None = None,
    ) -> list[Any]:
        """Colorize several images, running same-shape working images in batches.

        Args:
            images: A list of images (any accepted kinds and sizes, mixed).
            masks: ``None``, or a list as long as ``images`` whose entries are masks or ``None``.
            temperature: Overrides the colorizer's ``temperature`` for this call.

        Returns:
            A list of results, each as :meth:`__call__` returns it.

        Example:
            >>> import numpy as np
            >>> from cgan_zoo import create_model
            >>> c = Colorizer(create_model("unet_tiny"), size=32)
            >>> [o.shape for o in c.colorize_batch([np.zeros((16, 16)), np.ones((8, 12, 3))])]
            [(16, 16, 3), (8, 12, 3)]
        """
        t = self._check_temperature(temperature)
        items = self._prepare_all(images, masks)
        with torch.no_grad():
            return [
                tensor_to_image(lab_to_rgb(lab), item.spec)
                for item, lab in zip(items, self._run(items, temperature=t))
            ]

    def predict_lab(
        self, image: Any, mask: Any = None, *, temperature: float | None = None
    ) -> torch.Tensor:
        """The full-resolution Lab result before conversion to RGB.

        Channel 0 is the input's own lightness (the predicted lightness inside missing
        regions); channels 1-2 are the upsampled predicted a, b.

        Shape:
            - returns: ``(3, H, W)`` with L in [0, 100], on the colorizer's device.

        Example:
            >>> import numpy as np
            >>> from cgan_zoo import create_model
            >>> lab = Colorizer(create_model("unet_tiny"), size=32).predict_lab(np.full((8, 8), 255, np.uint8))
            >>> lab.shape, round(float(lab[0].mean()))
            (torch.Size([3, 8, 8]), 100)
        """
        t = self._check_temperature(temperature)
        items = self._prepare_all([image], None if mask is None else [mask])
        return self._run(items, temperature=t)[0][0]

    # ------------------------------------------------------------------ internals

    def _set_modes(self) -> None:
        self.generator.eval()
        if self.stochastic:
            for module in self.generator.modules():
                if isinstance(module, nn.modules.dropout._DropoutNd):
                    module.train()

    def _prepare_all(self, images: Sequence[Any], masks: Sequence[Any] | None) -> list[_Item]:
        if isinstance(images, (str, bytes)) or not isinstance(images, Sequence):
            raise TypeError(
                f"images must be a list of images, got {type(images).__name__}; "
                "call the colorizer directly for a single image."
            )
        if len(images) == 0:
            raise InvalidInputError("images is an empty list; pass at least one image.")
        if masks is not None:
            if (
                isinstance(masks, (str, bytes))
                or not isinstance(masks, Sequence)
                or len(masks) != len(images)
            ):
                got = len(masks) if isinstance(masks, Sequence) else type(masks).__name__
                raise InvalidInputError(
                    f"masks must be None or a list with one entry (mask or None) per image: "
                    f"got {got} for {len(images)} image(s). Pass None for images without holes."
                )
        names = [f"image {i}" if len(images) > 1 else "image" for i in range(len(images))]
        return [
            self._prepare(img, None if masks is None else masks[i], name=names[i])
            for i, img in enumerate(images)
        ]

    def _working_size(self, h: int, w: int) -> tuple[int, int]:
        scale = self.size / max(h, w)
        return max(1, round(h * scale)), max(1, round(w * scale))

    def _prepare(self, image: Any, mask: Any = None, *, name: str = "image") -> _Item:
        x, spec = image_to_tensor(image, name=name)
        if mask is not None and self.task != "colorize-missing":
            raise InvalidInputError(
                f"a mask was given but this generator (task {self.task!r}) was not trained for missing "
                f"regions. Use an inpainting colorizer such as {DEFAULT_INPAINTER!r} (any generator "
                "with task='colorize-missing'), or drop the mask."
            )
        full_mask = None
        if mask is not None:
            full_mask = mask_to_tensor(mask, spec.size, name=f"mask of {name}").to(self.device)
        x = x.to(self.device, torch.float32)
        rgb = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        with torch.no_grad():
            lightness = rgb_to_lab(rgb)[:, :1]
            return _Item(lightness, full_mask, spec, self._model_input(lightness, full_mask))

    def _padded(self, side: int) -> int:
        return -(-side // self.stride) * self.stride

    def check_fits(self, batch: int, height: int, width: int) -> None:
        """Raise a clear error if a forward pass on ``(batch, C, height, width)`` would not fit.

        The cost per pixel is measured once, on a small input (see
        :func:`cgan_zoo.pipelines.memory.measure_forward_cost`), and compared with the
        device's free memory and with the largest tensor the kernels can index.

        Raises:
            InvalidConfigError: Naming the largest ``size`` (or ``batch_size``) that fits.

        Example:
            >>> from cgan_zoo import create_model
            >>> Colorizer(create_model("unet_tiny"), size=64).check_fits(1, 64, 64)  # fits: no error
        """
        pixels = batch * height * width
        if pixels <= _CHECK_ABOVE_PIXELS:
            return
        if self._cost is None:
            in_channels = int(getattr(self.generator, "in_channels", 1))
            self._cost = measure_forward_cost(self.generator, in_channels, self.stride)
        available = available_memory(self.device)
        budget = None if available is None else _MEMORY_HEADROOM * available
        max_pixels = self._cost.max_pixels(budget)
        if pixels <= max_pixels:
            return
        need = self._cost.peak_bytes(batch, height, width)
        if available is not None and budget is not None and need > budget:
            why = (
                f"needs about {need / 2**30:.1f} GiB, but {available / 2**30:.1f} GiB is free on "
                f"{self.device}"
            )
        else:
            why = (
                f"makes a tensor of about {self._cost.largest_numel(batch, height, width):.3g} "
                f"elements, more than the {MAX_TENSOR_NUMEL + 1:.3g} that the kernels can index"
            )
        single = height * width
        fixes = []
        if batch > 1 and single <= max_pixels:
            fixes.append(f"batch_size={max(1, int(max_pixels // single))} (--batch-size)")
        fitting = int(self.size * math.sqrt(max_pixels / single) * 0.95) // self.stride * self.stride
        if fitting >= self.stride:
            fixes.append(f"size={fitting} or less (--size {fitting})")
        else:
            fixes.append("a device with more memory")
        raise InvalidConfigError(
            f"running the generator at size={self.size} on a batch of shape "
            f"({batch}, {getattr(self.generator, 'in_channels', 1)}, {height}, {width}) {why}. "
            f"Use {' or '.join(fixes)}."
        )

    def _model_input(self, lightness: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        h, w = lightness.shape[-2:]
        wh, ww = self._working_size(h, w)
        self.check_fits(1, self._padded(wh), self._padded(ww))
        light = (
            lightness
            if mask is None
            else torch.where(mask > 0.5, torch.full_like(lightness, 50.0), lightness)
        )
        if (wh, ww) != (h, w):
            light = F.interpolate(
                light, size=(wh, ww), mode="bilinear", align_corners=False, antialias=wh < h
            )
        light = normalize_l(light)
        if self.task != "colorize-missing":
            return light
        if mask is None:
            work_mask = torch.zeros_like(light)
        else:
            work_mask = (F.interpolate(mask, size=(wh, ww), mode="nearest") > 0.5).to(light.dtype)
        return masked_generator_input(light, work_mask)

    def _infer(
        self, items: Sequence[_Item], temperature: float | None = None
    ) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        """Run the generator; returns per item the working-size ``(ab, L or None)`` in [-1, 1]."""
        results: list[tuple[torch.Tensor, torch.Tensor | None] | None] = [None] * len(items)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, item in enumerate(items):
            groups.setdefault(item.work_shape, []).append(i)
        for indices in groups.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start : start + self.batch_size]
                x = torch.cat([items[i].model_input for i in chunk])
                self.check_fits(len(chunk), self._padded(x.shape[-2]), self._padded(x.shape[-1]))
                padded, padding = pad_to_multiple(x, self.stride)
                out = crop_padding(self._forward(padded, temperature), padding).float()
                for j, i in enumerate(chunk):
                    o = out[j : j + 1]
                    results[i] = (o, None) if self.task == "colorize" else (o[:, 1:3], o[:, :1])
        return results  # type: ignore[return-value]

    def _forward(self, x: torch.Tensor, temperature: float | None = None) -> torch.Tensor:
        self._set_modes()
        t = self.temperature if temperature is None else temperature
        restore: list[tuple[Any, float]] = []
        if t is not None:
            for module in self._bin_heads:
                bins: Any = module
                restore.append((bins, bins.temperature))
                bins.temperature = t
        try:
            with torch.no_grad():
                return self._net(x)
        except RuntimeError as exc:
            text = str(exc).lower()
            if not (
                isinstance(exc, _OOM_TYPES)
                or "out of memory" in text
                or "can't allocate memory" in text  # the CPU allocator's wording
            ):
                raise
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            raise InvalidConfigError(
                f"ran out of memory on {self.device} running the generator on a batch of shape "
                f"{tuple(x.shape)} (size={self.size}, batch_size={self.batch_size}). Use a smaller "
                f"size (for example size={max(self.stride, self.size // 2)}), a smaller batch_size "
                "(for example 1), or device='cpu'."
            ) from exc
        finally:
            for module, value in restore:
                module.temperature = value

    def _compose(
        self, item: _Item, ab: torch.Tensor, lightness: torch.Tensor | None
    ) -> torch.Tensor:
        """Full-resolution Lab ``(1, 3, H, W)`` from working-size predictions."""
        size = tuple(item.lightness.shape[-2:])
        with torch.no_grad():
            if tuple(ab.shape[-2:]) != size:
                ab = F.interpolate(ab, size=size, mode="bilinear", align_corners=False)
            light = item.lightness
            if item.mask is not None and lightness is not None and bool(item.mask.any()):
                if tuple(lightness.shape[-2:]) != size:
                    lightness = F.interpolate(
                        lightness, size=size, mode="bilinear", align_corners=False
                    )
                light = torch.where(item.mask > 0.5, denormalize_l(lightness), light)
            return torch.cat([light, denormalize_ab(ab, self.ab_scale)], dim=1)

    def _run(self, items: Sequence[_Item], temperature: float | None = None) -> list[torch.Tensor]:
        return [
            self._compose(item, ab, light)
            for item, (ab, light) in zip(items, self._infer(items, temperature))
        ]
