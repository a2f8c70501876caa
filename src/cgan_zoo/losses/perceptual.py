"""Perceptual loss with a frozen timm backbone whose weights come from a local safetensors file."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_image_tensor
from ..errors import InvalidConfigError, InvalidInputError
from ..models.encoder_weights import KEY_MAPS
from ..serialization import load_safetensors, load_state_dict_strict

__all__ = ["PerceptualLoss"]

KeyMap = Callable[[Mapping[str, torch.Tensor]], dict[str, torch.Tensor]]


def _check_triple(value: Sequence[float], name: str, positive: bool) -> tuple[float, float, float]:
    try:
        triple = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        triple = ()
    if len(triple) != 3 or (positive and not all(v > 0 for v in triple)):
        need = "three positive numbers" if positive else "three numbers"
        raise InvalidConfigError(f"{name} must be {need} (one per RGB channel), got {value!r}.")
    return triple  # type: ignore[return-value]


class PerceptualLoss(nn.Module):
    """L1 distance between frozen backbone features of two RGB images.

    The backbone is a timm ``features_only`` model, always in eval mode and with
    ``requires_grad=False``: calling ``.train()`` on this module or on a parent leaves
    its batch-norm statistics untouched, and no optimizer step changes it. Gradients
    still flow to ``pred``. Target features are computed without a graph.

    The loss is the mean, over the selected feature levels, of the mean absolute
    difference between the features of ``pred`` and ``target``. Images in [0, 1] are
    normalised with ``(x - mean) / std`` first; use the statistics the backbone was
    trained with (for ``tf_efficientnet_lite0`` these are 0.5 / 0.5, the default).

    Weights are read from a local safetensors file, never downloaded and never
    unpickled; ``key_map`` renames checkpoint keys (see
    :data:`cgan_zoo.models.encoder_weights.KEY_MAPS`), and keys the truncated backbone
    does not use (classifier, head, deeper stages) are dropped before a strict load.
    ``weights_path=None`` keeps a random initialisation, which is only meant for tests
    and warns.

    This module is separate from the generator on purpose: keep it out of generator
    checkpoints (it holds the whole backbone in its ``state_dict``).

    Args:
        encoder_name: timm model name with ``features_only`` support.
        weights_path: Local ``.safetensors`` file with ImageNet weights, or ``None``
            for random weights (tests only).
        key_map: Name in ``KEY_MAPS`` (``"identity"``, ``"efficientnet_lite0"``) or a
            function mapping a state dict to timm's key names.
        layers: Indices of the backbone's feature levels to compare (timm
            ``out_indices``); for ``tf_efficientnet_lite0``, 0..4 are strides 2..32.
        mean: Per-channel mean used to normalise inputs in [0, 1].
        std: Per-channel standard deviation used to normalise inputs.
        sha256: Optional expected sha256 of ``weights_path``.

    Raises:
        InvalidConfigError: On an unknown encoder, layer index or key map, or bad mean/std.
        UnsafeWeightsError: If ``weights_path`` is a pickle-based file (``.pth``, ``.bin``...).
        WeightsError: If the file is missing, corrupt or does not match the backbone.

    Shape:
        - pred, target: ``(B, 3, H, W)`` RGB in [0, 1].
        - Output: ``()``.

    Example:
        >>> import torch, warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")  # random weights warn: only for tests
        ...     loss = PerceptualLoss("tf_efficientnet_lite0", weights_path=None, layers=(1, 2))
        >>> x = torch.rand(1, 3, 32, 32)
        >>> loss(x, x).item()
        0.0
        >>> loss(x, 1 - x).item() > 0
        True
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        encoder_name: str = "tf_efficientnet_lite0",
        weights_path: str | os.PathLike | None = None,
        key_map: str | KeyMap = "identity",
        layers: Sequence[int] = (1, 2, 3),
        mean: Sequence[float] = (0.5, 0.5, 0.5),
        std: Sequence[float] = (0.5, 0.5, 0.5),
        sha256: str | None = None,
    ) -> None:
        super().__init__()
        import timm

        if isinstance(key_map, str) and key_map not in KEY_MAPS:
            raise InvalidConfigError(
                f"key_map={key_map!r} is unknown; choose one of {sorted(KEY_MAPS)} or pass a function "
                "that maps a state dict to timm's key names."
            )
        if not callable(key_map) and not isinstance(key_map, str):
            raise InvalidConfigError(
                f"key_map must be a name or a function, got {type(key_map).__name__}."
            )
        if (
            isinstance(layers, (str, bytes))
            or not isinstance(layers, Sequence)
            or len(layers) == 0
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in layers)
        ):
            raise InvalidConfigError(
                f"layers must be a non-empty sequence of feature-level indices such as (1, 2, 3), got {layers!r}."
            )
        self.layers = tuple(layers)
        mean_t = _check_triple(mean, "mean", positive=False)
        std_t = _check_triple(std, "std", positive=True)
        self.encoder_name = encoder_name
        try:
            backbone = timm.create_model(
                encoder_name, features_only=True, out_indices=self.layers, pretrained=False
            )
        except (RuntimeError, IndexError, AssertionError, ValueError) as exc:
            raise InvalidConfigError(self._backbone_error(timm, encoder_name, exc)) from None
        backbone.eval()
        backbone.requires_grad_(False)
        self.backbone = backbone
        self.register_buffer("mean", torch.tensor(mean_t).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std_t).view(1, 3, 1, 1), persistent=False)
        if weights_path is None:
            warnings.warn(
                f"PerceptualLoss({encoder_name!r}) uses randomly initialised weights because "
                "weights_path=None; that is only meant for tests. Pass a local .safetensors file "
                "with ImageNet weights for a meaningful perceptual loss.",
                UserWarning,
                stacklevel=2,
            )
        else:
            self._load_weights(weights_path, key_map, sha256)

    def _backbone_error(self, timm, encoder_name: str, exc: Exception) -> str:
        try:
            levels = len(
                timm.create_model(encoder_name, features_only=True, pretrained=False).feature_info
            )
        except Exception:  # the name itself is wrong
            return (
                f"encoder_name={encoder_name!r} is not a timm model with features_only support "
                f"({exc}). See timm.list_models() for names."
            )
        return (
            f"layers={self.layers!r} is out of range for encoder {encoder_name!r}, which has "
            f"{levels} feature levels (valid indices 0..{levels - 1}); got error: {exc}."
        )

    def _load_weights(
        self, path: str | os.PathLike, key_map: str | KeyMap, sha256: str | None
    ) -> None:
        mapper = KEY_MAPS[key_map] if isinstance(key_map, str) else key_map
        state = mapper(load_safetensors(path, sha256=sha256))
        own = self.backbone.state_dict()
        # The features_only backbone lacks the classifier and, for some models, the
        # stages after the deepest selected level: drop those keys, then load strictly.
        state = {k: v for k, v in state.items() if k in own}
        load_state_dict_strict(
            self.backbone, state, source=f"perceptual backbone weights {str(path)!r}"
        )

    def train(self, mode: bool = True) -> PerceptualLoss:
        """Set the module's flag but keep the frozen backbone in eval mode."""
        super().train(mode)
        self.backbone.eval()
        return self

    def _features(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.backbone((x - self.mean) / self.std)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean over the selected levels of the L1 distance between features.

        Args:
            pred: Generated RGB images in [0, 1]; gradients flow into it.
            target: Reference RGB images in [0, 1], same shape.

        Returns:
            A scalar tensor.
        """
        for name, x in (("pred", pred), ("target", target)):
            # shapes and dtypes only: NaN/Inf propagate, as in every loss (a check would sync)
            check_image_tensor(x, name=f"PerceptualLoss {name}", allow_non_finite=True)
            if x.shape[1] != 3:
                raise InvalidInputError(
                    f"PerceptualLoss {name} must be RGB with 3 channels, got {x.shape[1]} "
                    f"(shape {tuple(x.shape)}). Convert Lab output to RGB first (cgan_zoo.color.lab_to_rgb), "
                    "or repeat a gray image with x.expand(-1, 3, -1, -1)."
                )
        if pred.shape != target.shape:
            raise InvalidInputError(
                f"PerceptualLoss pred and target must have the same shape, got pred "
                f"{tuple(pred.shape)} and target {tuple(target.shape)}. Resize or crop one of them."
            )
        with torch.no_grad():
            target_feats = self._features(target)
        pred_feats = self._features(pred)
        losses = [F.l1_loss(p, t) for p, t in zip(pred_feats, target_feats)]
        return torch.stack(losses).mean()
