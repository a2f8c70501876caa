"""The pretrained weights that pipelines and the CLI use when no model is named.

Change the two constants below to switch the defaults; everything else (the
``Colorizer``, ``colorize_video``, ``cgan-zoo colorize`` and ``cgan-zoo video``) reads them
through :func:`default_model_name`.
"""

from __future__ import annotations

from .._registry import get_pretrained_cfg, list_pretrained
from ..errors import InvalidConfigError, WeightsError

__all__ = ["DEFAULT_COLORIZER", "DEFAULT_INPAINTER", "DEFAULT_SCENE_CUT_THRESHOLD", "default_model_name"]

#: Pretrained colorizer used when no model is given (task ``"colorize"``).
DEFAULT_COLORIZER = "unet_efficientnet_lite0.nature"

#: Pretrained colorizer for images with missing regions (task ``"colorize-missing"``).
DEFAULT_INPAINTER = "unet_efficientnet_lite0.nature_missing"

#: Mean absolute gray difference between frames, in [0, 1], above which
#: :func:`~cgan_zoo.pipelines.colorize_video` restarts its temporal smoothing.
DEFAULT_SCENE_CUT_THRESHOLD = 0.12


def default_model_name(missing: bool = False) -> str:
    """Name of the default pretrained colorizer, checked to be installed.

    Args:
        missing: Return the model for images with missing regions (masks) instead.

    Returns:
        :data:`DEFAULT_INPAINTER` if ``missing`` else :data:`DEFAULT_COLORIZER`.

    Raises:
        WeightsError: If those weights are not registered in this installation; the
            message says to pass a model name or a ``save_pretrained`` folder instead.

    Example:
        >>> try:
        ...     name = default_model_name()
        ... except WeightsError as exc:
        ...     name = "none installed"
        >>> isinstance(name, str)
        True
    """
    name = DEFAULT_INPAINTER if missing else DEFAULT_COLORIZER
    try:
        get_pretrained_cfg(name)
    except InvalidConfigError:
        kind = "colorizer for images with missing regions" if missing else "colorizer"
        raise WeightsError(
            f"no default pretrained weights are installed: the default {kind} {name!r} is not "
            f"registered in this version of cgan-zoo (registered: {list_pretrained() or 'none'}). "
            "Pass a model explicitly: --model NAME_OR_FOLDER on the command line, or "
            "Colorizer.from_pretrained(folder) / Colorizer(generator) in Python, where the folder "
            "was written by model.save_pretrained(folder)."
        ) from None
    return name
