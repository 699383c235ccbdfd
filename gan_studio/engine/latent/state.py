"""The sample view's state: a latent (z or ws) with where it came from, Qt-free (napari-style model).

Later features put non-seed latents here: a walk frame, a direction edit, a style mix.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

SOURCES = ("seed", "walk", "direction", "mix", "file", "random")


@dataclass
class Latent:
    """One point in a generator's latent space. Exactly one of `z` (1, z_dim) and `ws` (1, num_ws, w_dim)."""
    z: torch.Tensor | None = None
    ws: torch.Tensor | None = None
    source: str = "seed"
    info: dict[str, Any] = field(default_factory=dict)   # e.g. {"seed": 7} or {"walk": "a.gif", "frame": 3}

    def __post_init__(self) -> None:
        if (self.z is None) == (self.ws is None):
            raise ValueError("a Latent holds exactly one of z and ws")
        if self.source not in SOURCES:
            raise ValueError(f"unknown latent source {self.source!r}")

    @classmethod
    def from_seed(cls, seed: int, z_dim: int) -> "Latent":
        from .sampling import seed_latent
        return cls(z=seed_latent(seed, z_dim), source="seed", info={"seed": int(seed)})

    @property
    def seed(self) -> int | None:
        return self.info.get("seed") if self.source == "seed" else None

    def label(self) -> str:
        if self.source == "seed":
            return f"seed {self.info['seed']}"
        extra = ", ".join(f"{k} {v}" for k, v in self.info.items())
        return f"{self.source}" + (f" ({extra})" if extra else "")

    def to_ws(self, G, truncation_psi: float = 1.0, truncation_cutoff: int | None = None) -> torch.Tensor:
        """(1, num_ws, w_dim) for this latent; truncation applies to z latents only (ws are already chosen)."""
        if self.ws is not None:
            return self.ws
        dev = next(iter(G.parameters()), torch.empty(0)).device
        with torch.no_grad():
            return G.mapping(self.z.to(dev), truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
