"""The style-mixing grid as a job: everything one render needs, captured on the UI thread, run in a worker."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError
from ..imaging import to_uint8
from ..latent.mixing import MixingGrid, render_mixing
from ..latent.state import Latent
from ..render import Renderer


@dataclass
class MixJob:
    """Everything one render needs, captured on the UI thread; run in a worker."""
    seq: int
    G: object
    rows: list[Latent]
    cols: list[Latent]
    layers: list[int]
    psi: float
    cutoff: int | None
    noise: str
    device: object
    placer: Renderer = field(repr=False, default=None)


def render_job(job: MixJob):
    """Worker thread: (job, MixingGrid, tile pixels, error message). Never raises."""
    try:
        G = job.placer.place(job.G, job.device) if job.placer else job.G
        grid = render_mixing(G, job.rows, job.cols, job.layers, job.psi, job.cutoff, job.noise)
        return job, grid, figure_tiles(grid), ""
    except UserError as exc:
        return job, None, None, str(exc)
    except Exception as exc:                        # a render must never take the app down
        first = str(exc).strip().splitlines()
        return job, None, None, f"{type(exc).__name__}: {first[0][:300] if first else ''}"


def figure_tiles(grid: MixingGrid) -> list[np.ndarray]:
    """(R+1) x (K+1) tiles row-major, (H, W, C) uint8: a blank corner, column sources, then each row source
    followed by its mixes."""
    r, k, c, h, w = grid.cells.shape
    blank = np.full((h, w, c), 40, np.uint8)
    cols, rows, cells = to_uint8(grid.col_images), to_uint8(grid.row_images), to_uint8(grid.cells.flatten(0, 1))
    tiles = [blank] + list(cols)
    for i in range(r):
        tiles += [rows[i]] + list(cells[i * k:(i + 1) * k])
    return tiles
