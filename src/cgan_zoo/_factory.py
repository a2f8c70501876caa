"""The front door: :func:`create_model` builds a registered model, :func:`load_generator`
loads one from any source.

:func:`load_generator` is the one loader behind ``Colorizer.from_pretrained``, every CLI
command's ``--model``, the trainer's ``init`` and ``scripts/evaluate_pretrained.py``, so a
name, a folder, a Hub id or a trainer checkpoint means the same thing everywhere.

Importing this module does not import torch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _builder, _registry
from ._registry import (
    _ensure_registered,
    did_you_mean,
    get_pretrained_cfg,
    has_pretrained,
    list_models,
    list_pretrained,
    similar_names,
)
from .errors import InvalidConfigError, InvalidInputError, WeightsError

if TYPE_CHECKING:
    from torch import nn

__all__ = ["create_model", "load_generator"]


def create_model(name: str, pretrained: bool = False, **overrides: Any) -> nn.Module:
    """Create a registered model, optionally with pretrained weights.

    Args:
        name: Architecture name (see :func:`list_models`) or, with ``pretrained=True``,
            a full ``"arch.tag"`` weights name (see :func:`list_pretrained`).
        pretrained: Load the pretrained weights (checked against their sha256).
        **overrides: Constructor arguments that replace the variant's defaults. With
            ``pretrained=True`` they must keep tensor shapes (e.g. ``dropout=0.0``).
            ``encoder_weights=path`` (and ``encoder_key_map=...``) loads a local ImageNet
            encoder into timm-encoder models (see :class:`~cgan_zoo.TimmUNet`).

    Returns:
        The model (in eval mode when pretrained).

    Raises:
        InvalidConfigError: For an unknown name, listing close matches, or
            ``encoder_weights`` given to a model without a timm encoder or with
            ``pretrained=True``.

    Example:
        >>> g = create_model("pix2pix_unet256")
        >>> g.num_parameters()
        54409858
    """
    _ensure_registered()
    arch = name.split(".", 1)[0]
    if arch not in _registry._MODELS:
        close = similar_names(arch, list(_registry._MODELS), n=8)
        raise InvalidConfigError(
            f"unknown model {name!r}. Similar names: {close or list_models()[:8]}; "
            "see cgan_zoo.list_models() or `cgan-zoo models`."
        )
    if pretrained:
        if overrides.get("encoder_weights") is not None:
            raise InvalidConfigError(
                f"encoder_weights={overrides['encoder_weights']!r} initialises the encoder of a model "
                f"built from scratch, but pretrained=True loads all of {name!r}'s weights; drop "
                "encoder_weights, or build with pretrained=False."
            )
        overrides.pop("encoder_weights", None)
        overrides.pop("encoder_key_map", None)
        return _builder.load_pretrained(name, **overrides)
    try:
        return _registry._MODELS[arch](**overrides)
    except TypeError as exc:
        if "encoder_weights" in overrides and "encoder_weights" in str(exc):
            raise InvalidConfigError(
                f"encoder_weights={overrides['encoder_weights']!r} needs a model with a timm encoder "
                f"(a TimmUNet such as 'unet_efficientnet_lite0'); {name!r} has none ({exc})."
            ) from None
        raise


def load_generator(
    source: str | os.PathLike,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_ema: bool = True,
    **overrides: Any,
) -> nn.Module:
    """Load a trained generator from a name, a folder, a Hub id or a trainer checkpoint.

    ``source`` is tried as, in this order:

    1. an existing **folder** written by ``save_pretrained`` (``config.json`` +
       ``model.safetensors``);
    2. a trainer **run folder** (its ``out_dir``, holding ``checkpoints/``), a folder of
       checkpoints, or one **checkpoint file** ``ckpt-*.safetensors``: the newest intact
       checkpoint's generator, with its EMA weights when it has them (a run folder
       without checkpoints falls back to the ``generator/`` folder ``cgan-zoo train``
       exports);
    3. a registered **pretrained name** ``"arch.tag"`` (:func:`list_pretrained`), or a
       bare **architecture** name that has registered weights (its default tag);
    4. a **Hugging Face Hub** repo id ``"owner/name"`` (read from the local cache when
       offline; pin ``revision`` to a commit sha for reproducibility).

    An architecture without registered weights is an error: random weights are
    :func:`create_model`'s job, not a loader's.

    Args:
        source: One of the above.
        revision: Hub branch, tag or commit sha (Hub ids only; registered Hub weights use
            their pinned revision).
        cache_dir: Hugging Face cache folder (Hub ids only).
        use_ema: For trainer checkpoints: take the EMA generator when there is one.
        **overrides: Constructor arguments that replace the saved ones (for example
            ``dropout=0.0`` or ``temperature=0.5``); tensor shapes must still match.

    Returns:
        The generator in eval mode, on the CPU.

    Raises:
        InvalidConfigError: For a name that is none of the above, with close matches.
        InvalidInputError: For a file that is not a trainer checkpoint.
        WeightsError: If the files are missing, corrupt, tampered with or mismatched, or
            the weights come in a weights package that is not installed.

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> create_model("unet_tiny").save_pretrained(folder)
        >>> load_generator(folder).task
        'colorize'
        >>> load_generator("unet_tinx")
        Traceback (most recent call last):
        ...
        cgan_zoo.errors.InvalidConfigError: unknown model 'unet_tinx': Did you mean 'unet_tiny'...
    """
    text = os.fspath(source)
    path = Path(text)
    if path.is_dir():
        return _load_folder(path, use_ema=use_ema, **overrides)
    if path.is_file():
        if _builder.is_checkpoint_file(path):
            return _builder.load_checkpoint_generator(path, use_ema=use_ema, **overrides)
        hint = (
            f"pass the folder that holds it ({str(path.parent)!r})"
            if path.suffix == ".safetensors"
            else "pass a folder written by model.save_pretrained(folder)"
        )
        raise InvalidInputError(
            f"model {text!r} is a file but not a cgan-zoo training checkpoint (ckpt-*.safetensors); "
            f"{hint}, a checkpoint, a registered name or a Hub id."
        )
    if has_pretrained(text):
        return create_model(text, pretrained=True, **overrides)
    if text in _registry._INSTALL_HINTS:  # weights of a weights package that is not installed
        get_pretrained_cfg(text)  # raises, naming the pip command
    arch = text.split(".", 1)[0]
    if arch in _registry._MODELS:
        if "." in text:
            raise InvalidConfigError(
                f"no pretrained weights named {text!r}.{did_you_mean(text, list_pretrained())} "
                f"Registered weights: {list_pretrained() or 'none'} (see `cgan-zoo models --pretrained`)."
            )
        raise InvalidConfigError(
            f"model {text!r} is an architecture without pretrained weights (registered weights: "
            f"{list_pretrained() or 'none'}). Train it and pass the folder written by save_pretrained "
            "or the run folder, pass a registered weights name, or use "
            f"cgan_zoo.create_model({text!r}) for random weights."
        )
    if text.count("/") == 1 and not text.startswith((".", "/", "~")):
        try:
            return _builder.load_folder_or_hub(
                text, revision=revision, cache_dir=cache_dir, **overrides
            )
        except WeightsError as exc:
            raise WeightsError(
                f"model {text!r} is not a local folder, and as a Hub repo id: {exc}"
            ) from None
    hint = did_you_mean(text, list_pretrained() + list_models())
    raise InvalidConfigError(
        f"unknown model {text!r}:{hint} It is not an existing folder or checkpoint, not a registered "
        f"pretrained name (registered: {list_pretrained() or 'none'}) and not a Hub repo id "
        "'owner/name'. Pass a folder written by model.save_pretrained(folder), a trainer run folder, "
        "or a name from `cgan-zoo models --pretrained`."
    )


def _load_folder(folder: Path, *, use_ema: bool, **overrides: Any) -> nn.Module:
    """A ``save_pretrained`` folder, a run folder or a folder of checkpoints."""
    if (folder / "config.json").is_file():
        return _builder.load_folder_or_hub(folder, **overrides)
    checkpoint = _builder.find_checkpoint(folder)
    if checkpoint is not None:
        return _builder.load_checkpoint_generator(checkpoint, use_ema=use_ema, **overrides)
    exported = folder / _builder.EXPORTED_GENERATOR_DIR
    if (exported / "config.json").is_file():
        return _builder.load_folder_or_hub(exported, **overrides)
    found = sorted(p.name for p in folder.iterdir())[:10]
    raise WeightsError(
        f"folder {str(folder)!r} holds no model (found {found}): expected config.json and "
        "model.safetensors (written by model.save_pretrained(folder)), or a trainer run folder "
        f"with {_builder.CHECKPOINTS_DIR}/ckpt-*.safetensors. cgan-zoo loads safetensors only."
    )
