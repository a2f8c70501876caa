"""Video files in and out with PyAV (the ``[video]`` extra), as streams of RGB frames.

:func:`read_frames` and :func:`write_frames` decode and encode whole files frame by
frame. :class:`VideoTranscoder` does both at once for a pipeline that changes each
frame: it decodes the first video stream of a file, takes back one RGB frame per
decoded one, and encodes it with the source frame's timestamp, so the output keeps the
input's frame count, frame size, frame rate (the input stream's ``average_rate``) and
timestamps. The first audio stream is copied (remuxed, not re-encoded) when the output
container accepts its codec. The output is written to a temporary name next to it and
renamed when complete.

Frames of even width and height are encoded as ``yuv420p`` (plays everywhere); odd
sizes cannot be stored in ``yuv420p``, so they are encoded without chroma subsampling
(``yuv444p`` for ``libx264``), which keeps the exact size but is not supported by
every player.
"""

from __future__ import annotations

import os
import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from ..errors import InvalidConfigError, InvalidInputError, require_extra
from .images import describe

__all__ = ["VideoTranscoder", "check_codec", "read_frames", "write_frames"]

_CRF_CODECS = ("libx264", "libx265", "libvpx-vp9", "libaom-av1", "libsvtav1")
_FULL_CHROMA = ("yuv444p", "gbrp", "rgb24", "bgr24", "bgr0", "rgb0", "yuvj444p")


def _require_av() -> Any:
    return require_extra("av", "video", "Video colorization")


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


def _check_crf(crf: int | None) -> int | None:
    """``crf`` if it is ``None`` or a non-negative integer; otherwise a clear error."""
    if crf is not None and (isinstance(crf, bool) or not isinstance(crf, int) or crf < 0):
        raise InvalidConfigError(f"crf must be a non-negative integer or None, got {crf!r}.")
    return crf


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
            _check_rgb_frame(frame, i)
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


def _check_rgb_frame(frame: object, index: int) -> None:
    if (
        not isinstance(frame, np.ndarray)
        or frame.dtype != np.uint8
        or frame.ndim != 3
        or frame.shape[2] != 3
    ):
        raise InvalidInputError(
            f"frame {index} must be an (H, W, 3) uint8 array, got {describe(frame)}."
        )


class VideoTranscoder:
    """Decode a video, take back one changed RGB frame per decoded frame, encode them.

    A context manager (see the module docs for what the output keeps). Iterate
    :meth:`frames` and pass each result to :meth:`write`, in the same order; frames may
    be buffered in between (a batch at a time). The output is complete, and renamed to
    ``dst``, when the ``with`` block ends without an error; after an error it is removed.

    Args:
        src: Input video (any container/codec FFmpeg decodes).
        dst: Output file; the container comes from its extension (``.mp4``, ``.mkv``, ...).
        codec: FFmpeg video encoder.
        crf: Quality for encoders with a constant rate factor (lower is better; x264:
            0-51); ``None`` keeps the encoder's default.

    Attributes:
        rate: The input's frame rate (``average_rate``, else the guessed rate, else 24).
        size: ``(width, height)`` of the frames.
        frame_count: The number of frames the input declares, or ``None`` if unknown.
        frames_written: How many frames :meth:`write` encoded so far.
        audio: Whether an audio stream is being copied.

    Raises:
        MissingExtraError: If PyAV is not installed (``pip install "cgan-zoo[video]"``).
        InvalidInputError: For a missing or unreadable input, one without video, an
            output that is the input, or an output folder that does not exist.
        InvalidConfigError: For a bad ``codec`` or ``crf``.

    Example:
        >>> import tempfile, numpy as np
        >>> folder = tempfile.mkdtemp()
        >>> write_frames(folder + "/in.mp4", [np.full((16, 16, 3), 200, np.uint8)] * 3, fps=6)
        >>> with VideoTranscoder(folder + "/in.mp4", folder + "/out.mp4") as video:
        ...     for frame in video.frames():
        ...         video.write(255 - frame)  # a negative
        >>> video.frames_written, video.size, float(video.rate)
        (3, (16, 16), 6.0)
        >>> [int(f.mean()) // 10 for f in read_frames(folder + "/out.mp4")]
        [5, 5, 5]
    """

    def __init__(
        self,
        src: str | os.PathLike,
        dst: str | os.PathLike,
        *,
        codec: str = "libx264",
        crf: int | None = 18,
    ) -> None:
        self._av = _require_av()
        self.crf = _check_crf(crf)
        self.codec = check_codec(codec)
        self.src, self.dst = Path(src), Path(dst)
        if self.dst.exists() and self.src.exists() and self.dst.resolve() == self.src.resolve():
            raise InvalidInputError(
                f"output {str(self.dst)!r} is the input video; choose another output path."
            )
        if not self.dst.parent.is_dir():
            raise InvalidInputError(
                f"output folder {str(self.dst.parent)!r} does not exist; create it first."
            )
        self._tmp = self.dst.with_name(f".{self.dst.stem}.partial{self.dst.suffix}")
        self.rate: Fraction = Fraction(24)
        self.size: tuple[int, int] = (0, 0)
        self.frame_count: int | None = None
        self.frames_written = 0
        self.audio = False
        self._inp: Any = None
        self._out: Any = None
        self._vin: Any = None
        self._ain: Any = None
        self._vout: Any = None
        self._aout: Any = None
        self._timestamps: deque[tuple[Any, Any]] = deque()

    def __enter__(self) -> VideoTranscoder:
        av = self._av
        self._inp = _open_input(av, self.src)
        try:
            if not self._inp.streams.video:
                raise InvalidInputError(f"{str(self.src)!r} has no video stream.")
            vin = self._vin = self._inp.streams.video[0]
            vin.thread_type = "AUTO"
            self.rate = Fraction(vin.average_rate or vin.guessed_rate or Fraction(24))
            self.size = (vin.codec_context.width, vin.codec_context.height)
            self.frame_count = vin.frames or None
            self._ain = self._inp.streams.audio[0] if self._inp.streams.audio else None
            try:
                self._out = av.open(str(self._tmp), "w")
            except (av.error.FFmpegError, OSError, ValueError) as exc:
                raise InvalidInputError(
                    f"cannot write {str(self.dst)!r} ({exc}); use a video extension such as .mp4 or .mkv."
                ) from None
            self._vout = _add_video_stream(
                av, self._out, self.codec, self.rate, *self.size, self.crf
            )
            if self._ain is not None:
                try:
                    self._aout = self._out.add_stream_from_template(self._ain)
                except (ValueError, av.error.FFmpegError) as exc:
                    warnings.warn(f"audio not copied: {exc}", stacklevel=3)
            self.audio = self._aout is not None
        except BaseException:
            self._close(ok=False)
            raise
        return self

    def frames(self) -> Iterator[np.ndarray]:
        """Decode the video stream, copying audio packets to the output on the way.

        Yields:
            ``(H, W, 3)`` uint8 RGB frames in display order.
        """
        streams = [self._vin] + ([self._ain] if self._aout is not None else [])
        for packet in self._inp.demux(*streams):
            if self._aout is not None and packet.stream is self._ain:
                if packet.dts is not None:
                    packet.stream = self._aout
                    self._out.mux(packet)
                continue
            for frame in packet.decode():
                self._timestamps.append((frame.pts, frame.time_base))
                yield frame.to_ndarray(format="rgb24")

    def write(self, rgb: np.ndarray) -> None:
        """Encode the result for the oldest decoded frame not written yet, with its timestamp.

        Args:
            rgb: ``(H, W, 3)`` uint8 RGB frame of the input's size.

        Raises:
            InvalidInputError: For a frame of another kind or size, or one more than
                was decoded.
        """
        _check_rgb_frame(rgb, self.frames_written)
        if (rgb.shape[1], rgb.shape[0]) != self.size:
            raise InvalidInputError(
                f"frame {self.frames_written} is {rgb.shape[0]}x{rgb.shape[1]} (HxW), but the video "
                f"is {self.size[1]}x{self.size[0]}."
            )
        if not self._timestamps:
            raise InvalidInputError(
                f"write() got frame {self.frames_written}, but only {self.frames_written} frames "
                "were decoded; write one frame per frame from frames()."
            )
        pts, time_base = self._timestamps.popleft()
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        if pts is not None:
            frame.pts, frame.time_base = pts, time_base or self._vin.time_base
        else:
            frame.pts, frame.time_base = self.frames_written, 1 / self.rate
        self._out.mux(self._vout.encode(frame))
        self.frames_written += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close(ok=exc_type is None)

    def _close(self, ok: bool) -> None:
        try:
            if self._out is not None:
                try:
                    if ok:
                        self._out.mux(self._vout.encode(None))
                finally:
                    self._out.close()
        except BaseException:
            ok = False
            raise
        finally:
            if self._inp is not None:
                self._inp.close()
            if ok and self._out is not None:
                os.replace(self._tmp, self.dst)
            else:
                self._tmp.unlink(missing_ok=True)
            self._inp = self._out = None
