"""Faster CPU inference with the same outputs: BatchNorm folding, channels-last, compile.

:func:`optimize_for_inference` returns an :class:`InferenceModule` that wraps an
eval-mode copy of a generator and applies, in order:

1. *Static "same" padding.* timm's TensorFlow-style ``Conv2dSame`` layers compute
   their padding from the input size at every call. For inputs divisible by the
   conv's stride (always true for a generator's valid inputs) that padding is a
   constant, so the layer becomes ``ZeroPad2d`` + a plain ``Conv2d``. This is exact,
   and it keeps symbolic shapes simple for ``torch.export`` and ``torch.compile``.
2. *BatchNorm folding* (:func:`fold_batchnorm`): an eval-mode ``BatchNorm2d`` that
   reads only the output of a ``Conv2d`` or ``ConvTranspose2d`` is merged into that
   conv's weight and bias.
3. *channels-last* memory format for weights and inputs (faster oneDNN convs).
4. ``torch.inference_mode`` around every call.
5. ``torch.compile`` with Inductor *freezing* (weights become constants, so
   Inductor constant-folds and pre-packs them). The model is first captured with
   ``torch.export`` (H and W dynamic as multiples of the model's stride), so the
   compiled graph has no graph break at the input checks; the checks run eagerly in
   :meth:`InferenceModule.forward` instead. If compiling fails (no C++ compiler, an
   unsupported platform) the module falls back to eager with a warning.

Compile cache:
    Inductor's FX graph cache is on by default in torch >= 2.5; compiled artefacts
    live under ``$TORCHINDUCTOR_CACHE_DIR`` (default ``/tmp/torchinductor_$USER``).
    Pass ``cache_dir=`` to :func:`optimize_for_inference` to set that variable for
    the process (it is process-wide, as Inductor reads it globally); a second run
    with the same model, shapes and torch version then skips most of the compile.
"""

from __future__ import annotations

import contextlib
import copy
import os
import time
import warnings
from typing import Any

import torch
from torch import nn

from .._validation import check_image_tensor
from ..errors import InvalidConfigError
from ..models.base import WRAPPER_ATTRIBUTES, generator_attributes

__all__ = ["optimize_for_inference", "fold_batchnorm", "InferenceModule"]

#: attributes of the wrapped generator that :class:`InferenceModule` exposes as plain values:
#: the :class:`~cgan_zoo.models.base.GeneratorLike` ones and ``config``, declared there once
FORWARDED_ATTRIBUTES = WRAPPER_ATTRIBUTES

_SAME_PAD_CONVS = ("Conv2dSame", "Conv2dSameExport")
_BN_ACT_CLASSES = ("BatchNormAct2d", "SyncBatchNormAct")


# --------------------------------------------------------------------------- helpers


def model_stride(model: nn.Module) -> int:
    """The multiple that H and W must have for ``model`` (1 if it declares none)."""
    stride = getattr(model, "stride", 1)
    return int(stride) if isinstance(stride, int) and stride > 0 else 1


def round_to_stride(size: int, stride: int) -> int:
    """Round ``size`` up to a positive multiple of ``stride``.

    Example:
        >>> round_to_stride(250, 32), round_to_stride(10, 256)
        (256, 256)
    """
    return max(stride, -(-int(size) // stride) * stride)


def min_side(model: nn.Module) -> int:
    """The smallest H and W that ``model`` accepts: its stride, or its ``min_input_size`` rounded up to it."""
    stride = model_stride(model)
    low = getattr(model, "min_input_size", 1)
    return round_to_stride(max(stride, low if isinstance(low, int) else 1), stride)


def _probe_input(model: nn.Module, size: int | None = None) -> torch.Tensor:
    """A small valid input for ``model``: batch 1, ``in_channels``, a multiple of its stride."""
    stride = model_stride(model)
    side = round_to_stride(max(size or stride, min_side(model)), stride)
    channels = int(getattr(model, "in_channels", 3))
    param = next(iter(model.parameters()), None)
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    device = param.device if param is not None else torch.device("cpu")
    return torch.randn(1, channels, side, side, dtype=dtype, device=device)


def _set_submodule(root: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, leaf = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, leaf, module)


def _run_probe(model: nn.Module, x: torch.Tensor, *modes: Any, fake: bool = True) -> None:
    """Run ``model(x)`` to observe its data flow, with fake tensors when ``fake``.

    Fake tensors (``FakeTensorMode``) give the same module calls and shapes without
    computing anything, so probing a large model costs milliseconds.
    """
    with contextlib.ExitStack() as stack:
        stack.enter_context(torch.no_grad())
        if fake:
            from torch._subclasses.fake_tensor import FakeTensorMode

            fake_mode = stack.enter_context(FakeTensorMode(allow_non_fake_inputs=True))
            x = fake_mode.from_tensor(x)
        for mode in modes:
            stack.enter_context(mode)
        model(x)


def _probe(model: nn.Module, x: torch.Tensor, make_modes: Any, reset: Any) -> None:
    """:func:`_run_probe` with fake tensors, or with real ones if an op has no fake kernel."""
    try:
        _run_probe(model, x, *make_modes(), fake=True)
    except Exception:  # an op without a fake implementation: compute for real
        reset()
        _run_probe(model, x, *make_modes(), fake=False)


def _record_calls(model: nn.Module, x: torch.Tensor, types: tuple[type, ...]):
    """Run ``model(x)`` once and record, per module of ``types``, its inputs and output."""
    records: dict[str, list[tuple[torch.Tensor, torch.Tensor]]] = {}
    handles = []
    for name, module in model.named_modules():
        if isinstance(module, types):

            def hook(mod, args, output, _name=name):
                records.setdefault(_name, []).append((args[0] if args else None, output))

            handles.append(module.register_forward_hook(hook))
    return records, handles


class _UseCounter(torch.overrides.TorchFunctionMode):
    """Count how many tensor-producing torch calls read each tensor (by identity)."""

    def __init__(self) -> None:
        super().__init__()
        self.uses: dict[int, int] = {}
        self.alive: list[torch.Tensor] = []  # keep ids unique during the probe

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        leaves = torch.utils._pytree.tree_leaves(out)
        if any(isinstance(leaf, torch.Tensor) for leaf in leaves):  # skip .shape, .dim(), bool(...)
            for arg in torch.utils._pytree.tree_leaves((args, kwargs)):
                if isinstance(arg, torch.Tensor):
                    self.uses[id(arg)] = self.uses.get(id(arg), 0) + 1
                    self.alive.append(arg)
            self.alive.extend(leaf for leaf in leaves if isinstance(leaf, torch.Tensor))
        return out


# --------------------------------------------------------------------------- transforms


def static_same_padding(model: nn.Module, example_input: torch.Tensor | None = None) -> int:
    """Replace timm ``Conv2dSame`` layers by ``ZeroPad2d`` + ``Conv2d``, in place.

    For an input divisible by the conv's stride, TensorFlow "same" padding does not
    depend on the input size, so the replacement is exact for every valid input of
    the model. A layer whose probe input is not divisible by its stride is kept.

    Args:
        model: The model to change in place.
        example_input: A valid input; defaults to the smallest valid size.

    Returns:
        How many layers were replaced.
    """
    if not any(type(m).__name__ in _SAME_PAD_CONVS for m in model.modules()):
        return 0
    example_input = _probe_input(model) if example_input is None else example_input
    sizes: dict[str, tuple[int, int]] = {}
    handles = []
    for name, module in model.named_modules():
        if type(module).__name__ in _SAME_PAD_CONVS and isinstance(module, nn.Conv2d):

            def pre_hook(mod, args, _name=name):
                sizes[_name] = tuple(args[0].shape[-2:])

            handles.append(module.register_forward_pre_hook(pre_hook))
    try:
        _probe(model, example_input, lambda: (), sizes.clear)
    finally:
        for h in handles:
            h.remove()
    replaced = 0
    for name, (ih, iw) in sizes.items():
        conv = model.get_submodule(name)
        (sh, sw), (kh, kw), (dh, dw) = conv.stride, conv.kernel_size, conv.dilation
        if ih % sh or iw % sw or conv.padding != (0, 0):
            continue
        pad_h = max((kh - 1) * dh + 1 - sh, 0)
        pad_w = max((kw - 1) * dw + 1 - sw, 0)
        plain = nn.Conv2d(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=0,
            dilation=conv.dilation,
            groups=conv.groups,
            bias=conv.bias is not None,
            device=conv.weight.device,
            dtype=conv.weight.dtype,
        )
        plain.load_state_dict(conv.state_dict())
        pad = nn.ZeroPad2d((pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        _set_submodule(model, name, nn.Sequential(pad, plain))
        replaced += 1
    return replaced


def _bn_replacement(bn: nn.Module) -> nn.Module | None:
    """What replaces a folded BatchNorm: Identity, or timm's drop + act; None = cannot fold."""
    if type(bn) in (nn.BatchNorm2d, nn.SyncBatchNorm):
        return nn.Identity()
    if type(bn).__name__ in _BN_ACT_CLASSES:
        return nn.Sequential(getattr(bn, "drop", nn.Identity()), getattr(bn, "act", nn.Identity()))
    return None


@torch.no_grad()
def _fold_into_conv(
    conv: nn.Conv2d | nn.ConvTranspose2d, bn: nn.modules.batchnorm._BatchNorm
) -> None:
    var = bn.running_var.double()
    scale = torch.rsqrt(var + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight.double()
    shift = -bn.running_mean.double() * scale
    if bn.bias is not None:
        shift = shift + bn.bias.double()
    weight = conv.weight.double()
    out_channels = conv.out_channels
    if isinstance(conv, nn.ConvTranspose2d):
        # weight is (in, out / groups, kh, kw); output channel g * (out/groups) + j
        g = conv.groups
        w = weight.reshape(g, conv.in_channels // g, out_channels // g, *weight.shape[2:])
        w = w * scale.reshape(g, 1, out_channels // g, 1, 1)
        weight = w.reshape(conv.weight.shape)
    else:
        weight = weight * scale.reshape(-1, 1, 1, 1)
    bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(scale)
    bias = bias * scale + shift
    conv.weight.copy_(weight.to(conv.weight.dtype))
    if conv.bias is None:
        conv.bias = nn.Parameter(bias.to(dtype=conv.weight.dtype, device=conv.weight.device))
    else:
        conv.bias.copy_(bias.to(conv.bias.dtype))


def fold_batchnorm(
    model: nn.Module, example_input: torch.Tensor | None = None, *, inplace: bool = False
) -> nn.Module:
    """Fold eval-mode BatchNorm layers into the convolutions that feed them.

    A ``BatchNorm2d`` is folded when its input is the output of a ``Conv2d`` or
    ``ConvTranspose2d`` that nothing else reads, both called once per forward. The
    data flow is found by running ``example_input`` through the model, so any
    architecture works (U-Net blocks, timm encoders, nested ``Sequential``).
    timm's ``BatchNormAct2d`` keeps its activation. BatchNorm layers without
    running statistics, and other norms (instance, group), are left alone.

    The folded model gives the same outputs as ``model.eval()`` up to float
    rounding (folding is computed in float64).

    Args:
        model: A model whose BatchNorm layers have running statistics.
        example_input: A valid input; defaults to batch 1 at the model's stride
            (needs ``in_channels`` and ``stride`` attributes otherwise).
        inplace: Change ``model`` itself instead of a deep copy.

    Returns:
        The folded model, in eval mode.

    Shape:
        - example_input: ``(B, in_channels, H, W)``, any valid size for ``model``.

    Example:
        >>> import torch
        >>> from cgan_zoo import create_model
        >>> g = create_model("unet_tiny").eval()
        >>> folded = fold_batchnorm(g)
        >>> sum(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
        0
        >>> x = torch.randn(1, 1, 32, 32)
        >>> bool(torch.allclose(folded(x), g(x), atol=1e-5))
        True
    """
    model = model if inplace else copy.deepcopy(model)
    model.eval()
    if not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
        return model
    example_input = _probe_input(model) if example_input is None else example_input
    conv_types = (nn.Conv2d, nn.ConvTranspose2d)
    records, handles = _record_calls(
        model, example_input, conv_types + (nn.modules.batchnorm._BatchNorm,)
    )
    counters: list[_UseCounter] = []

    def make_modes():
        counters.append(_UseCounter())
        return (counters[-1],)

    try:
        _probe(model, example_input, make_modes, records.clear)
    finally:
        for h in handles:
            h.remove()
    counter = counters[-1]
    producers: dict[int, str] = {}
    for name, calls in records.items():
        if isinstance(model.get_submodule(name), conv_types) and len(calls) == 1:
            producers[id(calls[0][1])] = name
    for name, calls in records.items():
        bn = model.get_submodule(name)
        if not isinstance(bn, nn.modules.batchnorm._BatchNorm) or len(calls) != 1:
            continue
        source = calls[0][0]
        conv_name = producers.get(id(source))
        replacement = _bn_replacement(bn)
        if conv_name is None or replacement is None or counter.uses.get(id(source), 0) != 1:
            continue
        if bn.running_mean is None or bn.running_var is None:
            continue
        _fold_into_conv(model.get_submodule(conv_name), bn)
        _set_submodule(model, name, replacement)
    return model


def prepare_for_inference(
    model: nn.Module, *, fold_bn: bool = True, example_input: torch.Tensor | None = None
) -> nn.Module:
    """An eval-mode, frozen deep copy with static same padding and folded BatchNorm.

    Args:
        model: The generator; it is not changed.
        fold_bn: Fold BatchNorm layers (see :func:`fold_batchnorm`).
        example_input: A valid input used to probe the data flow (default: the
            smallest valid size, run with fake tensors).

    Returns:
        The prepared copy; it gives the same outputs as ``model.eval()``.

    Example:
        >>> from cgan_zoo import create_model
        >>> prepare_for_inference(create_model("unet_tiny")).training
        False
    """
    prepared = copy.deepcopy(model).eval()
    for p in prepared.parameters():
        p.requires_grad_(False)
    static_same_padding(prepared, example_input)
    if fold_bn:
        fold_batchnorm(prepared, example_input, inplace=True)
    return prepared


def export_program(
    model: nn.Module, example_size: int = 256, *, batch: int = 2, strict: bool = False
) -> torch.export.ExportedProgram:
    """``torch.export`` a generator with batch, H and W dynamic (H, W multiples of its stride).

    The NaN/Inf input check is left out of the graph (it branches on values). The
    example input uses at least two stride blocks per side and batch 2, and export
    runs size-obliviously, so batch 1 and a single stride block stay valid.

    Args:
        model: The generator, usually from :func:`prepare_for_inference`.
        example_size: Side of the example input (rounded up to the stride).
        batch: Batch of the example input.
        strict: Use torch.export's strict (TorchDynamo) tracing.

    Returns:
        The exported program; ``program.module()`` runs it.

    Shape:
        - The program's input: ``(B, in_channels, S*h, S*w)`` with ``S`` the stride.
    """
    from torch.export import Dim

    stride = model_stride(model)
    blocks = max(2, round_to_stride(example_size, stride) // stride)
    x = _probe_input(model, blocks * stride).expand(batch, -1, -1, -1).contiguous()
    least = min_side(model) // stride  # e.g. 2 blocks for a ResnetGenerator (8 px at stride 4)
    blocks = max(blocks, least)
    b = Dim("batch", min=1, max=1024)
    h = Dim("h_blocks", min=least, max=max(1024, blocks))
    w = Dim("w_blocks", min=least, max=max(1024, blocks))
    dyn = {2: h * stride, 3: w * stride} if stride > 1 else {2: h, 3: w}
    arg_name = _forward_arg_name(model)
    # size-oblivious: do not assume a dynamic size is never 1 (one stride block, batch 1)
    try:
        from torch.fx.experimental import _config as fx_config

        oblivious = fx_config.patch(backed_size_oblivious=True)
    except (ImportError, AttributeError):  # older torch: sizes of 1 may be specialised
        oblivious = contextlib.nullcontext()
    with torch.no_grad(), oblivious:
        return torch.export.export(
            model, (x,), dynamic_shapes={arg_name: {0: b, **dyn}}, strict=strict
        )


def _forward_arg_name(model: nn.Module) -> str:
    import inspect

    params = list(inspect.signature(model.forward).parameters)
    return params[0] if params else "x"


# --------------------------------------------------------------------------- the wrapper


def _compile_error_types() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "compiling failed" (not "the input is wrong")."""
    types: list[type[BaseException]] = [OSError, ImportError]
    with contextlib.suppress(ImportError):
        from torch._dynamo.exc import TorchDynamoException

        types.append(TorchDynamoException)  # includes BackendCompilerFailed, InductorError
    with contextlib.suppress(ImportError):
        from torch._inductor.exc import CppCompileError, InvalidCxxCompiler

        types += [CppCompileError, InvalidCxxCompiler]
    return tuple(types)


class InferenceModule(nn.Module):
    """A generator prepared for fast inference; returned by :func:`optimize_for_inference`.

    It behaves like the generator in eval mode: same input contract, same outputs
    (up to float rounding), and the generator's
    :class:`~cgan_zoo.models.base.GeneratorLike` attributes and ``config`` as plain
    values (see :func:`~cgan_zoo.models.base.generator_attributes`). Other attribute
    lookups fall through to :attr:`module`.
    Outputs are inference tensors (made under ``torch.inference_mode``): use them
    for inference, not for autograd.

    Attributes:
        module: The prepared eager model (eval, folded BatchNorm, channels-last).
        compiled: Whether calls run through ``torch.compile``.
        compile_seconds: Wall time of the compiling warm-up call(s) so far.
        channels_last: Whether inputs are converted to channels-last.

    Shape:
        - Input: ``(B, in_channels, H, W)`` with H, W multiples of :attr:`stride`.
        - Output: ``(B, out_channels, H, W)``, contiguous.

    Example:
        >>> import torch
        >>> from cgan_zoo import create_model
        >>> fast = optimize_for_inference(create_model("unet_tiny").eval(), compile=False)
        >>> isinstance(fast, InferenceModule), fast.compiled, fast(torch.zeros(1, 1, 32, 32)).shape
        (True, False, torch.Size([1, 2, 32, 32]))
    """

    def __init__(self, module: nn.Module, runner: Any | None, *, channels_last: bool) -> None:
        super().__init__()
        self.module = module
        self.channels_last = channels_last
        # not a registered submodule: the compiled graph shares the weights of ``module``
        # and an exported graph refuses ``.train()``
        object.__setattr__(self, "_runner", runner)
        self.compiled = runner is not None
        self.compile_seconds = 0.0
        super().train(False)
        self.__dict__.update(generator_attributes(module))

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            module = self._modules.get("module")
            if module is None or name.startswith("__"):
                raise
            return getattr(module, name)

    def train(self, mode: bool = True) -> InferenceModule:
        """Stay in eval mode: the model is prepared for inference only."""
        if mode:
            raise InvalidConfigError(
                "an optimized inference module cannot be trained (BatchNorm is folded and "
                "weights may be frozen); train the original model instead."
            )
        return super().train(False)

    def _validate(self, x: torch.Tensor) -> None:
        channels = self.__dict__.get("in_channels")
        check_image_tensor(
            x,
            name=f"{type(self.module).__name__} input",
            channels=channels if isinstance(channels, int) else None,
            multiple=model_stride(self.module),
            allow_non_finite=True,  # shapes and dtypes only: the pipelines check values once per call
        )

    def _fall_back(self, exc: BaseException) -> None:
        warnings.warn(
            f"torch.compile failed ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}); "
            "running the optimized model in eager mode instead. A C++ compiler (gcc or clang) "
            "is needed for compiled CPU inference.",
            RuntimeWarning,
            stacklevel=3,
        )
        object.__setattr__(self, "_runner", None)
        self.compiled = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            if self.channels_last and x.ndim == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            if self._runner is None:
                y = self.module(x)
            else:
                self._validate(x)
                try:
                    y = self._runner(x)
                except _compile_error_types() as exc:
                    self._fall_back(exc)
                    y = self.module(x)
            return y.contiguous() if isinstance(y, torch.Tensor) else y

    def warmup(self, size: int | tuple[int, int] | None = None, batch: int = 1) -> float:
        """Run one call at ``size`` (compiling it if needed) and return its wall time in seconds.

        Compiled modules compile lazily for each new input shape; calling ``warmup``
        with the sizes you will use moves that cost out of the first real call. The
        time is added to :attr:`compile_seconds` when the module is compiled.

        Args:
            size: Side, or ``(height, width)``; rounded up to multiples of the stride.
                Defaults to the stride.
            batch: Batch size.
        """
        stride = model_stride(self.module)
        h, w = (size, size) if size is None or isinstance(size, int) else size
        low = min_side(self.module)
        h, w = round_to_stride(max(h or low, low), stride), round_to_stride(max(w or low, low), stride)
        x = _probe_input(self.module, h)
        x = torch.randn(batch, x.shape[1], h, w, dtype=x.dtype, device=x.device)
        start = time.perf_counter()
        self(x)
        seconds = time.perf_counter() - start
        if self.compiled:
            self.compile_seconds += seconds
        return seconds


def optimize_for_inference(
    model: nn.Module,
    *,
    compile: bool = True,
    channels_last: bool = True,
    fold_bn: bool = True,
    example_size: int = 256,
    cache_dir: str | os.PathLike | None = None,
    dynamic: bool | None = None,
) -> InferenceModule:
    """Return a faster module with the same outputs as ``model.eval()``, for CPU inference.

    ``model`` itself is not changed. See the module docstring for what is applied.
    With ``compile=True`` the returned module compiles at once with an example input
    of ``example_size`` (rounded up to the stride); that time is in
    ``result.compile_seconds``. Another input size compiles again on its first call
    (once, after which shapes are dynamic unless ``dynamic=False``); use
    :meth:`InferenceModule.warmup` to do it ahead of time.

    Args:
        model: A generator (``UNetGenerator``, ``TimmUNet`` or any module with
            ``in_channels`` and ``stride`` attributes).
        compile: Use ``torch.compile`` (Inductor, with freezing). Falls back to eager
            with a ``RuntimeWarning`` if compiling fails.
        channels_last: Store weights and inputs channels-last.
        fold_bn: Fold BatchNorm layers into the preceding convs.
        example_size: Side of the example input used to prepare and compile.
        cache_dir: Folder for Inductor's on-disk compile cache; sets
            ``TORCHINDUCTOR_CACHE_DIR`` for the whole process.
        dynamic: Passed to ``torch.compile``; ``True`` compiles one graph for all
            sizes at once (no recompile on a new size, slightly slower kernels).

    Returns:
        An :class:`InferenceModule`.

    Shape:
        - Input: ``(B, in_channels, H, W)`` with H, W multiples of ``model.stride``.
        - Output: ``(B, out_channels, H, W)``.

    Example:
        >>> import torch
        >>> from cgan_zoo import create_model
        >>> g = create_model("unet_tiny").eval()
        >>> fast = optimize_for_inference(g, compile=False)
        >>> x = torch.randn(1, 1, 32, 48)
        >>> bool(torch.allclose(fast(x), g(x), atol=1e-4)), fast.stride, fast.task
        (True, 16, 'colorize')
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    if not isinstance(example_size, int) or example_size < 1:
        raise InvalidConfigError(f"example_size must be a positive integer, got {example_size!r}.")
    if cache_dir is not None:
        os.makedirs(cache_dir, exist_ok=True)
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.fspath(os.path.abspath(cache_dir))
    stride = model_stride(model)
    side = round_to_stride(example_size, stride)
    prepared = prepare_for_inference(model, fold_bn=fold_bn)
    # export before the channels-last conversion: a graph traced with mixed layouts
    # guards on batch and size > 1
    runner = (
        _compile(prepared, side, channels_last=channels_last, dynamic=dynamic) if compile else None
    )
    if channels_last:
        prepared = prepared.to(memory_format=torch.channels_last)
    wrapper = InferenceModule(prepared, runner, channels_last=channels_last)
    if runner is not None:
        wrapper.warmup(side)
    return wrapper


def _compile(
    prepared: nn.Module, side: int, *, channels_last: bool, dynamic: bool | None
) -> Any | None:
    """Export then ``torch.compile`` with freezing; ``None`` (with a warning) on failure."""
    try:
        graph: nn.Module = export_program(prepared, side).module()
        if channels_last:
            graph = graph.to(memory_format=torch.channels_last)
    except Exception as exc:  # any export failure: compile the module itself
        warnings.warn(
            f"torch.export failed ({type(exc).__name__}); compiling the model directly "
            "(its input check becomes a graph break).",
            RuntimeWarning,
            stacklevel=3,
        )
        graph = prepared
    try:
        return torch.compile(graph, dynamic=dynamic, options={"freezing": True})
    except Exception as exc:  # e.g. a Python version that dynamo does not support
        warnings.warn(
            f"torch.compile is unavailable ({type(exc).__name__}: {exc}); using eager mode.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
