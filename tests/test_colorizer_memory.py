"""Colorizer refuses working sizes that would not fit in memory, naming a size that does."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cgan_zoo import InvalidConfigError, create_model
from cgan_zoo.pipelines import Colorizer
from cgan_zoo.pipelines import colorizer as colorizer_module
from cgan_zoo.pipelines.memory import ForwardCost, measure_forward_cost


def test_cost_is_per_pixel():
    cost = measure_forward_cost(create_model("unet_tiny"), 1, stride=16)
    assert cost.peak_bytes(2, 100, 100) == pytest.approx(2 * cost.peak_bytes(1, 100, 100))
    assert cost.bytes_per_pixel > 4  # at least the float32 input


def test_too_large_size_names_one_that_fits(monkeypatch):
    monkeypatch.setattr(colorizer_module, "available_memory", lambda device: 64 * 2**20)
    image = np.zeros((40, 64), np.uint8)
    with pytest.raises(InvalidConfigError, match=r"GiB is free on cpu") as info:
        Colorizer(create_model("unet_tiny"), size=100_000)(image)
    size = int(re.search(r"size=(\d+) or less", str(info.value)).group(1))
    assert 16 <= size < 100_000 and size % 16 == 0
    assert Colorizer(create_model("unet_tiny"), size=size)(image).shape == (40, 64, 3)


def test_batch_too_large_suggests_a_batch_size(monkeypatch):
    monkeypatch.setattr(colorizer_module, "available_memory", lambda device: 1e9)
    c = Colorizer(create_model("unet_tiny"), size=1024, batch_size=8)
    c._cost = ForwardCost(bytes_per_pixel=300.0, numel_per_pixel=8.0)
    with pytest.raises(InvalidConfigError, match=r"batch_size=\d+ \(--batch-size\)"):
        c.check_fits(8, 1024, 1024)


def test_tensor_too_large_to_index(monkeypatch):
    monkeypatch.setattr(colorizer_module, "available_memory", lambda device: None)
    c = Colorizer(create_model("unet_tiny"), size=8192)
    c._cost = ForwardCost(bytes_per_pixel=1.0, numel_per_pixel=64.0)
    with pytest.raises(InvalidConfigError, match="kernels can index"):
        c.check_fits(1, 8192, 8192)
    c.check_fits(1, 1024, 1024)  # small enough: no error
