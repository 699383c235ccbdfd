"""Endless random batches of training data: the one order every recipe draws real images in."""
from __future__ import annotations

from collections.abc import Iterator

import torch


def batches(data: torch.Tensor, batch: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """Endless random batches (sampling without replacement within each epoch)."""
    n = data.shape[0]
    while True:
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n - batch + 1, batch):
            yield data[perm[i:i + batch]]
