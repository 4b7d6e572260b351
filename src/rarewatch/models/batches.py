"""Whole batches cut from in-memory tensors, with no DataLoader.

A per-sample DataLoader, not the arithmetic, bounds small models on CPU (about 3x slower, see
benchmarks/RESULTS-throughput.md); a DataLoader over whole batches still pays its fetcher and a list-to-tensor index per
step. Here a shuffled epoch is one `randperm` from a seeded generator, and each batch is one
index_select of a slice of it (an unshuffled batch is a view, no copy). The training tensors are
never copied whole, so windows of the sequence families are held once.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler


class Batches:
    """Iterable over `(t[batch] for t in tensors)`; reshuffled on every pass when `shuffle`.

    The order depends only on `seed` and on how many passes came before, so the same seed gives
    the same batches in every run.
    """

    def __init__(self, *tensors: torch.Tensor, batch_size: int, shuffle: bool, seed: int) -> None:
        if not tensors or any(len(t) != len(tensors[0]) for t in tensors):
            raise ValueError(f"Batches needs tensors of one length, got {[len(t) for t in tensors]}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.tensors = tensors
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def rows(self) -> int:
        return len(self.tensors[0])

    def __len__(self) -> int:
        return -(-self.rows // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        n, size = self.rows, self.batch_size
        if not self.shuffle:
            for start in range(0, n, size):
                yield tuple(t[start : start + size] for t in self.tensors)
            return
        order = torch.randperm(n, generator=self.generator).to(self.tensors[0].device)
        for start in range(0, n, size):
            idx = order[start : start + size]
            yield tuple(t.index_select(0, idx) for t in self.tensors)

    def to(self, device: torch.device) -> Batches:
        """The same batches with the tensors on `device` (the generator, and so the order, is kept)."""
        moved = Batches.__new__(Batches)
        moved.tensors = tuple(t.to(device) for t in self.tensors)
        moved.batch_size, moved.shuffle, moved.seed = self.batch_size, self.shuffle, self.seed
        moved.generator = self.generator
        return moved

    def loader(self) -> DataLoader:
        """The same batches as a DataLoader, for lightning.Trainer (which wraps its sampler for DDP)."""
        data = _TensorBatches(*self.tensors)
        sampler = (
            RandomSampler(data, generator=torch.Generator().manual_seed(self.seed))
            if self.shuffle
            else SequentialSampler(data)
        )
        return DataLoader(data, sampler=BatchSampler(sampler, self.batch_size, drop_last=False), batch_size=None)


class _TensorBatches(Dataset):
    """A dataset whose items are whole batches: indexed by a list of row numbers."""

    def __init__(self, *tensors: torch.Tensor) -> None:
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: list[int]) -> tuple[torch.Tensor, ...]:
        idx = torch.as_tensor(index)
        return tuple(t[idx] for t in self.tensors)
