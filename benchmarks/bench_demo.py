"""Measure ``cgan-zoo demo``: start-up time to the first HTTP 200, and the time to colorize
a 1024 px photo through the app's HTTP API (what the page's Colorize button calls).

The app is started with the real console command in a subprocess on a free local port,
and driven with ``gradio_client`` (installed with Gradio); nothing leaves this machine.
The first colorization includes loading the model; the warm ones are the median of
``--repeats`` runs.

    python benchmarks/bench_demo.py [--photo tests/data/giraffe_1024.jpg] [--repeats 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photo", default=str(ROOT / "tests" / "data" / "giraffe_1024.jpg"))
    parser.add_argument("--model", default=None, help="model to time (default: the app's first)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", default=None, help="also write the numbers to this file")
    args = parser.parse_args()

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    from gradio_client import Client, handle_file
    from PIL import Image

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, "-m", "cgan_zoo.cli", "demo", "--no-browser", "--port", str(port),
               "--device", args.device]
    if args.model:
        command += ["--model", args.model]
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        while True:
            if proc.poll() is not None:
                log.seek(0)
                print(log.read(), file=sys.stderr)
                return 1
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        startup = time.perf_counter() - start

        client = Client(url, verbose=False)
        size = Image.open(args.photo).size
        model = args.model or client.view_api(return_format="dict", print_info=False)[
            "named_endpoints"]["/colorize"]["parameters"][1]["parameter_default"]
        times = []
        for _ in range(1 + args.repeats):
            t = time.perf_counter()
            _, png, note = client.predict(
                handle_file(args.photo), model, 0.38, False, 0, api_name="/colorize"
            )
            times.append(time.perf_counter() - t)
            assert Image.open(png).size == size, (png, size)
        result = {
            "photo": f"{Path(args.photo).name} ({size[0]}x{size[1]})",
            "model": model,
            "device": args.device,
            "startup_to_http_200_s": round(startup, 2),
            "first_colorize_s (right after start-up: may wait for the model to load)": round(times[0], 2),
            "warm_colorize_median_s": round(statistics.median(times[1:]), 2) if args.repeats else None,
            "warm_colorize_all_s": [round(t, 2) for t in times[1:]],
            "server_note": note,
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        os.unlink(log.name)
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
