"""CPU inference benchmark: eager baseline vs the optimised paths of cgan-zoo.

Usage::

    python benchmarks/bench_inference.py            # about 3 minutes on 2 cores
    python benchmarks/bench_inference.py --quick    # about 30 s smoke run: eager variants only
    python benchmarks/bench_inference.py --json results.json

It first measures the machine's fp32 matmul peak (``torch.mm`` of large square
matrices), then, for the seed U-Net (``pix2pix_unet256``, 1 -> 2 channels) and the
default colorizer architecture (``unet_efficientnet_lite0``) at 256x256, batch 1:

========================  ==========================================================
variant                   what runs
========================  ==========================================================
``eager``                 ``model.eval()`` under ``torch.no_grad()``, NCHW (baseline)
``eager+channels_last``   the same with channels-last weights and input
``bn_folded``             :func:`cgan_zoo.export.fold_batchnorm`, NCHW, ``no_grad``
``fast_eager``            ``optimize_for_inference(compile=False)``: folded,
                          channels-last, ``inference_mode``
``compiled``              ``optimize_for_inference()``: + ``torch.compile`` with
                          Inductor freezing (setup time reported separately)
``onnxruntime``           ONNX export run by onnxruntime (export time separate)
``int8_ort``              onnxruntime static int8 (QDQ) quantisation of that export
========================  ==========================================================

Each variant gets warm-up calls, then ``--repeats`` timed calls; the table shows the
median, the interquartile range, min/max, the speed-up over the ``eager`` baseline of
the same run, and the share of the matmul peak reached (model FLOPs counted with
``torch.utils.flop_counter.FlopCounterMode``; a conv's multiply-add counts 2 FLOPs).
On a shared machine absolute times are noisy: compare the ratios.

Finally it times colorizing one 1024x768 photo end to end with
``cgan_zoo.pipelines.Colorizer`` when that module exists: the eager generator,
``fast=True`` (compiled), and the fp32 / int8 ONNX files through
:class:`cgan_zoo.export.OnnxRuntimeGenerator`.

``OMP_WAIT_POLICY`` defaults to ``PASSIVE`` here (see the comment below); run with
``OMP_WAIT_POLICY=ACTIVE`` to measure torch's spinning default.
"""

from __future__ import annotations

import os

# OpenMP threads that spin while waiting are pathological on a CPU shared with other
# processes (torch eager ran ~20x slower with 2 spinning threads on 2 busy cores).
# Sleep instead unless the caller chose a policy; this must happen before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import copy
import datetime
import json
import platform
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

MODELS = {"seed": "pix2pix_unet256", "colorizer": "unet_efficientnet_lite0"}


# ----------------------------------------------------------------------------- timing


def time_calls(fn: Callable[[], object], warmup: int, repeats: int) -> list[float]:
    """Seconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def time_interleaved(
    calls: dict[str, Callable[[], object]], warmup: int, repeats: int
) -> dict[str, list[float]]:
    """Time several calls round-robin, so that load changes on a shared CPU hit all alike."""
    for fn in calls.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, fn in calls.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def summarize(times: list[float]) -> dict[str, float]:
    """Median, quartiles, min and max of a list of durations (seconds)."""
    qs = statistics.quantiles(times, n=4) if len(times) >= 2 else [times[0]] * 3
    return {
        "median_s": statistics.median(times),
        "q1_s": qs[0],
        "q3_s": qs[2],
        "min_s": min(times),
        "max_s": max(times),
        "n": len(times),
    }


def matmul_peak(n: int, repeats: int) -> float:
    """Best fp32 GFLOP/s of ``torch.mm`` on two n x n matrices."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    times = time_calls(lambda: torch.mm(a, b), warmup=2, repeats=repeats)
    return 2 * n**3 / min(times) / 1e9


def count_flops(model: torch.nn.Module, x: torch.Tensor) -> int:
    """FLOPs of one forward pass (FlopCounterMode: 2 per multiply-add)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    return int(counter.get_total_flops())


# ----------------------------------------------------------------------------- variants


def build_variants(
    model, x, args, log, artifacts: dict
) -> list[tuple[str, Callable[[], object], float]]:
    """(name, call, setup seconds) for every variant that can run here.

    ONNX files written on the way are recorded in ``artifacts`` (``"onnx"``, ``"int8"``).
    """
    from cgan_zoo.export import fold_batchnorm, optimize_for_inference

    variants: list[tuple[str, Callable[[], object], float]] = []

    def no_grad_call(m, inp):
        def call():
            with torch.no_grad():
                return m(inp)

        return call

    variants.append(("eager", no_grad_call(model, x), 0.0))

    cl_model = copy.deepcopy(model).to(memory_format=torch.channels_last)
    variants.append(
        (
            "eager+channels_last",
            no_grad_call(cl_model, x.contiguous(memory_format=torch.channels_last)),
            0.0,
        )
    )

    start = time.perf_counter()
    folded = fold_batchnorm(model)
    variants.append(("bn_folded", no_grad_call(folded, x), time.perf_counter() - start))

    start = time.perf_counter()
    fast = optimize_for_inference(model, compile=False)
    variants.append(("fast_eager", lambda: fast(x), time.perf_counter() - start))

    if not args.no_compile:
        log("  compiling (torch.compile + freezing) ...")
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            compiled = optimize_for_inference(model, example_size=x.shape[-1])
        setup = time.perf_counter() - start
        name = "compiled" if compiled.compiled else "compiled(FAILED->eager)"
        variants.append((name, lambda: compiled(x), setup))

    if not args.no_onnx:
        try:
            import onnxruntime as ort

            from cgan_zoo.export import export_generator
        except ImportError as exc:
            log(f"  onnxruntime skipped: {exc}")
        else:
            log("  exporting ONNX ...")
            tmp = Path(tempfile.mkdtemp())
            start = time.perf_counter()
            path = export_generator(
                model, tmp / "model.onnx", "onnx", example_size=x.shape[-1], verify=False
            )
            export_s = time.perf_counter() - start
            artifacts["onnx"] = path
            variants.append(("onnxruntime", ort_call(ort, path, x), export_s))
            if args.int8:
                from cgan_zoo.export.formats import quantize_onnx_int8

                # speed only: random calibration inputs (quality needs real photos)
                start = time.perf_counter()
                calib = [torch.randn_like(x) for _ in range(4)]
                q_path = quantize_onnx_int8(path, tmp / "model.int8.onnx", calib)
                artifacts["int8"] = q_path
                variants.append(
                    ("int8_ort", ort_call(ort, q_path, x), export_s + time.perf_counter() - start)
                )
    return variants


def ort_session(ort, path: Path):
    """An onnxruntime CPU session with all graph optimisations and torch's thread count."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = torch.get_num_threads()
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def ort_call(ort, path: Path, x: torch.Tensor) -> Callable[[], object]:
    session = ort_session(ort, path)
    name = session.get_inputs()[0].name
    feed = {name: x.numpy()}
    return lambda: session.run(None, feed)


# ----------------------------------------------------------------------------- main


def bench_model(arch: str, args, peak_gflops: float, log) -> dict:
    import cgan_zoo

    torch.manual_seed(0)
    model = cgan_zoo.create_model(arch).eval()
    x = torch.randn(1, model.in_channels, args.size, args.size)
    flops = count_flops(model, x)
    log(
        f"{arch}: {model.num_parameters() / 1e6:.2f} M params, {flops / 1e9:.2f} GFLOP at {args.size}x{args.size}"
    )
    artifacts: dict = {}
    variants = build_variants(model, x, args, log, artifacts)
    log(f"  timing {len(variants)} variants round-robin, {args.repeats} calls each ...")
    times = time_interleaved({name: call for name, call, _ in variants}, args.warmup, args.repeats)
    rows = []
    baseline = statistics.median(times["eager"])
    for name, _, setup in variants:
        stats = summarize(times[name])
        stats.update(
            variant=name,
            setup_s=setup,
            speedup=baseline / stats["median_s"],
            pct_peak=100 * flops / stats["median_s"] / 1e9 / peak_gflops,
        )
        rows.append(stats)
        log(
            f"  {name:24s} median {stats['median_s'] * 1e3:8.1f} ms  IQR [{stats['q1_s'] * 1e3:.1f}, "
            f"{stats['q3_s'] * 1e3:.1f}]  min {stats['min_s'] * 1e3:.1f}  x{stats['speedup']:.2f}  "
            f"{stats['pct_peak']:.0f}% peak  setup {setup:.1f} s"
        )
    return {
        "arch": arch,
        "params": model.num_parameters(),
        "gflops": flops / 1e9,
        "variants": rows,
        "artifacts": {k: str(v) for k, v in artifacts.items()},
    }


def bench_colorizer(arch: str, args, log, artifacts: dict) -> dict | None:
    try:
        import numpy as np

        from cgan_zoo import create_model
        from cgan_zoo.pipelines import Colorizer
    except ImportError as exc:
        log(f"Colorizer skipped ({exc})")
        return None
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:768, 0:1024]
    photo = ((xx / 1024 * 160 + yy / 768 * 60 + rng.normal(0, 8, (768, 1024))).clip(0, 255)).astype(
        np.uint8
    )
    out: dict = {"arch": arch, "photo": "1024x768 gray", "work_size": args.size}
    from cgan_zoo.export import OnnxRuntimeGenerator

    torch.manual_seed(0)  # the same weights as the exported ONNX files
    model = create_model(arch).eval()
    makers = {"eager": lambda: Colorizer(copy.deepcopy(model), size=args.size)}
    if not args.no_compile:
        makers["fast"] = lambda: Colorizer(copy.deepcopy(model), size=args.size, fast=True)
    for label in ("onnx", "int8"):
        if label in artifacts:
            makers[label] = lambda p=artifacts[label]: Colorizer(
                OnnxRuntimeGenerator(p, like=model), size=args.size
            )
    colorizers = {}
    for label, make in makers.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            colorizer = make()
            colorizer(photo)  # the first call compiles the working shape
        colorizers[label] = colorizer
        out[f"{label}_setup_s"] = time.perf_counter() - start
    times = time_interleaved(
        {label: (lambda c=c: c(photo)) for label, c in colorizers.items()},
        0,
        max(3, args.repeats // 2),
    )
    for label in makers:
        out[label] = summarize(times[label])
        out[label]["speedup"] = (
            out["eager"]["median_s"] / out[label]["median_s"] if "eager" in out else 1.0
        )
        log(
            f"  Colorizer({arch}, {label}) 1024x768: median {out[label]['median_s'] * 1e3:.1f} ms "
            f"x{out[label]['speedup']:.2f} (setup {out[f'{label}_setup_s']:.1f} s)"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="~30 s smoke run: 3 repeats, eager variants only, no Colorizer",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--size", type=int, default=256, help="input side (default 256)")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per variant")
    parser.add_argument("--warmup", type=int, default=None, help="untimed calls per variant")
    parser.add_argument("--models", default="seed,colorizer", help="comma list of: seed, colorizer")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile variants")
    parser.add_argument("--no-onnx", action="store_true", help="skip onnxruntime variants")
    parser.add_argument(
        "--no-int8", dest="int8", action="store_false", help="skip the int8 variant"
    )
    parser.add_argument(
        "--no-colorizer", action="store_true", help="skip the end-to-end Colorizer timing"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch/onnxruntime threads")
    args = parser.parse_args(argv)
    if args.quick:
        args.no_compile = args.no_onnx = args.no_colorizer = True
        args.repeats = args.repeats or 3
        args.warmup = 1 if args.warmup is None else args.warmup
    args.repeats = args.repeats or 7
    args.warmup = 2 if args.warmup is None else args.warmup
    if args.threads:
        torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    def log(msg: str) -> None:
        print(msg, flush=True)

    started = time.perf_counter()
    n = 2048 if args.quick else 4096
    peak = matmul_peak(n, repeats=3 if args.quick else 5)
    log(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads "
        f"(OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}), {platform.processor() or platform.machine()}; "
        f"fp32 matmul peak {peak:.0f} GFLOP/s (torch.mm {n}x{n})"
    )
    results: dict = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(
            [Path(sys.argv[0]).name] + (argv if argv is not None else sys.argv[1:])
        ),
        "torch": torch.__version__,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "threads": torch.get_num_threads(),
        "matmul_peak_gflops": peak,
        "size": args.size,
        "models": [],
    }
    archs = [MODELS[m.strip()] for m in args.models.split(",") if m.strip()]
    for arch in archs:
        results["models"].append(bench_model(arch, args, peak, log))
    if not args.no_colorizer:
        last = results["models"][-1]
        results["colorizer"] = bench_colorizer(archs[-1], args, log, last["artifacts"])
    results["total_s"] = time.perf_counter() - started
    log(f"total {results['total_s']:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
