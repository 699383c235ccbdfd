"""The sample view's state: a latent (z or ws) with where it came from, Qt-free (napari-style model).

Later features put non-seed latents here: a walk frame, a direction edit, a style mix, a fractional seed ("frac":
info {"x": 7.35, "y": 0.0}, latent/drag.py; its `seed` is None, so everything keyed on integer seeds — grid tiles,
walk and mixing seeds — leaves it alone, and `position` / `seed_text` give where it lies).
A projection of an image (latent/projection.py) is "projection": info {"image": path, "loss": final loss,
"space": "z" | "w" | "w+"}, a z or ws (a w is broadcast to every layer).
A painting candidate (latent/painting.py) is "paint": info {"strokes": "file (N px)", "loss": ..., "space": ...}.
A classifier-guided sample (latent/guide.py) is "guide": info {"class": k, "p": p(class), "steps": n, "space"};
a latent-arithmetic result (latent/arithmetic.py) is "arithmetic": info {"A": "1,2,3", "B": ..., "C": ..., "space"}.
A caption of a text-to-image model (latent/text.py) is "text": info {"seed": S, "text": caption}, its ws.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..device import device_of
from .codes import apply_codes, describe_codes
from .drag import SeedPos, frac_z
from .sampling import seed_latent

SOURCES = ("seed", "walk", "direction", "mix", "file", "random", "frac", "projection", "paint", "text", "guide",
           "arithmetic")


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

    @classmethod
    def from_position(cls, pos: SeedPos, z_dim: int, codes: dict[str, float] | None = None) -> Latent:
        """The latent at a fractional seed position: a plain seed latent at (S, 0), else a "frac" one."""
        if pos.is_integer() and not pos.y:
            return cls.from_seed(int(pos.x), z_dim, codes)
        return cls(z=frac_z(pos, z_dim), source="frac", info={"x": pos.x, "y": pos.y}, codes=dict(codes or {}))

    def with_codes(self, codes: dict[str, float]) -> Latent:
        """The same latent with other chosen codes."""
        return Latent(z=self.z, ws=self.ws, source=self.source, info=dict(self.info), codes=dict(codes))

    @property
    def seed(self) -> int | None:
        return self.info.get("seed") if self.source == "seed" else None

    @property
    def position(self) -> SeedPos | None:
        """Where a seed or fractional-seed latent lies in the seed plane (seed S: (S, 0)); None for the others."""
        if self.source == "frac":
            return SeedPos(self.info["x"], self.info["y"])
        return SeedPos(float(self.seed)) if self.seed is not None else None

    @property
    def seed_text(self) -> str | None:
        """What `gan-studio sample --seed` takes for this latent ('7', '7.35', '7.35,2.1'), or None."""
        if self.source == "frac":
            return self.position.text()
        return str(self.seed) if self.seed is not None else None

    def label(self) -> str:
        chosen = f" · {describe_codes(self.codes)}" if self.codes else ""
        if self.source == "seed":
            return f"seed {self.info['seed']}{chosen}"
        if self.source == "frac":
            return self.position.label() + chosen
        if self.source == "projection" and "image" in self.info:     # 'projection of cat.png (w, loss 0.0059)'
            loss = f", loss {self.info['loss']:.4g}" if isinstance(self.info.get("loss"), (int, float)) else ""
            return f"projection of {Path(str(self.info['image'])).name} ({self.info.get('space', '?')}{loss}){chosen}"
        if self.source == "text" and "text" in self.info:             # '"a thin 4" · seed 7' (latent/text.py)
            return f"\"{self.info['text']}\" · seed {self.info.get('seed')}{chosen}"
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
