"""A steady-state training step waits for the device at most twice (the input check and
one transfer of every loss and gradient norm), with or without logging, also with the
multi-scale discriminator; a step must not clone every buffer either."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from cgan_zoo.training import Pix2PixTrainer

sys.path.insert(0, str(Path(__file__).parent))
from _trainer_utils import ToyColorization, tiny_config  # noqa: E402

#: host syncs per step: the input-finiteness check and the one fused transfer at the end
MAX_SYNCS_PER_STEP = 2


def _count_syncs(monkeypatch) -> list[int]:
    """Count value reads from tensors made outside torch itself (Adam reads its CPU step counters)."""
    counter = [0]
    for name in ("__bool__", "item", "tolist", "__float__", "__int__"):
        original = getattr(torch.Tensor, name)

        def counted(self, *args, __original=original, **kwargs):
            if not sys._getframe(1).f_globals.get("__name__", "").startswith("torch"):
                counter[0] += 1
            return __original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    return counter


def _syncs_per_step(trainer: Pix2PixTrainer, monkeypatch, size: int, steps: int = 3) -> float:
    batch = {
        k: v.unsqueeze(0).repeat(2, 1, 1, 1) for k, v in ToyColorization(1, size=size)[0].items()
    }
    batch = trainer._to_device(batch)
    for _ in range(2):  # warm up (first-step allocations, lazy imports)
        trainer.train_step([batch])
    counter = _count_syncs(monkeypatch)
    for _ in range(steps):
        logs = trainer.train_step([batch])
        for cb in trainer.callbacks:  # what fit does after each step: logging, validation, grids
            cb.on_step_end(trainer, trainer.step, logs)
    monkeypatch.undo()
    assert logs["skipped"] == 0.0 and isinstance(logs["loss_g"], float)
    return counter[0] / steps


@pytest.mark.parametrize(
    "discriminator, size, log_every",
    # the multi-scale D takes at least 93 px
    [("patchgan_tiny", 32, 1000), ("patchgan_tiny", 32, 1), ("multiscale_patchgan", 96, 1000)],
)
def test_steady_state_step_makes_at_most_two_host_syncs(
    tmp_path, monkeypatch, discriminator, size, log_every
):
    cfg = tiny_config(
        tmp_path, discriminator=discriminator, crop_size=size, log_every=log_every, steps=100
    )
    trainer = Pix2PixTrainer(cfg, train_dataset=ToyColorization(size=size))
    syncs = _syncs_per_step(trainer, monkeypatch, size)
    assert syncs <= MAX_SYNCS_PER_STEP, (
        f"{syncs} host syncs per step (at most {MAX_SYNCS_PER_STEP})"
    )


def test_step_copies_only_the_buffers_a_forward_changes(tmp_path, monkeypatch):
    from cgan_zoo import create_model

    gen = create_model("unet_tiny")
    gen.register_buffer("constant_table", torch.ones(1000))  # e.g. colour-bin centres
    trainer = Pix2PixTrainer(
        tiny_config(tmp_path, steps=10), generator=gen, train_dataset=ToyColorization()
    )
    cloned: list[int] = []
    original = torch.Tensor.clone

    def counting_clone(self, *args, **kwargs):
        cloned.append(self.numel())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "clone", counting_clone)
    batch = trainer._to_device(
        {k: v.unsqueeze(0).repeat(2, 1, 1, 1) for k, v in ToyColorization(1)[0].items()}
    )
    trainer.train_step([batch])  # first step: the snapshot storage is allocated
    first = len(cloned)
    trainer.train_step([batch])
    trainer.train_step([batch])
    assert len(cloned) == first, "the buffer snapshot is reused, not re-cloned every step"
    assert 1000 not in cloned, "a constant buffer was copied"
