"""Style mixing (StyleGAN, Karras et al. 2019, fig. 3) over the generator interface — any generator.

A mix takes a row source's ws and replaces the chosen ws indices ("layers") with a column source's:

    mix_ws(ws_row, ws_col, layers)                 # (N, num_ws, w_dim) each; layers: 0-based ws indices
    parse_layers("coarse", num_ws, resolutions)    # -> sorted list of ws indices
    mixing_grid(G, row_ws, col_ws, layers)         # -> MixingGrid: row/column source images + (R, C) cells
    render_mixing(G, row_latents, col_latents, layers, truncation_psi, truncation_cutoff, noise_mode)

Presets go by the resolution each ws index drives (`ws_resolutions(G)`), in the paper's bands: coarse =
up to 8 px, fine = from min(64, R) px on (R = output resolution), middle = between. At 32 px: coarse =
4-8 px, middle = 16 px, fine = 32 px. A generator with one ws (DCGAN) mixes all or nothing.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..device import device_of
from ..errors import UserError
from ..imaging import make_grid
from .sampling import synthesize

PRESETS = ("none", "all", "coarse", "middle", "fine")


def ws_resolutions(G) -> list[int]:
    """The resolution each ws index drives. Style generators say so (`ws_resolutions`); otherwise the
    StyleGAN convention of two ws per resolution from 4 px on, capped at the output size."""
    res = getattr(G, "ws_resolutions", None)
    if res is not None:
        return [int(r) for r in res]
    if G.num_ws == 1:
        return [int(G.img_resolution)]
    return [min(4 * 2 ** (i // 2), int(G.img_resolution)) for i in range(G.num_ws)]


def preset_bands(resolutions: Sequence[int]) -> dict[str, list[int]]:
    """{'coarse': [...], 'middle': [...], 'fine': [...]} ws indices by resolution band."""
    top = max(resolutions)
    fine_from = min(64, top)
    bands: dict[str, list[int]] = {"coarse": [], "middle": [], "fine": []}
    for i, r in enumerate(resolutions):
        band = "fine" if r >= fine_from else "coarse" if r <= 8 else "middle"
        bands[band].append(i)
    return bands


def parse_layers(text: str, num_ws: int, resolutions: Sequence[int] | None = None) -> list[int]:
    """'none' | 'all' | 'coarse' | 'middle' | 'fine' | 'I-J[,K...]' (0-based, inclusive) -> ws indices."""
    t = str(text).strip().lower().replace(" ", "")
    if t == "none":
        return []
    if t == "all":
        return list(range(num_ws))
    if t in PRESETS:
        if num_ws == 1:
            raise UserError(f"this generator has a single style input (num_ws = 1): mixing is all or nothing, "
                            f"so use --layers all or none, not {t!r}")
        res = list(resolutions) if resolutions is not None else [4 * 2 ** (i // 2) for i in range(num_ws)]
        if len(res) != num_ws:
            raise ValueError(f"{len(res)} resolutions for {num_ws} ws")
        picked = preset_bands(res)[t]
        if not picked:
            raise UserError(f"a {max(res)} px generator has no {t} layers (layers by resolution: "
                            f"{_describe(res)})")
        return picked
    out: set[int] = set()
    for part in t.split(","):
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise UserError(f"bad --layers {text!r}: use none, all, coarse, middle, fine, or ws indices "
                            f"like 0-3,6 (0-based, inclusive)")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise UserError(f"bad layer range {part!r}: the end is before the start")
        if hi >= num_ws:
            raise UserError(f"layer {hi} is out of range: this generator has ws indices 0-{num_ws - 1}")
        out.update(range(lo, hi + 1))
    return sorted(out)


def format_layers(layers: Sequence[int], num_ws: int | None = None) -> str:
    """[0, 1, 2, 6] -> '0-2,6' (what parse_layers reads back); [] -> 'none'; every index -> 'all'."""
    ls = sorted(set(int(i) for i in layers))
    if not ls:
        return "none"
    if num_ws is not None and ls == list(range(num_ws)):
        return "all"
    parts, start = [], ls[0]
    for a, b in zip(ls, ls[1:] + [None]):
        if b != a + 1:
            parts.append(str(start) if start == a else f"{start}-{a}")
            start = b
    return ",".join(parts)


def _describe(res: Sequence[int]) -> str:
    return ", ".join(f"{i}: {r} px" for i, r in enumerate(res))


def mix_ws(ws_row: torch.Tensor, ws_col: torch.Tensor, layers: Sequence[int]) -> torch.Tensor:
    """ws_row with the ws indices in `layers` taken from ws_col. Both (N, num_ws, w_dim) (or broadcastable)."""
    if ws_row.shape[-2:] != ws_col.shape[-2:]:
        raise UserError(f"cannot mix ws of shapes {tuple(ws_row.shape)} and {tuple(ws_col.shape)}")
    row, col = torch.broadcast_tensors(ws_row, ws_col)
    out = row.clone()
    if len(layers):
        idx = torch.as_tensor(list(layers), dtype=torch.long, device=out.device)
        out[..., idx, :] = col[..., idx, :]
    return out


@torch.no_grad()
def latents_ws(G, latents: Sequence, truncation_psi: float = 1.0,
               truncation_cutoff: int | None = None) -> torch.Tensor:
    """`Latent`s (seeds, walk frames, mixes ...) as ws (N, num_ws, w_dim) on the CPU. z latents go through
    one mapping call with truncation (exactly like `generate`); ws latents are taken as they are."""
    if not latents:
        return torch.zeros(0, G.num_ws, G.w_dim)
    dev = device_of(G)
    if all(lat.z is not None for lat in latents):
        z = torch.cat([lat.z for lat in latents]).float()
        if z.shape[1] != G.z_dim:
            raise UserError(f"latents must have shape (N, {G.z_dim}) for this model, not {tuple(z.shape)}")
        return G.mapping(z.to(dev), truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff).cpu()
    return torch.cat([latents_ws(G, [lat], truncation_psi, truncation_cutoff) if lat.z is not None
                      else lat.ws.float().cpu() for lat in latents])


@dataclass
class MixingGrid:
    """The paper's figure: row sources down the left, column sources along the top, mixes in the cells."""
    row_images: torch.Tensor      # (R, C, H, W) in [-1, 1]
    col_images: torch.Tensor      # (K, C, H, W)
    cells: torch.Tensor           # (R, K, C, H, W): cell (i, j) = row i with `layers` from column j
    cell_ws: torch.Tensor         # (R, K, num_ws, w_dim): the ws of each cell, for sending one elsewhere
    layers: list[int]


@torch.no_grad()
def mixing_grid(G, row_ws: torch.Tensor, col_ws: torch.Tensor, layers: Sequence[int],
                noise_mode: str = "const", batch_size: int | None = None) -> MixingGrid:
    """Render a mixing grid through the generator interface. row_ws (R, num_ws, w_dim), col_ws (K, ...)."""
    for name, ws in (("row", row_ws), ("column", col_ws)):
        if ws.ndim != 3 or ws.shape[1:] != (G.num_ws, G.w_dim):
            raise UserError(f"{name} sources must be ws of shape (N, {G.num_ws}, {G.w_dim}), "
                            f"not {tuple(ws.shape)}")
        if ws.shape[0] < 1:
            raise UserError(f"the mixing grid needs at least one {name} source")
    bad = [i for i in layers if not 0 <= i < G.num_ws]
    if bad:
        raise UserError(f"layer(s) {bad} out of range: this generator has ws indices 0-{G.num_ws - 1}")
    r, k = row_ws.shape[0], col_ws.shape[0]
    row_ws, col_ws = row_ws.cpu(), col_ws.cpu()
    cell_ws = mix_ws(row_ws[:, None], col_ws[None, :], layers)               # (R, K, num_ws, w_dim)
    flat = torch.cat([row_ws, col_ws, cell_ws.reshape(r * k, *row_ws.shape[1:])])
    images = synthesize(G, flat, noise_mode=noise_mode, batch_size=batch_size)
    return MixingGrid(images[:r], images[r:r + k], images[r + k:].reshape(r, k, *images.shape[1:]),
                      cell_ws, list(layers))


def render_mixing(G, rows: Sequence, cols: Sequence, layers: Sequence[int], truncation_psi: float = 1.0,
                  truncation_cutoff: int | None = None, noise_mode: str = "const") -> MixingGrid:
    """The mixing grid for row and column `Latent`s (seeds, or ws such as other mixes): truncation applies
    to z sources, as everywhere else."""
    return mixing_grid(G, latents_ws(G, rows, truncation_psi, truncation_cutoff),
                       latents_ws(G, cols, truncation_psi, truncation_cutoff), layers, noise_mode=noise_mode)


def grid_canvas(grid: MixingGrid, pad: int = 2, blank: float = 1.0) -> torch.Tensor:
    """The figure as one image (C, H', W'): top-left blank, first row the column sources, first column the
    row sources, mixes in the cells; `pad` px of `blank` (white, as in the paper) between tiles."""
    r, k, c, h, w = grid.cells.shape
    tiles = torch.full((r + 1, k + 1, c, h, w), blank)
    tiles[0, 1:] = grid.col_images
    tiles[1:, 0] = grid.row_images
    tiles[1:, 1:] = grid.cells
    return make_grid(tiles.reshape((r + 1) * (k + 1), c, h, w), ncols=k + 1, pad=pad, pad_value=blank)
