"""Safe reading and writing of weight files.

cgan-zoo only ever loads weights from safetensors files, and it validates the file
itself before handing it to the ``safetensors`` library: header length, JSON,
dtypes, shapes, byte ranges, finiteness and (optionally) the file's sha256.
Pickle-based files (``.bin``, ``.pt``, ``.pth``, ``.ckpt`` or pickle bytes under
any name) are refused and never unpickled.

Every failure raises :class:`~cgan_zoo.errors.WeightsError` (a ``ValueError``)
whose message names the file, the tensor and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Mapping
from pathlib import Path

import torch

from .errors import ChecksumError, UnsafeWeightsError, WeightsError

__all__ = [
    "load_safetensors",
    "save_safetensors",
    "sha256_file",
    "atomic_write_bytes",
    "load_state_dict_strict",
]

# dtype name in the safetensors header -> (torch dtype, bytes per element)
_DTYPES: dict[str, tuple[torch.dtype, int]] = {
    "F64": (torch.float64, 8),
    "F32": (torch.float32, 4),
    "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2),
    "I64": (torch.int64, 8),
    "I32": (torch.int32, 4),
    "I16": (torch.int16, 2),
    "I8": (torch.int8, 1),
    "U8": (torch.uint8, 1),
    "BOOL": (torch.bool, 1),
}
_MAX_HEADER_BYTES = 100 * 1024 * 1024
_PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle"}


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Return the hex sha256 of a file, read in chunks.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"; _ = p.write_bytes(b"abc")
        >>> sha256_file(p)[:12]
        'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, rename.

    A crash at any point leaves either the old file or the new one, never a torn file.
    Temp files are named ``.<name>.tmp-*`` so that :func:`cleanup_stale_temp_files`
    can remove leftovers.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "sub" / "data.bin"
        >>> atomic_write_bytes(path, b"abc")
        >>> path.read_bytes(), [p.name for p in path.parent.iterdir()]
        (b'abc', ['data.bin'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp creates 0600; use normal permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def cleanup_stale_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Delete ``.*.tmp-*`` files left in ``folder`` by an interrupted atomic write.

    Returns:
        The paths that were removed.
    """
    removed = []
    folder = Path(folder)
    if folder.is_dir():
        for p in folder.glob(".*.tmp-*"):
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


def save_safetensors(
    tensors: Mapping[str, torch.Tensor],
    path: str | os.PathLike,
    metadata: Mapping[str, str] | None = None,
) -> str:
    """Save tensors to a safetensors file atomically and return its sha256.

    Shape:
        - Every tensor is stored with its shape and dtype (contiguous, on the CPU).

    Example:
        >>> import tempfile, torch
        >>> p = tempfile.mkdtemp() + "/w.safetensors"
        >>> digest = save_safetensors({"w": torch.ones(2)}, p)
        >>> load_safetensors(p, sha256=digest)["w"].tolist()
        [1.0, 1.0]
    """
    from safetensors.torch import save

    data = save({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, metadata=dict(metadata or {}))
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


_SNIFF_BYTES = 64 * 1024


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    """True if ``head`` starts with a plausible safetensors header length followed by ``{``."""
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 0 < n <= min(_MAX_HEADER_BYTES, size - 8) and head[8:9] == b"{"


def _looks_like_pickle(head: bytes) -> bool:
    """True for pickle bytes (any protocol) and torch zip checkpoints; never unpickles.

    Protocol 2+ pickles start with PROTO (0x80) and the protocol number; torch zip
    checkpoints start with "PK". Protocol 0/1 pickles have no magic, so the opcodes
    are parsed (not executed) with :func:`pickletools.genops`.
    """
    if head[:2] == b"PK" or (head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")):
        return True
    import io
    import pickletools
    import warnings

    count = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # genops decodes string arguments, which can warn
        try:
            for opcode, _arg, _pos in pickletools.genops(io.BytesIO(head)):
                count += 1
                if opcode.name == "STOP":
                    return count >= 2
        except Exception:  # noqa: BLE001 - a parse failure ends the prefix; judge what came before
            return count >= 6
    return count >= 6


def read_safetensors_header(path: str | os.PathLike) -> tuple[dict, int]:
    """Parse and validate a safetensors header without loading the data.

    Returns:
        ``(header, data_start)`` where ``header`` maps tensor names to their entries
        (plus an optional ``"__metadata__"``) and ``data_start`` is the byte offset of
        the data section.

    Raises:
        UnsafeWeightsError: For pickle-based files.
        WeightsError: For anything malformed, with the file name and the reason.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {str(path)!r} does not exist or is not a file.")
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
            if path.suffix.lower() in _PICKLE_SUFFIXES or (
                not _looks_like_safetensors(head, size) and _looks_like_pickle(head)
            ):
                raise UnsafeWeightsError(
                    f"{str(path)!r} is a pickle-based checkpoint; cgan-zoo never unpickles weights "
                    "because a pickle can run arbitrary code. Convert it once, in a trusted "
                    "environment, with cgan_zoo.serialization.save_safetensors(torch.load(path, "
                    "weights_only=True), 'model.safetensors'); for pix2pix/CycleGAN reference "
                    "checkpoints, `cgan-zoo convert SRC OUT_DIR` also renames the tensors."
                )
            if size < 8 or len(head) < 8:
                raise WeightsError(f"{str(path)!r} is too short ({size} bytes) to be a safetensors file.")
            (n,) = struct.unpack("<Q", head[:8])
            if n == 0 or n > _MAX_HEADER_BYTES or n > size - 8:
                raise WeightsError(
                    f"{str(path)!r} declares a header of {n} bytes but the file holds {size} bytes; "
                    "the file is truncated or not a safetensors file."
                )
            fh.seek(8)
            raw = fh.read(n)
    except OSError as exc:
        raise WeightsError(f"weights file {str(path)!r} could not be read: {exc}") from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and integers too long to convert;
        # RecursionError comes from absurdly deep nesting.
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise WeightsError(f"{str(path)!r} has a corrupt safetensors header: {reason}.") from None
    if not isinstance(header, dict):
        raise WeightsError(f"{str(path)!r} has a safetensors header that is not a JSON object.")
    data_start = 8 + n
    data_len = size - data_start
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in entry.items()
            ):
                raise WeightsError(f"{str(path)!r}: __metadata__ must map strings to strings.")
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise WeightsError(f"{str(path)!r}: tensor {name!r} has a malformed header entry {entry!r}.")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(dtype, str) or dtype not in _DTYPES:
            raise WeightsError(f"{str(path)!r}: tensor {name!r} has unsupported dtype {dtype!r}.")
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**40 for d in shape
        ):
            raise WeightsError(f"{str(path)!r}: tensor {name!r} has an invalid shape {shape!r}.")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= data_len
        ):
            raise WeightsError(
                f"{str(path)!r}: tensor {name!r} has data offsets {offsets!r}, expected two integers "
                f"0 <= start <= end <= {data_len} (the size of the data section); the file is "
                "truncated or corrupt."
            )
        numel = 1
        for d in shape:
            numel *= d
        if offsets[1] - offsets[0] != numel * _DTYPES[dtype][1]:
            raise WeightsError(
                f"{str(path)!r}: tensor {name!r} with dtype {dtype} and shape {shape} needs "
                f"{numel * _DTYPES[dtype][1]} bytes but its offsets span {offsets[1] - offsets[0]}."
            )
        spans.append((offsets[0], offsets[1], name))
    spans.sort()
    for (_s0, e0, n0), (s1, _e1, n1) in zip(spans, spans[1:]):
        if s1 < e0:
            raise WeightsError(f"{str(path)!r}: tensors {n0!r} and {n1!r} overlap in the data section.")
        if s1 > e0:
            raise WeightsError(
                f"{str(path)!r}: the data section has a {s1 - e0}-byte gap between tensors {n0!r} "
                f"and {n1!r}; a tensor entry is missing from the header or the file is corrupt."
            )
    if spans and spans[0][0] != 0:
        raise WeightsError(
            f"{str(path)!r}: the first tensor {spans[0][2]!r} starts at byte {spans[0][0]} of the data "
            "section instead of 0; a tensor entry is missing from the header or the file is corrupt."
        )
    covered = spans[-1][1] if spans else 0
    if covered != data_len:
        last = f" (last tensor {spans[-1][2]!r})" if spans else ""
        raise WeightsError(
            f"{str(path)!r}: the header's tensors{last} end at byte {covered} but the data section "
            f"holds {data_len} bytes; the file is truncated, has trailing garbage or is corrupt."
        )
    return header, data_start


def load_safetensors(
    path: str | os.PathLike,
    *,
    sha256: str | None = None,
    allow_non_finite: bool = False,
) -> dict[str, torch.Tensor]:
    """Load a safetensors file after validating it completely.

    Args:
        path: The ``.safetensors`` file.
        sha256: Expected hex digest of the whole file; a mismatch raises
            :class:`~cgan_zoo.errors.ChecksumError`.
        allow_non_finite: Accept NaN/Inf values (refused by default).

    Returns:
        A dict of CPU tensors.

    Raises:
        WeightsError: If the file is missing, corrupt, pickle-based, tampered or non-finite.

    Shape:
        - Every tensor has the shape and dtype recorded in the file's header.

    Example:
        >>> import tempfile, torch
        >>> p = tempfile.mkdtemp() + "/w.safetensors"
        >>> _ = save_safetensors({"w": torch.zeros(1)}, p)
        >>> sorted(load_safetensors(p))
        ['w']
    """
    header, _ = read_safetensors_header(path)
    if sha256 is not None:
        try:
            actual = sha256_file(path)
        except OSError as exc:
            raise WeightsError(f"weights file {str(path)!r} could not be read: {exc}") from None
        if actual.lower() != sha256.lower():
            raise ChecksumError(
                f"{str(path)!r} has sha256 {actual} but {sha256} was expected; the file is "
                "corrupt or was modified. Delete it and download it again."
            )
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, RuntimeError, ValueError) as exc:
        raise WeightsError(f"{str(path)!r} could not be read as safetensors: {exc}") from None
    expected = {k for k in header if k != "__metadata__"}
    if set(tensors) != expected:
        raise WeightsError(f"{str(path)!r}: loaded tensors differ from the header's list.")
    for name, t in tensors.items():
        entry = header[name]
        if t.dtype != _DTYPES[entry["dtype"]][0] or list(t.shape) != entry["shape"]:
            raise WeightsError(
                f"{str(path)!r}: tensor {name!r} was read as {t.dtype} {list(t.shape)} but the header "
                f"declares {entry['dtype']} {entry['shape']}; the header is ambiguous or corrupt."
            )
    if not allow_non_finite:
        for name, t in tensors.items():
            if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                raise WeightsError(
                    f"{str(path)!r}: tensor {name!r} contains NaN or Inf values; refusing to load "
                    "non-finite weights (pass allow_non_finite=True to inspect them anyway)."
                )
    return tensors


def load_state_dict_strict(
    module: torch.nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    *,
    source: str = "weights",
) -> None:
    """Copy ``state_dict`` into ``module``, refusing missing, unexpected or mis-shaped keys.

    Unlike ``module.load_state_dict(strict=True)``, nothing is copied unless every key
    matches, so a failed load never leaves a half-loaded model. Floating tensors are
    cast to the parameter's dtype (for example fp16 storage into an fp32 model).

    Raises:
        WeightsError: Naming the source, the first offending keys and the fix.

    Shape:
        - Each tensor of ``state_dict`` must have the shape of the module's tensor of
          the same key.

    Example:
        >>> import torch
        >>> layer = torch.nn.Linear(2, 1)
        >>> load_state_dict_strict(layer, {"weight": torch.ones(1, 2), "bias": torch.zeros(1)})
        >>> layer.weight.tolist()
        [[1.0, 1.0]]
        >>> load_state_dict_strict(layer, {"weight": torch.ones(2, 2), "bias": torch.zeros(1)})
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.WeightsError: weights: tensor 'weight' has shape (2, 2) but Linear expects (1, 2).
    """
    own = module.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:5]}{' ...' if len(missing) > 5 else ''}")
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}")
        raise WeightsError(
            f"{source} do not match {type(module).__name__}: {'; '.join(parts)}. "
            "Check that the config matches the weights, or remap the keys first."
        )
    for key, value in state_dict.items():
        target = own[key]
        if tuple(value.shape) != tuple(target.shape):
            raise WeightsError(
                f"{source}: tensor {key!r} has shape {tuple(value.shape)} but "
                f"{type(module).__name__} expects {tuple(target.shape)}."
            )
        if value.is_floating_point() != target.is_floating_point():
            raise WeightsError(
                f"{source}: tensor {key!r} has dtype {value.dtype} but the model expects {target.dtype}."
            )
    with torch.no_grad():
        for key, value in state_dict.items():
            own[key].copy_(value.to(own[key].dtype))
