"""Run every script in examples/ with --fast in a fresh process and check what it writes."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# example -> files (relative to --out) that a --fast run must write
OUTPUTS: dict[str, list[str]] = {
    "colorize_image": ["gray.png", "colorized.png", "gray_colorized_original.png"],
    "colorize_folder": [f"colorized/{n}.png" for n in ("astronaut", "chelsea", "coffee", "rocket")],
    "missing_regions": ["damaged_gray.png", "mask.png", "restored.png"],
    "video": ["gray_clip.mp4", "color_clip.mp4"],
    "fine_tune": [
        "run/generator/config.json",
        "run/generator/model.safetensors",
        "run/metrics.csv",
        "run/val_metrics.csv",
        "colorized_by_fine_tuned.png",
    ],
    "custom_pix2pix": [
        "edges_generated_photo.png",
        "generator/config.json",
        "generator/model.safetensors",
    ],
    "export": ["generator.pt"],
}

# example -> (extra, module): without the module the example only prints "skipped"
NEEDS = {"video": ("video", "av")}


def _run(name: str, out: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",  # tiny tensors: one thread is fastest, and CI has two cores
        "HF_HUB_OFFLINE": "1",
        "MPLBACKEND": "Agg",
    }
    return subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--fast", "--out", str(out)],
        cwd=out.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_every_example_is_tested():
    assert sorted(p.stem for p in EXAMPLES.glob("*.py")) == sorted(OUTPUTS)


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_example_runs_fast(name, tmp_path):
    out = tmp_path / "out"
    result = _run(name, out)
    assert result.returncode == 0, (
        f"{name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    )
    extra, module = NEEDS.get(name, (None, None))
    if module and importlib.util.find_spec(module) is None:
        assert "skipped" in result.stdout
        pytest.skip(f'{name} needs the "{extra}" extra ({module}): pip install -e ".[{extra}]"')
    assert "ok:" in result.stdout, result.stdout
    missing = [f for f in OUTPUTS[name] if not (out / f).is_file()]
    assert not missing, (
        f"{name} did not write {missing}; it wrote {sorted(str(p.relative_to(out)) for p in out.rglob('*'))}"
    )
