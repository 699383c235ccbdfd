"""Seeds mean the same everywhere: seed S is `torch.randn(1, z_dim, generator=Generator("cpu").manual_seed(S))`.

A leaf module, so training (which draws its fixed sample seeds) and latent/ (which renders them) share it.
"""
from __future__ import annotations

from collections.abc import Iterable

import torch

from .errors import UserError

MAX_SEED = 2**63 - 1


def seed_latent(seed: int, z_dim: int) -> torch.Tensor:
    """(1, z_dim) float32 on the CPU."""
    if not 0 <= int(seed) <= MAX_SEED:
        raise UserError(f"seed must be between 0 and {MAX_SEED}, not {seed}")
    return torch.randn(1, z_dim, generator=torch.Generator("cpu").manual_seed(int(seed)))


def seeds_latents(seeds: Iterable[int], z_dim: int) -> torch.Tensor:
    """(N, z_dim): one row per seed."""
    rows = [seed_latent(s, z_dim) for s in seeds]
    if not rows:
        return torch.zeros(0, z_dim)
    return torch.cat(rows, 0)
