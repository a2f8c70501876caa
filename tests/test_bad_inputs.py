"""Invalid inputs get clear errors; valid-but-odd inputs work.

A Hypothesis sweep throws hundreds of invalid inputs at the public entry points (models,
Colorizer, losses, datasets, the CLI). Every one must raise ``ValueError`` or ``TypeError``
(cgan-zoo's own errors preferred) raised by cgan-zoo itself, never a raw torch/PIL/numpy
error, with a message that says what was received, what was expected and how to fix it.

Decisions per entry point (documented in docs/reliability.md):

* models: float16/bfloat16/float64 inputs must match the weights' dtype (or run under
  autocast); integer, complex and sparse tensors are refused. Models check shapes and
  dtypes only (reading values would sync the device on every forward): NaN/Inf inputs
  propagate through a model and are refused by the Colorizer, once per call.
* Colorizer: float64/float16 numpy arrays and tensors in [0, 1] are accepted and work.
* losses: float64 is accepted (type promotion); NaN/Inf values propagate, on purpose: the
  trainer detects non-finite losses and skips the step, and a check would cost a device sync.

Set ``CGAN_SWEEP_COUNTS_FILE=path.json`` to record how many distinct invalid inputs each
sweep tried (``scripts/reliability_report.py`` does).
"""

from __future__ import annotations

import io
import json
import os
import re
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, UnidentifiedImageError

from cgan_zoo import CganZooError, create_model
from cgan_zoo.losses import adversarial_loss, feature_matching_loss, weighted_l1_loss

# --------------------------------------------------------------------------- the contract

EXPECT_WORDS = ("expected", "must", "got", "needs", "need ", "should", "at least", " only ", " but ", "requires")
FIX_WORDS = (
    "use", "pass", "convert", "resize", "add", "remove", "drop", "rescale", "clean", "call", "crop",
    "divide", "replace", "reduce", "build", "check", "give", "open", "choose", "install", "rename",
    "provide", "set", "lower", "train", "load", "save", "write", "create", "fix", "delete", "move",
    "for example", "e.g.",
)  # fmt: skip
RAW_ERRORS: tuple[type[BaseException], ...] = (
    RuntimeError, IndexError, KeyError, AttributeError, NotImplementedError, AssertionError,
    UnidentifiedImageError, OSError, ZeroDivisionError, OverflowError,
)  # fmt: skip
SWEEP_COUNTS: dict[str, int] = {}
# distinct invalid inputs each sweep must try (derandomized, so the counts are stable)
MINIMA = {"models": 92, "colorizer": 80, "losses": 66, "datasets": 32, "cli": 40}


# Messages that once missed the "expected" or "how to fix" part; test_known_message_gaps
# keeps them fixed (the sweeps check every message fully as well).
GAPS = {
    "colorizer-masks": "pipelines/colorizer.py: masks list length message has no fix hint",
    "dataset-all-bad": "data/colorization.py: 'None of the N image files could be used' states no expectation",
    "dataset-positive-int": "data/colorization.py: _check_positive_int message has no fix hint",
    "dataset-ab-scale": "data/colorization.py: ab_scale message has no fix hint",
}


def has_fix_hint(message: str) -> bool:
    """A fix verb as a whole word (so that "crop_size" does not count as "crop")."""
    low = message.lower()
    return any(re.search(rf"\b{re.escape(w)}" + (r"\b" if w[-1].isalnum() else ""), low) for w in FIX_WORDS)


def problems_with(exc: BaseException, received: Sequence[str], gap: str | None = None) -> list[str]:
    """What is wrong with ``exc`` as an answer to an invalid input (empty when it is fine)."""
    problems = []
    if not isinstance(exc, (ValueError, TypeError)) or isinstance(exc, RAW_ERRORS):
        problems.append(f"raised {type(exc).__name__}, not a ValueError/TypeError")
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    if last is None or "cgan_zoo" not in last.filename.replace(os.sep, "/") or not (last.line or "").startswith("raise"):
        where = f"{last.filename}:{last.lineno}: {last.line}" if last else "?"
        problems.append(f"not raised by a cgan-zoo `raise` statement (from {where})")
    message = str(exc)
    low = message.lower()
    if not any(r.lower() in low for r in received):
        problems.append(f"does not state what was received (any of {list(received)})")
    if gap is None and not any(w in low for w in EXPECT_WORDS):
        problems.append("does not state what was expected")
    if gap is None and not has_fix_hint(low):
        problems.append("does not say how to fix it")
    return [f"{p}: {type(exc).__name__}: {message[:400]}" for p in problems]


@dataclass
class Bad:
    """One invalid input: a label, the call that must fail, and what its message must mention."""

    label: str
    call: Callable[[], object]
    received: Sequence[str]
    gap: str | None = None  # key of GAPS: a known message gap outside this change


def check_bad(bad: Bad, full: bool = False) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            bad.call()
        except Exception as exc:  # noqa: BLE001 - judged below
            problems = problems_with(exc, bad.received, None)
            assert not problems, f"{bad.label}:\n" + "\n".join(problems)
        else:
            raise AssertionError(f"{bad.label}: no error was raised")


def sweep(name: str, strategy: st.SearchStrategy[Bad], examples: int, minimum: int) -> None:
    """Run ``strategy`` through :func:`check_bad` and record how many distinct inputs it tried."""
    seen: set[str] = set()

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(bad: Bad) -> None:
        seen.add(bad.label)
        check_bad(bad)

    run()
    SWEEP_COUNTS[name] = len(seen)
    assert len(seen) >= minimum, f"{name}: only {len(seen)} distinct invalid inputs were tried"


@pytest.fixture(scope="module", autouse=True)
def _write_counts():
    yield
    target = os.environ.get("CGAN_SWEEP_COUNTS_FILE")
    if target:
        Path(target).write_text(json.dumps(SWEEP_COUNTS, indent=2, sort_keys=True))


def shape_of(x: object) -> str:
    return str(tuple(x.shape)) if hasattr(x, "shape") else type(x).__name__


# --------------------------------------------------------------------------- shared objects


_CACHE: dict[str, object] = {}


def models() -> dict[str, torch.nn.Module]:
    if "models" not in _CACHE:
        torch.manual_seed(0)
        _CACHE["models"] = {
            "unet": create_model("unet_tiny").eval(),
            "timm": create_model("timm_unet_tiny").eval(),
            "patch": create_model("patchgan_tiny", in_channels=3).eval(),
        }
    return _CACHE["models"]  # type: ignore[return-value]


def colorizers():
    from cgan_zoo.pipelines import Colorizer

    if "colorizers" not in _CACHE:
        torch.manual_seed(0)
        _CACHE["colorizers"] = {
            "colorize": Colorizer(create_model("unet_tiny"), size=32),
            "missing": Colorizer(create_model("unet_tiny", in_channels=2, out_channels=3, task="colorize-missing"), size=32),
        }
    return _CACHE["colorizers"]


# --------------------------------------------------------------------------- models

NON_TENSORS = st.sampled_from(
    [None, 3, 2.5, "image.png", [[0.0, 1.0]], {"input": 1}, np.zeros((1, 1, 32, 32), np.float32), (1, 2)]
)
INT_DTYPES = st.sampled_from([torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool])


@st.composite
def bad_model_inputs(draw) -> Bad:
    name = draw(st.sampled_from(["unet", "timm", "patch"]))
    model = models()[name]
    channels = {"unet": 1, "timm": 1, "patch": 3}[name]
    stride = {"unet": 16, "timm": 32, "patch": 1}[name]
    good = 48 if name == "patch" else stride * draw(st.integers(1, 2))
    problem = draw(
        st.sampled_from(["non-tensor", "ndim", "channels", "size", "int-dtype", "complex", "empty", "sparse"])
    )
    b = draw(st.integers(1, 3))
    shape: tuple[int, ...] = (b, channels, good, good)
    dtype = torch.float32
    if problem == "non-tensor":
        x = draw(NON_TENSORS)
        return Bad(f"{name} {problem} {type(x).__name__} {shape_of(x)}", lambda: model(x), [type(x).__name__])
    if problem == "ndim":
        ndim = draw(st.sampled_from([0, 1, 2, 3, 5, 6]))
        shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim - 2)) + (good, good) if ndim >= 2 else (good,) * ndim
    elif problem == "channels":
        c = draw(st.integers(0, 8).filter(lambda c: c != channels))
        shape = (b, c, good, good)
    elif problem == "size":
        if name == "patch":
            h, w = draw(st.integers(1, 11)), draw(st.integers(1, 40))
        else:
            h = draw(st.integers(1, 3 * stride).filter(lambda v: v % stride))
            w = draw(st.integers(1, 3 * stride))
        shape = (b, channels, h, w) if draw(st.booleans()) else (b, channels, w, h)
    elif problem == "empty":
        shape = (0, channels, good, good)
    elif problem == "int-dtype":
        dtype = draw(INT_DTYPES)
    elif problem == "complex":
        dtype = torch.complex64
    x = torch.zeros(shape, dtype=dtype) if dtype != torch.bool else torch.zeros(shape, dtype=torch.bool)
    received = [str(tuple(shape)), f"{len(shape)} dims", str(dtype)]
    if problem == "sparse":
        x = torch.zeros(shape).to_sparse()
        received = ["sparse"]
        label = f"{name} sparse {shape}"
    else:
        label = f"{name} {problem} {shape} {dtype}"
    if problem == "size":
        received = [f"{shape[2]}x{shape[3]}"]
    if problem == "channels":
        received = [f"got {shape[1]}"]
    return Bad(label, lambda: model(x), received)


def test_models_reject_invalid_inputs_clearly():
    sweep("models", bad_model_inputs(), examples=110, minimum=MINIMA["models"])


@pytest.mark.parametrize("name", ["unet", "timm", "patch"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16], ids=str)
def test_models_give_a_clear_error_for_other_float_dtypes(name, dtype):
    model = models()[name]
    shape = (1, 3, 48, 48) if name == "patch" else (1, 1, 32, 32)
    bad = Bad(f"{name} {dtype}", lambda: model(torch.zeros(shape, dtype=dtype)), [str(dtype)])
    check_bad(bad)


def test_models_accept_other_float_dtypes_when_cast_or_autocast():
    model = models()["unet"]
    with torch.no_grad():
        assert model.double()(torch.zeros(1, 1, 16, 16, dtype=torch.float64)).dtype == torch.float64
        model.float()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert model(torch.zeros(1, 1, 16, 16, dtype=torch.bfloat16)).shape == (1, 2, 16, 16)


@pytest.mark.parametrize("name", ["unet", "timm", "patch"])
def test_models_let_non_finite_values_through_and_the_colorizer_refuses_them(name):
    """Models read no values (no device sync); the pipeline checks them once per call."""
    model = models()[name].eval()
    shape = (1, 3, 48, 48) if name == "patch" else (1, 1, 32, 32)
    with torch.no_grad():
        assert torch.isnan(model(torch.full(shape, float("nan")))).any()
    if name == "unet":  # the colorizers of this file run the unet
        gray = np.full((20, 20), np.nan, np.float32)
        check_bad(Bad(f"{name} colorizer nan", lambda: colorizers()["colorize"](gray), ["NaN"]))


# --------------------------------------------------------------------------- Colorizer

NP_BAD_DTYPES = st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint32, np.uint64, np.bool_, np.complex64, object, "<U1"])


@st.composite
def bad_colorizer_inputs(draw) -> Bad:
    c = colorizers()
    problem = draw(
        st.sampled_from(
            ["object", "np-ndim", "np-channels", "np-dtype", "np-empty", "np-nonfinite", "np-range",
             "t-ndim", "t-channels", "t-dtype", "t-empty", "t-nonfinite", "t-range", "mask-size",
             "mask-ndim", "mask-dtype", "mask-nonfinite", "mask-object", "mask-for-colorize",
             "batch-not-list", "batch-empty", "batch-masks"]
        )
    )  # fmt: skip
    h, w = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    gray = np.full((h, w), 128, np.uint8)
    if problem == "object":
        x = draw(st.sampled_from([None, 1, 0.5, "photo.jpg", b"\x89PNG", [[0, 255]], {"image": 1}, (h, w), io.BytesIO()]))
        return Bad(f"{problem} {type(x).__name__}", lambda: c["colorize"](x), [type(x).__name__])
    if problem == "np-ndim":
        ndim = draw(st.sampled_from([0, 1, 4, 5]))
        x = np.zeros((2,) * max(0, ndim - 2) + (h, w) if ndim >= 2 else (h,) * ndim, np.uint8)
        return Bad(f"{problem} {x.shape}", lambda: c["colorize"](x), [str(x.shape)])
    if problem == "np-channels":
        ch = draw(st.sampled_from([0, 2, 4, 5, 16]))
        x = np.zeros((h, w, ch), np.uint8)
        return Bad(f"{problem} {x.shape}", lambda: c["colorize"](x), [str(x.shape)])
    if problem == "np-dtype":
        dtype = draw(NP_BAD_DTYPES)
        x = np.zeros((h, w), dtype)
        return Bad(f"{problem} {x.dtype} {x.shape}", lambda: c["colorize"](x), [str(x.dtype)])
    if problem == "np-empty":
        shape = draw(st.sampled_from([(0, w), (h, 0), (0, 0), (0, w, 3)]))
        x = np.zeros(shape, np.uint8)
        return Bad(f"{problem} {shape}", lambda: c["colorize"](x), [str(shape)])
    if problem in ("np-nonfinite", "t-nonfinite"):
        value = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        x = np.random.default_rng(h * w).random((h, w)).astype(np.float32)
        x.reshape(-1)[: draw(st.integers(1, h * w))] = value
        obj = x if problem == "np-nonfinite" else torch.from_numpy(x)[None]
        return Bad(f"{problem} {value} {x.shape} {int(np.isnan(x).sum() + np.isinf(x).sum())}", lambda: c["colorize"](obj), ["NaN", "Inf"])
    if problem in ("np-range", "t-range"):
        lo, hi = draw(st.sampled_from([(-2.0, 1.0), (0.0, 255.0), (0.0, 1.5), (-0.5, 0.5), (3.0, 4.0)]))
        one = hi if hi > 1 else lo
        x = np.linspace(lo, hi, h * w + 1, dtype=np.float32)[1:].reshape(h, w) if h * w > 1 else np.full((1, 1), one, np.float32)
        obj = x if problem == "np-range" else torch.from_numpy(x)[None]
        return Bad(f"{problem} [{lo}, {hi}] {x.shape}", lambda: c["colorize"](obj), ["values in"])
    if problem == "t-ndim":
        ndim = draw(st.sampled_from([0, 1, 4, 5]))
        t = torch.zeros((1,) * max(0, ndim - 2) + (h, w) if ndim >= 2 else (h,) * ndim)
        return Bad(f"{problem} {tuple(t.shape)}", lambda: c["colorize"](t), [f"{ndim} dims"])
    if problem == "t-channels":
        ch = draw(st.sampled_from([2, 4, 5, 16]))
        t = torch.zeros(ch, h, w)
        return Bad(f"{problem} {tuple(t.shape)}", lambda: c["colorize"](t), [str(tuple(t.shape))])
    if problem == "t-dtype":
        dtype = draw(st.sampled_from([torch.uint8, torch.int32, torch.int64, torch.bool, torch.complex64]))
        t = torch.zeros(1, h, w, dtype=dtype)
        return Bad(f"{problem} {dtype} {(h, w)}", lambda: c["colorize"](t), [str(dtype)])
    if problem == "t-empty":
        shape = draw(st.sampled_from([(1, 0, w), (1, h, 0), (0, h, w), (0,)]))
        t = torch.zeros(shape)
        return Bad(f"{problem} {shape}", lambda: c["colorize"](t), [str(tuple(shape))])
    if problem == "mask-size":
        mh, mw = draw(st.integers(1, 30)), draw(st.integers(1, 30))
        if (mh, mw) == (h, w):
            mh += 1
        m = np.zeros((mh, mw), np.uint8)
        return Bad(f"{problem} {m.shape} for {gray.shape}", lambda: c["missing"](gray, m), [f"{mh}x{mw}"])
    if problem == "mask-ndim":
        shape = draw(st.sampled_from([(h, w, 3), (1, 1, h, w), (h * w,), (2, h, w)]))
        m = np.zeros(shape, np.uint8) if draw(st.booleans()) else torch.zeros(shape)
        return Bad(f"{problem} {type(m).__name__} {shape}", lambda: c["missing"](gray, m), [str(tuple(shape))])
    if problem == "mask-dtype":
        m = draw(st.sampled_from(["np-object", "np-str", "np-complex", "t-complex", "np-uint32"]))
        mask = {
            "np-object": np.full((h, w), None, object),
            "np-str": np.full((h, w), "x"),
            "np-complex": np.zeros((h, w), np.complex64),
            "t-complex": torch.zeros(h, w, dtype=torch.complex64),
            "np-uint32": np.zeros((h, w), np.uint32),
        }[m]
        return Bad(f"{problem} {m} {(h, w)}", lambda: c["missing"](gray, mask), [str(mask.dtype)])
    if problem == "mask-nonfinite":
        m = np.zeros((h, w), np.float32)
        m.reshape(-1)[0] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        return Bad(f"{problem} {m.reshape(-1)[0]} {(h, w)}", lambda: c["missing"](gray, m), ["NaN", "Inf"])
    if problem == "mask-object":
        m = draw(st.sampled_from(["mask.png", 1, [[1, 0]], {"mask": 1}]))
        return Bad(f"{problem} {type(m).__name__}", lambda: c["missing"](gray, m), [type(m).__name__])
    if problem == "mask-for-colorize":
        m = np.zeros((h, w), np.uint8)
        return Bad(f"{problem} {(h, w)}", lambda: c["colorize"](gray, m), ["mask was given"])
    if problem == "batch-not-list":
        x = draw(st.sampled_from(["a.png", b"bytes", 3, None]))
        return Bad(f"{problem} {type(x).__name__}", lambda: c["colorize"].colorize_batch(x), [type(x).__name__])
    if problem == "batch-empty":
        return Bad(problem, lambda: c["colorize"].colorize_batch([]), ["empty list"])
    n = draw(st.integers(1, 3))
    masks = [None] * draw(st.integers(0, 5).filter(lambda k: k != n))
    return Bad(
        f"{problem} {n} images {len(masks)} masks",
        lambda: c["missing"].colorize_batch([gray] * n, masks),
        [f"got {len(masks)}"],
        gap="colorizer-masks",
    )


def test_colorizer_rejects_invalid_inputs_clearly():
    sweep("colorizer", bad_colorizer_inputs(), examples=100, minimum=MINIMA["colorizer"])


# --------------------------------------------------------------------------- losses


@st.composite
def bad_loss_inputs(draw) -> Bad:
    problem = draw(
        st.sampled_from(
            ["adv-object", "adv-int", "adv-empty", "adv-empty-list", "adv-list-item", "adv-mode", "adv-target",
             "adv-g-fake", "adv-label", "l1-shape", "l1-int", "l1-object", "l1-weight-shape", "l1-weight-object",
             "fm-scales", "fm-layers", "fm-shape", "fm-object", "fm-empty", "fm-int"]
        )
    )  # fmt: skip
    b, c, h = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 8))
    x = torch.zeros(b, c, h, h)
    bad = _loss_case(draw, problem, b, c, h, x)
    if problem not in ("adv-object", "adv-empty-list"):  # the others depend on x's shape
        bad.label += f" x={(b, c, h, h)}"
    return bad


def _loss_case(draw, problem: str, b: int, c: int, h: int, x: torch.Tensor) -> Bad:
    if problem == "adv-object":
        o = draw(st.sampled_from([None, 1.0, "logits", {"x": 1}]))
        return Bad(f"{problem} {type(o).__name__}", lambda: adversarial_loss(o, True), [type(o).__name__])
    if problem == "adv-int":
        dtype = draw(st.sampled_from([torch.int64, torch.int32, torch.uint8, torch.bool]))
        t = x.to(dtype)
        return Bad(f"{problem} {dtype} {tuple(t.shape)}", lambda: adversarial_loss(t, True), [str(dtype)])
    if problem == "adv-empty":
        t = torch.zeros(0, c, h, h)
        return Bad(f"{problem} {tuple(t.shape)}", lambda: adversarial_loss(t, False), [str(tuple(t.shape))])
    if problem == "adv-empty-list":
        empty = draw(st.sampled_from([[], ()]))
        return Bad(f"{problem} {type(empty).__name__}", lambda: adversarial_loss(empty, True), ["empty"])
    if problem == "adv-list-item":
        item = draw(st.sampled_from([None, "x", 3]))
        return Bad(f"{problem} {type(item).__name__} {b}", lambda: adversarial_loss([x, item], True), [type(item).__name__])
    if problem == "adv-mode":
        mode = draw(st.sampled_from(["bce", "LSGAN", "wgan-gp", "", "relativistic", "hinge "]))
        return Bad(f"{problem} {mode!r}", lambda: adversarial_loss(x, True, mode=mode), [repr(mode)])
    if problem == "adv-target":
        target = draw(st.sampled_from([1, 0, "real", None, 1.0]))
        return Bad(f"{problem} {target!r}", lambda: adversarial_loss(x, target), [type(target).__name__])
    if problem == "adv-g-fake":
        mode = draw(st.sampled_from(["vanilla", "lsgan", "hinge", "wgan"]))
        return Bad(f"{problem} {mode}", lambda: adversarial_loss(x, False, mode, for_discriminator=False), ["target_is_real=False"])
    if problem == "adv-label":
        label = draw(st.sampled_from([-0.1, 1.5, 2.0, -1.0]))
        return Bad(f"{problem} {label}", lambda: adversarial_loss(x, True, "vanilla", real_label=label), [repr(label)])
    if problem == "l1-shape":
        y = torch.zeros(b, c, h, h + draw(st.integers(1, 3)))
        return Bad(f"{problem} {tuple(x.shape)} {tuple(y.shape)}", lambda: weighted_l1_loss(x, y), [str(tuple(y.shape))])
    if problem == "l1-int":
        dtype = draw(st.sampled_from([torch.int64, torch.uint8, torch.int32]))
        which = draw(st.booleans())
        a, t = (x.to(dtype), x) if which else (x, x.to(dtype))
        return Bad(f"{problem} {dtype} {which} {tuple(x.shape)}", lambda: weighted_l1_loss(a, t), [str(dtype)])
    if problem == "l1-object":
        o = draw(st.sampled_from([None, 1.0, [0.0], np.zeros((b, c, h, h), np.float32)]))
        return Bad(f"{problem} {type(o).__name__}", lambda: weighted_l1_loss(x, o), [type(o).__name__])
    if problem == "l1-weight-shape":
        wshape = draw(st.sampled_from([(b + 1, 1, h, h), (1, c + 1, 1, 1), (h + 1,), (b, c, h, h, 2)]))
        wt = torch.ones(wshape)
        return Bad(f"{problem} {wshape} {tuple(x.shape)}", lambda: weighted_l1_loss(x, x, wt), [str(tuple(wshape))])
    if problem == "l1-weight-object":
        o = draw(st.sampled_from([1.0, "mask", [1.0]]))
        return Bad(f"{problem} {type(o).__name__}", lambda: weighted_l1_loss(x, x, o), [type(o).__name__])
    feats = [torch.zeros(b, 4, h, h), torch.zeros(b, 8, h, h)]
    if problem == "fm-scales":
        n = draw(st.integers(2, 4))
        return Bad(f"{problem} {n}", lambda: feature_matching_loss([feats] * n, [feats]), [f"{n} scale"])
    if problem == "fm-layers":
        k = draw(st.integers(3, 5))
        return Bad(f"{problem} {k}", lambda: feature_matching_loss(feats, feats + [feats[0]] * (k - 2)), [f"has {k}"])
    if problem == "fm-shape":
        other = [feats[0], torch.zeros(b, 8, h + 1, h)]
        return Bad(f"{problem} {b} {h}", lambda: feature_matching_loss(feats, other), [str((b, 8, h + 1, h))])
    if problem == "fm-object":
        o = draw(st.sampled_from([None, "feats", 3, [None, None]]))
        return Bad(f"{problem} {o!r}", lambda: feature_matching_loss(feats, o), [type(o).__name__, "NoneType"])
    if problem == "fm-empty":
        return Bad(f"{problem} {b} {h}", lambda: feature_matching_loss([], feats), ["empty"])
    dtype = draw(st.sampled_from([torch.int64, torch.uint8]))
    ints = [f.to(dtype) for f in feats]
    return Bad(f"{problem} {dtype} {b} {h}", lambda: feature_matching_loss(feats, ints), [str(dtype)])


def test_losses_reject_invalid_inputs_clearly():
    sweep("losses", bad_loss_inputs(), examples=80, minimum=MINIMA["losses"])


def test_losses_accept_float64_and_propagate_non_finite_values():
    x64 = torch.rand(2, 2, 4, 4, dtype=torch.float64)
    assert adversarial_loss(x64, True).dtype == torch.float64
    assert weighted_l1_loss(x64, x64.float()).dtype == torch.float64
    assert feature_matching_loss([x64], [x64 + 1]).item() == pytest.approx(1.0)
    # documented: NaN/Inf propagate so that the trainer can detect and skip the step
    nan = torch.full((1, 1, 4, 4), float("nan"))
    assert torch.isnan(adversarial_loss(nan, True)) and torch.isnan(weighted_l1_loss(nan, nan))


# --------------------------------------------------------------------------- datasets

_PNG = io.BytesIO()
Image.new("RGB", (40, 30), (200, 100, 50)).save(_PNG, format="PNG")
PNG_BYTES = _PNG.getvalue()
BAD_FILES: dict[str, Callable[[int], bytes]] = {
    "empty": lambda n: b"",
    "text": lambda n: b"this is not an image\n" * (n + 1),
    "truncated-png": lambda n: PNG_BYTES[: 8 + 7 * n % (len(PNG_BYTES) - 30)],
    "header-only-png": lambda n: PNG_BYTES[:8],
    "random": lambda n: np.random.default_rng(n).integers(0, 256, 64 + n, dtype=np.uint8).tobytes(),
    "html": lambda n: b"<!doctype html><title>404</title>",
}


@st.composite
def bad_dataset_inputs(draw, root: Path) -> Bad:
    from cgan_zoo.data import ColorizationDataset, MissingRegionsDataset

    counter = len(list(root.iterdir()))
    folder = root / f"case{counter}"
    folder.mkdir()
    klass = draw(st.sampled_from([ColorizationDataset, MissingRegionsDataset]))
    problem = draw(st.sampled_from(["all-bad", "all-bad", "missing-folder", "empty-folder", "crop-size", "scales", "ab-scale", "min-side"]))
    if problem == "all-bad":
        kinds = draw(st.lists(st.sampled_from(sorted(BAD_FILES)), min_size=1, max_size=4))
        ext = draw(st.sampled_from([".jpg", ".png", ".webp", ".bmp", ".tif"]))
        for i, kind in enumerate(kinds):
            (folder / f"{kind}{i}{ext}").write_bytes(BAD_FILES[kind](i + counter))
        first = sorted(folder.iterdir())[0].name

        def call():
            return klass(folder, crop_size=16)

        return Bad(f"{klass.__name__} {problem} {kinds} {ext}", call, [first, f"{len(kinds)} image files"], gap="dataset-all-bad")
    if problem == "missing-folder":
        path = folder / "does-not-exist"
        return Bad(f"{klass.__name__} {problem}", lambda: klass(path, crop_size=16), [str(path)])
    if problem == "empty-folder":
        return Bad(f"{klass.__name__} {problem} {counter}", lambda: klass(folder, crop_size=16), [str(folder)])
    (folder / "ok.png").write_bytes(PNG_BYTES)
    if problem == "crop-size":
        value = draw(st.sampled_from([0, -4, 1.5, "32", None, True]))
        return Bad(f"{klass.__name__} {problem} {value!r}", lambda: klass(folder, crop_size=value), [repr(value)], gap="dataset-positive-int")
    if problem == "scales":
        value = draw(st.sampled_from([(0.0, 1.0), (0.8, 0.5), (0.5, 1.5), (0.5,), "0.5", (-1.0, 1.0)]))
        return Bad(f"{klass.__name__} {problem} {value!r}", lambda: klass(folder, crop_size=16, scales=value), [repr(value), str(value)])
    if problem == "ab-scale":
        value = draw(st.sampled_from([0, -110.0, float("nan"), float("inf"), "110", True]))
        return Bad(f"{klass.__name__} {problem} {value!r}", lambda: klass(folder, crop_size=16, ab_scale=value), [repr(value)], gap="dataset-ab-scale")
    value = draw(st.sampled_from([0, -1, 2.5, "8"]))
    return Bad(f"{klass.__name__} {problem} {value!r}", lambda: klass(folder, crop_size=16, min_side=value), [repr(value)], gap="dataset-positive-int")


def test_datasets_reject_invalid_inputs_clearly(tmp_path):
    sweep("datasets", bad_dataset_inputs(tmp_path), examples=40, minimum=MINIMA["datasets"])


def test_dataset_skips_bad_files_with_one_warning(tmp_path):
    from cgan_zoo.data import ColorizationDataset

    (tmp_path / "good.png").write_bytes(PNG_BYTES)
    for i, (kind, make) in enumerate(sorted(BAD_FILES.items())):
        (tmp_path / f"{kind}.jpg").write_bytes(make(i))
    with pytest.warns(UserWarning, match=r"Skipped 6 unreadable") as record:
        ds = ColorizationDataset(tmp_path, crop_size=16)
    assert len(record) == 1 and [p.name for p in ds.files] == ["good.png"]
    assert ds[0]["input"].shape == (1, 16, 16)


# --------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def cli_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-models")
    torch.manual_seed(0)
    create_model("unet_tiny").save_pretrained(root / "colorize")
    create_model("unet_tiny", in_channels=2, out_channels=3, task="colorize-missing").save_pretrained(root / "missing")
    return root


@st.composite
def bad_cli_inputs(draw, root: Path, model_root: Path) -> Bad:
    from cgan_zoo.cli import main

    counter = len(list(root.iterdir()))
    case = root / f"case{counter}"
    case.mkdir()
    good = case / "good.png"
    Image.new("L", (12, 9), 100).save(good)
    out = case / "out"
    problem = draw(
        st.sampled_from(["missing-image", "bad-image", "dir-image", "mask-dir", "mask-missing", "mask-size", "mask-bad", "model", "size", "batch-size", "device"])
    )
    model = str(model_root / ("missing" if problem.startswith("mask") else "colorize"))
    extra: list[str] = []
    images = [str(good)]
    received: list[str]
    if problem == "missing-image":
        path = case / draw(st.sampled_from(["nope.png", "a b.jpg", "ünï.png", "x.tif"]))
        images, received = [str(path)], [str(path)]
    elif problem == "bad-image":
        kind = draw(st.sampled_from(sorted(BAD_FILES)))
        path = case / f"{kind}{draw(st.sampled_from(['.png', '.jpg', '.txt']))}"
        path.write_bytes(BAD_FILES[kind](counter))
        images, received = [str(good), str(path)], [str(path)]
    elif problem == "dir-image":
        path = case / "folder.png"
        path.mkdir()
        images, received = [str(path)], [str(path)]
    elif problem == "mask-dir":
        path = case / "no-masks"
        extra, received = ["--masks", str(path)], [str(path)]
    elif problem == "mask-missing":
        (case / "masks").mkdir()
        extra, received = ["--masks", str(case / "masks")], [str(good)]
    elif problem in ("mask-size", "mask-bad"):
        (case / "masks").mkdir()
        mask = case / "masks" / "good.png"
        if problem == "mask-size":
            mh, mw = draw(st.integers(1, 20)), draw(st.integers(1, 20))
            if (mh, mw) == (9, 12):
                mw += 1
            Image.new("L", (mw, mh), 255).save(mask)
            received = [f"{mh}x{mw}"]
        else:
            kind = draw(st.sampled_from(sorted(BAD_FILES)))
            mask.write_bytes(BAD_FILES[kind](counter))
            received = [str(mask)]
        extra = ["--masks", str(case / "masks")]
    elif problem == "model":
        choice = draw(st.sampled_from(["missing-folder", "file", "empty-folder", "unknown-name"]))
        target = {"missing-folder": str(case / "nomodel"), "file": str(good), "empty-folder": str(case),
                  "unknown-name": "no_such_model_xyz"}[choice]  # fmt: skip
        model, received = target, [target]
    elif problem == "size":
        value = draw(st.sampled_from(["0", "-32", "1", "7"]))
        extra, received = ["--size", value], [f"got {value}"]
    elif problem == "batch-size":
        value = draw(st.sampled_from(["0", "-1"]))
        extra, received = ["--batch-size", value], [f"got {value}"]
    else:
        value = draw(st.sampled_from(["quantum", "cuda:99", "tpu", "gpu0"]))
        extra, received = ["--device", value], [value]
    argv = ["colorize", *images, "-o", str(out), "--model", model, *extra]
    return Bad(f"cli {problem} {' '.join(argv[1:])}", lambda: main(argv), received)


def test_cli_rejects_invalid_inputs_clearly(tmp_path, cli_models, capsys):
    root = tmp_path / "cli"
    root.mkdir()
    seen: set[str] = set()

    @settings(max_examples=45, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(bad_cli_inputs(root, cli_models))
    def run(bad: Bad) -> None:
        seen.add(bad.label)
        capsys.readouterr()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = bad.call()
        err = capsys.readouterr().err
        assert code == 1, f"{bad.label}: exit code {code}\n{err}"
        assert "Traceback" not in err, f"{bad.label}: {err}"
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines and all(line.startswith("cgan-zoo colorize: error: ") for line in lines), f"{bad.label}: {err}"
        message = lines[0]
        problems = []
        low = message.lower()
        if not any(r.lower() in low for r in bad.received):
            problems.append(f"does not state what was received (any of {list(bad.received)})")
        # one line on stderr: it must name the culprit and say what was wrong or what to do
        if not any(w in low for w in EXPECT_WORDS + ("not ", "cannot", "does not exist", "no ")) and not has_fix_hint(low):
            problems.append("states neither what was expected nor how to fix it")
        assert not problems, f"{bad.label}: {problems}: {message}"

    run()
    SWEEP_COUNTS["cli"] = len(seen)
    assert len(seen) >= MINIMA["cli"]


# --------------------------------------------------------------------------- valid but odd


@pytest.mark.parametrize("shape", [(1, 1), (10000, 20), (20, 10000), (1, 10000), (3, 1)])
def test_colorizer_handles_extreme_shapes(shape):
    c = colorizers()
    gray = (np.arange(shape[0] * shape[1]) % 251).astype(np.uint8).reshape(shape)
    out = c["colorize"](gray)
    assert out.shape == (*shape, 3) and out.dtype == np.uint8
    mask = np.zeros(shape, np.uint8)
    mask.reshape(-1)[::3] = 255
    out = c["missing"](Image.fromarray(gray, "L"), mask)
    assert out.size == (shape[1], shape[0])


@pytest.mark.parametrize("mode", ["L", "I;16", "I;16B", "I", "RGBA", "P", "LA", "1", "RGB", "CMYK", "F"])
def test_colorizer_accepts_pil_modes(mode):
    c = colorizers()["colorize"]
    if mode in ("I;16", "I;16B"):
        img = Image.fromarray(np.linspace(0, 65535, 35, dtype=np.uint16).reshape(5, 7)).convert(mode) if mode == "I;16" else Image.new(mode, (7, 5), 30000)
    elif mode == "F":
        img = Image.new("F", (7, 5), 0.25)
    elif mode == "I":
        img = Image.new("I", (7, 5), 40000)
    else:
        img = Image.new(mode, (7, 5))
    out = c(img)
    assert out.mode == "RGB" and out.size == (7, 5)


def test_colorizer_accepts_other_float_and_byte_orders():
    c = colorizers()["colorize"]
    gray = np.linspace(0, 1, 48).reshape(6, 8)
    reference = c(gray.astype(np.float32))
    for arr in (gray, gray.astype(np.float16), (gray * 65535).astype(">u2"), (gray * 65535).astype("<u2")):
        out = c(arr)
        assert out.shape == (6, 8, 3) and out.dtype == arr.dtype
        scale = 65535.0 if out.dtype.kind == "u" else 1.0
        assert np.abs(out.astype(np.float64) / scale - reference).max() < 0.01
    for dtype in (torch.float64, torch.float16, torch.bfloat16):
        out = c(torch.from_numpy(gray).to(dtype)[None])
        assert out.shape == (3, 6, 8) and out.dtype == dtype


def test_cli_colorizes_a_one_pixel_image(tmp_path, cli_models, capsys):
    from cgan_zoo.cli import main

    Image.new("L", (1, 1), 77).save(tmp_path / "dot.png")
    code = main(["colorize", str(tmp_path / "dot.png"), "-o", str(tmp_path / "out"), "--model", str(cli_models / "colorize")])
    assert code == 0, capsys.readouterr().err
    assert Image.open(tmp_path / "out" / "dot.png").size == (1, 1)


def _gap_case(gap: str, tmp_path: Path) -> Bad:
    from cgan_zoo.data import ColorizationDataset

    if gap == "colorizer-masks":
        gray = np.zeros((4, 4), np.uint8)
        return Bad(gap, lambda: colorizers()["missing"].colorize_batch([gray], []), ["got 0"])
    (tmp_path / "empty.png").write_bytes(b"")
    if gap == "dataset-all-bad":
        return Bad(gap, lambda: ColorizationDataset(tmp_path, crop_size=16), ["empty.png"])
    (tmp_path / "ok.png").write_bytes(PNG_BYTES)
    if gap == "dataset-positive-int":
        return Bad(gap, lambda: ColorizationDataset(tmp_path, min_side=0), ["got 0"])
    return Bad(gap, lambda: ColorizationDataset(tmp_path, ab_scale=-1.0), ["-1.0"])


@pytest.mark.parametrize("gap", sorted(GAPS))
def test_known_message_gaps(gap, tmp_path):
    check_bad(_gap_case(gap, tmp_path), full=True)


def test_sweeps_cover_at_least_300_invalid_inputs():
    assert sum(MINIMA.values()) >= 300


def test_contract_checker_catches_raw_errors():
    """The heuristic itself: raw torch errors and vague messages are caught."""
    try:
        torch.zeros(2) + torch.zeros(3)
    except RuntimeError as exc:
        assert problems_with(exc, ["(3,)"])
    try:
        raise CganZooError("bad")
    except CganZooError as exc:
        assert len(problems_with(exc, ["x"])) >= 3
