"""Vector arithmetic on latents (Radford et al. 2016, the DCGAN paper's "smiling woman − neutral woman + neutral
man"): three groups A, B, C of seeds, their mean latents, and mean(A) − mean(B) + mean(C).

The means are taken in z (any generator) or in w (a style generator: each seed's w = mapping(z), before any
layer broadcast, truncated towards w_avg by psi like every sample). Averaging a group keeps what its samples share
and washes out the rest, which is why the paper averages three samples a group instead of taking single ones.

The difference mean(A) − mean(B) is also a direction: `as_direction` saves it as a one-direction set (a unit
vector, its length in `shift_scale` and `extra["length"]`), so `sample --directions d.safetensors --shift 0:L`
(L the length) adds exactly mean(A) − mean(B) to any latent: `--z` of mean(C) gives the result back, and any other
seed gets the same edit. The figure (`figure_tiles`) lays the groups out as the paper's figure 7 does: each group
a column of its samples over its mean image, "−", "+", "=" between the means, and the result on the right.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..bundle import weights_hash
from ..errors import UserError
from ..seeds import seeds_latents
from .directions.core import DirectionSet
from .sampling import synthesize

SPACES = ("z", "w")
BACKGROUND = -0.6         # the figure's empty tiles and padding: dark gray, so each black-ground sample stands out
GROUPS = ("A", "B", "C")


def check_space(G, space: str) -> str:
    if space not in SPACES:
        raise UserError(f"--space must be z or w, not {space!r}")
    if space == "w" and getattr(G, "num_ws", 1) <= 1:
        raise UserError("this generator has no w space (it is not a style generator): use --space z")
    return space


def default_space(G) -> str:
    """w for a style generator (its w space is the flatter one, where averages stay on the image manifold)."""
    return "w" if getattr(G, "num_ws", 1) > 1 else "z"


@torch.no_grad()
def group_latents(G, seeds: list[int], space: str, psi: float = 1.0) -> torch.Tensor:
    """(n, dim): the seeds' latents in `space` (z as drawn; w = the mapping's first layer, truncated by psi)."""
    if not seeds:
        raise UserError("every group needs at least one seed")
    z = seeds_latents(seeds, G.z_dim)
    if space == "z":
        return z
    dev = G.w_avg.device
    return G.mapping(z.to(dev), truncation_psi=psi)[:, 0].float().cpu()


@dataclass
class Arithmetic:
    """The groups (seeds), their latents (n_i, dim) in `space`, their means (3, dim) and the result (dim,)."""
    space: str
    seeds: list[list[int]]
    latents: list[torch.Tensor]
    means: torch.Tensor
    result: torch.Tensor
    psi: float = 1.0
    info: dict = field(default_factory=dict)

    @property
    def difference(self) -> torch.Tensor:
        """mean(A) − mean(B): the edit the result applies to mean(C)."""
        return self.means[0] - self.means[1]


def arithmetic(G, a: list[int], b: list[int], c: list[int], space: str | None = None,
               psi: float = 1.0) -> Arithmetic:
    """mean(A) − mean(B) + mean(C) for three groups of seeds, in z or w."""
    space = check_space(G, space or default_space(G))
    groups = [list(map(int, g)) for g in (a, b, c)]
    for name, g in zip(GROUPS, groups):
        if not g:
            raise UserError(f"group {name} is empty: give it at least one seed")
    lats = [group_latents(G, g, space, psi) for g in groups]
    means = torch.stack([x.mean(0) for x in lats])
    return Arithmetic(space, groups, lats, means, means[0] - means[1] + means[2], psi)


def to_ws(G, lat: torch.Tensor, space: str, psi: float = 1.0) -> torch.Tensor:
    """(n, dim) latents in `space` -> (n, num_ws, w_dim) ws (z through the mapping with psi; w broadcast)."""
    dev = G.w_avg.device
    if space == "z":
        with torch.no_grad():
            return G.mapping(lat.to(dev), truncation_psi=psi)
    return lat.to(dev)[:, None].expand(-1, G.num_ws, -1)


def render(G, lat: torch.Tensor, space: str, psi: float = 1.0, noise_mode: str = "const") -> torch.Tensor:
    """Images (n, C, H, W) on the CPU for latents in `space`. A w latent is already truncated: psi is not reapplied."""
    return synthesize(G, to_ws(G, lat, space, psi if space == "z" else 1.0), noise_mode=noise_mode)


def result_latent(G, ar: Arithmetic) -> torch.Tensor:
    """The result as `sample --z` takes it: (1, z_dim) for z, (1, num_ws, w_dim) ws for w."""
    return ar.result[None].clone() if ar.space == "z" else to_ws(G, ar.result[None], "w").cpu().clone()


def as_direction(G, ar: Arithmetic) -> DirectionSet:
    """mean(A) − mean(B) as a one-direction set: the unit vector, its length as shift_scale and extra["length"]."""
    d = ar.difference
    length = float(d.norm())
    if length < 1e-8:
        raise UserError("mean(A) and mean(B) are the same latent: A − B is no direction")
    names = [f"A({_short(ar.seeds[0])}) − B({_short(ar.seeds[1])})"]
    return DirectionSet(d[None] / length, method="arithmetic", space=ar.space, generator_hash=weights_hash(G),
                        names=names, shift_scale=length,
                        extra={"length": length, "groups": {"A": ar.seeds[0], "B": ar.seeds[1]}, "psi": ar.psi})


def _short(seeds: list[int]) -> str:
    return ",".join(map(str, seeds[:4])) + ("…" if len(seeds) > 4 else "")


def glyph(op: str, shape) -> torch.Tensor:
    """A (C, H, W) tile in [-1, 1] showing "−", "+" or "=" in white on the figure's background."""
    c, h, w = shape
    t = torch.full((c, h, w), BACKGROUND)
    th, lo, hi = max(1, h // 12), w // 4, w - w // 4
    mid = h // 2
    if op in ("−", "+"):
        t[:, mid - th:mid + th, lo:hi] = 1.0
    if op == "+":
        t[:, h // 4:h - h // 4, w // 2 - th:w // 2 + th] = 1.0
    if op == "=":
        gap = max(2, h // 8)
        t[:, mid - gap - th:mid - gap + th, lo:hi] = 1.0
        t[:, mid + gap - th:mid + gap + th, lo:hi] = 1.0
    return t


def figure_tiles(G, ar: Arithmetic, noise_mode: str = "const") -> tuple[torch.Tensor, int]:
    """The figure as (rows * cols, C, H, W) tiles and cols (for `make_grid`): columns A, −, B, +, C, =, result;
    each group's samples top down, then a row of the means with the operators and the result. Empty tiles are
BACKGROUND: draw it with make_grid(tiles, cols, pad_value=BACKGROUND)."""
    rows = max(len(g) for g in ar.seeds)
    imgs = [render(G, lat, ar.space, ar.psi, noise_mode) for lat in ar.latents]
    means = render(G, torch.cat([ar.means, ar.result[None]]), ar.space, ar.psi, noise_mode)
    shape = means.shape[1:]
    blank = torch.full(shape, BACKGROUND)
    cols = 7
    tiles = [blank] * ((rows + 1) * cols)
    for g in range(3):
        for r in range(len(ar.seeds[g])):
            tiles[r * cols + 2 * g] = imgs[g][r]
        tiles[rows * cols + 2 * g] = means[g]
    for k, op in enumerate(("−", "+", "=")):
        tiles[rows * cols + 2 * k + 1] = glyph(op, shape)
    tiles[rows * cols + 6] = means[3]
    return torch.stack(tiles), cols
