"""Building blocks shared by the generators and discriminators."""

from .factories import ACTIVATION_CHOICES, NORM_CHOICES, make_activation, make_norm, uses_bias

__all__ = ["NORM_CHOICES", "ACTIVATION_CHOICES", "make_activation", "make_norm", "uses_bias"]
from .padding import crop_padding, pad_to_multiple, run_padded  # noqa: E402

__all__ += ["crop_padding", "pad_to_multiple", "run_padded"]
