"""`cgan-zoo --help`, `cgan-zoo models` and every subcommand's --help run without torch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import contextlib, io, sys
    from cgan_zoo.cli import COMMANDS, main
    runs = [["--help"], ["models"], ["models", "--json"], ["models", "--pretrained"]]
    runs += [[name, "--help"] for name in COMMANDS]
    for argv in runs:
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                main(argv)
            except SystemExit:
                pass
        loaded = sorted(m for m in ("torch", "timm", "kornia", "numpy") if m in sys.modules)
        print(" ".join(argv), "->", ",".join(loaded) or "-")
    """
)


def test_help_and_models_do_not_import_torch():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) >= 5 and all(line.endswith("-> -") for line in lines), result.stdout


@pytest.mark.slow
def test_fresh_process_loads_a_saved_model(tmp_path):
    """With lazy imports, a new process must still find the model class of a saved folder."""
    import numpy as np
    from PIL import Image

    from cgan_zoo import create_model

    create_model("unet_tiny").save_pretrained(tmp_path / "model")
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(tmp_path / "a.png")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "cgan_zoo.cli", "colorize", str(tmp_path / "a.png"), "-o",
         str(tmp_path / "out"), "--model", str(tmp_path / "model"), "--size", "32"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "a.png").is_file()
