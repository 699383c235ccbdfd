"""Endless random batches of training data: the one order every recipe draws real examples in."""
from __future__ import annotations

from collections.abc import Iterator

import torch

from ..errors import DataError


def check_batch(n: int, batch: int) -> None:
    """A batch must fit in the dataset (batches are drawn without replacement within an epoch): refused with one
    line before training, where it used to wait forever for a batch that no epoch can fill."""
    if batch > n:
        raise DataError(f"--batch {batch} is larger than the dataset ({n} examples): choose --batch {n} or less")


def batch_indices(n: int, batch: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """Endless index batches of `batch` of range(n): a fresh permutation each epoch, its remainder dropped.
    Checks the batch size at once (`check_batch`), not at the first batch."""
    check_batch(n, batch)

    def epochs() -> Iterator[torch.Tensor]:
        while True:
            perm = torch.randperm(n, generator=gen)
            for i in range(0, n - batch + 1, batch):
                yield perm[i:i + batch]
    return epochs()


def batches(data: torch.Tensor, batch: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """Endless random batches (sampling without replacement within each epoch)."""
    return (data[idx] for idx in batch_indices(data.shape[0], batch, gen))
