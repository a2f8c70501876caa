"""Inference pipelines: colorize photos of any size (optionally with missing regions) and videos.

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
    from .colorizer import Colorizer
    from .video import colorize_video, flicker

__all__ = ["Colorizer", "colorize_video", "flicker"]

# imported on first use, so the CLI reads pipelines.defaults without importing torch
# (``load_generator`` is :func:`cgan_zoo.load_generator`, kept here for older imports)
__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "Colorizer": ".colorizer",
        "colorize_video": ".video",
        "flicker": ".video",
        "load_generator": ".._factory",
    },
    [],
)
