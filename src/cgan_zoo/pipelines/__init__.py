"""Inference pipelines: colorize photos of any size (optionally with missing regions) and videos.

:class:`Colorizer` colorizes photos in one call, or in three public stages
(``prepare`` → ``infer`` → ``compose``, exchanging :class:`PreparedImage` and
:class:`Prediction`); :func:`colorize_video` runs those stages on a video's frames with
temporal smoothing (:mod:`~cgan_zoo.pipelines.temporal`) and PyAV streaming
(:mod:`~cgan_zoo.pipelines.video_io`).

Example:
    >>> import numpy as np
    >>> from cgan_zoo import create_model
    >>> from cgan_zoo.pipelines import Colorizer
    >>> Colorizer(create_model("unet_tiny"), size=32)(np.zeros((10, 12), np.uint8)).shape
    (10, 12, 3)
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes

if TYPE_CHECKING:
    from ..metrics import flicker
    from .colorizer import Colorizer, Prediction, PreparedImage
    from .video import colorize_video

__all__ = ["Colorizer", "PreparedImage", "Prediction", "colorize_video", "flicker"]

# imported on first use, so the CLI reads pipelines.defaults without importing torch
# (``load_generator`` is :func:`cgan_zoo.load_generator`, kept here for older imports)
__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "Colorizer": ".colorizer",
        "PreparedImage": ".colorizer",
        "Prediction": ".colorizer",
        "colorize_video": ".video",
        "flicker": "..metrics",  # the metric moved to cgan_zoo.metrics; still importable here
        "load_generator": ".._factory",
    },
    [],
)
