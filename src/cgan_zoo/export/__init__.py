"""Fast inference and model export.

* :func:`optimize_for_inference`: the same generator, faster on CPU (BatchNorm
  folding, channels-last, ``torch.compile`` with Inductor freezing).
* :func:`fold_batchnorm`: merge eval-mode BatchNorm layers into their convs.
* :func:`export_generator`: write ONNX, TorchScript or a ``torch.export`` program
  whose height and width are dynamic (multiples of the model's stride).
"""

from .fast import InferenceModule, fold_batchnorm, optimize_for_inference
from .formats import EXPORT_FORMATS, export_generator

__all__ = [
    "optimize_for_inference",
    "fold_batchnorm",
    "export_generator",
    "InferenceModule",
    "EXPORT_FORMATS",
]
