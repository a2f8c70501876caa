"""Colorize grayscale photos of any size, optionally with missing regions.

The generator runs at a small working resolution (the long side scaled to ``size``,
aspect kept, reflection-padded to the model's stride, never stretched). Only colour is
taken from it: the predicted ``ab`` is upsampled to the photo's full resolution and
recombined with the photo's own full-resolution lightness, so edges and fine texture
stay exactly as sharp as in the input. With a ``"colorize-missing"`` generator the
predicted lightness is used only inside the missing regions.

A call runs three public stages, which callers that post-process colour (the video
pipeline's temporal smoothing) run themselves:

1. :meth:`Colorizer.prepare` checks one image (and mask), once, and makes a
   :class:`PreparedImage`: the full-resolution lightness and the working-size
   generator input;
2. :meth:`Colorizer.infer` runs the generator on a list of them, batched by working
   shape, and returns one :class:`Prediction` (working-size ``ab``, and lightness for
   missing regions) each;
3. :meth:`Colorizer.compose` (or :meth:`Colorizer.compose_lab`) upsamples a prediction
   and joins it to the image's own lightness, in the input's kind.

Example:
    >>> import numpy as np
    >>> from cgan_zoo import create_model
    >>> c = Colorizer(create_model("unet_tiny"), size=32)
    >>> photos = [np.zeros((20, 30), np.uint8), np.zeros((40, 40), np.uint8)]
    >>> prepared = [c.prepare(p) for p in photos]
    >>> results = [c.compose(p, out) for p, out in zip(prepared, c.infer(prepared))]
    >>> [r.shape for r in results]
    [(20, 30, 3), (40, 40, 3)]
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
    denormalize_ab,
    denormalize_l,
    lab_to_rgb,
    normalize_l,
    rgb_to_lab,
)
from ..errors import InvalidConfigError, InvalidInputError, MissingExtraError
from ..layers.padding import crop_padding, pad_to_multiple
from ..models._contract import masked_generator_input
from ..models.base import require_generator_like
from ..tasks import COLORIZATION_TASKS, check_colorization_task
from .defaults import DEFAULT_INPAINTER
from .images import ImageSpec, image_to_tensor, mask_to_tensor, tensor_to_image
from .memory import MAX_TENSOR_NUMEL, ForwardCost, available_memory, measure_forward_cost

__all__ = ["Colorizer", "PreparedImage", "Prediction", "load_generator", "resolve_device"]

TASKS = COLORIZATION_TASKS
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


@dataclass(frozen=True, eq=False)
class PreparedImage:
    """One image made ready for the generator by :meth:`Colorizer.prepare`.

    It holds what the later stages need: the working-size generator input for
    :meth:`Colorizer.infer`, and the full-resolution lightness, mask and input kind for
    :meth:`Colorizer.compose`. All tensors are on the colorizer's device.

    Attributes:
        lightness: The input's own Lab lightness at full resolution, L in [0, 100].
        mask: The missing-region mask at full resolution (1 = missing, 0 = known), or
            ``None`` when no mask was given.
        spec: How the input looked (PIL, numpy or tensor; size; dtype), so the result
            comes back in the same kind.
        model_input: The generator's input at working size, normalised to [-1, 1] and
            not yet padded to the stride: the lightness (``C_in = 1``), or for a
            ``"colorize-missing"`` generator the masked lightness and the working-size
            mask (``C_in = 2``).

    Shape:
        - lightness: ``(1, 1, H, W)``.
        - mask: ``(1, 1, H, W)`` or ``None``.
        - model_input: ``(1, C_in, h, w)`` with ``(h, w)`` the working size
          (:attr:`work_shape`): the long side scaled to ``Colorizer.size``, aspect kept.

    Example:
        >>> import numpy as np
        >>> from cgan_zoo import create_model
        >>> prepared = Colorizer(create_model("unet_tiny"), size=32).prepare(np.zeros((30, 60), np.uint8))
        >>> prepared.size, prepared.work_shape, tuple(prepared.model_input.shape)
        ((30, 60), (16, 32), (1, 1, 16, 32))
    """

    lightness: torch.Tensor
    mask: torch.Tensor | None
    spec: ImageSpec
    model_input: torch.Tensor

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)``, the full resolution of the input and of the result."""
        return (self.lightness.shape[-2], self.lightness.shape[-1])

    @property
    def work_shape(self) -> tuple[int, int]:
        """``(h, w)``, the working size the generator runs at (before stride padding)."""
        return (self.model_input.shape[-2], self.model_input.shape[-1])


@dataclass(frozen=True, eq=False)
class Prediction:
    """What the generator predicted for one image, at working size (:meth:`Colorizer.infer`).

    Values are in the model's normalised units, [-1, 1]: ``ab * ab_scale`` gives Lab a, b
    and ``(lightness + 1) * 50`` gives L (:mod:`cgan_zoo.color`). Change them before
    :meth:`Colorizer.compose` to post-process colour at working size, as the video
    pipeline's temporal smoothing does (:func:`dataclasses.replace` makes the copy).

    Attributes:
        ab: The predicted colour.
        lightness: The predicted lightness, used inside missing regions; ``None`` for a
            ``"colorize"`` generator.

    Shape:
        - ab: ``(1, 2, h, w)``.
        - lightness: ``(1, 1, h, w)`` or ``None``.

    Example:
        >>> import numpy as np
        >>> from cgan_zoo import create_model
        >>> c = Colorizer(create_model("unet_tiny"), size=32)
        >>> [prediction] = c.infer([c.prepare(np.zeros((30, 60), np.uint8))])
        >>> tuple(prediction.ab.shape), prediction.lightness
        ((1, 2, 16, 32), None)
    """

    ab: torch.Tensor
    lightness: torch.Tensor | None = None


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

    :meth:`__call__`, :meth:`colorize_batch` and :meth:`predict_lab` are built from the
    three stages :meth:`prepare` → :meth:`infer` → :meth:`compose` (see the module docs),
    which are public for callers that work on the predicted colour in between.

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
        contract = require_generator_like(generator, "Colorizer")
        task = check_colorization_task(contract.task)
        stride = int(contract.stride)
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
        self.in_channels = int(contract.in_channels)
        self.ab_scale = float(contract.ab_scale)
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

    # ------------------------------------------------------------------ one call

    def __call__(self, image: Any, mask: Any = None, *, temperature: float | None = None) -> Any:
        """Colorize one image.

        The same as :meth:`prepare`, :meth:`infer` and :meth:`compose` in a row.

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
            InvalidInputError: For bad shapes/values (NaN or Inf included), a mask of
                another size, or a mask given to a ``"colorize"`` generator.
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
        return self.colorize_batch(
            [image], None if mask is None else [mask], temperature=temperature
        )[0]

    def colorize_batch(
        self,
        images: Sequence[Any],
        masks: Sequence[Any] | None = None,
        *,
        temperature: float | None = None,
    ) -> list[Any]:
        """Colorize several images, running same-shape working images in batches.

        The same as :meth:`prepare` on each image, one :meth:`infer` on them all, and
        :meth:`compose` on each.

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
        prepared = self._prepare_many(images, masks)
        predictions = self.infer(prepared, temperature=t)
        return [self.compose(p, out) for p, out in zip(prepared, predictions)]

    def predict_lab(
        self, image: Any, mask: Any = None, *, temperature: float | None = None
    ) -> torch.Tensor:
        """The full-resolution Lab result before conversion to RGB.

        Channel 0 is the input's own lightness (the predicted lightness inside missing
        regions); channels 1-2 are the upsampled predicted a, b. The same as
        :meth:`prepare`, :meth:`infer` and :meth:`compose_lab` in a row.

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
        [prepared] = self._prepare_many([image], None if mask is None else [mask])
        [prediction] = self.infer([prepared], temperature=t)
        return self.compose_lab(prepared, prediction)[0]

    # ------------------------------------------------------------------ stages

    def prepare(self, image: Any, mask: Any = None, *, name: str = "image") -> PreparedImage:
        """Stage 1 of 3: check an image (and mask) and make the generator's input.

        The input is validated here, once per image (kinds, shapes, dtypes, and that
        float values are finite and in [0, 1]): the generator's forward does not check
        values again. RGB inputs are reduced to their Lab lightness; the lightness is
        resized to the working size (long side ``size``, aspect kept).

        Args:
            image: An image of any kind :meth:`__call__` accepts.
            mask: Optional missing-region mask of the same H×W (255/True = missing); only
                for ``"colorize-missing"`` generators.
            name: What error messages call the image (``"frame 12"``).

        Returns:
            The :class:`PreparedImage`, on the colorizer's device.

        Raises:
            TypeError: For non-image inputs or unsupported dtypes.
            InvalidInputError: For bad shapes/values (NaN or Inf included), a mask of
                another size, or a mask given to a ``"colorize"`` generator.
            InvalidConfigError: If the forward pass at this size would not fit in memory.

        Shape:
            - image (tensor): ``(1, H, W)`` or ``(3, H, W)``; see :class:`PreparedImage`
              for the shapes it holds.

        Example:
            >>> import numpy as np
            >>> from cgan_zoo import create_model
            >>> c = Colorizer(create_model("unet_tiny"), size=64)
            >>> c.prepare(np.zeros((100, 300), np.uint8)).work_shape  # aspect kept
            (21, 64)
        """
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
            return PreparedImage(
                lightness, full_mask, spec, self._model_input(lightness, full_mask)
            )

    def infer(
        self, prepared: Sequence[PreparedImage], *, temperature: float | None = None
    ) -> list[Prediction]:
        """Stage 2 of 3: run the generator on prepared images, in batches.

        Images of the same working shape run together, ``batch_size`` at a time; each
        batch is reflection-padded to the stride and the padding cropped off again.

        Args:
            prepared: Images from :meth:`prepare` (any sizes, mixed).
            temperature: Overrides the colorizer's ``temperature`` for this call.

        Returns:
            One :class:`Prediction` per image, in order, at its working size.

        Raises:
            TypeError: If ``prepared`` is not a sequence of :class:`PreparedImage`.
            InvalidConfigError: If a batch would not fit in memory, or for a bad
                ``temperature``.

        Shape:
            - returns: per image ``ab`` ``(1, 2, h, w)`` (and ``lightness``
              ``(1, 1, h, w)`` for ``"colorize-missing"``) at its working size.

        Example:
            >>> import numpy as np
            >>> from cgan_zoo import create_model
            >>> c = Colorizer(create_model("unet_tiny"), size=32)
            >>> prepared = [c.prepare(np.zeros((16, 16), np.uint8)), c.prepare(np.zeros((8, 16), np.uint8))]
            >>> [tuple(p.ab.shape) for p in c.infer(prepared)]
            [(1, 2, 32, 32), (1, 2, 16, 32)]
        """
        if isinstance(prepared, PreparedImage) or not isinstance(prepared, Sequence):
            raise TypeError(
                f"infer needs a list of PreparedImage, got {type(prepared).__name__}; "
                "wrap a single one in a list: colorizer.infer([prepared])."
            )
        for i, item in enumerate(prepared):
            if not isinstance(item, PreparedImage):
                raise TypeError(
                    f"prepared[{i}] is a {type(item).__name__}, not a PreparedImage; "
                    "make it with colorizer.prepare(image)."
                )
        t = self._check_temperature(temperature)
        results: list[Prediction | None] = [None] * len(prepared)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, item in enumerate(prepared):
            groups.setdefault(item.work_shape, []).append(i)
        for indices in groups.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start : start + self.batch_size]
                x = torch.cat([prepared[i].model_input for i in chunk])  # (b, C_in, h, w)
                self.check_fits(len(chunk), self._padded(x.shape[-2]), self._padded(x.shape[-1]))
                padded, padding = pad_to_multiple(x, self.stride)
                out = crop_padding(self._forward(padded, t), padding).float()
                for j, i in enumerate(chunk):
                    o = out[j : j + 1]
                    results[i] = (
                        Prediction(o)
                        if self.task == "colorize"
                        else Prediction(ab=o[:, 1:3], lightness=o[:, :1])
                    )
        return results  # type: ignore[return-value]

    def compose_lab(self, prepared: PreparedImage, prediction: Prediction) -> torch.Tensor:
        """Stage 3 of 3, in Lab: the full-resolution Lab result of one image.

        The predicted ``ab`` is upsampled bilinearly to the input's size and joined to
        the input's own lightness; inside the mask's missing regions the upsampled
        predicted lightness replaces it.

        Args:
            prepared: The image, from :meth:`prepare`.
            prediction: Its prediction, from :meth:`infer` (possibly changed).

        Returns:
            The Lab image, L in [0, 100], on the colorizer's device.

        Shape:
            - returns: ``(1, 3, H, W)``.

        Example:
            >>> import numpy as np
            >>> from cgan_zoo import create_model
            >>> c = Colorizer(create_model("unet_tiny"), size=32)
            >>> prepared = c.prepare(np.zeros((30, 60), np.uint8))
            >>> c.compose_lab(prepared, c.infer([prepared])[0]).shape
            torch.Size([1, 3, 30, 60])
        """
        size = prepared.size
        ab, lightness = prediction.ab, prediction.lightness
        with torch.no_grad():
            if tuple(ab.shape[-2:]) != size:
                ab = F.interpolate(ab, size=size, mode="bilinear", align_corners=False)
            light = prepared.lightness
            if prepared.mask is not None and lightness is not None and bool(prepared.mask.any()):
                if tuple(lightness.shape[-2:]) != size:
                    lightness = F.interpolate(
                        lightness, size=size, mode="bilinear", align_corners=False
                    )
                light = torch.where(prepared.mask > 0.5, denormalize_l(lightness), light)
            return torch.cat([light, denormalize_ab(ab, self.ab_scale)], dim=1)

    def compose(self, prepared: PreparedImage, prediction: Prediction) -> Any:
        """Stage 3 of 3: the RGB result of one image, in the input's kind.

        :meth:`compose_lab`, converted to sRGB gamut-safely
        (:func:`cgan_zoo.color.lab_to_rgb`) and returned like the input was given
        (8-bit results are rounded with :func:`cgan_zoo.color.to_uint8`).

        Args:
            prepared: The image, from :meth:`prepare`.
            prediction: Its prediction, from :meth:`infer` (possibly changed).

        Returns:
            What :meth:`__call__` returns: PIL ``RGB`` image, numpy ``(H, W, 3)`` of the
            input dtype, or float tensor ``(3, H, W)``.

        Shape:
            - returns (tensor input): ``(3, H, W)``.

        Example:
            >>> import numpy as np
            >>> from cgan_zoo import create_model
            >>> c = Colorizer(create_model("unet_tiny"), size=32)
            >>> prepared = c.prepare(np.zeros((30, 60), np.uint8))
            >>> out = c.compose(prepared, c.infer([prepared])[0])
            >>> out.shape, out.dtype
            ((30, 60, 3), dtype('uint8'))
        """
        with torch.no_grad():
            return tensor_to_image(
                lab_to_rgb(self.compose_lab(prepared, prediction)), prepared.spec
            )

    # ------------------------------------------------------------------ internals

    def _set_modes(self) -> None:
        self.generator.eval()
        if self.stochastic:
            for module in self.generator.modules():
                if isinstance(module, nn.modules.dropout._DropoutNd):
                    module.train()

    def _prepare_many(
        self, images: Sequence[Any], masks: Sequence[Any] | None
    ) -> list[PreparedImage]:
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
            self.prepare(img, None if masks is None else masks[i], name=names[i])
            for i, img in enumerate(images)
        ]

    def _working_size(self, h: int, w: int) -> tuple[int, int]:
        scale = self.size / max(h, w)
        return max(1, round(h * scale)), max(1, round(w * scale))

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
            in_channels = self.in_channels
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
        fitting = (
            int(self.size * math.sqrt(max_pixels / single) * 0.95) // self.stride * self.stride
        )
        if fitting >= self.stride:
            fixes.append(f"size={fitting} or less (--size {fitting})")
        else:
            fixes.append("a device with more memory")
        raise InvalidConfigError(
            f"running the generator at size={self.size} on a batch of shape "
            f"({batch}, {self.in_channels}, {height}, {width}) {why}. "
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
