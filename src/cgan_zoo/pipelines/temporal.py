"""Temporal smoothing of per-frame colour, with global motion estimation and scene cuts.

A photo colorizer run frame by frame flickers: small changes between frames change the
predicted colours. :class:`TemporalSmoother` smooths the predicted ``ab`` (at working
resolution) exponentially across frames,

    ``ab_smooth[t] = smoothing * ab_smooth[t - 1] + (1 - smoothing) * ab[t]``,

where ``ab_smooth[t - 1]`` is first moved by the global translation between the two
frames (estimated by phase correlation on the working-size lightness, and kept only
when it aligns the frames better than no motion), so camera pans do not smear colours.
Pixels that just came into view start without history. Smoothing restarts at scene
cuts, detected when the mean absolute difference of consecutive (aligned) gray frames,
lightness in [0, 1] at working size, exceeds ``scene_cut_threshold``. Local motion
(objects moving in a still shot) is not compensated: colours can trail slightly behind
fast-moving objects; lower ``smoothing`` if that shows.
"""

from __future__ import annotations

import math

import torch

from .._alignment import aligned_mean_abs_diff, overlap_slices
from ..errors import InvalidConfigError
from .defaults import DEFAULT_SCENE_CUT_THRESHOLD

__all__ = ["TemporalSmoother"]


def _spectrum(gray: torch.Tensor) -> torch.Tensor | None:
    """Windowed 2-D spectrum of a gray frame ``(H, W)``, for :func:`_estimate_shift`."""
    h, w = gray.shape
    if h < 4 or w < 4:
        return None
    window = torch.outer(
        torch.hann_window(h, dtype=gray.dtype, device=gray.device),
        torch.hann_window(w, dtype=gray.dtype, device=gray.device),
    )
    return torch.fft.rfft2((gray - gray.mean()) * window)


def _estimate_shift(
    prev: torch.Tensor | None,
    cur: torch.Tensor | None,
    size: tuple[int, int],
    max_fraction: float = 0.25,
) -> tuple[int, int]:
    """Global integer translation ``(dy, dx)`` of the content between two frames (phase correlation).

    Args:
        prev: :func:`_spectrum` of the previous frame.
        cur: :func:`_spectrum` of the current frame.
        size: ``(H, W)`` of the frames.
        max_fraction: Larger shifts (as a fraction of the size) are not trusted.
    """
    if prev is None or cur is None:
        return 0, 0
    h, w = size
    cross = cur * prev.conj()
    corr = torch.fft.irfft2(cross / cross.abs().clamp_min(1e-12), s=(h, w))
    dy, dx = divmod(int(torch.argmax(corr)), w)
    dy = dy - h if dy > h // 2 else dy
    dx = dx - w if dx > w // 2 else dx
    if abs(dy) > max_fraction * h or abs(dx) > max_fraction * w:
        return 0, 0
    return dy, dx


def _check_number(name: str, value: object, rule: str, ok: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not ok:
        raise InvalidConfigError(f"{name} must be {rule}, got {value!r}.")


class TemporalSmoother:
    """Smooths the colour of consecutive frames, following camera pans, restarting at cuts.

    Feed it the frames of a video in display order, one :meth:`step` per frame (see the
    module docs for the rule). It keeps only the previous frame.

    Args:
        smoothing: Exponential smoothing factor of ``ab`` in [0, 1); 0 disables it.
        scene_cut_threshold: Mean absolute difference of consecutive aligned gray frames
            (lightness in [0, 1]) above which smoothing restarts; ``math.inf`` disables
            cut detection.
        compensate_motion: Align consecutive frames by their estimated global
            translation before comparing and smoothing them.

    Attributes:
        index: How many frames were stepped so far.
        scene_cuts: Indices of the frames where smoothing restarted (a cut, or a change
            of working size).
        shifts: Per frame, the ``(dy, dx)`` translation of its content since the previous
            frame that was used (``(0, 0)`` for the first frame and when no motion
            aligned the frames better).

    Raises:
        InvalidConfigError: For ``smoothing`` outside [0, 1) or a negative/NaN threshold.

    Example:
        >>> import torch
        >>> smoother = TemporalSmoother(smoothing=0.5)
        >>> gray = torch.rand(16, 16)
        >>> smoother.step(gray, torch.zeros(1, 2, 16, 16)).abs().max().item()
        0.0
        >>> smoother.step(gray, torch.ones(1, 2, 16, 16)).mean().item()  # half of the new colour
        0.5
        >>> smoother.step(torch.zeros(16, 16) + 0.9, torch.ones(1, 2, 16, 16)).mean().item()
        1.0
        >>> smoother.scene_cuts, smoother.index
        ([2], 3)
    """

    def __init__(
        self,
        smoothing: float = 0.6,
        scene_cut_threshold: float = DEFAULT_SCENE_CUT_THRESHOLD,
        compensate_motion: bool = True,
    ) -> None:
        _check_number(
            "smoothing",
            smoothing,
            "a number in [0, 1) (0 disables smoothing)",
            isinstance(smoothing, (int, float)) and 0.0 <= smoothing < 1.0,
        )
        _check_number(
            "scene_cut_threshold",
            scene_cut_threshold,
            "a number >= 0 (math.inf disables cut detection)",
            isinstance(scene_cut_threshold, (int, float))
            and not math.isnan(scene_cut_threshold)
            and scene_cut_threshold >= 0,
        )
        self.smoothing = float(smoothing)
        self.threshold = float(scene_cut_threshold)
        self.compensate_motion = bool(compensate_motion)
        self.index = 0
        self.scene_cuts: list[int] = []
        self.shifts: list[tuple[int, int]] = []
        self._prev_ab: torch.Tensor | None = None
        self._prev_gray: torch.Tensor | None = None
        self._prev_spectrum: torch.Tensor | None = None

    def step(self, gray: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        """Take the next frame; returns its smoothed ``ab``.

        Args:
            gray: The frame's lightness in [0, 1], at the working size of ``ab``.
            ab: The frame's predicted ``ab`` (any units).

        Returns:
            The smoothed ``ab``: ``ab`` itself on the first frame, after a cut, or with
            ``smoothing=0``.

        Shape:
            - gray: ``(h, w)``.
            - ab: ``(..., 2, h, w)``; returns the same shape.

        Example:
            >>> import torch
            >>> TemporalSmoother().step(torch.rand(8, 8), torch.ones(1, 2, 8, 8)).shape
            torch.Size([1, 2, 8, 8])
        """
        try:
            return self._step(gray, ab)
        finally:
            self.index += 1

    def _step(self, gray: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        prev, prev_ab, prev_spectrum = self._prev_gray, self._prev_ab, self._prev_spectrum
        spectrum = _spectrum(gray) if self.compensate_motion else None
        self._prev_gray, self._prev_spectrum = gray, spectrum
        if prev is None or prev_ab is None or prev.shape != gray.shape:
            if prev is not None:
                self.scene_cuts.append(self.index)
            self.shifts.append((0, 0))
            self._prev_ab = ab
            return ab
        dy, dx = 0, 0
        diff = aligned_mean_abs_diff(prev, gray, 0, 0)
        if self.compensate_motion:
            sy, sx = _estimate_shift(prev_spectrum, spectrum, (gray.shape[0], gray.shape[1]))
            if (sy, sx) != (0, 0):
                moved = aligned_mean_abs_diff(prev, gray, sy, sx)
                if moved < diff:
                    dy, dx, diff = sy, sx, moved
        self.shifts.append((dy, dx))
        if diff > self.threshold:
            self.scene_cuts.append(self.index)
        elif self.smoothing > 0:
            (py, px), (cy, cx) = overlap_slices(gray.shape[-2], gray.shape[-1], dy, dx)
            history = ab.clone()  # pixels that just came into view have no history
            history[..., cy, cx] = prev_ab[..., py, px]
            ab = self.smoothing * history + (1.0 - self.smoothing) * ab
        self._prev_ab = ab
        return ab
