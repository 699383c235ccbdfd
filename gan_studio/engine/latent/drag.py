"""Fractional seeds: a continuous 2-D plane of latents through the integer seeds, for dragging through latent space.

A position (x, y) >= 0 lies in a square of four integer grid points. The grid point (i, j) is the seed
`i + STRIDE * j`, so the row y = 0 holds the ordinary seeds 0, 1, 2, … and (7, 2) is seed 2007. The z of (x, y)
is the bilinear blend of the four corner seeds' z's, divided by the root of the sum of the squared weights:

    z(x, y) = sum_k w_k z_k / sqrt(sum_k w_k²)

The corners' z's are independent N(0, I) draws, so the blend is N(0, I) as well: it stays on the typical shell
(norm ~ sqrt(z_dim)) instead of shrinking towards the middle of the square, where a plain blend has only half
the norm. At an integer position the only non-zero weight is 1: the z is exactly that seed's (7.0 == seed 7).
The weights are continuous in (x, y), and so is z.

A 1-D fractional seed s is the position (s, 0): it blends seeds floor(s) and floor(s) + 1. Positions are kept to
`DECIMALS` places, so the CLI's `--seed 7.35` or `--seed 7.35,2.1` (`parse_seed`) renders what the app shows.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..errors import UserError
from ..seeds import MAX_SEED, seed_latent

STRIDE = 1000          # grid point (i, j) is seed i + STRIDE * j
DECIMALS = 2           # positions are rounded to this many places (what the seed box and the CLI carry)


def snap(v: float) -> float:
    """v rounded to DECIMALS places (the same float the CLI parses from its text)."""
    return round(float(v), DECIMALS) + 0.0          # + 0.0: no -0.0


def grid_seed(i: int, j: int) -> int:
    """The seed at integer grid point (i, j)."""
    return int(i) + STRIDE * int(j)


def _text(v: float) -> str:
    """7.35 -> '7.35', 7.5 -> '7.5', 7.0 -> '7'."""
    return f"{v:.{DECIMALS}f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class SeedPos:
    """A position in the seed plane: x along the seeds, y across the rows of STRIDE seeds."""
    x: float
    y: float = 0.0

    def __post_init__(self) -> None:
        for v in (self.x, self.y):
            if not math.isfinite(v) or v < 0:
                raise UserError(f"a fractional seed must be a number >= 0, not {v}")
        if grid_seed(math.floor(self.x) + 1, math.floor(self.y) + 1) > MAX_SEED:
            raise UserError(f"seed position ({self.x}, {self.y}) is out of range")

    @classmethod
    def snapped(cls, x: float, y: float = 0.0) -> SeedPos:
        """The position rounded to DECIMALS places, and clamped at 0 (a drag past the first seed)."""
        return cls(max(0.0, snap(x)), max(0.0, snap(y)))

    def is_integer(self) -> bool:
        return float(self.x).is_integer() and float(self.y).is_integer()

    def seed(self) -> int | None:
        """The integer seed at this position, or None between grid points."""
        return grid_seed(int(self.x), int(self.y)) if self.is_integer() else None

    def corners(self) -> list[tuple[int, float]]:
        """(seed, weight) of the grid points around this position, zero weights left out; weights sum to 1."""
        i, j = math.floor(self.x), math.floor(self.y)
        fx, fy = self.x - i, self.y - j
        out = []
        for di, wx in ((0, 1.0 - fx), (1, fx)):
            for dj, wy in ((0, 1.0 - fy), (1, fy)):
                if wx * wy > 0.0:
                    out.append((grid_seed(i + di, j + dj), wx * wy))
        return out

    def shifted(self, dx: float = 0.0, dy: float = 0.0) -> SeedPos:
        return SeedPos.snapped(self.x + dx, self.y + dy)

    def text(self) -> str:
        """The CLI's form: '7.35' (y = 0) or '7.35,2.1'."""
        return _text(self.x) + (f",{_text(self.y)}" if self.y else "")

    def label(self) -> str:
        """The view's title, fixed decimals so it does not jitter while dragged: 'seed 7.35', 'seed (7.35, 2.10)'."""
        if not self.y:
            return f"seed {self.x:.{DECIMALS}f}"
        return f"seed ({self.x:.{DECIMALS}f}, {self.y:.{DECIMALS}f})"


def frac_z(pos: SeedPos, z_dim: int, normalise: bool = True) -> torch.Tensor:
    """(1, z_dim) float32: the blend of the corner seeds' z's (see the module doc); exactly seed_latent at an
    integer position."""
    corners = pos.corners()
    z = sum(w * seed_latent(s, z_dim) for s, w in corners)
    if normalise:
        z = z / math.sqrt(sum(w * w for _, w in corners))
    return z


def frac_zs(pos: SeedPos, n: int, z_dim: int) -> torch.Tensor:
    """(n, z_dim): the positions pos, pos + 1, … along x (what `sample --seed X --n N` renders)."""
    if n < 1:
        raise UserError(f"--n must be at least 1, not {n}")
    return torch.cat([frac_z(pos.shifted(dx=i), z_dim) for i in range(n)], 0)


def parse_seed(text: str) -> int | SeedPos:
    """'7' -> 7 (an ordinary seed); '7.35' -> SeedPos(7.35); '7.35,2.1' -> SeedPos(7.35, 2.1). Positions are
    rounded to DECIMALS places."""
    parts = str(text).replace(" ", "").split(",")
    if len(parts) == 1 and parts[0].lstrip("+-").isdigit():
        seed = int(parts[0])
        if not 0 <= seed <= MAX_SEED:
            raise UserError(f"seed must be between 0 and {MAX_SEED}, not {seed}")
        return seed
    try:
        if len(parts) > 2:
            raise ValueError
        values = [float(p) for p in parts]
    except ValueError:
        raise UserError(f"bad seed {text!r}: use an integer seed (7), a fractional one (7.35) "
                        "or a position X,Y (7.35,2.1)") from None
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise UserError(f"a fractional seed must be a number >= 0, not {text!r}")
    return SeedPos.snapped(*values)
