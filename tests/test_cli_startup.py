"""`cgan-zoo --help`, `cgan-zoo models` and every subcommand's --help run without torch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

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
