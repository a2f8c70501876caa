"""How long the ``cgan-zoo`` command takes to start, next to ``import torch``.

Each command runs in a fresh Python process, round-robin with the others, ``--repeat``
times; the script prints the median wall time of each and its ratio to ``import torch``
(which is what every command cost before argument parsing and listing stopped importing
torch). Read the ratios: absolute times depend on the disk cache and the machine's load.

    python benchmarks/bench_cli_startup.py [--repeat 7] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

COMMANDS: dict[str, list[str]] = {
    "import torch": ["-c", "import torch"],
    "cgan-zoo --help": ["-m", "cgan_zoo.cli", "--help"],
    "cgan-zoo models": ["-m", "cgan_zoo.cli", "models"],
    "cgan-zoo models --json": ["-m", "cgan_zoo.cli", "models", "--json"],
    "cgan-zoo train --help": ["-m", "cgan_zoo.cli", "train", "--help"],
    "python -c pass": ["-c", "pass"],
}


def _time(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per command (default: 7)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    for cmd in COMMANDS.values():  # warm the disk cache once
        _time(cmd)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, cmd in COMMANDS.items():
            times[name].append(_time(cmd))
    torch_s = statistics.median(times["import torch"])
    print(f"{'command':26s} {'median s':>9s} {'min s':>7s} {'/ import torch':>15s}")
    results = {}
    for name, values in times.items():
        median = statistics.median(values)
        results[name] = {"median_s": median, "min_s": min(values), "ratio_to_torch": median / torch_s}
        print(f"{name:26s} {median:9.3f} {min(values):7.3f} {median / torch_s:15.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
