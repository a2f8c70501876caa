"""A forward of any registered model, in eval mode, makes no host-device sync.

Models check shapes and dtypes only; reading a tensor's values on the host (``bool(t)``,
``t.item()``, ``float(t)``, ``t.cpu()``, ...) would wait for the device on every call.
The pipelines and the trainer check values (NaN/Inf) once per call or step instead.
Syncs are counted by patching the ``torch.Tensor`` methods that read values to the host.
"""

from __future__ import annotations

import pytest
import torch

import cgan_zoo
from cgan_zoo import InvalidInputError, create_model
from cgan_zoo._validation import check_finite

#: the ways a tensor's values reach the host
SYNC_METHODS = ("__bool__", "item", "tolist", "__float__", "__int__", "__index__", "cpu", "numpy")

#: small keyword arguments per architecture, tried in order (a class refuses the others' with TypeError)
SMALL_KWARGS = (
    {"decoder_channels": [8, 8, 8, 8, 8]},  # TimmUNet
    {"base_channels": 4, "max_channels": 8},  # UNetGenerator
    {"base_channels": 4, "num_blocks": 1},  # ResnetGenerator
    {"base_channels": 4, "num_scales": 2},  # MultiScaleDiscriminator
    {"base_channels": 4},  # PatchDiscriminator
)


def _small_model(name: str, **extra) -> torch.nn.Module:
    errors = []
    for kwargs in ({**extra},) if extra else SMALL_KWARGS:
        try:
            return create_model(name, **kwargs)
        except ImportError as exc:  # an optional extra (timm) is not installed
            pytest.skip(f"{name} needs an absent extra: {exc}")
        except TypeError as exc:
            errors.append(str(exc))
    raise AssertionError(f"no small kwargs build {name!r}: {errors}")


def _valid_input(model: torch.nn.Module) -> torch.Tensor:
    stride = int(getattr(model, "stride", 1))
    low = max(stride, int(getattr(model, "min_input_size", 1)), 8)
    side = -(-low // stride) * stride
    return torch.rand(1, model.in_channels, side, side) * 2 - 1


@pytest.fixture
def count_syncs(monkeypatch):
    counts: dict[str, int] = {}

    def patch(name: str) -> None:
        original = getattr(torch.Tensor, name)

        def counting(self, *args, **kwargs):
            counts[name] = counts.get(name, 0) + 1
            return original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)

    def start() -> dict[str, int]:
        for name in SYNC_METHODS:
            patch(name)
        return counts

    return start


def _forward_syncs(model: torch.nn.Module, x: torch.Tensor, count_syncs) -> dict[str, int]:
    model.eval()
    with torch.no_grad():
        model(x)  # first call outside the count: lazy initialisation is not the hot path
        counts = count_syncs()
        out = model(x)
    assert out is not None
    return dict(counts)


@pytest.mark.parametrize("name", cgan_zoo.list_models())
def test_registered_model_forward_makes_no_host_sync(name, count_syncs):
    model = _small_model(name)
    assert _forward_syncs(model, _valid_input(model), count_syncs) == {}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"decoder_channels": [8, 8, 8], "color_head": "bins"},
        {
            "decoder_channels": [8, 8, 8, 8, 8],
            "in_channels": 2,
            "out_channels": 3,
            "hole_fill": "pyramid",
        },
    ],
    ids=["bins-head", "pyramid-hole-fill"],
)
def test_timm_unet_variants_make_no_host_sync(kwargs, count_syncs):
    model = _small_model("timm_unet_tiny", **kwargs)
    x = _valid_input(model)
    if kwargs.get("hole_fill"):
        x[:, 1] = (x[:, 1] > 0).float()  # a binary mask
    assert _forward_syncs(model, x, count_syncs) == {}


def test_the_count_sees_a_value_check(count_syncs):
    """The patching is not blind: the finiteness check the models no longer run does sync."""
    x = torch.zeros(1, 1, 8, 8)
    counts = count_syncs()
    check_finite(x, name="x")
    assert sum(counts.values()) >= 1
    with pytest.raises(InvalidInputError, match="non-finite"):
        check_finite(torch.full((1, 1, 8, 8), float("nan")), name="x")


def test_multiscale_discriminator_checks_its_input_once():
    model = _small_model("multiscale_patchgan_tiny")
    assert all(not d.checks_input for d in model.discriminators)
    with pytest.raises(
        InvalidInputError, match="MultiScaleDiscriminator input must have 3 channel"
    ):
        model(torch.zeros(1, 2, 64, 64))
