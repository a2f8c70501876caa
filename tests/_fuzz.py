"""A seeded fuzzer of safetensors weight files, shared by the tests and the report script.

It starts from the ``save_pretrained`` folder of a small, seeded ``unet_tiny`` and derives
damaged copies of its ``model.safetensors``: truncations, bad header lengths, garbage
JSON, bad offsets, dtype and shape swaps, missing/extra/misnamed tensors, NaN/Inf values,
flipped data bytes under a pinned sha256, whitespace-only (no-op) header edits, random
bytes and pickles (whose ``__reduce__`` would create a canary file).

Every case is loaded through ``HubModel.from_pretrained(folder, sha256=...)`` and through
``cgan_zoo.serialization.load_safetensors`` (followed by a strict load into an existing
model), timed, and judged:

* damaged files must raise a ``cgan_zoo`` :class:`~cgan_zoo.errors.WeightsError` (a
  ``ValueError``) whose message names the file, and the tensor where one is at fault;
  pickles must raise ``UnsafeWeightsError``; a flipped byte under a pinned sha256 must
  raise ``ChecksumError``;
* a failed load leaves the existing model's state dict unchanged;
* a successful load is only acceptable for a no-op damage (the tensors then equal the
  originals bit for bit), or, for ``load_safetensors`` without a pinned sha256, for a
  format-valid file, whose tensors must then be exactly what the file declares;
* no call takes 2 s or more.

Run it directly for a standalone check (exit code 1 on any violation)::

    python tests/_fuzz.py --cases 1000 --seed 0
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import math
import pickle
import random
import shutil
import signal
import struct
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

from cgan_zoo import HubModel, create_model
from cgan_zoo.errors import ChecksumError, UnsafeWeightsError, WeightsError
from cgan_zoo.serialization import load_safetensors, load_state_dict_strict

__all__ = [
    "KINDS",
    "TIME_BUDGET_S",
    "Canary",
    "Case",
    "Reference",
    "Summary",
    "generate_cases",
    "run_case",
    "run_fuzz",
    "pickle_payloads",
]

#: Per-call time budget: a load that takes this long counts as a hang.
TIME_BUDGET_S = 2.0
#: A call still running after this many seconds is interrupted (SIGALRM), so a real hang
#: fails the run instead of freezing it.
_HARD_LIMIT_S = 20.0

_ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
_TORCH_DTYPE = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}  # fmt: skip

# expectation of a case
REFUSE = "refuse"  # every loader must raise a WeightsError
UNSAFE = "unsafe"  # every loader must raise UnsafeWeightsError
VALID_FORMAT = "valid-format"  # a well-formed file with other tensors: the model must refuse it
NOOP = "noop"  # the damage changes nothing that matters: loading may succeed, bit-exact

KINDS = (
    "truncate",
    "empty",
    "header_length",
    "garbage_json",
    "bad_offsets",
    "dtype_swap",
    "shape_swap",
    "missing_key",
    "extra_key",
    "misnamed_key",
    "non_finite",
    "flip_data",
    "noop_padding",
    "random_bytes",
    "pickle",
)


class Canary:
    """Unpickling this object creates ``path``: proof that a pickle was executed."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def pickle_payloads(canary: str | Path) -> dict[str, bytes]:
    """Pickle-based files whose loading would create ``canary``: every protocol and torch.save."""
    payloads = {}
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        payloads[f"pickle-p{proto}"] = pickle.dumps({"down_blocks.0.weight": Canary(canary)}, protocol=proto)
    buf = io.BytesIO()
    torch.save({"down_blocks.0.weight": Canary(canary)}, buf)
    payloads["torch-zip"] = buf.getvalue()
    buf = io.BytesIO()
    torch.save({"down_blocks.0.weight": Canary(canary)}, buf, _use_new_zipfile_serialization=False)
    payloads["torch-legacy"] = buf.getvalue()
    buf = io.BytesIO()
    torch.save({"w": torch.ones(3), "payload": Canary(canary)}, buf)
    payloads["torch-zip-tensors"] = buf.getvalue()
    return payloads


# --------------------------------------------------------------------------- file layout


@dataclass
class Entry:
    """One tensor of a safetensors file: name, dtype name, shape and raw little-endian bytes."""

    name: str
    dtype: str
    shape: list[int]
    data: bytes


def split_file(data: bytes) -> tuple[dict, bytes, bytes]:
    """``(header, header_bytes, body)`` of a well-formed safetensors file (an independent parser)."""
    (n,) = struct.unpack("<Q", data[:8])
    raw = data[8 : 8 + n]
    return json.loads(raw), raw, data[8 + n :]


def entries_of(data: bytes) -> tuple[list[Entry], dict]:
    """Tensors of a well-formed file in data order, plus its ``__metadata__``."""
    header, _, body = split_file(data)
    items = sorted(
        ((k, v) for k, v in header.items() if k != "__metadata__"), key=lambda kv: kv[1]["data_offsets"][0]
    )
    entries = [Entry(k, v["dtype"], list(v["shape"]), body[v["data_offsets"][0] : v["data_offsets"][1]]) for k, v in items]
    return entries, header.get("__metadata__", {})


def pad_header(raw: bytes, extra: int = 0) -> bytes:
    """Pad JSON header bytes with spaces to a multiple of 8 (plus ``extra`` spaces)."""
    return raw + b" " * ((-len(raw)) % 8 + extra)


def build_file(entries: list[Entry], metadata: dict | None) -> bytes:
    """Lay ``entries`` out contiguously, in order, as a safetensors file."""
    header: dict = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for e in entries:
        header[e.name] = {"dtype": e.dtype, "shape": e.shape, "data_offsets": [offset, offset + len(e.data)]}
        offset += len(e.data)
    raw = pad_header(json.dumps(header, separators=(",", ":")).encode())
    return struct.pack("<Q", len(raw)) + raw + b"".join(e.data for e in entries)


def with_header(raw_json: bytes, body: bytes) -> bytes:
    raw = pad_header(raw_json)
    return struct.pack("<Q", len(raw)) + raw + body


def declared_tensors(data: bytes) -> dict[str, tuple[str, list[int], bytes]]:
    """What a well-formed file declares, decoded without cgan_zoo or safetensors."""
    header, _, body = split_file(data)
    return {
        k: (v["dtype"], v["shape"], body[v["data_offsets"][0] : v["data_offsets"][1]])
        for k, v in header.items()
        if k != "__metadata__"
    }


def tensor_bytes(t: torch.Tensor) -> bytes:
    return t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


# --------------------------------------------------------------------------- reference


class Reference:
    """A valid small model's ``save_pretrained`` folder and everything derived from it."""

    def __init__(self, root: Path, seed: int = 0) -> None:
        torch.manual_seed(seed)
        model = create_model("unet_tiny", norm="batch")
        with torch.no_grad():  # non-default buffers, so that a swapped tensor is visible
            for _name, buf in model.named_buffers():
                if buf.is_floating_point():
                    buf.uniform_(0.5, 2.0)
                else:
                    buf.fill_(3)
        self.folder = root / "reference"
        model.save_pretrained(self.folder)
        self.config = (self.folder / "config.json").read_bytes()
        self.data = (self.folder / "model.safetensors").read_bytes()
        self.sha256 = hashlib.sha256(self.data).hexdigest()
        self.header, self.header_raw, self.body = split_file(self.data)
        self.entries, self.metadata = entries_of(self.data)
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.float_names = [e.name for e in self.entries if e.dtype in ("F32", "F16", "BF16", "F64")]
        self.names = [e.name for e in self.entries]
        # an "existing" model with other weights, for the no-partial-load check
        torch.manual_seed(seed + 1)
        self.existing = create_model("unet_tiny", norm="batch")
        self.existing_snapshot = {k: v.detach().clone() for k, v in self.existing.state_dict().items()}


@dataclass
class Case:
    """One damaged file and what loading it must do."""

    index: int
    kind: str
    detail: str
    data: bytes
    expect: str
    sha256: str | None = None  # pinned digest passed to the loaders (that of the original file)
    tensor: str | tuple[str, ...] | None = None  # tensor(s) an error message must name (one of them)
    filename: str = "model.safetensors"  # name used for the direct load_safetensors call

    @property
    def header_valid(self) -> bool:
        """The damage leaves a well-formed file, so a pinned sha256 must be what catches it."""
        return self.expect in (VALID_FORMAT, NOOP) or self.kind in ("non_finite", "flip_data")


# --------------------------------------------------------------------------- generators


def _gen_truncate(rng: random.Random, ref: Reference) -> tuple[str, bytes, str, object]:
    size, start = len(ref.data), 8 + len(ref.header_raw)
    zone = rng.choice(["length-field", "header", "data-start", "data", "last-byte"])
    length = {
        "length-field": lambda: rng.randint(1, 8),
        "header": lambda: rng.randint(9, start - 1),
        "data-start": lambda: start + rng.randint(-2, 2),
        "data": lambda: rng.randint(start + 3, size - 2),
        "last-byte": lambda: size - 1,
    }[zone]()
    return f"{zone}: {length} of {size} bytes", ref.data[:length], REFUSE, None


def _gen_empty(rng: random.Random, ref: Reference) -> tuple[str, bytes, str, object]:
    return "0 bytes", b"", REFUSE, None


def _gen_header_length(rng: random.Random, ref: Reference) -> tuple[str, bytes, str, object]:
    n, size = len(ref.header_raw), len(ref.data)
    choices = {
        "zero": 0,
        "one": 1,
        "max-u64": 2**64 - 1,
        "2^63": 2**63,
        "file-size": size,
        "just-past-end": size - 7,
        "100MiB+1": 100 * 1024 * 1024 + 1,
        "minus-1": n - 1,
        "minus-8": n - 8,
        "plus-1": n + 1,
        "plus-8": n + 8,
        "half": n // 2,
        "random": rng.randrange(2**64),
        "random-small": rng.randrange(1, size),
    }
    name = rng.choice(sorted(choices))
    value = choices[name]
    return f"{name} ({value})", struct.pack("<Q", value) + ref.data[8:], REFUSE, None


def _json_variants(rng: random.Random, ref: Reference) -> dict[str, tuple[Callable[[], bytes], str | None]]:
    name = rng.choice(ref.names)

    def edit(fn) -> bytes:
        header = json.loads(ref.header_raw)
        fn(header)
        return json.dumps(header, separators=(",", ":")).encode()

    def set_field(field_name, value):
        return lambda: edit(lambda h: h[name].__setitem__(field_name, value))

    def drop_field(field_name):
        return lambda: edit(lambda h: h[name].pop(field_name))

    raw = ref.header_raw.rstrip()
    return {
        "random-bytes": (lambda: bytes(rng.getrandbits(8) for _ in range(len(raw))), None),
        "cut": (lambda: raw[: rng.randint(1, len(raw) - 2)], None),
        "not-an-object": (lambda: rng.choice([b"[]", b"1", b'"x"', b"null", b"true"]), None),
        "deep-nesting": (lambda: b"[" * 100_000 + b"]" * 100_000, None),
        "5000-digit-int": (lambda: raw.replace(b'"shape":[', b'"shape":[' + b"9" * 5000 + b",", 1), None),
        "utf8-bom": (lambda: b"\xef\xbb\xbf" + raw, None),
        "invalid-utf8": (lambda: raw[:20] + b"\xff\xfe" + raw[22:], None),
        "nan-literal": (lambda: raw.replace(b'"shape":[', b'"shape":[NaN,', 1), None),
        "entry-not-object": (lambda: edit(lambda h: h.__setitem__(name, [1, 2])), name),
        "missing-dtype": (drop_field("dtype"), name),
        "missing-shape": (drop_field("shape"), name),
        "missing-offsets": (drop_field("data_offsets"), name),
        "extra-field": (lambda: edit(lambda h: h[name].__setitem__("stride", [1])), name),
        "unknown-dtype": (set_field("dtype", rng.choice(["F8", "Q4", "", "f32", "U64", "C64"])), name),
        "dtype-not-string": (set_field("dtype", rng.choice([[], {}, 4, None, ["F32"]])), name),
        "shape-negative": (set_field("shape", [-1, 4]), name),
        "shape-float": (set_field("shape", [2.0, 2.0]), name),
        "shape-string": (set_field("shape", "2x2"), name),
        "shape-bool": (set_field("shape", [True]), name),
        "shape-huge": (set_field("shape", [2**50, 2**50]), name),
        "offsets-float": (set_field("data_offsets", [0.0, 4.0]), name),
        "offsets-three": (set_field("data_offsets", [0, 4, 8]), name),
        "offsets-string": (set_field("data_offsets", "0-4"), name),
        "metadata-not-strings": (lambda: edit(lambda h: h.__setitem__("__metadata__", {"format": 1})), None),
        "metadata-not-object": (lambda: edit(lambda h: h.__setitem__("__metadata__", ["pt"])), None),
    }


def _gen_garbage_json(rng: random.Random, ref: Reference) -> tuple[str, bytes, str, object]:
    variants = _json_variants(rng, ref)
    variant = rng.choice(sorted(variants))
    make, tensor = variants[variant]
    return variant, with_header(make(), ref.body), REFUSE, tensor


def _gen_bad_offsets(rng: random.Random, ref: Reference) -> tuple[str, bytes, str, object]:
    name = rng.choice(ref.names)
    header = json.loads(ref.header_raw)
    start, end = header[name]["data_offsets"]
    data_len = len(ref.body)
    variant = rng.choice(["end-past-file", "both-past-file", "reversed", "shift", "negative", "huge"])
    new = {
        "end-past-file": [start, data_len + rng.randint(1, 4096)],
        "both-past-file": [data_len + 4, data_len + 4 + (end - start)],
        "reversed": [end, start],
        "shift": [start + 4 * rng.choice([-1, 1]), end + 4 * rng.choice([-1, 1])],
        "negative": [-4, end - start - 4],
        "huge": [2**62, 2**62 + (end - start)],
    }[variant]
    if new == [start, end]:
        new = [start, end + 4]
    header[name]["data_offsets"] = new
    raw = json.dumps(header, separators=(",", ":")).encode()
    return f"{variant}: {name} {[start, end]} -> {new}", with_header(raw, ref.body), REFUSE, name


def _gen_dtype_swap(rng: random.Random, ref: Reference) -> tuple[str, bytes, str, object]:
    entries = [Entry(e.name, e.dtype, list(e.shape), e.data) for e in ref.entries]
    e = rng.choice(entries)
    old = e.dtype
    same_size = [d for d in _ITEMSIZE if d != old and _ITEMSIZE[d] == _ITEMSIZE[old] and not _same_kind(d, old)]
    if same_size and rng.random() < 0.6:
        e.dtype = rng.choice(same_size)  # well-formed file; only the model can tell
        return f"{e.name}: {old} -> {e.dtype} (same size)", build_file(entries, ref.metadata), VALID_FORMAT, e.name
    e.dtype = rng.choice([d for d in _ITEMSIZE if _ITEMSIZE[d] != _ITEMSIZE[old]])
    header = json.loads(ref.header_raw)
    header[e.name]["dtype"] = e.dtype  # offsets unchanged: byte count no longer matches
    raw = json.dumps(header, separators=(",", ":")).encode()
    return f"{e.name}: {old} -> {e.dtype} (other size)", with_header(raw, ref.body), REFUSE, e.name


def _same_kind(a: str, b: str) -> bool:
    floats = {"F64", "F32", "F16", "BF16"}
    return (a in floats) == (b in floats) and a != "BOOL" and b != "BOOL"


def _gen_shape_swap(rng: random.Random, ref: Reference) -> tuple[str, bytes, str, object]:
    entries = [Entry(e.name, e.dtype, list(e.shape), e.data) for e in ref.entries]
    variant = rng.choice(["swap-two", "permute", "flatten", "add-dim", "change-dim"])
    if variant == "swap-two":
        a, b = rng.sample(entries, 2)
        while a.shape == b.shape:
            a, b = rng.sample(entries, 2)
        na = math.prod(a.shape) * _ITEMSIZE[a.dtype]
        nb = math.prod(b.shape) * _ITEMSIZE[b.dtype]
        header = json.loads(ref.header_raw)
        header[a.name]["shape"], header[b.name]["shape"] = b.shape, a.shape
        raw = json.dumps(header, separators=(",", ":")).encode()
        expect = VALID_FORMAT if na == nb else REFUSE
        return f"swap {a.name} {a.shape} <-> {b.name} {b.shape}", with_header(raw, ref.body), expect, (a.name, b.name)
    candidates = [e for e in entries if len(set(e.shape)) > 1] if variant == "permute" else entries
    if variant == "flatten":
        candidates = [e for e in entries if len(e.shape) != 1]
    e = rng.choice(candidates)
    old = list(e.shape)
    if variant == "permute":
        while e.shape == old:
            rng.shuffle(e.shape)
    elif variant == "flatten":
        e.shape = [math.prod(old)]
    elif variant == "add-dim":
        pos = rng.randint(0, len(old))
        e.shape = old[:pos] + [1] + old[pos:]
    else:  # change one dim: the byte count no longer matches the offsets
        if not old:
            e.shape = [2]
        else:
            i = rng.randrange(len(old))
            e.shape = old[:i] + [old[i] + rng.choice([1, 2, 7])] + old[i + 1 :]
        header = json.loads(ref.header_raw)
        header[e.name]["shape"] = e.shape
        raw = json.dumps(header, separators=(",", ":")).encode()
        return f"change-dim {e.name} {old} -> {e.shape}", with_header(raw, ref.body), REFUSE, e.name
    return f"{variant} {e.name} {old} -> {e.shape}", build_file(entries, ref.metadata), VALID_FORMAT, e.name


def _gen_missing_key(rng: random.Random, ref: Reference) -> tuple[str, bytes, str, object]:
    i = rng.randrange(len(ref.entries))
    name = ref.entries[i].name
    if rng.random() < 0.5:  # drop the header entry only: a gap (or a short data section) remains
        header = json.loads(ref.header_raw)
        del header[name]
        raw = json.dumps(header, separators=(",", ":")).encode()
        return f"header entry {name} removed, data kept", with_header(raw, ref.body), REFUSE, None
    entries = [e for j, e in enumerate(ref.entries) if j != i]
    return f"{name} removed with its data", build_file(entries, ref.metadata), VALID_FORMAT, name


def _gen_extra_key(rng: random.Random, ref: Reference) -> tuple[str, bytes, str, object]:
    entries = list(ref.entries)
    name = rng.choice(["extra.weight", "head.9.bias", "down_blocks.0.weight_orig", "__extra__", "ünïcode.w"])
    n = rng.randint(0, 16)
    dtype = rng.choice(["F32", "I64", "U8"])
    data = bytes(rng.getrandbits(8) for _ in range(n * _ITEMSIZE[dtype])) if dtype != "F32" else struct.pack(
        f"<{n}f", *[rng.uniform(-1, 1) for _ in range(n)]
    )
    entries.insert(rng.randint(0, len(entries)), Entry(name, dtype, [n], data))
    return f"added {name} {dtype}[{n}]", build_file(entries, ref.metadata), VALID_FORMAT, name


def _gen_misnamed_key(rng: random.Random, ref: Reference) -> tuple[str, bytes, str, object]:
    entries = [Entry(e.name, e.dtype, list(e.shape), e.data) for e in ref.entries]
    e = rng.choice(entries)
    old = e.name
    e.name = rng.choice([old.upper(), old + "_", "module." + old, old.replace(".", "_"), old[:-1]])
    if e.name == old or e.name in ref.names:
        e.name = old + ".renamed"
    return f"{old} -> {e.name}", build_file(entries, ref.metadata), VALID_FORMAT, old


def _gen_non_finite(rng: random.Random, ref: Reference) -> tuple[str, bytes, str, object]:
    name = rng.choice(ref.float_names)
    header = json.loads(ref.header_raw)
    start, end = header[name]["data_offsets"]
    count = (end - start) // 4
    index = rng.randrange(count)
    label, bits = rng.choice(
        [("NaN", b"\x00\x00\xc0\x7f"), ("-NaN", b"\x00\x00\xc0\xff"), ("sNaN", b"\x01\x00\x80\x7f"),
         ("+Inf", b"\x00\x00\x80\x7f"), ("-Inf", b"\x00\x00\x80\xff")]
    )  # fmt: skip
    body = bytearray(ref.body)
    body[start + 4 * index : start + 4 * index + 4] = bits
    return f"{label} at {name}[{index}]", struct.pack("<Q", len(ref.header_raw)) + ref.header_raw + bytes(body), REFUSE, name


def _gen_flip_data(rng: random.Random, ref: Reference) -> tuple[str, bytes, str, object]:
    start = 8 + len(ref.header_raw)
    pos = rng.randrange(start, len(ref.data))
    mask = rng.randint(1, 255)
    data = bytearray(ref.data)
    data[pos] ^= mask
    return f"byte {pos} ^= 0x{mask:02x}", bytes(data), REFUSE, None


def _gen_noop_padding(rng: random.Random, ref: Reference) -> tuple[str, bytes, str, object]:
    raw = ref.header_raw
    spaces = [i for i in range(len(raw.rstrip()), len(raw))]
    if spaces and rng.random() < 0.6:
        i = rng.choice(spaces)
        ch = rng.choice([b"\t", b"\n", b"\r"])
        new = raw[:i] + ch + raw[i + 1 :]
        return f"padding byte {8 + i} space -> {ch!r}", struct.pack("<Q", len(new)) + new + ref.body, NOOP, None
    if rng.random() < 0.5:
        # a header length whose first byte is 0x80 (pickle's PROTO opcode), optionally
        # followed by a protocol number: a valid file must not be mistaken for a pickle
        base = rng.choice([0x80, 0x280, 0x380, 0x480, 0x580])
        target = next(base + k * (0x100 if base == 0x80 else 0x10000) for k in range(1, 1 << 16)
                      if base + k * (0x100 if base == 0x80 else 0x10000) >= len(raw))  # fmt: skip
        new = raw + b" " * (target - len(raw))
        return f"header padded to {target:#x} bytes", struct.pack("<Q", len(new)) + new + ref.body, NOOP, None
    extra = 8 * rng.randint(1, 4)
    new = raw + b" " * extra
    return f"header padded with {extra} more spaces", struct.pack("<Q", len(new)) + new + ref.body, NOOP, None


def _gen_random_bytes(rng: random.Random, ref: Reference) -> tuple[str, bytes, str, object]:
    length = rng.choice([1, 7, 8, 9, rng.randint(10, 64), rng.randint(65, 4096), len(ref.data)])
    data = bytes(rng.getrandbits(8) for _ in range(length))
    return f"{length} random bytes", data, REFUSE, None


_GENERATORS: dict[str, Callable[[random.Random, Reference], tuple[str, bytes, str, object]]] = {
    "truncate": _gen_truncate,
    "empty": _gen_empty,
    "header_length": _gen_header_length,
    "garbage_json": _gen_garbage_json,
    "bad_offsets": _gen_bad_offsets,
    "dtype_swap": _gen_dtype_swap,
    "shape_swap": _gen_shape_swap,
    "missing_key": _gen_missing_key,
    "extra_key": _gen_extra_key,
    "misnamed_key": _gen_misnamed_key,
    "non_finite": _gen_non_finite,
    "flip_data": _gen_flip_data,
    "noop_padding": _gen_noop_padding,
    "random_bytes": _gen_random_bytes,
}

_PICKLE_NAMES = ("model.safetensors", "pytorch_model.bin", "model.pt", "model.pth", "weights.ckpt", "weights")


def generate_cases(ref: Reference, n: int, seed: int, canary: Path) -> Iterator[Case]:
    """``n`` damaged files, cycling through :data:`KINDS`; the same seed gives the same cases."""
    rng = random.Random(seed)
    payloads = pickle_payloads(canary)
    for index in range(n):
        kind = KINDS[index % len(KINDS)]
        if kind == "pickle":
            variant = rng.choice(sorted(payloads))
            filename = rng.choice(_PICKLE_NAMES)
            sha = ref.sha256 if rng.random() < 0.5 else None
            yield Case(index, kind, f"{variant} as {filename}", payloads[variant], UNSAFE, sha, None, filename)
            continue
        detail, data, expect, tensor = _GENERATORS[kind](rng, ref)
        if data == ref.data:  # a damage that happened to change nothing
            expect = NOOP
        sha = ref.sha256 if kind == "flip_data" or rng.random() < 0.5 else None
        yield Case(index, kind, detail, data, expect, sha, tensor)


# --------------------------------------------------------------------------- running


class _Hang(BaseException):
    pass


@contextlib.contextmanager
def _hard_limit(seconds: float):
    """Interrupt a call that runs far past the budget (main thread, POSIX only)."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise _Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _call(fn: Callable[[], object]) -> tuple[object | None, BaseException | None, float]:
    start = time.perf_counter()
    try:
        with _hard_limit(_HARD_LIMIT_S):
            result = fn()
        return result, None, time.perf_counter() - start
    except (Exception, _Hang) as exc:  # noqa: BLE001 - judged by the caller
        return None, exc, time.perf_counter() - start


def _same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and tensor_bytes(a[k]) == tensor_bytes(b[k]) for k in a
    )


@dataclass
class Outcome:
    """What happened to one case."""

    case: Case
    hub: str  # "refused:<ErrorClass>", "loaded-noop" or "raised:<OtherClass>"
    direct: str  # same for load_safetensors (+ "loaded-as-declared")
    seconds: float  # slowest call of the case
    violations: list[str] = field(default_factory=list)


def _expected_error(case: Case) -> type[BaseException]:
    if case.expect == UNSAFE:
        return UnsafeWeightsError
    if case.sha256 is not None and case.header_valid:
        return ChecksumError
    return WeightsError


def _names_tensor(case: Case, message: str) -> bool:
    if case.tensor is None:
        return True
    names = (case.tensor,) if isinstance(case.tensor, str) else case.tensor
    return any(name in message for name in names)


def _check_error(case: Case, where: str, exc: BaseException, path: Path, violations: list[str]) -> str:
    label = type(exc).__name__
    expected = _expected_error(case)
    if not isinstance(exc, expected):
        violations.append(f"{where}: expected {expected.__name__}, got {label}: {str(exc)[:300]}")
        return f"raised:{label}"
    if not isinstance(exc, ValueError):
        violations.append(f"{where}: {label} is not a ValueError")
    message = str(exc)
    if str(path) not in message:
        violations.append(f"{where}: message does not name the file {str(path)!r}: {message[:300]}")
    if case.sha256 is None and not _names_tensor(case, message):
        violations.append(f"{where}: message does not name tensor {case.tensor!r}: {message[:300]}")
    return f"refused:{label}"


def run_case(case: Case, ref: Reference, workdir: Path) -> Outcome:
    """Load one damaged file through both entry points and judge the result."""
    folder = workdir / "case"
    if not folder.is_dir():
        folder.mkdir(parents=True)
        (folder / "config.json").write_bytes(ref.config)
    weights = folder / "model.safetensors"
    weights.write_bytes(case.data)
    direct_path = weights if case.filename == "model.safetensors" else workdir / case.filename
    if direct_path != weights:
        direct_path.write_bytes(case.data)
    violations: list[str] = []
    slowest = 0.0

    # 1. HubModel.from_pretrained
    model, exc, seconds = _call(lambda: HubModel.from_pretrained(folder, sha256=case.sha256))
    slowest = max(slowest, seconds)
    if exc is not None:
        hub = _check_error(case, "from_pretrained", exc, weights, violations)
    elif case.expect == NOOP and not (case.sha256 is not None and case.header_valid):
        hub = "loaded-noop"
        if not _same_state(model.state_dict(), ref.state):  # type: ignore[union-attr]
            violations.append("from_pretrained: a no-op damage loaded different tensors")
    else:
        hub = "loaded"
        violations.append("from_pretrained: silently loaded a damaged file")

    # 2. load_safetensors, then a strict load into an existing model
    tensors, exc, seconds = _call(lambda: load_safetensors(direct_path, sha256=case.sha256))
    slowest = max(slowest, seconds)
    if exc is not None:
        direct = _check_error(case, "load_safetensors", exc, direct_path, violations)
    else:
        assert isinstance(tensors, dict)
        may_load = case.sha256 is None and case.expect in (NOOP, VALID_FORMAT)
        direct = "loaded-noop" if case.expect == NOOP else "loaded-as-declared"
        if not may_load:
            violations.append("load_safetensors: silently loaded a damaged file")
        else:
            declared = declared_tensors(case.data)
            if declared.keys() != tensors.keys():
                violations.append("load_safetensors: returned other tensors than the file declares")
            for name, t in tensors.items():
                if name in declared:
                    dtype, shape, raw = declared[name]
                    if t.dtype != _TORCH_DTYPE[dtype] or list(t.shape) != shape or tensor_bytes(t) != raw:
                        violations.append(f"load_safetensors: tensor {name!r} differs from the file's bytes")
                if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                    violations.append(f"load_safetensors: returned non-finite tensor {name!r}")
        existing = ref.existing
        _, exc2, seconds = _call(
            lambda: load_state_dict_strict(existing, tensors, source=f"weights {str(direct_path)!r}")  # type: ignore[arg-type]
        )
        slowest = max(slowest, seconds)
        if exc2 is None:
            if case.expect != NOOP:
                violations.append("strict load: a damaged file was loaded into an existing model")
            elif not _same_state(existing.state_dict(), ref.state):
                violations.append("strict load: a no-op damage changed the tensors")
            existing.load_state_dict(ref.existing_snapshot)
        else:
            if case.expect == NOOP:
                violations.append(f"strict load: refused a no-op damage: {exc2}")
            elif not isinstance(exc2, WeightsError):
                violations.append(f"strict load: raised {type(exc2).__name__}, not a WeightsError: {exc2}")
            elif not _names_tensor(case, str(exc2)):
                violations.append(f"strict load: message does not name tensor {case.tensor!r}: {str(exc2)[:300]}")
    if not _same_state(ref.existing.state_dict(), ref.existing_snapshot):
        violations.append("existing model: state dict changed by a failed load (partial load)")
        ref.existing.load_state_dict(ref.existing_snapshot)
    if slowest >= TIME_BUDGET_S:
        violations.append(f"took {slowest:.2f} s (budget {TIME_BUDGET_S} s)")
    if direct_path != weights:
        direct_path.unlink()
    return Outcome(case, hub, direct, slowest, violations)


@dataclass
class Summary:
    """Counts per damage kind and every violation."""

    seed: int
    total: int = 0
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    violations: list[str] = field(default_factory=list)
    max_seconds: float = 0.0
    noop_loads: int = 0
    seconds: float = 0.0
    canary_fired: bool = False

    def add(self, outcome: Outcome) -> None:
        c = self.counts[outcome.case.kind]
        c["cases"] += 1
        c[f"hub {outcome.hub}"] += 1
        c[f"direct {outcome.direct}"] += 1
        self.total += 1
        self.max_seconds = max(self.max_seconds, outcome.seconds)
        self.noop_loads += outcome.hub == "loaded-noop"
        for v in outcome.violations:
            self.violations.append(f"case {outcome.case.index} [{outcome.case.kind}: {outcome.case.detail}]: {v}")

    def to_dict(self) -> dict:
        return {
            "seed": self.seed,
            "total": self.total,
            "counts": {k: dict(v) for k, v in sorted(self.counts.items())},
            "violations": self.violations,
            "max_seconds": round(self.max_seconds, 4),
            "noop_loads": self.noop_loads,
            "seconds": round(self.seconds, 2),
            "canary_fired": self.canary_fired,
        }


def run_fuzz(n: int, seed: int, workdir: str | Path | None = None) -> Summary:
    """Generate and run ``n`` cases; see the module docstring for what is checked."""
    own = workdir is None
    root = Path(tempfile.mkdtemp(prefix="cgan-fuzz-")) if own else Path(workdir)  # type: ignore[arg-type]
    start = time.perf_counter()
    try:
        ref = Reference(root, seed=seed)
        canary = root / "canary-was-unpickled"
        summary = Summary(seed=seed)
        for case in generate_cases(ref, n, seed, canary):
            summary.add(run_case(case, ref, root / "work"))
        summary.canary_fired = canary.exists()
        if summary.canary_fired:
            summary.violations.append(f"a pickle was executed: {canary} exists")
        summary.seconds = time.perf_counter() - start
        return summary
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    summary = run_fuzz(args.cases, args.seed)
    if args.json:
        print(json.dumps(summary.to_dict()))
    else:
        for kind, counts in sorted(summary.counts.items()):
            print(f"{kind:15s} {dict(counts)}")
        print(f"total {summary.total}, violations {len(summary.violations)}, max {summary.max_seconds:.3f} s")
        for v in summary.violations[:50]:
            print("  ", v)
    return 1 if summary.violations else 0


if __name__ == "__main__":
    sys.exit(main())
