"""Tests of cgan_zoo.pipelines.video: streaming colorization, smoothing, scene cuts, flicker."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from PIL import Image

from cgan_zoo import InvalidConfigError, InvalidInputError, MissingExtraError, create_model
from cgan_zoo.color import rgb_to_lab
from cgan_zoo.pipelines import Colorizer, colorize_video, flicker
from cgan_zoo.pipelines.video import colorize_frames, read_frames, write_frames

av = pytest.importorskip("av", reason='needs the "video" extra (av): pip install -e ".[video]"')

FPS = 12
H, W = 64, 96
STEP = 4  # the camera pans right by 4 px per frame: content moves by (0, -4)


def photo(which: str = "astronaut", size: tuple[int, int] = (200, 200)) -> np.ndarray:
    try:
        from skimage import data

        img = getattr(data, which)()
    except ImportError:  # a synthetic, textured stand-in
        yy, xx = np.mgrid[:512, :512]
        phase = 0.0 if which == "astronaut" else 2.0
        img = np.stack(
            [127 + 120 * np.sin(xx / (9 + 4 * c) + yy / 13 + phase + c) for c in range(3)], -1
        )
        img = img.astype(np.uint8)
    return np.asarray(Image.fromarray(img).resize(size))


def pan(image: np.ndarray, n: int, y0: int = 60) -> list[np.ndarray]:
    return [np.ascontiguousarray(image[y0 : y0 + H, STEP * t : STEP * t + W]) for t in range(n)]


def write_clip(path, frames, fps=FPS, audio_seconds: float = 0.0) -> None:
    """Write RGB frames (and optionally a mono sine track) with PyAV."""
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=fps, options={"crf": "10"})
        v.width, v.height, v.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        a = out.add_stream("aac", rate=16000) if audio_seconds else None
        if a is not None:
            a.layout = "mono"
        for frame in frames:
            out.mux(v.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(v.encode(None))
        if a is not None:
            t = np.arange(int(16000 * audio_seconds)) / 16000
            signal = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for k in range(0, len(signal), 1024):
                af = av.AudioFrame.from_ndarray(
                    signal[None, k : k + 1024], format="fltp", layout="mono"
                )
                af.sample_rate, af.pts = 16000, k
                out.mux(a.encode(af))
            out.mux(a.encode(None))


def ab_of(frames: list[np.ndarray]) -> torch.Tensor:
    x = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255.0
    return rgb_to_lab(x)[:, 1:]


@pytest.fixture(scope="module")
def pan_clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "pan.mp4"
    write_clip(path, pan(photo(), 24), audio_seconds=2.0)
    return path


def tiny_colorizer(size: int = 64) -> Colorizer:
    torch.manual_seed(0)
    return Colorizer(create_model("unet_tiny"), size=size)


def test_video_keeps_frames_size_fps_audio_and_smoothing_lowers_flicker(pan_clip, tmp_path, capsys):
    flick = {}
    for smoothing in (0.0, 0.6):
        dst = tmp_path / f"out_{smoothing}.mp4"
        info = colorize_video(
            pan_clip, dst, colorizer=tiny_colorizer(), smoothing=smoothing, progress=False
        )
        assert info["frames"] == 24 and info["fps"] == FPS and info["size"] == (W, H)
        assert info["audio"] is True and info["scene_cuts"] == []
        with av.open(str(dst)) as c:
            assert c.streams.video[0].average_rate == FPS
            assert [s.type for s in c.streams] == ["video", "audio"]
            assert sum(1 for p in c.demux(c.streams.audio[0]) if p.size) > 0
        frames = list(read_frames(dst))
        assert len(frames) == 24 and all(f.shape == (H, W, 3) for f in frames)
        flick[smoothing] = flicker(ab_of(frames), (0, -STEP))
    # the same smoothing without motion compensation smears colours along the pan
    dst = tmp_path / "out_uncompensated.mp4"
    colorize_video(
        pan_clip,
        dst,
        colorizer=tiny_colorizer(),
        smoothing=0.6,
        compensate_motion=False,
        progress=False,
    )
    uncompensated = flicker(ab_of(list(read_frames(dst))), (0, -STEP))
    truth = flicker(ab_of(list(read_frames(pan_clip))), (0, -STEP))
    assert flick[0.6] < 0.8 * flick[0.0]
    assert flick[0.6] < uncompensated
    with capsys.disabled():
        print(
            f"\nflicker (mean |Δab| in Lab units, pan undone): ground-truth clip {truth:.4f}, "
            f"smoothing off {flick[0.0]:.4f}, smoothing 0.6 {flick[0.6]:.4f}, "
            f"smoothing 0.6 without motion compensation {uncompensated:.4f}"
        )


def test_scene_cut_resets_smoothing(tmp_path):
    frames = pan(photo(), 6) + pan(photo("coffee", (300, 200)), 6, y0=40)
    smooth = list(colorize_frames(frames, tiny_colorizer(), smoothing=0.8))
    raw = list(colorize_frames(frames, tiny_colorizer(), smoothing=0.0))
    assert np.array_equal(smooth[0], raw[0]) and np.array_equal(smooth[6], raw[6])  # fresh starts
    assert not np.array_equal(smooth[5], raw[5]) and not np.array_equal(smooth[7], raw[7])
    write_clip(tmp_path / "cut.mp4", frames)
    info = colorize_video(
        tmp_path / "cut.mp4", tmp_path / "cut_out.mp4", colorizer=tiny_colorizer(), progress=False
    )
    assert info["scene_cuts"] == [6] and info["frames"] == 12


def test_odd_frame_size_is_kept(tmp_path):
    frames = [np.ascontiguousarray(f[:25, :33]) for f in pan(photo(), 4)]
    write_frames(tmp_path / "odd.mkv", frames, fps=8)  # yuv420p cannot hold 33x25: yuv444p is used
    info = colorize_video(
        tmp_path / "odd.mkv", tmp_path / "odd_out.mkv", colorizer=tiny_colorizer(32), progress=False
    )
    assert info["size"] == (33, 25) and info["frames"] == 4
    out = list(read_frames(tmp_path / "odd_out.mkv"))
    assert len(out) == 4 and out[0].shape == (25, 33, 3)


def test_missing_av_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "av", None)  # makes `import av` fail
    with pytest.raises(MissingExtraError, match=r'pip install "cgan-zoo\[video\]"'):
        colorize_video(tmp_path / "in.mp4", tmp_path / "out.mp4", colorizer=tiny_colorizer(32))
    with pytest.raises(MissingExtraError):
        next(read_frames(tmp_path / "in.mp4"))


def test_video_argument_errors(tmp_path, pan_clip):
    c = tiny_colorizer(32)
    with pytest.raises(InvalidInputError, match="does not exist"):
        colorize_video(tmp_path / "nope.mp4", tmp_path / "o.mp4", colorizer=c)
    (tmp_path / "text.mp4").write_text("not a video")
    with pytest.raises(InvalidInputError, match="cannot read video"):
        colorize_video(tmp_path / "text.mp4", tmp_path / "o.mp4", colorizer=c)
    with pytest.raises(InvalidConfigError, match="smoothing"):
        colorize_video(pan_clip, tmp_path / "o.mp4", colorizer=c, smoothing=1.0)
    with pytest.raises(InvalidConfigError, match="not both"):
        colorize_video(pan_clip, tmp_path / "o.mp4", colorizer=c, model="unet_tiny")
    with pytest.raises(InvalidConfigError, match="codec"):
        colorize_video(
            pan_clip, tmp_path / "o.mp4", colorizer=c, codec="no-such-codec", progress=False
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["text.mp4"]  # no partial outputs left


def test_flicker_metric():
    base = torch.rand(1, 2, 10, 12)
    moved = torch.zeros_like(base)
    moved[..., :, :-3] = base[..., :, 3:]  # content moved 3 px left
    clip = torch.cat([base, moved])
    assert flicker(clip, (0, -3)) == 0.0
    assert flicker(clip, [(0, -3)]) == 0.0
    assert flicker(clip) > 0.0
    assert flicker([f.numpy() for f in clip], (0, -3)) == 0.0
    assert flicker(torch.zeros(3, 2, 4, 4) + torch.arange(3.0).view(3, 1, 1, 1)) == 1.0
    with pytest.raises(InvalidInputError, match="at least 2"):
        flicker(base)
    with pytest.raises(InvalidInputError, match="no overlap"):
        flicker(clip, (0, 12))
    with pytest.raises(InvalidInputError, match="1 pairs"):
        flicker(clip, [(0, 1), (0, 1)])


def test_transcoder_checks_writes_and_leaves_nothing_after_an_error(tmp_path):
    from cgan_zoo.pipelines.video_io import VideoTranscoder

    frames = [np.full((16, 24, 3), 40 * i, np.uint8) for i in range(3)]
    write_frames(tmp_path / "in.mp4", frames, fps=5)
    with pytest.raises(RuntimeError, match="boom"):
        with VideoTranscoder(tmp_path / "in.mp4", tmp_path / "out.mp4") as video:
            for frame in video.frames():
                video.write(frame)
                raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]
    with pytest.raises(InvalidInputError, match="only 0 frames were decoded"):
        with VideoTranscoder(tmp_path / "in.mp4", tmp_path / "out.mp4") as video:
            video.write(frames[0])
    with pytest.raises(InvalidInputError, match="but the video is 16x24"):
        with VideoTranscoder(tmp_path / "in.mp4", tmp_path / "out.mp4") as video:
            next(video.frames())
            video.write(np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(InvalidInputError, match="is the input video"):
        VideoTranscoder(tmp_path / "in.mp4", tmp_path / "in.mp4")
    with pytest.raises(InvalidInputError, match="does not exist; create it first"):
        VideoTranscoder(tmp_path / "in.mp4", tmp_path / "missing" / "out.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]
    with VideoTranscoder(tmp_path / "in.mp4", tmp_path / "out.mp4") as video:
        for frame in video.frames():
            video.write(frame)
    assert video.frames_written == 3 and len(list(read_frames(tmp_path / "out.mp4"))) == 3
