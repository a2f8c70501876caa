"""Fast inference and model export.

* :func:`optimize_for_inference`: the same generator, faster on CPU (BatchNorm
  folding, channels-last, ``torch.compile`` with Inductor freezing).
* :func:`fold_batchnorm`: merge eval-mode BatchNorm layers into their convs.
* :func:`export_generator`: write ONNX, TorchScript or a ``torch.export`` program
  whose batch, height and width are dynamic (H and W multiples of the model's stride).
* :func:`onnx_generator` / :class:`OnnxRuntimeGenerator`: run an ONNX export with
  onnxruntime behind the generator interface (usable by ``Colorizer``).
* :func:`int8_onnx_generator` / :func:`quantize_onnx_int8`: opt-in int8 (onnxruntime
  static quantisation); faster for the efficientnet-lite0 colorizer, not for the
  pix2pix U-Net, and it changes outputs, so check quality first.
"""

from .fast import InferenceModule, fold_batchnorm, optimize_for_inference
from .formats import (
    EXPORT_FORMATS,
    OnnxRuntimeGenerator,
    export_generator,
    int8_onnx_generator,
    onnx_generator,
    quantize_onnx_int8,
)

__all__ = [
    "optimize_for_inference",
    "fold_batchnorm",
    "export_generator",
    "InferenceModule",
    "EXPORT_FORMATS",
    "OnnxRuntimeGenerator",
    "onnx_generator",
    "int8_onnx_generator",
    "quantize_onnx_int8",
]
