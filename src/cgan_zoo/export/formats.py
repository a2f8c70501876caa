"""Export a generator to ONNX, TorchScript or a ``torch.export`` program.

Every format takes inputs of any batch size and any height and width that are
multiples of the model's stride. The exported graph is the model in eval mode with
BatchNorm folded and TensorFlow "same" padding made static (both exact, see
:mod:`cgan_zoo.export.fast`). The NaN/Inf input check of the eager models is not
part of the exported graph.

=================== ================================ ========================================
format              file                             load and run
=================== ================================ ========================================
``onnx``            ``model.onnx`` (opset 18+)        ``onnxruntime.InferenceSession(path)``
``torchscript``     ``model.pt`` (``torch.jit``)      ``torch.jit.load(path)(x)``
``exported-program`` ``model.pt2`` (``torch.export``) ``torch.export.load(path).module()(x)``
=================== ================================ ========================================

The ONNX graph's input is named ``input`` with shape ``(batch, C, S*h, S*w)`` and its
output ``output``, where ``S`` is the stride.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import InvalidConfigError, InvalidInputError, require_extra
from ..serialization import atomic_write_bytes
from .fast import (
    _probe_input,
    export_program,
    model_stride,
    prepare_for_inference,
)

__all__ = [
    "export_generator",
    "EXPORT_FORMATS",
    "quantize_onnx_int8",
    "OnnxRuntimeGenerator",
    "onnx_generator",
    "int8_onnx_generator",
    "run_exported",
]

EXPORT_FORMATS = ("onnx", "torchscript", "exported-program")
_VERIFY_ATOL = 1e-4


def export_generator(
    model: nn.Module,
    path: str | os.PathLike,
    format: str = "onnx",
    example_size: int = 256,
    *,
    fold_bn: bool = True,
    verify: bool = True,
) -> Path:
    """Write ``model`` (in eval mode) to ``path`` with dynamic batch, height and width.

    Height and width stay dynamic as multiples of ``model.stride``: a U-Net with
    stride 256 takes 256×256, 512×768 and so on. The file is written atomically (a
    temporary file in the same folder, then a rename). ``model`` is not changed.

    Args:
        model: A generator with ``in_channels`` and ``stride`` attributes.
        path: Output file; parent folders are created.
        format: ``"onnx"``, ``"torchscript"`` or ``"exported-program"``.
        example_size: Side of the example input used for tracing (rounded up to
            at least two strides).
        fold_bn: Fold BatchNorm into the preceding convs (exact up to rounding).
        verify: Run the written file once at another size than the example and
            compare with the eager model (max abs difference <= 1e-4). TorchScript is
            traced, so this catches a shape that tracing froze. ONNX needs
            ``onnxruntime`` for this step.

    Returns:
        The path written.

    Raises:
        InvalidConfigError: For an unknown format.
        MissingExtraError: If ONNX export is asked for without ``onnx``/``onnxscript``.
        InvalidInputError: If ``verify`` finds outputs that differ.

    Shape:
        - The exported model's input: ``(B, in_channels, H, W)``, H and W multiples of the stride.
        - Its output: ``(B, out_channels, H, W)``.

    Example:
        >>> import tempfile, torch
        >>> from cgan_zoo import create_model
        >>> g = create_model("unet_tiny").eval()
        >>> p = export_generator(g, tempfile.mkdtemp() + "/g.pt2", "exported-program", example_size=32)
        >>> program = torch.export.load(p).module()
        >>> x = torch.randn(3, 1, 48, 16)
        >>> bool(torch.allclose(program(x), g(x), atol=1e-4))
        True
    """
    if format not in EXPORT_FORMATS:
        raise InvalidConfigError(
            f"format={format!r} is not supported; choose one of {list(EXPORT_FORMATS)}."
        )
    if not isinstance(example_size, int) or example_size < 1:
        raise InvalidConfigError(f"example_size must be a positive integer, got {example_size!r}.")
    if format == "onnx":
        require_extra("onnx", "export", "ONNX export")
        require_extra("onnxscript", "export", "ONNX export")
        if verify:
            require_extra("onnxruntime", "export", "checking an ONNX export")
    path = Path(path)
    prepared = prepare_for_inference(model, fold_bn=fold_bn)
    stride = model_stride(prepared)
    if format == "torchscript":
        _export_torchscript(prepared, path, example_size)
    else:
        program = export_program(prepared, example_size)
        if format == "exported-program":
            buffer = io.BytesIO()
            torch.export.save(program, buffer)
            atomic_write_bytes(path, buffer.getvalue())
        else:
            _export_onnx(program, path)
    _umask_permissions(path)
    if verify:
        # one size unlike the example in both H and W, batch 2
        probe = _probe_input(prepared, stride)  # the smallest side the model accepts
        side = probe.shape[-1]
        x = torch.randn(2, probe.shape[1], side, 3 * side, dtype=probe.dtype, device=probe.device)
        _verify(model, path, format, x)
    return path


def _umask_permissions(path: Path) -> None:
    """Give a file made by ``mkstemp`` (mode 0600) the usual ``0666 & ~umask`` mode."""
    umask = os.umask(0)
    os.umask(umask)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o666 & ~umask)


def _export_torchscript(prepared: nn.Module, path: Path, example_size: int) -> None:
    stride = model_stride(prepared)
    blocks = max(2, -(-example_size // stride))
    x = _probe_input(prepared, blocks * stride)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        # deprecation notices and TracerWarnings of the shape checks
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(prepared, (x,), check_trace=False)
        traced = torch.jit.freeze(traced.eval())
        torch.jit.save(traced, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _export_onnx(program: torch.export.ExportedProgram, path: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onnx_program = torch.onnx.export(
            program, dynamo=True, input_names=["input"], output_names=["output"], verbose=False
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    os.close(fd)
    try:
        onnx_program.save(tmp, external_data=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def run_exported(path: str | os.PathLike, format: str, x: torch.Tensor) -> torch.Tensor:
    """Load an exported file and run it on ``x`` (for checks and benchmarks).

    Example:
        >>> import tempfile, torch
        >>> from cgan_zoo import create_model
        >>> g = create_model("unet_tiny").eval()
        >>> p = export_generator(g, tempfile.mkdtemp() + "/g.pt", "torchscript", 32, verify=False)
        >>> run_exported(p, "torchscript", torch.zeros(1, 1, 32, 32)).shape
        torch.Size([1, 2, 32, 32])
    """
    if format == "onnx":
        ort = require_extra("onnxruntime", "export", "running an ONNX export")
        session = ort.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return torch.from_numpy(session.run(None, {name: x.detach().cpu().numpy()})[0])
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit deprecation notice
        if format == "torchscript":
            return torch.jit.load(os.fspath(path))(x)
        if format == "exported-program":
            with open(path, "rb") as fh:  # a buffer: any file name, not only *.pt2
                return torch.export.load(io.BytesIO(fh.read())).module()(x)
    raise InvalidConfigError(
        f"format={format!r} is not supported; choose one of {list(EXPORT_FORMATS)}."
    )


def _verify(model: nn.Module, path: Path, format: str, x: torch.Tensor) -> None:
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            expected = model(x)
    finally:
        model.train(was_training)
    got = run_exported(path, format, x)
    diff = float((got - expected).abs().max()) if got.shape == expected.shape else float("inf")
    if not diff <= _VERIFY_ATOL:
        raise InvalidInputError(
            f"the {format} export at {str(path)!r} does not match the eager model at input size "
            f"{tuple(x.shape)}: max abs difference {diff:.3g} > {_VERIFY_ATOL} (output shapes "
            f"{tuple(got.shape)} vs {tuple(expected.shape)}). Try another format or report this model."
        )


# --------------------------------------------------------------------------- int8 and onnxruntime


def quantize_onnx_int8(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    calibration: Iterable[torch.Tensor],
    *,
    per_channel: bool = True,
) -> Path:
    """Quantise an ONNX export to int8 with onnxruntime static (QDQ) quantisation.

    Weights become int8 (per output channel), activations uint8 with ranges
    calibrated (min/max) on ``calibration``. Unlike the fp32 export this changes the
    outputs: check quality on real photos before using it. On a CPU with AVX-512
    VNNI it ran the efficientnet-lite0 colorizer about 1.5x faster than fp32
    onnxruntime; it did *not* speed up ``pix2pix_unet256`` (see benchmarks/README.md).

    Args:
        src: An fp32 ONNX file from :func:`export_generator`.
        dst: Output file (written atomically).
        calibration: Model inputs, ``(B, C, H, W)`` tensors normalised as in
            training, from real photos (a few dozen are enough); any valid sizes.
        per_channel: Per-channel weight scales (more accurate, same speed).

    Returns:
        ``dst``.

    Shape:
        - calibration items: ``(B, in_channels, H, W)``.

    Example:
        >>> import tempfile, torch
        >>> from cgan_zoo import create_model
        >>> d = tempfile.mkdtemp()
        >>> g = create_model("unet_tiny").eval()
        >>> src = export_generator(g, d + "/g.onnx", example_size=32, verify=False)
        >>> q = quantize_onnx_int8(src, d + "/g.int8.onnx", [torch.randn(1, 1, 32, 32)])
        >>> OnnxRuntimeGenerator(q, like=g)(torch.randn(1, 1, 16, 48)).shape
        torch.Size([1, 2, 16, 48])
    """
    ort = require_extra("onnxruntime", "export", "int8 quantisation")
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    samples = [t.detach().cpu().float().contiguous().numpy() for t in calibration]
    if not samples:
        raise InvalidConfigError("calibration must hold at least one input tensor.")
    name = (
        ort.InferenceSession(os.fspath(src), providers=["CPUExecutionProvider"])
        .get_inputs()[0]
        .name
    )

    class _Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(samples)

        def get_next(self) -> dict[str, Any] | None:
            item = next(self._it, None)
            return None if item is None else {name: item}

    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dst.parent, prefix=f".{dst.name}.tmp-") as tmp:
        pre = Path(tmp) / "pre.onnx"
        out = Path(tmp) / "int8.onnx"
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quant_pre_process(os.fspath(src), os.fspath(pre), skip_symbolic_shape=True)
            quantize_static(
                os.fspath(pre),
                os.fspath(out),
                _Reader(),
                quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                per_channel=per_channel,
            )
        os.replace(out, dst)
    _umask_permissions(dst)
    return dst


class OnnxRuntimeGenerator(nn.Module):
    """Run an ONNX export (fp32 or int8) with onnxruntime behind the generator interface.

    It has the :class:`~cgan_zoo.models.base.GeneratorLike` attributes (and ``config``)
    of ``like``, copied with :func:`~cgan_zoo.models.base.generator_attributes`, so
    ``Colorizer(OnnxRuntimeGenerator(path, like=g))`` works on CPU.

    Args:
        path: The ``.onnx`` file.
        like: The generator it was exported from (only its attributes are read).
        threads: onnxruntime intra-op threads (default: ``torch.get_num_threads()``).

    Shape:
        - Input: ``(B, in_channels, H, W)``, H and W multiples of ``stride``.
        - Output: ``(B, out_channels, H, W)``.

    Example:
        >>> import tempfile, torch
        >>> from cgan_zoo import create_model
        >>> g = create_model("unet_tiny").eval()
        >>> path = export_generator(g, tempfile.mkdtemp() + "/g.onnx", example_size=32, verify=False)
        >>> OnnxRuntimeGenerator(path, like=g)(torch.randn(1, 1, 32, 16)).shape
        torch.Size([1, 2, 32, 16])
    """

    def __init__(
        self, path: str | os.PathLike, like: nn.Module, threads: int | None = None
    ) -> None:
        super().__init__()
        from ..models.base import generator_attributes

        ort = require_extra("onnxruntime", "export", "running ONNX models")
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        opts.inter_op_num_threads = 1
        self.path = Path(path)
        self.session = ort.InferenceSession(
            os.fspath(path), opts, providers=["CPUExecutionProvider"]
        )
        self._input = self.session.get_inputs()[0].name
        for name, value in generator_attributes(like).items():
            setattr(self, name, value)
        self.train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from .._validation import check_image_tensor

        check_image_tensor(
            x,
            name="OnnxRuntimeGenerator input",
            channels=getattr(self, "in_channels", None),
            multiple=model_stride(self),
            allow_non_finite=True,  # shapes and dtypes only: the pipelines check values once per call
        )
        feed = {self._input: x.detach().cpu().float().contiguous().numpy()}
        out = self.session.run(None, feed)[0]
        return torch.from_numpy(out).to(x.device)


def onnx_generator(
    model: nn.Module, path: str | os.PathLike | None = None, *, example_size: int = 256
) -> OnnxRuntimeGenerator:
    """Export ``model`` to ONNX (fp32) and return it as an onnxruntime-backed module.

    Outputs match the eager model within 1e-4 (the export is checked). On the
    benchmark machine onnxruntime was the fastest fp32 CPU path (benchmarks/README.md).

    Args:
        model: The generator.
        path: Where to keep the ``.onnx`` file; a temporary folder when ``None``.
        example_size: Tracing size (see :func:`export_generator`).

    Returns:
        An :class:`OnnxRuntimeGenerator` with the generator's attributes.

    Shape:
        - Input: ``(B, in_channels, H, W)``, H and W multiples of ``model.stride``.
        - Output: ``(B, out_channels, H, W)``.

    Example:
        >>> import torch
        >>> from cgan_zoo import create_model
        >>> g = create_model("unet_tiny").eval()
        >>> fast = onnx_generator(g, example_size=32)
        >>> bool((fast(torch.zeros(1, 1, 32, 32)) - g(torch.zeros(1, 1, 32, 32))).abs().max() < 1e-4)
        True
    """
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="cgan-zoo-onnx-")) / "model.onnx"
    export_generator(model, path, "onnx", example_size)
    return OnnxRuntimeGenerator(path, like=model)


def int8_onnx_generator(
    model: nn.Module,
    calibration: Iterable[torch.Tensor],
    path: str | os.PathLike | None = None,
    *,
    example_size: int = 256,
) -> OnnxRuntimeGenerator:
    """Export, quantise to int8 (onnxruntime static QDQ) and return the quantised module.

    For evaluating the int8 path: ``Colorizer(int8_onnx_generator(g, inputs))`` runs
    it end to end. Calibration inputs are padded to the model's stride (reflection)
    as the Colorizer does. See :func:`quantize_onnx_int8` for speed and caveats.

    Args:
        model: The generator (fp32, eval mode is used).
        calibration: Normalised model inputs ``(B, in_channels, H, W)`` from real photos,
            for example ``colorizer.prepare(photo).model_input``.
        path: Where to keep the int8 ``.onnx``; a temporary folder when ``None``.
        example_size: Tracing size of the fp32 export.

    Returns:
        An :class:`OnnxRuntimeGenerator` running the int8 model.

    Shape:
        - calibration items: ``(B, in_channels, H, W)``, any H and W.

    Example:
        >>> import torch
        >>> from cgan_zoo import create_model
        >>> g = create_model("unet_tiny").eval()
        >>> q = int8_onnx_generator(g, [torch.rand(1, 1, 32, 32) * 2 - 1], example_size=32)
        >>> q(torch.zeros(1, 1, 32, 32)).shape
        torch.Size([1, 2, 32, 32])
    """
    from ..layers.padding import pad_to_multiple

    stride = model_stride(model)
    path = (
        Path(path)
        if path is not None
        else Path(tempfile.mkdtemp(prefix="cgan-zoo-int8-")) / "model.onnx"
    )
    fp32 = path.with_name(f".{path.stem}.fp32.onnx")
    try:
        export_generator(model, fp32, "onnx", example_size, verify=False)
        padded = [pad_to_multiple(t, stride)[0] for t in calibration]
        quantize_onnx_int8(fp32, path, padded)
    finally:
        with contextlib.suppress(FileNotFoundError):
            fp32.unlink()
    return OnnxRuntimeGenerator(path, like=model)
