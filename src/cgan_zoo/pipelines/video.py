"""Colorize videos frame by frame, with temporal smoothing and scene-cut resets.

Videos are decoded and encoded as a stream with PyAV (the ``[video]`` extra,
:mod:`cgan_zoo.pipelines.video_io`): only a small batch of frames
(``colorizer.batch_size``) is in memory at any time. Each batch of frames runs through
the stages of :class:`~cgan_zoo.pipelines.Colorizer` (``prepare`` → ``infer`` →
``compose``); in between, the predicted ``ab`` (at working resolution) of each frame is
smoothed across frames, following camera pans and restarting at scene cuts, by a
:class:`~cgan_zoo.pipelines.temporal.TemporalSmoother` (its module documents the rule).
Local motion (objects moving in a still shot) is not compensated: colours can trail
slightly behind fast-moving objects; lower ``smoothing`` if that shows.

The output keeps the input's frame count, frame size, frame rate (the input stream's
``average_rate``) and timestamps; the first audio stream is copied (remuxed, not
re-encoded) when the output container accepts its codec. Frames of even width and
height are encoded as ``yuv420p`` (plays everywhere); odd sizes cannot be stored in
``yuv420p``, so they are encoded without chroma subsampling (``yuv444p`` for
``libx264``), which keeps the exact size but is not supported by every player.

The flicker metric lives in :func:`cgan_zoo.metrics.flicker` (also importable from here).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import torch
from torch import nn

from ..errors import InvalidConfigError
from ..metrics import flicker
from .colorizer import Colorizer
from .defaults import DEFAULT_SCENE_CUT_THRESHOLD
from .temporal import TemporalSmoother
from .video_io import VideoTranscoder, check_codec, read_frames, write_frames

__all__ = [
    "DEFAULT_SCENE_CUT_THRESHOLD",
    "check_codec",
    "colorize_video",
    "colorize_frames",
    "flicker",
    "read_frames",
    "write_frames",
]


def _check_colorizer(colorizer: object) -> Colorizer:
    if not isinstance(colorizer, Colorizer):
        raise TypeError(f"colorizer must be a cgan_zoo Colorizer, got {type(colorizer).__name__}.")
    return colorizer


class _SmoothedColorizer:
    """A colorizer whose consecutive frames share one :class:`TemporalSmoother`."""

    def __init__(self, colorizer: Colorizer, smoother: TemporalSmoother) -> None:
        self.colorizer = _check_colorizer(colorizer)
        self.smoother = smoother

    def process(self, frames: Sequence[Any]) -> list[Any]:
        """Colorize the next ``frames`` of the video; returns one result per frame, in its kind."""
        c, start = self.colorizer, self.smoother.index
        prepared = [c.prepare(frame, name=f"frame {start + i}") for i, frame in enumerate(frames)]
        results = []
        with torch.no_grad():
            for item, prediction in zip(prepared, c.infer(prepared)):
                gray = (item.model_input[0, 0] + 1.0) / 2.0  # working-size lightness in [0, 1]
                smoothed = dataclasses.replace(
                    prediction, ab=self.smoother.step(gray, prediction.ab)
                )
                results.append(c.compose(item, smoothed))
        return results


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last one shorter), read lazily."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def colorize_frames(
    frames: Iterable[Any],
    colorizer: Colorizer,
    *,
    smoothing: float = 0.6,
    scene_cut_threshold: float = DEFAULT_SCENE_CUT_THRESHOLD,
    compensate_motion: bool = True,
) -> Iterator[Any]:
    """Colorize an iterable of frames lazily, with temporal smoothing (see the module docs).

    Frames are read ``colorizer.batch_size`` at a time, so a generator of frames is never
    held in memory as a whole.

    Args:
        frames: Frames in display order, in any kind :class:`Colorizer` accepts.
        colorizer: The colorizer.
        smoothing: Exponential smoothing factor of ``ab`` in [0, 1); 0 disables it.
        scene_cut_threshold: Scene-cut threshold on the mean absolute gray difference
            (lightness in [0, 1]); ``math.inf`` disables cut detection.
        compensate_motion: Align consecutive frames by their estimated global translation
            before comparing and smoothing them.

    Yields:
        One RGB frame per input frame, in the input frame's kind (see :class:`Colorizer`).

    Example:
        >>> import numpy as np
        >>> from cgan_zoo import create_model
        >>> c = Colorizer(create_model("unet_tiny"), size=32)
        >>> out = list(colorize_frames([np.zeros((16, 24), np.uint8)] * 3, c))
        >>> len(out), out[0].shape
        (3, (16, 24, 3))
    """
    smoother = TemporalSmoother(smoothing, scene_cut_threshold, compensate_motion)
    core = _SmoothedColorizer(colorizer, smoother)
    for batch in _batches(frames, colorizer.batch_size):
        yield from core.process(batch)


def _resolve_colorizer(colorizer: Colorizer | None, model: Any) -> Colorizer:
    if colorizer is not None and model is not None:
        raise InvalidConfigError("pass either colorizer= or model=, not both.")
    if colorizer is not None:
        return _check_colorizer(colorizer)
    if isinstance(model, nn.Module):
        return Colorizer(model)
    if model is None:
        from .defaults import default_model_name

        model = default_model_name()
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(
            f"model must be a registered name, a folder, a Hub id or a generator module, got {type(model).__name__}."
        )
    return Colorizer.from_pretrained(model)


def colorize_video(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    colorizer: Colorizer | None = None,
    model: Any = None,
    smoothing: float = 0.6,
    scene_cut_threshold: float = DEFAULT_SCENE_CUT_THRESHOLD,
    progress: bool = True,
    codec: str = "libx264",
    crf: int | None = 18,
    compensate_motion: bool = True,
) -> dict[str, Any]:
    """Colorize a video file as a stream, keeping its frames, size, frame rate and audio.

    See the module docstring for smoothing, scene cuts, odd frame sizes and audio.

    Args:
        src: Input video (any container/codec FFmpeg decodes); only its lightness is used.
        dst: Output file; the container comes from its extension (``.mp4``, ``.mkv``, ...).
            It is written to a temporary name next to it and renamed when complete.
        colorizer: The :class:`Colorizer` to use (its ``size``, ``device`` and
            ``batch_size`` apply).
        model: Instead of ``colorizer``: a generator module, registered pretrained name,
            ``save_pretrained`` folder or Hub id. With neither, the default pretrained
            colorizer (:data:`~cgan_zoo.pipelines.defaults.DEFAULT_COLORIZER`) is used.
        smoothing: Exponential smoothing factor of the predicted ``ab`` in [0, 1); 0 disables it.
        scene_cut_threshold: Mean absolute gray difference of consecutive frames (in
            [0, 1]) above which smoothing restarts; ``math.inf`` disables cut detection.
        progress: Show a tqdm progress bar.
        codec: FFmpeg video encoder.
        crf: Quality for encoders with a constant rate factor (lower is better; x264: 0-51).
        compensate_motion: Align consecutive frames by their estimated global translation
            (camera pans) before the scene-cut test and the smoothing.

    Returns:
        ``{"frames", "fps", "size" (width, height), "audio" (whether audio was copied),
        "scene_cuts" (frame indices where smoothing restarted), "output"}``.

    Raises:
        MissingExtraError: If PyAV is not installed (``pip install "cgan-zoo[video]"``).
        InvalidInputError: For a missing or unreadable input, or one without video.
        InvalidConfigError: For bad ``smoothing``, ``codec`` or ``crf`` values.

    Example:
        >>> import tempfile, numpy as np
        >>> from cgan_zoo import create_model
        >>> folder = tempfile.mkdtemp()
        >>> write_frames(folder + "/in.mp4", [np.full((32, 48, 3), 80, np.uint8)] * 3, fps=6)
        >>> c = Colorizer(create_model("unet_tiny"), size=48)
        >>> info = colorize_video(folder + "/in.mp4", folder + "/out.mp4", colorizer=c, progress=False)
        >>> info["frames"], info["fps"], info["size"]
        (3, 6.0, (48, 32))
    """
    video = VideoTranscoder(src, dst, codec=codec, crf=crf)  # checks the extra, codec and paths
    colorizer = _resolve_colorizer(colorizer, model)
    smoother = TemporalSmoother(smoothing, scene_cut_threshold, compensate_motion)
    core = _SmoothedColorizer(colorizer, smoother)
    from tqdm.auto import tqdm

    with video:
        with tqdm(
            total=video.frame_count, unit="frame", desc="colorize", disable=not progress
        ) as bar:
            for batch in _batches(video.frames(), colorizer.batch_size):
                for rgb in core.process(batch):  # numpy frames in, uint8 (H, W, 3) out
                    video.write(rgb)
                bar.update(len(batch))
    return {
        "frames": video.frames_written,
        "fps": float(video.rate),
        "size": video.size,
        "audio": video.audio,
        "scene_cuts": list(smoother.scene_cuts),
        "output": str(video.dst),
    }
