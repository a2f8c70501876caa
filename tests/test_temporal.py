"""TemporalSmoother: the smoothing rule, pan alignment and scene cuts, on synthetic frames."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from cgan_zoo import InvalidConfigError
from cgan_zoo.pipelines.temporal import TemporalSmoother


def texture(h: int = 80, w: int = 160, seed: int = 0) -> torch.Tensor:
    """A gray photo stand-in in [0, 1]: smoothed noise (phase correlation needs texture)."""
    noise = torch.rand(1, 1, h + 2, w + 2, generator=torch.Generator().manual_seed(seed))
    return F.avg_pool2d(noise, 3, stride=1)[0, 0]


def test_static_shot_follows_the_exponential_rule():
    gray = texture()[:32, :32]
    smoother = TemporalSmoother(smoothing=0.6, compensate_motion=False)
    state = None
    for t in range(5):
        ab = torch.full((1, 2, 32, 32), float(t))
        out = smoother.step(gray, ab)
        state = ab if state is None else 0.6 * state + 0.4 * ab
        assert torch.allclose(out, state)
    assert smoother.scene_cuts == [] and smoother.shifts == [(0, 0)] * 5 and smoother.index == 5


def test_pan_is_estimated_and_history_is_moved_with_the_content():
    big = texture()
    frames = [big[10:42, 4 * t : 4 * t + 48] for t in range(4)]  # camera pans right 4 px
    smoother = TemporalSmoother(smoothing=0.5)
    abs_ = [torch.stack([f, 2 * f])[None] for f in frames]  # colour moves with the content
    outs = [smoother.step(f, ab) for f, ab in zip(frames, abs_)]
    assert smoother.shifts == [(0, 0)] + [(0, -4)] * 3 and smoother.scene_cuts == []
    # where the content was seen before, its aligned history equals the new colour
    assert torch.allclose(outs[3][..., :-4], abs_[3][..., :-4], atol=1e-6)
    # without alignment (and no cut, although the frames differ) it mixes in other content's colour
    unaligned = TemporalSmoother(
        smoothing=0.5, scene_cut_threshold=math.inf, compensate_motion=False
    )
    last = [unaligned.step(f, ab) for f, ab in zip(frames, abs_)][-1]
    assert float((last - abs_[3]).abs().mean()) > 0.01


def test_scene_cut_and_size_change_restart_the_smoothing():
    a, b = texture()[:32, :32], texture(seed=1)[40:72, 100:132] * 0.2
    smoother = TemporalSmoother(smoothing=0.9, scene_cut_threshold=0.05)
    ones, zeros = torch.ones(1, 2, 32, 32), torch.zeros(1, 2, 32, 32)
    smoother.step(a, zeros)
    assert torch.equal(smoother.step(b, ones), ones)  # a cut: no history
    assert torch.equal(smoother.step(a[:16, :16], ones[..., :16, :16]), ones[..., :16, :16])
    assert smoother.scene_cuts == [1, 2]
    never = TemporalSmoother(smoothing=0.9, scene_cut_threshold=math.inf)
    never.step(a, zeros)
    assert float(never.step(b, ones).mean()) == pytest.approx(0.1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"smoothing": 1.0}, "smoothing"),
        ({"smoothing": -0.1}, "smoothing"),
        ({"smoothing": True}, "smoothing"),
        ({"smoothing": "0.5"}, "smoothing"),
        ({"scene_cut_threshold": -1}, "scene_cut_threshold"),
        ({"scene_cut_threshold": float("nan")}, "scene_cut_threshold"),
    ],
)
def test_bad_settings_are_clear_errors(kwargs, match):
    with pytest.raises(InvalidConfigError, match=match):
        TemporalSmoother(**kwargs)
