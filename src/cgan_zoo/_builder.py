"""Finding and loading weights: registered entries, ``save_pretrained`` folders, Hub ids and
trainer checkpoints.

Every loader here reads safetensors only and loads strictly (see
:mod:`cgan_zoo.serialization`); none of them unpickles anything. The front door that
chooses between them is :func:`cgan_zoo.load_generator` (:mod:`._factory`).

Importing this module does not import torch; each loader imports what it needs.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._pretrained import PretrainedCfg
from ._registry import get_pretrained_cfg
from .errors import WeightsError

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "resolve_pretrained_folder",
    "load_pretrained",
    "load_folder_or_hub",
    "find_checkpoint",
    "is_checkpoint_file",
    "load_checkpoint_generator",
]

#: where the trainer writes its checkpoints inside a run folder (``out_dir``)
CHECKPOINTS_DIR = "checkpoints"
#: where ``cgan-zoo train`` writes the final (EMA) generator inside a run folder
EXPORTED_GENERATOR_DIR = "generator"


def resolve_pretrained_folder(cfg: PretrainedCfg) -> Path | str:
    """Return the installed folder of ``cfg``, or its Hub id (resolved later, offline-capable).

    Raises:
        WeightsError: If the installed files are missing, or ``cfg`` has no location.

    Example:
        >>> cfg = PretrainedCfg(name="a.b", architecture="a", sha256="0" * 64, license="MIT",
        ...                     hub_id="owner/a", revision="0" * 40)
        >>> resolve_pretrained_folder(cfg)
        'owner/a'
    """
    if cfg.bundled:
        try:
            folder = Path(str(resources.files(cfg.package) / cfg.bundled))
        except ModuleNotFoundError:
            raise WeightsError(
                f"weights {cfg.name!r} registered by {cfg.source} live in the Python package "
                f"{cfg.package!r}, which cannot be imported; reinstall that package."
            ) from None
        if not any(
            (folder / f).is_file() for f in ("model.safetensors", "model.safetensors.index.json")
        ):
            raise WeightsError(
                f"weights {cfg.name!r} registered by {cfg.source} are missing from the installation "
                f"({folder}); reinstall that package."
            )
        return folder
    if cfg.hub_id:
        return cfg.hub_id
    raise WeightsError(f"pretrained {cfg.name!r} has neither bundled weights nor a Hub id.")


def load_pretrained(name: str, **overrides: Any) -> nn.Module:
    """Load registered weights (``"arch.tag"``, or ``"arch"`` for its default tag).

    The file's sha256 is checked against the registered one; Hub-hosted weights are
    fetched at their pinned revision (or read from the local cache offline).

    Args:
        name: A name from :func:`cgan_zoo.list_pretrained`, or an architecture with weights.
        **overrides: Constructor arguments that replace the saved ones; shapes must match.

    Returns:
        The model in eval mode, on the CPU.

    Raises:
        InvalidConfigError: For an unknown name (with close matches).
        WeightsError: If the weights are missing, tampered with or do not match.
    """
    from .hub import HubModel

    cfg = get_pretrained_cfg(name)
    source = resolve_pretrained_folder(cfg)
    revision = cfg.revision if cfg.hub_id else None
    return HubModel.from_pretrained(source, sha256=cfg.sha256, revision=revision, **overrides)


def load_folder_or_hub(
    source: str | os.PathLike,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    **overrides: Any,
) -> nn.Module:
    """Load a ``save_pretrained`` folder or a Hub repo ``"owner/name"`` (offline from the cache).

    Returns:
        The model in eval mode, on the CPU.

    Raises:
        WeightsError: If the files are missing or do not match.
    """
    from .hub import HubModel

    return HubModel.from_pretrained(source, revision=revision, cache_dir=cache_dir, **overrides)


def is_checkpoint_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a safetensors file written by the trainer (read from its header).

    Example:
        >>> import tempfile
        >>> is_checkpoint_file(tempfile.mkdtemp())
        False
    """
    from .serialization import read_safetensors_header

    if not Path(path).is_file():
        return False
    try:
        header, _ = read_safetensors_header(path)
    except WeightsError:
        return False
    return "cgan_zoo_checkpoint" in header.get("__metadata__", {})


def find_checkpoint(folder: str | os.PathLike) -> Path | None:
    """The newest intact trainer checkpoint of a run folder or of its ``checkpoints`` folder.

    Args:
        folder: The trainer's ``out_dir`` (holding ``checkpoints/ckpt-*.safetensors``), or
            the ``checkpoints`` folder itself.

    Returns:
        The checkpoint file, or ``None`` when there is none.

    Example:
        >>> import tempfile
        >>> print(find_checkpoint(tempfile.mkdtemp()))
        None
    """
    from .training.checkpoint import latest_checkpoint, list_checkpoints

    folder = Path(folder)
    for candidate in (folder, folder / CHECKPOINTS_DIR):
        if list_checkpoints(candidate):
            found = latest_checkpoint(candidate)
            if found is not None:
                return found
    return None


def load_checkpoint_generator(
    path: str | os.PathLike, *, use_ema: bool = True, **overrides: Any
) -> nn.Module:
    """Rebuild the generator of a trainer checkpoint: its EMA weights when it has them.

    Nothing is unpickled: a checkpoint is a safetensors file whose JSON metadata holds
    the generator's class and constructor arguments (see
    :mod:`cgan_zoo.training.checkpoint`).

    Args:
        path: A ``ckpt-*.safetensors`` file written by :class:`~cgan_zoo.Pix2PixTrainer`.
        use_ema: Take the EMA generator's weights when the checkpoint holds them.
        **overrides: Constructor arguments that replace the saved ones; shapes must match.

    Returns:
        The generator in eval mode, on the CPU.

    Raises:
        WeightsError: If the file is not a readable checkpoint, names an unknown class,
            or its weights do not match.
    """
    from .errors import InvalidConfigError
    from .hub import CLASS_KEY, HubModel
    from .serialization import load_state_dict_strict
    from .training.checkpoint import load_checkpoint

    state = load_checkpoint(path)
    config = state.get("generator_config") or {}
    class_name = state.get("generator_class")
    if not class_name or not isinstance(config, dict):
        raise WeightsError(
            f"checkpoint {str(path)!r} does not record its generator's class and configuration "
            "(written by an older cgan-zoo?); load it with the Pix2PixTrainer that wrote it and "
            "call save_pretrained on its generator."
        )
    try:
        model = HubModel.from_config({**config, CLASS_KEY: class_name}, **overrides)
    except InvalidConfigError as exc:
        raise WeightsError(f"checkpoint {str(path)!r}: {exc}") from None
    ema = state.get("ema")
    weights = ema if (use_ema and ema is not None) else state["generator"]
    load_state_dict_strict(model, weights, source=f"checkpoint {str(path)!r}")
    return model.eval()
