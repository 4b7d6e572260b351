"""Whole batches sliced from in-memory tensors.

A per-sample DataLoader, not the arithmetic, bounds small models on CPU (about 3x slower, see
STACK.md): here the sampler yields index lists and the dataset slices a whole batch at once.
"""

from __future__ import annotations

import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler


class TensorBatches(Dataset):
    def __init__(self, *tensors: torch.Tensor) -> None:
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: list[int]) -> tuple[torch.Tensor, ...]:
        idx = torch.as_tensor(index)
        return tuple(t[idx] for t in self.tensors)


def batch_loader(*tensors: torch.Tensor, batch_size: int, shuffle: bool, seed: int) -> DataLoader:
    data = TensorBatches(*tensors)
    sampler = RandomSampler(data, generator=torch.Generator().manual_seed(seed)) if shuffle else SequentialSampler(data)
    return DataLoader(data, sampler=BatchSampler(sampler, batch_size, drop_last=False), batch_size=None)
