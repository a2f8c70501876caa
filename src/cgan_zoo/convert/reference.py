"""Convert checkpoints of the pix2pix / CycleGAN reference code into cgan-zoo models.

The reference implementation (``junyanz/pytorch-CycleGAN-and-pix2pix``,
``models/networks.py``) builds the same networks as cgan-zoo's
:class:`~cgan_zoo.UNetGenerator`, :class:`~cgan_zoo.ResnetGenerator` and
:class:`~cgan_zoo.PatchDiscriminator`, under other names. This module reads the
architecture and its sizes from a reference state dict's key names and shapes, renames
every tensor, and returns the cgan-zoo model with those weights, which gives the same
outputs in eval and train mode (with the same seed, the same dropout masks).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import InvalidConfigError, WeightsError
from ..hub import HubModel
from ..serialization import load_state_dict_strict
from .reading import read_state_dict

__all__ = ["ReferenceArchitecture", "detect_reference", "reference_key_map", "from_reference"]

_PARAM = re.compile(r"^(?P<prefix>.+)\.(?P<name>weight|bias|running_mean|running_var|num_batches_tracked)$")


@dataclass
class ReferenceArchitecture:
    """What :func:`detect_reference` read from a reference state dict.

    Attributes:
        reference_name: The reference's name of the network, e.g. ``"unet_256"``,
            ``"resnet_9blocks"``, ``"n_layers (n_layers_D=3)"`` or ``"pixel"``.
        class_name: The cgan-zoo class that rebuilds it.
        kwargs: Its constructor arguments (overrides applied).
        detected: The argument names read from the keys; the others are defaults or
            overrides, because the keys do not show them (dropout in a U-Net, padding).
        dropout_in_keys: The ResNet's keys have the layout of ``use_dropout=True``
            (the second conv of each block at ``conv_block.6``), whatever ``dropout``
            is set to afterwards.

    Example:
        >>> arch = ReferenceArchitecture("pixel", "PatchDiscriminator", {"receptive_field": 1})
        >>> arch.build().receptive_field
        1
    """

    reference_name: str
    class_name: str
    kwargs: dict[str, Any]
    detected: list[str] = field(default_factory=list)
    dropout_in_keys: bool = False

    def build(self) -> HubModel:
        """A fresh cgan-zoo model of this architecture (random weights)."""
        from .. import PatchDiscriminator, ResnetGenerator, UNetGenerator

        classes: dict[str, type[HubModel]] = {
            "UNetGenerator": UNetGenerator,
            "ResnetGenerator": ResnetGenerator,
            "PatchDiscriminator": PatchDiscriminator,
        }
        try:
            return classes[self.class_name](**self.kwargs)
        except TypeError as exc:
            raise InvalidConfigError(f"{self.class_name} rejects the conversion arguments: {exc}") from None


def _prefixes(state: Mapping[str, torch.Tensor]) -> set[str]:
    return {m.group("prefix") for k in state if (m := _PARAM.match(k))}


def _norm_of(state: Mapping[str, torch.Tensor], norm_prefix: str, conv_prefix: str, where: str) -> tuple[str, bool]:
    """``(norm, instance_running_stats)`` of the norm layer at ``norm_prefix``.

    A BatchNorm has a 1-d ``weight`` next to its running statistics; the reference's
    instance norm has no affine parameters, and only the 2018 version tracks statistics.
    """
    weight = state.get(f"{norm_prefix}.weight")
    if weight is not None and weight.ndim == 1:
        return "batch", False
    if f"{norm_prefix}.running_mean" in state:
        return "instance", True
    if f"{conv_prefix}.bias" in state:
        return "instance", False
    raise WeightsError(
        f"{where}: no norm tensors at {norm_prefix!r} and no bias on the conv before it; this is a "
        "reference network built with --norm none, whose convs have no bias, which cgan-zoo's "
        "norm='none' (convs with a bias) cannot reproduce."
    )


def _shape(state: Mapping[str, torch.Tensor], key: str, ndim: int, where: str) -> tuple[int, ...]:
    t = state.get(key)
    if t is None or t.ndim != ndim:
        raise WeightsError(
            f"{where}: expected a {ndim}-d tensor {key!r} "
            f"({'missing' if t is None else f'found shape {tuple(t.shape)}'}); the checkpoint is not a "
            "complete reference network."
        )
    return tuple(t.shape)


def _unet_levels(prefixes: set[str]) -> int:
    depth, prefix = 0, "model.model.1"
    while f"{prefix}.model.1" in prefixes:  # every level has a down conv at .model.1
        depth += 1
        prefix += ".model.3"
    return depth


def detect_reference(state: Mapping[str, torch.Tensor], *, source: str = "checkpoint") -> ReferenceArchitecture:
    """Read the reference architecture and its sizes from a state dict's keys and shapes.

    Detected: the network type (``unet_128``/``unet_256`` or any depth, ``resnet_Nblocks``,
    ``n_layers`` 1–5 including ``basic``, ``pixel``), input and output channels, ``ngf`` /
    ``ndf``, the norm (batch, instance, instance with running statistics) and, for the
    ResNet, dropout (it shifts the keys). Not visible in the keys, hence defaults:
    U-Net dropout (the reference's default ``use_dropout=True`` for pix2pix, 0.5) and
    the ResNet padding (reflection, the only one the reference's options build).

    Args:
        state: A reference state dict (``module.`` prefix already removed).
        source: Name of the checkpoint in error messages.

    Returns:
        The architecture, with cgan-zoo constructor arguments.

    Raises:
        WeightsError: If the keys are not those of a supported reference network.

    Shape:
        - Reads the shapes of the conv weights: ``(out, in, k, k)``, transposed
          ``(in, out, k, k)``.

    Example:
        >>> import torch
        >>> state = {"net.0.weight": torch.zeros(64, 3, 1, 1), "net.0.bias": torch.zeros(64),
        ...          "net.2.weight": torch.zeros(128, 64, 1, 1), "net.3.weight": torch.ones(128),
        ...          "net.3.bias": torch.zeros(128), "net.3.running_mean": torch.zeros(128),
        ...          "net.3.running_var": torch.ones(128), "net.5.weight": torch.zeros(1, 128, 1, 1)}
        >>> arch = detect_reference(state)
        >>> arch.reference_name, arch.kwargs["in_channels"], arch.kwargs["norm"]
        ('pixel', 3, 'batch')
    """
    prefixes = _prefixes(state)
    with_dropout = False
    if not prefixes:
        raise WeightsError(f"{source} holds no tensors named like network parameters (e.g. 'model.0.weight').")

    if "model.model.0" in prefixes:  # UnetGenerator: nested UnetSkipConnectionBlocks
        depth = _unet_levels(prefixes)
        num_downs = depth + 1
        ngf, in_nc = _shape(state, "model.model.0.weight", 4, source)[:2]
        out_nc = _shape(state, "model.model.3.weight", 4, source)[1]
        if num_downs < 5:
            raise WeightsError(f"{source}: a reference U-Net with {num_downs} downsamplings is not supported (>= 5).")
        norm, tracked = _norm_of(state, "model.model.1.model.2", "model.model.1.model.1", source)
        name = {7: "unet_128", 8: "unet_256"}.get(num_downs, f"unet (num_downs={num_downs})")
        kwargs: dict[str, Any] = dict(
            in_channels=in_nc, out_channels=out_nc, base_channels=ngf, num_downs=num_downs,
            max_channels=8 * ngf, norm=norm, dropout=0.5, dropout_blocks=num_downs - 5,
        )
        detected = ["in_channels", "out_channels", "base_channels", "num_downs", "max_channels", "norm"]
        cls = "UNetGenerator"
    elif "model.1" in prefixes and any(".conv_block." in p for p in prefixes):  # ResnetGenerator
        ngf, in_nc = _shape(state, "model.1.weight", 4, source)[:2]
        blocks = sorted({int(m.group(1)) for p in prefixes if (m := re.match(r"model\.(\d+)\.conv_block\.", p))})
        n = len(blocks)
        if blocks != list(range(10, 10 + n)):
            raise WeightsError(f"{source}: ResNet blocks at model indices {blocks}, expected model.10 to model.{9 + n}.")
        conv6 = state.get("model.10.conv_block.6.weight")
        with_dropout = conv6 is not None and conv6.ndim == 4
        out_nc = _shape(state, f"model.{17 + n}.weight", 4, source)[0]
        norm, tracked = _norm_of(state, "model.2", "model.1", source)
        name = f"resnet_{n}blocks"
        kwargs = dict(
            in_channels=in_nc, out_channels=out_nc, base_channels=ngf, num_blocks=n, norm=norm,
            dropout=0.5 if with_dropout else 0.0, padding_mode="reflect",
        )
        detected = ["in_channels", "out_channels", "base_channels", "num_blocks", "norm", "dropout"]
        cls = "ResnetGenerator"
    elif "net.0" in prefixes:  # PixelDiscriminator
        ndf, in_nc = _shape(state, "net.0.weight", 4, source)[:2]
        norm, tracked = _norm_of(state, "net.3", "net.2", source)
        name = "pixel"
        kwargs = dict(in_channels=in_nc, receptive_field=1, base_channels=ndf, norm=norm)
        detected = ["in_channels", "receptive_field", "base_channels", "norm"]
        cls = "PatchDiscriminator"
    elif "model.0" in prefixes:  # NLayerDiscriminator
        from ..models.patch_discriminator import RECEPTIVE_FIELDS

        convs = sorted(int(m.group(1)) for k, v in state.items() if (m := re.fullmatch(r"model\.(\d+)\.weight", k)) and v.ndim == 4)
        n_layers = len(convs) - 2
        if convs != [0] + [2 + 3 * i for i in range(n_layers + 1)]:
            raise WeightsError(f"{source}: conv layers at model indices {convs} do not form a reference NLayerDiscriminator.")
        by_layers = {v: k for k, v in RECEPTIVE_FIELDS.items()}
        if n_layers not in by_layers or n_layers == 0:
            raise WeightsError(f"{source}: n_layers_D={n_layers} is not supported; cgan-zoo builds n_layers_D 1 to 5.")
        ndf, in_nc = _shape(state, "model.0.weight", 4, source)[:2]
        norm, tracked = _norm_of(state, "model.3", "model.2", source)
        name = "basic" if n_layers == 3 else f"n_layers (n_layers_D={n_layers})"
        kwargs = dict(in_channels=in_nc, receptive_field=by_layers[n_layers], base_channels=ndf, norm=norm)
        detected = ["in_channels", "receptive_field", "base_channels", "norm"]
        cls = "PatchDiscriminator"
    else:
        raise WeightsError(
            f"{source} is not a reference pix2pix/CycleGAN network: expected keys starting with "
            f"'model.model.' (U-Net), 'model.N.conv_block.' (ResNet), 'model.0.' (n_layers "
            f"discriminator) or 'net.0.' (pixel discriminator); found e.g. {sorted(state)[:3]}."
        )
    if tracked:
        kwargs["instance_running_stats"] = True
        detected.append("instance_running_stats")
    if cls != "PatchDiscriminator":
        kwargs["task"] = "colorize" if (kwargs["in_channels"], kwargs["out_channels"]) == (1, 2) else "generic"
    return ReferenceArchitecture(name, cls, kwargs, detected, dropout_in_keys=cls == "ResnetGenerator" and with_dropout)


def reference_key_map(arch: ReferenceArchitecture) -> dict[str, str]:
    """Map each reference layer prefix to the cgan-zoo layer prefix.

    Example:
        >>> arch = ReferenceArchitecture("pixel", "PatchDiscriminator", {"receptive_field": 1})
        >>> reference_key_map(arch)
        {'net.0': 'blocks.0.0', 'net.2': 'blocks.1.0', 'net.3': 'blocks.1.1', 'net.5': 'head'}
    """
    kw = arch.kwargs
    if arch.class_name == "UNetGenerator":
        depth = kw["num_downs"]
        mapping = {"model.model.0": "down_blocks.0", "model.model.3": "head.1"}
        prefix = "model.model.1"
        for k in range(1, depth):
            if k < depth - 1:
                mapping[f"{prefix}.model.1"] = f"down_blocks.{k}.1"
                mapping[f"{prefix}.model.2"] = f"down_blocks.{k}.2"
                mapping[f"{prefix}.model.5"] = f"up_blocks.{depth - 1 - k}.1"
                mapping[f"{prefix}.model.6"] = f"up_blocks.{depth - 1 - k}.2"
            else:  # innermost: down conv without norm, then the first up conv
                mapping[f"{prefix}.model.1"] = f"down_blocks.{k}.1"
                mapping[f"{prefix}.model.3"] = "up_blocks.0.1"
                mapping[f"{prefix}.model.4"] = "up_blocks.0.2"
            prefix += ".model.3"
        return mapping
    if arch.class_name == "ResnetGenerator":
        n = kw["num_blocks"]
        shift = 1 if arch.dropout_in_keys else 0  # Dropout at conv_block.4 shifts the second conv
        mapping = {
            "model.1": "stem.conv", "model.2": "stem.norm",
            "model.4": "down_blocks.0.conv", "model.5": "down_blocks.0.norm",
            "model.7": "down_blocks.1.conv", "model.8": "down_blocks.1.norm",
            f"model.{10 + n}": "up_blocks.0.conv", f"model.{11 + n}": "up_blocks.0.norm",
            f"model.{13 + n}": "up_blocks.1.conv", f"model.{14 + n}": "up_blocks.1.norm",
            f"model.{17 + n}": "head.conv",
        }
        for b in range(n):
            src = f"model.{10 + b}.conv_block"
            mapping[f"{src}.1"] = f"res_blocks.{b}.conv1"
            mapping[f"{src}.2"] = f"res_blocks.{b}.norm1"
            mapping[f"{src}.{5 + shift}"] = f"res_blocks.{b}.conv2"
            mapping[f"{src}.{6 + shift}"] = f"res_blocks.{b}.norm2"
        return mapping
    if kw.get("receptive_field") == 1:
        return {"net.0": "blocks.0.0", "net.2": "blocks.1.0", "net.3": "blocks.1.1", "net.5": "head"}
    from ..models.patch_discriminator import RECEPTIVE_FIELDS

    n_layers = RECEPTIVE_FIELDS[kw["receptive_field"]]
    mapping = {"model.0": "blocks.0.0", f"model.{2 + 3 * n_layers}": "head"}
    for i in range(1, n_layers + 1):
        mapping[f"model.{2 + 3 * (i - 1)}"] = f"blocks.{i}.0"
        mapping[f"model.{3 + 3 * (i - 1)}"] = f"blocks.{i}.1"
    return mapping


def _convert_state(
    state: Mapping[str, torch.Tensor], arch: ReferenceArchitecture, model: nn.Module, source: str
) -> dict[str, torch.Tensor]:
    mapping = reference_key_map(arch)
    own = model.state_dict()
    out: dict[str, torch.Tensor] = {}
    unknown = []
    for key, value in state.items():
        m = _PARAM.match(key)
        target = mapping.get(m.group("prefix")) if m else None
        if m is None or target is None:
            unknown.append(key)
            continue
        new = f"{target}.{m.group('name')}"
        if new not in own and m.group("name") in ("running_mean", "running_var", "num_batches_tracked"):
            # statistics of an instance norm that the model does not track (later reference
            # versions drop them the same way); BatchNorm always has these buffers
            if state.get(f"{m.group('prefix')}.weight") is None:
                continue
        out[new] = value
    if unknown:
        raise WeightsError(
            f"{source}: {len(unknown)} tensor(s) do not belong to a reference {arch.reference_name}: "
            f"{unknown[:5]}{' ...' if len(unknown) > 5 else ''}."
        )
    for key, value in own.items():  # num_batches_tracked is absent before PyTorch 0.4: start at 0
        if key not in out and key.endswith(".num_batches_tracked"):
            out[key] = torch.zeros_like(value)
    return out


def from_reference(path_or_state: str | os.PathLike | Mapping[str, torch.Tensor], **overrides: Any) -> HubModel:
    """Build the cgan-zoo model of a reference pix2pix/CycleGAN checkpoint, with its weights.

    Reads a ``.pth`` (``torch.load(weights_only=True)``; see
    :func:`~cgan_zoo.convert.read_state_dict`) or ``.safetensors`` file with the
    reference's keys, detects the network (:func:`detect_reference`), renames the tensors
    and loads them strictly. Instance norms with stored running statistics (reference
    versions of 2018) become tracked instance norms, so eval mode uses the statistics as it
    did there; pass ``instance_running_stats=False`` to drop them, as later reference
    versions do. A missing ``num_batches_tracked`` starts at 0.

    Args:
        path_or_state: The checkpoint file, or a state dict already in memory.
        **overrides: Constructor arguments that replace the detected ones, for what the
            keys cannot show: ``dropout`` (0.0 for a U-Net trained with ``--no_dropout``),
            ``task``, ``padding_mode``, ``ab_scale``, ``final_activation``.

    Returns:
        A :class:`~cgan_zoo.UNetGenerator`, :class:`~cgan_zoo.ResnetGenerator` or
        :class:`~cgan_zoo.PatchDiscriminator` in eval mode; ``model.save_pretrained(folder)``
        writes it as a normal cgan-zoo folder.

    Raises:
        WeightsError: If the file is unreadable, unsafe or not a supported reference network,
            or if the overrides change a tensor shape.

    Shape:
        - The model's input and output shapes are those of its class.

    Example:
        >>> import torch
        >>> state = {"net.0.weight": torch.randn(8, 3, 1, 1), "net.0.bias": torch.zeros(8),
        ...          "net.2.weight": torch.randn(16, 8, 1, 1), "net.3.weight": torch.ones(16),
        ...          "net.3.bias": torch.zeros(16), "net.3.running_mean": torch.zeros(16),
        ...          "net.3.running_var": torch.ones(16), "net.5.weight": torch.randn(1, 16, 1, 1)}
        >>> d = from_reference(state)
        >>> type(d).__name__, d.receptive_field, d(torch.randn(1, 3, 4, 4)).shape
        ('PatchDiscriminator', 1, torch.Size([1, 1, 4, 4]))
    """
    return convert_reference(path_or_state, **overrides)[0]


def convert_reference(
    path_or_state: str | os.PathLike | Mapping[str, torch.Tensor], **overrides: Any
) -> tuple[HubModel, ReferenceArchitecture]:
    """:func:`from_reference`, also returning what was detected (overrides applied)."""
    if isinstance(path_or_state, Mapping):
        from .reading import strip_prefix

        state, source = strip_prefix(path_or_state), "state dict"
    else:
        state, source = read_state_dict(path_or_state), repr(os.fspath(path_or_state))
    arch = detect_reference(state, source=source)
    arch.kwargs.update(overrides)
    model = arch.build()
    converted = _convert_state(state, arch, model, source)
    load_state_dict_strict(model, converted, source=f"{source} (converted from reference {arch.reference_name})")
    return model.eval(), arch
