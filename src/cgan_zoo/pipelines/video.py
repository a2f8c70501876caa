"""Colorize videos frame by frame, with temporal smoothing and scene-cut resets.

Videos are decoded and encoded as a stream with PyAV (the ``[video]`` extra): only a
small batch of frames (``colorizer.batch_size``) is in memory at any time. Each frame is
colorized like a photo by :class:`~cgan_zoo.pipelines.Colorizer`; to reduce flicker the
predicted ``ab`` (at working resolution) is smoothed exponentially across frames,

    ``ab_smooth[t] = smoothing * ab_smooth[t - 1] + (1 - smoothing) * ab[t]``,

where ``ab_smooth[t - 1]`` is first moved by the global translation between the two
frames (estimated by phase correlation on the working-size lightness, and kept only
when it aligns the frames better than no motion), so camera pans do not smear colours.
Pixels that just came into view start without history. Smoothing restarts at scene
cuts, detected when the mean absolute difference of consecutive (aligned) gray frames,
lightness in [0, 1] at working size, exceeds ``scene_cut_threshold``. Local motion
(objects moving in a still shot) is not compensated: colours can trail slightly behind
fast-moving objects; lower ``smoothing`` if that shows.

The output keeps the input's frame count, frame size, frame rate (the input stream's
``average_rate``) and timestamps; the first audio stream is copied (remuxed, not
re-encoded) when the output container accepts its codec. Frames of even width and
height are encoded as ``yuv420p`` (plays everywhere); odd sizes cannot be stored in
``yuv420p``, so they are encoded without chroma subsampling (``yuv444p`` for
``libx264``), which keeps the exact size but is not supported by every player.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..color import lab_to_rgb
from ..errors import InvalidConfigError, InvalidInputError, require_extra
from .colorizer import Colorizer, _Item
from .defaults import DEFAULT_SCENE_CUT_THRESHOLD
from .images import describe, tensor_to_image

__all__ = [
    "DEFAULT_SCENE_CUT_THRESHOLD",
    "check_codec",
    "colorize_video",
    "colorize_frames",
    "flicker",
    "read_frames",
    "write_frames",
]

_CRF_CODECS = ("libx264", "libx265", "libvpx-vp9", "libaom-av1", "libsvtav1")
_FULL_CHROMA = ("yuv444p", "gbrp", "rgb24", "bgr24", "bgr0", "rgb0", "yuvj444p")


def _require_av():
    return require_extra("av", "video", "Video colorization")


# ---------------------------------------------------------------------------- metric


def flicker(ab_frames: Any, shifts: Any = None) -> float:
    """Mean absolute change of ``ab`` between consecutive frames, after undoing known motion.

    For each pair of consecutive frames, frame ``t`` is compared with frame ``t - 1``
    shifted by the known integer displacement, over the region both frames see; the
    result is the mean ``|Δab|`` over pixels, both channels and all pairs. A perfectly
    stable colourization of a panning shot scores 0.

    Args:
        ab_frames: ``T >= 2`` frames of a/b values, as a ``(T, 2, H, W)`` tensor/array or
            a sequence of ``(2, H, W)`` tensors/arrays (any units; Lab units give Lab units).
        shifts: How far the content moved from frame ``t - 1`` to frame ``t``, as integer
            ``(dy, dx)`` pixels: one pair for a constant pan, or a sequence of ``T - 1``
            pairs. ``None`` means a static camera. A camera panning right by ``s`` px per
            frame moves the content by ``(0, -s)``.

    Returns:
        The flicker score.

    Raises:
        InvalidInputError: For fewer than two frames, mismatched shapes, or shifts that
            leave no overlap.

    Shape:
        - ab_frames: ``(T, 2, H, W)``.

    Example:
        >>> import torch
        >>> base = torch.arange(40.0).view(1, 2, 4, 5)
        >>> pan = torch.cat([base, torch.roll(base, shifts=-1, dims=-1)])  # content moves 1 px left
        >>> flicker(pan, shifts=(0, -1))
        0.0
        >>> flicker(pan) > 0
        True
    """
    if isinstance(ab_frames, (np.ndarray, torch.Tensor)):
        frames = torch.as_tensor(
            np.asarray(ab_frames) if isinstance(ab_frames, np.ndarray) else ab_frames
        )
        frames_list = list(frames)
    elif isinstance(ab_frames, Sequence):
        frames_list = [
            torch.as_tensor(np.asarray(f) if isinstance(f, np.ndarray) else f) for f in ab_frames
        ]
    else:
        raise TypeError(
            f"ab_frames must be a (T, 2, H, W) tensor/array or a list of frames, got {type(ab_frames).__name__}."
        )
    if len(frames_list) < 2:
        raise InvalidInputError(f"flicker needs at least 2 frames, got {len(frames_list)}.")
    shape = tuple(frames_list[0].shape)
    if len(shape) != 3:
        raise InvalidInputError(f"each ab frame must be (C, H, W), got shape {shape}.")
    for i, f in enumerate(frames_list):
        if tuple(f.shape) != shape:
            raise InvalidInputError(
                f"frame {i} has shape {tuple(f.shape)}, expected {shape} like frame 0."
            )
    pairs = len(frames_list) - 1
    if shifts is None:
        shift_list = [(0, 0)] * pairs
    elif len(shifts) == 2 and all(isinstance(v, (int, np.integer)) for v in shifts):
        shift_list = [(int(shifts[0]), int(shifts[1]))] * pairs
    else:
        shift_list = [(int(s[0]), int(s[1])) for s in shifts]
        if len(shift_list) != pairs:
            raise InvalidInputError(
                f"shifts must be one (dy, dx) pair or {pairs} pairs (one per consecutive frame pair), "
                f"got {len(shift_list)}."
            )
    h, w = shape[-2:]
    total = 0.0
    for t, (dy, dx) in enumerate(shift_list, start=1):
        if abs(dy) >= h or abs(dx) >= w:
            raise InvalidInputError(
                f"shift {(dy, dx)} of pair {t} leaves no overlap in {h}x{w} frames."
            )
        total += _mean_abs_diff(frames_list[t - 1].double(), frames_list[t].double(), dy, dx)
    return total / pairs


# ---------------------------------------------------------------------------- frame core


def _overlap(h: int, w: int, dy: int, dx: int) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """Slices of the region seen by both frames when content moved by ``(dy, dx)``.

    Returns ``(prev_slices, cur_slices)`` with ``prev[prev_slices] ≈ cur[cur_slices]``.
    """
    prev = (slice(max(0, -dy), h - max(0, dy)), slice(max(0, -dx), w - max(0, dx)))
    cur = (slice(max(0, dy), h - max(0, -dy)), slice(max(0, dx), w - max(0, -dx)))
    return prev, cur


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


def _mean_abs_diff(prev: torch.Tensor, cur: torch.Tensor, dy: int, dx: int) -> float:
    (py, px), (cy, cx) = _overlap(prev.shape[-2], prev.shape[-1], dy, dx)
    return float((cur[..., cy, cx] - prev[..., py, px]).abs().mean())


class _TemporalColorizer:
    """Colorizes batches of frames in order, smoothing ab and resetting at scene cuts.

    Per frame, the global translation since the previous frame is estimated on the
    working-size lightness (phase correlation) and kept only if it aligns the frames
    better than no motion. The scene-cut test and the smoothing both use that alignment,
    so a pan neither triggers false cuts nor smears colours along the motion.
    """

    def __init__(
        self,
        colorizer: Colorizer,
        smoothing: float,
        scene_cut_threshold: float,
        compensate_motion: bool = True,
    ) -> None:
        if not isinstance(colorizer, Colorizer):
            raise TypeError(
                f"colorizer must be a cgan_zoo Colorizer, got {type(colorizer).__name__}."
            )
        if (
            isinstance(smoothing, bool)
            or not isinstance(smoothing, (int, float))
            or not 0.0 <= smoothing < 1.0
        ):
            raise InvalidConfigError(
                f"smoothing must be a number in [0, 1) (0 disables smoothing), got {smoothing!r}."
            )
        if (
            isinstance(scene_cut_threshold, bool)
            or not isinstance(scene_cut_threshold, (int, float))
            or math.isnan(scene_cut_threshold)
            or scene_cut_threshold < 0
        ):
            raise InvalidConfigError(
                f"scene_cut_threshold must be a number >= 0 (math.inf disables cut detection), "
                f"got {scene_cut_threshold!r}."
            )
        self.colorizer = colorizer
        self.smoothing = float(smoothing)
        self.threshold = float(scene_cut_threshold)
        self.compensate_motion = bool(compensate_motion)
        self.index = 0
        self.scene_cuts: list[int] = []
        self.shifts: list[tuple[int, int]] = []
        self._prev_ab: torch.Tensor | None = None
        self._prev_gray: torch.Tensor | None = None
        self._prev_spectrum: torch.Tensor | None = None

    def _step(self, gray: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        """Update the state with one frame; returns its smoothed working-size ab."""
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
        diff = _mean_abs_diff(prev, gray, 0, 0)
        if self.compensate_motion:
            sy, sx = _estimate_shift(prev_spectrum, spectrum, (gray.shape[0], gray.shape[1]))
            if (sy, sx) != (0, 0):
                moved = _mean_abs_diff(prev, gray, sy, sx)
                if moved < diff:
                    dy, dx, diff = sy, sx, moved
        self.shifts.append((dy, dx))
        if diff > self.threshold:
            self.scene_cuts.append(self.index)
        elif self.smoothing > 0:
            (py, px), (cy, cx) = _overlap(gray.shape[-2], gray.shape[-1], dy, dx)
            history = ab.clone()  # pixels that just came into view have no history
            history[..., cy, cx] = prev_ab[..., py, px]
            ab = self.smoothing * history + (1.0 - self.smoothing) * ab
        self._prev_ab = ab
        return ab

    def process(self, frames: Sequence[Any]) -> list[tuple[torch.Tensor, _Item]]:
        """Colorize ``frames`` (the next ones in the video); returns ``(rgb (1,3,H,W), item)`` each."""
        c = self.colorizer
        items = [
            c._prepare(frame, name=f"frame {self.index + i}") for i, frame in enumerate(frames)
        ]
        outputs = []
        with torch.no_grad():
            for item, (ab, light) in zip(items, c._infer(items)):
                gray = (item.model_input[0, 0] + 1.0) / 2.0  # working-size lightness in [0, 1]
                ab = self._step(gray, ab)
                outputs.append((lab_to_rgb(c._compose(item, ab, light)), item))
                self.index += 1
        return outputs


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
    core = _TemporalColorizer(colorizer, smoothing, scene_cut_threshold, compensate_motion)
    batch: list[Any] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) >= colorizer.batch_size:
            yield from (tensor_to_image(rgb, item.spec) for rgb, item in core.process(batch))
            batch = []
    if batch:
        yield from (tensor_to_image(rgb, item.spec) for rgb, item in core.process(batch))


# ---------------------------------------------------------------------------- PyAV I/O


def _open_input(av: Any, src: Path) -> Any:
    if not src.is_file():
        raise InvalidInputError(f"input video {str(src)!r} does not exist or is not a file.")
    try:
        return av.open(str(src))
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        if isinstance(exc, getattr(av.error, "InvalidDataError", ())):
            raise InvalidInputError(
                f"cannot read video {str(src)!r}: FFmpeg does not recognise its contents as a "
                "video (is it complete, and really a video file whatever its extension?)."
            ) from None
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InvalidInputError(f"cannot read video {str(src)!r}: {reason}") from None


def check_codec(codec: str) -> str:
    """Check that ``codec`` is a video encoder of this FFmpeg build, before any work starts.

    Raises:
        MissingExtraError: If PyAV (the ``[video]`` extra) is not installed.
        InvalidConfigError: Naming close encoder names.

    Example:
        >>> check_codec("libx264")
        'libx264'
    """
    av = _require_av()
    try:
        encoder = av.codec.Codec(codec, "w")
        ok = encoder.type == "video"
    except Exception:  # unknown names raise several error types across PyAV versions
        ok = False
    if not ok:
        from .._registry import did_you_mean

        encoders = []
        for name in sorted(av.codecs_available):
            try:
                if av.codec.Codec(name, "w").type == "video":
                    encoders.append(name)
            except Exception:
                continue
        raise InvalidConfigError(
            f"codec={codec!r} is not a video encoder available in this FFmpeg build."
            f"{did_you_mean(codec, encoders)} Use 'libx264' (default), 'mpeg4' or 'ffv1'."
        )
    return codec


def read_frames(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """Decode the first video stream of a file, one RGB frame at a time.

    Args:
        path: Video file.

    Yields:
        ``(H, W, 3)`` uint8 RGB frames in display order.

    Raises:
        MissingExtraError: If PyAV (the ``[video]`` extra) is not installed.
        InvalidInputError: If the file is missing, unreadable or has no video stream.

    Example:
        >>> import tempfile, numpy as np
        >>> path = tempfile.mkdtemp() + "/clip.mp4"
        >>> write_frames(path, [np.zeros((16, 16, 3), np.uint8)] * 2, fps=5)
        >>> [f.shape for f in read_frames(path)]
        [(16, 16, 3), (16, 16, 3)]
    """
    av = _require_av()
    with _open_input(av, Path(path)) as container:
        if not container.streams.video:
            raise InvalidInputError(f"{os.fspath(path)!r} has no video stream.")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            yield frame.to_ndarray(format="rgb24")


def _pick_pix_fmt(av: Any, codec: str, width: int, height: int) -> str:
    try:
        formats = [f.name for f in (av.codec.Codec(codec, "w").video_formats or [])]
    except Exception as exc:  # unknown codec names raise several error types across PyAV versions
        raise InvalidConfigError(
            f"codec={codec!r} is not a video encoder available in this FFmpeg build ({exc}). "
            "Use 'libx264' (default), 'mpeg4' or 'ffv1'."
        ) from None
    even = width % 2 == 0 and height % 2 == 0
    if even and (not formats or "yuv420p" in formats):
        return "yuv420p"
    for name in _FULL_CHROMA:
        if name in formats:
            return name
    if even and formats:
        return formats[0]
    raise InvalidInputError(
        f"the video is {width}x{height} (WxH); odd sizes need a pixel format without chroma "
        f"subsampling, which codec {codec!r} lacks (it supports {formats}). Use codec='libx264' "
        "or 'ffv1', or crop the video to an even size."
    )


def _add_video_stream(
    av: Any, out: Any, codec: str, rate: Fraction, width: int, height: int, crf: int | None
) -> Any:
    pix_fmt = _pick_pix_fmt(av, codec, width, height)
    options = {}
    if crf is not None and codec in _CRF_CODECS:
        options["crf"] = str(crf)
        if codec == "libvpx-vp9":
            options["b"] = "0"
    try:
        stream = out.add_stream(codec, rate=rate, options=options)
    except ValueError as exc:
        raise InvalidConfigError(f"cannot write codec {codec!r} to this file: {exc}.") from None
    stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
    return stream


def write_frames(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float | Fraction = 24,
    *,
    codec: str = "libx264",
    crf: int | None = 18,
) -> None:
    """Encode RGB frames to a video file with PyAV (a small convenience for tests and demos).

    Args:
        path: Output file; the container is chosen from its extension.
        frames: ``(H, W, 3)`` uint8 RGB frames, all of the same size.
        fps: Frame rate.
        codec: FFmpeg encoder name.
        crf: Constant rate factor for encoders that support it (``None`` keeps the default).

    Raises:
        MissingExtraError: If PyAV is not installed.
        InvalidInputError: For frames of the wrong dtype, shape or changing size.

    Example:
        >>> import tempfile, numpy as np
        >>> write_frames(tempfile.mkdtemp() + "/clip.mp4", [np.zeros((8, 8, 3), np.uint8)], fps=10)
    """
    av = _require_av()
    rate = Fraction(fps).limit_denominator(1001000)
    with av.open(os.fspath(path), "w") as out:
        stream = None
        for i, frame in enumerate(frames):
            if (
                not isinstance(frame, np.ndarray)
                or frame.dtype != np.uint8
                or frame.ndim != 3
                or frame.shape[2] != 3
            ):
                raise InvalidInputError(
                    f"frame {i} must be an (H, W, 3) uint8 array, got {describe(frame)}."
                )
            if stream is None:
                stream = _add_video_stream(
                    av, out, codec, rate, frame.shape[1], frame.shape[0], crf
                )
            elif (frame.shape[1], frame.shape[0]) != (stream.width, stream.height):
                raise InvalidInputError(
                    f"frame {i} is {frame.shape[0]}x{frame.shape[1]} (HxW) but earlier frames are "
                    f"{stream.height}x{stream.width}; all frames must have one size."
                )
            out.mux(
                stream.encode(
                    av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                )
            )
        if stream is not None:
            out.mux(stream.encode(None))


# ---------------------------------------------------------------------------- video


def _resolve_colorizer(colorizer: Colorizer | None, model: Any) -> Colorizer:
    if colorizer is not None and model is not None:
        raise InvalidConfigError("pass either colorizer= or model=, not both.")
    if colorizer is not None:
        if not isinstance(colorizer, Colorizer):
            raise TypeError(
                f"colorizer must be a cgan_zoo Colorizer, got {type(colorizer).__name__}."
            )
        return colorizer
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
    av = _require_av()
    if crf is not None and (isinstance(crf, bool) or not isinstance(crf, int) or crf < 0):
        raise InvalidConfigError(f"crf must be a non-negative integer or None, got {crf!r}.")
    check_codec(codec)
    colorizer = _resolve_colorizer(colorizer, model)
    core = _TemporalColorizer(colorizer, smoothing, scene_cut_threshold, compensate_motion)
    src_path, dst_path = Path(src), Path(dst)
    if dst_path.exists() and src_path.exists() and dst_path.resolve() == src_path.resolve():
        raise InvalidInputError(
            f"output {str(dst_path)!r} is the input video; choose another output path."
        )
    if not dst_path.parent.is_dir():
        raise InvalidInputError(
            f"output folder {str(dst_path.parent)!r} does not exist; create it first."
        )
    tmp_path = dst_path.with_name(f".{dst_path.stem}.partial{dst_path.suffix}")
    from tqdm.auto import tqdm

    with _open_input(av, src_path) as inp:
        if not inp.streams.video:
            raise InvalidInputError(f"{str(src_path)!r} has no video stream.")
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        rate = vin.average_rate or vin.guessed_rate or Fraction(24)
        width, height = vin.codec_context.width, vin.codec_context.height
        ain = inp.streams.audio[0] if inp.streams.audio else None
        frames_done = 0
        try:
            out = av.open(str(tmp_path), "w")
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise InvalidInputError(
                f"cannot write {str(dst_path)!r} ({exc}); use a video extension such as .mp4 or .mkv."
            ) from None
        bar = tqdm(total=vin.frames or None, unit="frame", desc="colorize", disable=not progress)
        try:
            with out:
                vout = _add_video_stream(av, out, codec, Fraction(rate), width, height, crf)
                aout = None
                if ain is not None:
                    try:
                        aout = out.add_stream_from_template(ain)
                    except (ValueError, av.error.FFmpegError) as exc:
                        warnings.warn(f"audio not copied: {exc}", stacklevel=2)
                pending: list[Any] = []

                def flush() -> None:
                    nonlocal frames_done
                    if not pending:
                        return
                    results = core.process([f.to_ndarray(format="rgb24") for f in pending])
                    for src_frame, (rgb, _) in zip(pending, results):
                        arr = np.round(rgb[0].permute(1, 2, 0).cpu().numpy() * 255.0).astype(
                            np.uint8
                        )
                        frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
                        if src_frame.pts is not None:
                            frame.pts, frame.time_base = (
                                src_frame.pts,
                                src_frame.time_base or vin.time_base,
                            )
                        else:
                            frame.pts, frame.time_base = frames_done, 1 / Fraction(rate)
                        out.mux(vout.encode(frame))
                        frames_done += 1
                    bar.update(len(pending))
                    pending.clear()

                streams = [vin] + ([ain] if aout is not None else [])
                for packet in inp.demux(*streams):
                    if aout is not None and packet.stream is ain:
                        if packet.dts is not None:
                            packet.stream = aout
                            out.mux(packet)
                        continue
                    for frame in packet.decode():
                        pending.append(frame)
                        if len(pending) >= colorizer.batch_size:
                            flush()
                flush()
                out.mux(vout.encode(None))
        except BaseException:
            bar.close()
            tmp_path.unlink(missing_ok=True)
            raise
        bar.close()
    os.replace(tmp_path, dst_path)
    return {
        "frames": frames_done,
        "fps": float(rate),
        "size": (width, height),
        "audio": aout is not None,
        "scene_cuts": list(core.scene_cuts),
        "output": str(dst_path),
    }
