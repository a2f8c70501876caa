"""What every generator shares: the :class:`GeneratorLike` interface and :class:`BaseGenerator`.

The pipelines and the trainer read a generator's data contract from six attributes:
``task``, ``ab_scale``, ``stride``, ``in_channels``, ``out_channels`` and
``output_range``. :class:`GeneratorLike` declares them once. The built-in generators get
them from :class:`BaseGenerator`; the fast and exported wrappers
(:class:`~cgan_zoo.export.InferenceModule`, :class:`~cgan_zoo.export.OnnxRuntimeGenerator`)
copy them from the generator they wrap with :func:`generator_attributes`, so none of them
lists the attributes by hand.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch

from .._validation import check_image_tensor, module_dtype
from ..errors import InvalidConfigError
from ..hub import HubModel
from ..layers.factories import activation_range
from ..tasks import check_task, get_task, infer_task

__all__ = [
    "GeneratorLike",
    "GENERATOR_ATTRIBUTES",
    "WRAPPER_ATTRIBUTES",
    "BaseGenerator",
    "check_generator_args",
    "generator_attributes",
    "require_generator_like",
]


@runtime_checkable
class GeneratorLike(Protocol):
    """The interface the pipelines and the trainer read from a generator.

    Every built-in generator satisfies it, and so do the wrappers that
    :func:`~cgan_zoo.export.optimize_for_inference` and
    :func:`~cgan_zoo.export.onnx_generator` return.

    Attributes:
        task: The data contract (a key of :data:`cgan_zoo.tasks.TASKS`).
        ab_scale: Lab a/b values are divided by this to reach [-1, 1].
        stride: H and W of the input must be multiples of this.
        in_channels: Input channels.
        out_channels: Output channels.
        output_range: Closed range ``(low, high)`` of the output values.

    Shape:
        - Input: ``(B, in_channels, H, W)`` with H, W multiples of ``stride``.
        - Output: ``(B, out_channels, H, W)``.

    Example:
        >>> import torch
        >>> from cgan_zoo import create_model
        >>> isinstance(create_model("unet_tiny"), GeneratorLike), isinstance(torch.nn.Identity(), GeneratorLike)
        (True, False)
    """

    task: str
    ab_scale: float
    stride: int
    in_channels: int
    out_channels: int
    output_range: tuple[float, float]

    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...


#: the attributes :class:`GeneratorLike` declares, in declaration order
GENERATOR_ATTRIBUTES: tuple[str, ...] = tuple(GeneratorLike.__annotations__)
#: what :func:`generator_attributes` copies: :data:`GENERATOR_ATTRIBUTES`, then the
#: ``config`` that rebuilds the generator and the optional ``final_activation`` and ``min_input_size``
WRAPPER_ATTRIBUTES: tuple[str, ...] = (
    *GENERATOR_ATTRIBUTES,
    "config",
    "final_activation",
    "min_input_size",
)


def generator_attributes(generator: object) -> dict[str, Any]:
    """The :class:`GeneratorLike` attributes of ``generator`` (and its ``config``), as plain values.

    Wrappers copy these so that they satisfy :class:`GeneratorLike` like the generator
    they wrap. Attributes the generator lacks are left out; dicts are copied.

    Example:
        >>> from cgan_zoo import create_model
        >>> attrs = generator_attributes(create_model("unet_tiny"))
        >>> attrs["task"], attrs["stride"], attrs["in_channels"], "config" in attrs
        ('colorize', 16, 1, True)
    """
    import copy

    values: dict[str, Any] = {}
    for name in WRAPPER_ATTRIBUTES:
        if hasattr(generator, name):
            value = getattr(generator, name)
            values[name] = copy.deepcopy(value) if isinstance(value, dict) else value
    return values


def require_generator_like(generator: object, who: str) -> GeneratorLike:
    """Return ``generator`` if it satisfies :class:`GeneratorLike`, else raise naming what it lacks.

    Raises:
        InvalidConfigError: Listing the missing attributes and how to get a generator.

    Example:
        >>> import torch
        >>> require_generator_like(torch.nn.Identity(), "Colorizer")
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidConfigError: Colorizer needs a generator with the attributes ['task', 'ab_scale', 'stride', 'in_channels', 'out_channels', 'output_range'] (cgan_zoo.models.base.GeneratorLike); Identity lacks ['task', 'ab_scale', 'stride', 'in_channels', 'out_channels', 'output_range']. Use a cgan-zoo generator (create_model or HubModel.from_pretrained), or give the module these attributes.
    """
    if isinstance(generator, GeneratorLike):
        return generator
    missing = [name for name in GENERATOR_ATTRIBUTES if not hasattr(generator, name)]
    raise InvalidConfigError(
        f"{who} needs a generator with the attributes {list(GENERATOR_ATTRIBUTES)} "
        f"(cgan_zoo.models.base.GeneratorLike); {type(generator).__name__} lacks {missing}. "
        "Use a cgan-zoo generator (create_model or HubModel.from_pretrained), or give the "
        "module these attributes."
    )


def _check_int(name: str, value: object, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise InvalidConfigError(f"{name} must be an integer >= {low}, got {value!r}.")


def check_generator_args(
    task: str | None,
    in_channels: object,
    out_channels: object,
    dropout: object,
    ab_scale: object,
    integers: tuple[tuple[str, object, int], ...] = (),
) -> float:
    """Validate the arguments every generator shares; returns ``ab_scale`` as a float.

    ``task=None`` (infer it from the channels) accepts any channel counts; a named task
    must agree with them (see :func:`cgan_zoo.tasks.check_task`). ``integers`` lists
    more ``(name, value, minimum)`` integer arguments of the caller.

    Raises:
        InvalidConfigError: Naming the first bad argument, what was expected and the fix.

    Example:
        >>> check_generator_args("colorize", 1, 2, 0.5, 110, integers=(("num_downs", 8, 2),))
        110.0
        >>> check_generator_args(None, 3, 3, 0.5, 110)
        110.0
        >>> check_generator_args("generic", 3, 0, 0.0, 110)
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidConfigError: out_channels must be an integer >= 1, got 0.
    """
    for name, value, low in (
        ("in_channels", in_channels, 1),
        ("out_channels", out_channels, 1),
        *integers,
    ):
        _check_int(name, value, low)
    if (
        not isinstance(dropout, (int, float))
        or isinstance(dropout, bool)
        or not 0.0 <= float(dropout) < 1.0
    ):
        raise InvalidConfigError(f"dropout must be in [0, 1), got {dropout!r}.")
    if task is not None:
        check_task(task, in_channels, out_channels)  # type: ignore[arg-type]
    if (
        not isinstance(ab_scale, (int, float))
        or isinstance(ab_scale, bool)
        or not float(ab_scale) > 0
    ):
        raise InvalidConfigError(f"ab_scale must be positive, got {ab_scale!r}.")
    return float(ab_scale)


class BaseGenerator(HubModel):
    """Base class of the built-in generators: the data contract and what follows from it.

    It validates the arguments all generators share, stores the :class:`GeneratorLike`
    attributes, and gives :attr:`output_range`, :meth:`optimize_for_inference` and
    :meth:`check_input`. A subclass calls ``super().__init__(...)`` with its shared
    arguments, defines :attr:`stride` and ``forward``, and starts ``forward`` with
    ``self.check_input(x)``.

    Without a ``task`` the generator takes the task its channel counts fit (see
    :func:`cgan_zoo.tasks.infer_task`): 1 → 2 is ``"colorize"``, 2 → 3
    ``"colorize-missing"``, any other counts ``"generic"``. The resolved task is what
    ``config.json`` records.

    Input checks cover type, shape, size and dtype only: they never read tensor values,
    so a forward makes no host-device sync. Pipelines and the trainer check values
    (NaN/Inf) once per call or step with :func:`cgan_zoo._validation.check_finite`.

    Args:
        task: Data contract (a key of :data:`cgan_zoo.tasks.TASKS`), or ``None`` to infer it.
        in_channels: Input channels.
        out_channels: Output channels.
        dropout: Dropout probability, in [0, 1).
        ab_scale: Lab a/b normalisation of the colour contract (see :mod:`cgan_zoo.color`).
        final_activation: Name of the output activation (sets :attr:`output_range`).
        integers: More ``(name, value, minimum)`` integer arguments to validate.

    Shape:
        - Input: ``(B, in_channels, H, W)`` with H, W multiples of :attr:`stride`.
        - Output: ``(B, out_channels, H, W)``.

    Example:
        >>> from cgan_zoo import UNetGenerator
        >>> g = UNetGenerator(in_channels=3, out_channels=3, base_channels=4, num_downs=3)
        >>> isinstance(g, BaseGenerator), g.task, g.config["task"], g.output_range
        (True, 'generic', 'generic', (-1.0, 1.0))
    """

    #: not a model class of its own: :func:`cgan_zoo.hub.model_classes` leaves it out
    _abstract_model = True

    task: str
    ab_scale: float
    in_channels: int
    out_channels: int
    final_activation: str

    def __init__(
        self,
        *,
        task: str | None,
        in_channels: int,
        out_channels: int,
        dropout: float,
        ab_scale: float,
        final_activation: str,
        integers: tuple[tuple[str, object, int], ...] = (),
    ) -> None:
        super().__init__()
        self.ab_scale = check_generator_args(
            task, in_channels, out_channels, dropout, ab_scale, integers
        )
        self.task = (
            get_task(task).name if task is not None else infer_task(in_channels, out_channels)
        )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.final_activation = final_activation
        config = self._hub_mixin_config
        if isinstance(config, dict):  # record the resolved task, so the config rebuilds this model
            config["task"] = self.task

    @property
    def stride(self) -> int:
        """H and W must be divisible by this."""
        raise NotImplementedError(f"{type(self).__name__} must define the stride property")

    @property
    def output_range(self) -> tuple[float, float]:
        """Closed range of the output values, set by ``final_activation``."""
        return activation_range(self.final_activation)

    def optimize_for_inference(self, **kwargs: Any) -> torch.nn.Module:
        """Return a faster module with the same outputs, for CPU inference.

        See :func:`cgan_zoo.export.optimize_for_inference` for the options.
        """
        from ..export.fast import optimize_for_inference

        return optimize_for_inference(self, **kwargs)

    def check_input(self, x: torch.Tensor, *, min_size: int = 1) -> torch.Tensor:
        """Check the type, shape, size and dtype of a forward's input; never its values.

        Raises:
            TypeError: If ``x`` is not a dense floating-point tensor of the weights' dtype.
            InvalidInputError: If the dims, channels or size are wrong, with the fix.

        Example:
            >>> import torch
            >>> from cgan_zoo import create_model
            >>> create_model("unet_tiny").check_input(torch.full((1, 1, 16, 16), float("nan"))).shape
            torch.Size([1, 1, 16, 16])
        """
        return check_image_tensor(
            x,
            name=f"{type(self).__name__} input",
            channels=self.in_channels,
            multiple=self.stride,
            min_size=min_size,
            dtype=module_dtype(self),
            allow_non_finite=True,
        )
