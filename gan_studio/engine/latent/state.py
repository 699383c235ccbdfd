"""The sample view's state: a latent (z or ws) with where it came from, Qt-free (napari-style model).

Later features put non-seed latents here: a walk frame, a direction edit, a style mix.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..device import device_of
from .codes import apply_codes, describe_codes
from .sampling import seed_latent

SOURCES = ("seed", "walk", "direction", "mix", "file", "random")


@dataclass
class Latent:
    """One point in a generator's latent space. Exactly one of `z` (1, z_dim) and `ws` (1, num_ws, w_dim).

    `codes` are the class and InfoGAN codes chosen for it (e.g. {"class": 3, "c0": 0.5}, latent/codes.py): they
    are written into its ws after the mapping; codes not named stay what the seed gives."""
    z: torch.Tensor | None = None
    ws: torch.Tensor | None = None
    source: str = "seed"
    info: dict[str, Any] = field(default_factory=dict)   # e.g. {"seed": 7} or {"walk": "a.gif", "frame": 3}
    codes: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.z is None) == (self.ws is None):
            raise ValueError("a Latent holds exactly one of z and ws")
        if self.source not in SOURCES:
            raise ValueError(f"unknown latent source {self.source!r}")

    @classmethod
    def from_seed(cls, seed: int, z_dim: int, codes: dict[str, float] | None = None) -> Latent:
        return cls(z=seed_latent(seed, z_dim), source="seed", info={"seed": int(seed)}, codes=dict(codes or {}))

    def with_codes(self, codes: dict[str, float]) -> Latent:
        """The same latent with other chosen codes."""
        return Latent(z=self.z, ws=self.ws, source=self.source, info=dict(self.info), codes=dict(codes))

    @property
    def seed(self) -> int | None:
        return self.info.get("seed") if self.source == "seed" else None

    def label(self) -> str:
        chosen = f" · {describe_codes(self.codes)}" if self.codes else ""
        if self.source == "seed":
            return f"seed {self.info['seed']}{chosen}"
        extra = ", ".join(f"{k} {v}" for k, v in self.info.items())
        return f"{self.source}" + (f" ({extra})" if extra else "") + chosen

    def to_ws(self, G, truncation_psi: float = 1.0, truncation_cutoff: int | None = None) -> torch.Tensor:
        """(1, num_ws, w_dim) for this latent, chosen codes written in; truncation applies to z latents only
        (ws are already chosen)."""
        if self.ws is not None:
            return apply_codes(G, self.ws, self.codes)
        dev = device_of(G)
        with torch.no_grad():
            ws = G.mapping(self.z.to(dev), truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
            return apply_codes(G, ws, self.codes)
