"""A deterministic, resumable stream of training batches.

Sample ``i`` of epoch ``e`` is drawn from a permutation seeded by ``(seed, e)`` and its
augmentation (crops, flips, masks) is seeded by ``(seed, e, i)``. The stream is thus a
pure function of the position, independent of worker count and process count, which
makes resuming bit-exact and lets data-parallel ranks take disjoint slices of the
same global batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

__all__ = ["SeededDataset", "GlobalBatchSampler", "make_loader"]


def _mix(*values: int) -> int:
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = (h ^ (int(v) & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 31
    return h & 0x7FFFFFFFFFFFFFFF


class SeededDataset(Dataset):
    """Wrap a dataset so item ``(epoch, index)`` is augmented with its own seed."""

    def __init__(self, dataset: Dataset, seed: int) -> None:
        self.dataset, self.seed = dataset, int(seed)

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, key: tuple[int, int]) -> Any:
        epoch, index = key
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_mix(self.seed, epoch, index))
            return self.dataset[index]


class GlobalBatchSampler(Sampler):
    """Yield this rank's share of each global batch, starting at sample ``start``.

    Args:
        n: Dataset length.
        global_batch: Samples per optimiser micro-step over all ranks.
        seed: Seed of the per-epoch permutations.
        start: Global sample position to resume from.
        rank / world_size: Data-parallel rank and number of ranks.
    """

    def __init__(self, n: int, global_batch: int, seed: int, start: int = 0, rank: int = 0, world_size: int = 1):
        self.n, self.global_batch, self.seed = n, global_batch, seed
        self.start, self.rank, self.world_size = start, rank, world_size

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        position = self.start
        cache: dict[int, torch.Tensor] = {}
        while True:
            batch = []
            for j in range(self.global_batch):
                epoch, offset = divmod(position + j, self.n)
                if epoch not in cache:
                    cache.clear()
                    g = torch.Generator().manual_seed(_mix(self.seed, epoch, 0xDA7A))
                    cache[epoch] = torch.randperm(self.n, generator=g)
                batch.append((epoch, int(cache[epoch][offset])))
            position += self.global_batch
            yield batch[self.rank :: self.world_size]

    def __len__(self) -> int:  # infinite stream; DataLoader only needs it for len()
        return 2**62


def make_loader(
    dataset: Dataset, *, global_batch: int, seed: int, start: int, rank: int, world_size: int, num_workers: int
) -> DataLoader:
    """An infinite DataLoader over :class:`SeededDataset` from position ``start``."""
    sampler = GlobalBatchSampler(len(dataset), global_batch, seed, start, rank, world_size)  # type: ignore[arg-type]
    return DataLoader(
        SeededDataset(dataset, seed),
        batch_sampler=sampler,
        num_workers=num_workers,
        persistent_workers=False,
        # a private generator: creating the iterator must not consume the global RNG,
        # or a resumed run would draw dropout noise from a shifted stream
        generator=torch.Generator().manual_seed(seed),
    )
