"""Improved precision and recall (Kynkäänniemi et al. 2019, k = 3) and density and coverage
(Naeem et al. 2020, k = 5), from k-nearest-neighbour balls in feature space."""
from __future__ import annotations

import torch


def _pairwise(a: torch.Tensor, b: torch.Tensor, chunk: int = 2048):
    """Yield (start, distances (chunk, len(b))) for rows of a — never the whole matrix at once."""
    for i in range(0, a.shape[0], chunk):
        yield i, torch.cdist(a[i:i + chunk], b)


def knn_radii(feats: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of each point to its k-th nearest other point: (N,)."""
    if feats.shape[0] <= k:
        raise ValueError(f"need more than k={k} samples, got {feats.shape[0]}")
    out = torch.empty(feats.shape[0], dtype=feats.dtype)
    for i, d in _pairwise(feats, feats):
        out[i:i + d.shape[0]] = d.kthvalue(k + 1, dim=1).values  # +1: the point itself is at distance 0
    return out


def _inside_count(query: torch.Tensor, ref: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """For each query point, in how many reference balls it lies: (Nq,)."""
    out = torch.empty(query.shape[0], dtype=torch.long)
    for i, d in _pairwise(query, ref):
        out[i:i + d.shape[0]] = (d <= radii[None, :]).sum(1)
    return out


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    real, fake = real.double(), fake.double()
    precision = (_inside_count(fake, real, knn_radii(real, k)) > 0).double().mean().item()
    recall = (_inside_count(real, fake, knn_radii(fake, k)) > 0).double().mean().item()
    return precision, recall


def density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> tuple[float, float]:
    real, fake = real.double(), fake.double()
    radii = knn_radii(real, k)
    density = (_inside_count(fake, real, radii).double().sum() / (k * fake.shape[0])).item()
    nearest_fake = torch.empty(real.shape[0], dtype=torch.float64)
    for i, d in _pairwise(real, fake):
        nearest_fake[i:i + d.shape[0]] = d.min(1).values
    coverage = (nearest_fake <= radii).double().mean().item()
    return density, coverage
