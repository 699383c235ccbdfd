"""GANs on low-dimensional points (kind "points", e.g. `--arch mlp2d --data toy:ring8`): the image recipe's
step, losses, regularisers, spectral norm and unrolling, with point data, a scatter plot for samples, and
"points" metadata. Only the data hooks differ from `GANRecipe`.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ..data.points import load_points
from ..imaging import save_png
from .batches import batches
from .recipes import RECIPES, GANRecipe

PLOT_PX = 256


def scatter_image(samples: torch.Tensor, data: torch.Tensor, px: int = PLOT_PX) -> torch.Tensor:
    """A scatter plot of the first two coordinates: data in grey, samples as red 3x3 dots, on white.
    Returns an image (3, px, px) in [-1, 1] (for `save_png`); the view fits the data with a 25% margin."""
    half = 1.25 * float(data[:, :2].abs().max()) or 1.0
    img = np.ones((px, px, 3), np.float32)

    def plot(pts: torch.Tensor, colour, dot: int) -> None:
        xy = ((pts[:, :2].float().cpu().numpy() / half + 1) / 2 * (px - 1)).round().astype(int)
        for dx in range(-(dot // 2), dot // 2 + 1):
            for dy in range(-(dot // 2), dot // 2 + 1):
                col, row = xy[:, 0] + dx, (px - 1) - (xy[:, 1] + dy)      # y upwards
                ok = (col >= 0) & (col < px) & (row >= 0) & (row < px)
                img[row[ok], col[ok]] = colour

    plot(data[:2000], (0.75, 0.75, 0.75), 1)
    plot(samples, (0.85, 0.1, 0.1), 3)
    return torch.from_numpy(img).permute(2, 0, 1) * 2 - 1


@RECIPES.register("points")
class PointGANRecipe(GANRecipe):
    """GANRecipe on an (N, D) point set."""

    supports_codes = False

    def _load_data(self):
        return load_points(self.cfg.data)

    def _arch_defaults(self) -> dict:
        return {"point_dim": int(self.data.points.shape[1])}

    def batches(self, gen: torch.Generator) -> Iterator[torch.Tensor]:
        """Endless random batches of points (N, D), on the device."""
        return batches(self.data.points.to(self.device), self.cfg.batch, gen)

    def save_samples(self, path, samples: torch.Tensor) -> None:
        save_png(path, scatter_image(samples, self.data.points))

    def metadata(self, command: str) -> dict:
        cfg, data = self.cfg, self.data
        return {
            "kind": "points", "arch": cfg.arch, "config": self.arch_config, "name": None,
            "z_dim": self.G.z_dim, "point_dim": int(data.points.shape[1]),
            "dataset": {"name": data.name, "path": str(cfg.data), "n": len(data), **data.info},
            "license": data.license,
            "training": self.training_metadata(command),
            "metrics": {},
        }
