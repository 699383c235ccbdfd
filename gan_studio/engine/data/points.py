"""Low-dimensional point datasets: the classic 2-D toy mixtures of GAN papers, or a user's (N, D) array.

    toy:ring8            8 Gaussians on a circle of radius 2, std 0.02 (Metz et al. 2017, unrolled GAN)
    points.npy / .npz    a float array (N, D); in an .npz under "points", "x" or the first key

The toy sets are generated from a fixed seed, so every run (and every test) sees the same points.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError

TOY_N = 20_000
TOY_SEED = 0


@dataclass
class PointDataset:
    points: torch.Tensor                 # (N, D) float32
    name: str = ""
    license: str = "unknown"
    info: dict = field(default_factory=dict)
    modes: torch.Tensor | None = None    # (K, D) mixture centres of a toy set

    def __len__(self) -> int:
        return self.points.shape[0]


def ring_modes(k: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The k centres on a circle of `radius`: (k, 2)."""
    angle = torch.arange(k, dtype=torch.float64) * (2 * math.pi / k)
    return (radius * torch.stack([angle.cos(), angle.sin()], 1)).float()


def ring_mixture(n: int = TOY_N, k: int = 8, radius: float = 2.0, std: float = 0.02,
                 seed: int = TOY_SEED) -> PointDataset:
    """n points from an equal mixture of k isotropic Gaussians (std) centred on a circle of `radius`."""
    gen = torch.Generator().manual_seed(seed)
    modes = ring_modes(k, radius)
    which = torch.randint(0, k, (n,), generator=gen)
    pts = modes[which] + std * torch.randn(n, 2, generator=gen)
    return PointDataset(pts, f"ring{k}", "synthetic (generated)",
                        {"k": k, "radius": radius, "std": std, "seed": seed}, modes)


TOYS = {"toy:ring8": lambda: ring_mixture(k=8)}


def _load_array(path: Path) -> PointDataset:
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                keys = list(z.keys())
                key = next((k for k in ("points", "x", "X") if k in keys), keys[0] if keys else None)
                if key is None:
                    raise DataError(f"{path} holds no arrays")
                arr = z[key]
        else:
            arr = np.load(path, allow_pickle=False)
    except DataError:
        raise
    except Exception as exc:  # bad zip, pickled object arrays (refused), truncated file ...
        raise DataError(f"cannot read array file {path}: {str(exc).splitlines()[0]}") from None
    if arr.ndim != 2 or arr.shape[0] < 2 or not np.issubdtype(arr.dtype, np.number):
        raise DataError(f"{path}: expected a numeric array of points (N, D), got shape {arr.shape} {arr.dtype}")
    pts = torch.from_numpy(np.asarray(arr, np.float32))
    if not torch.isfinite(pts).all():
        raise DataError(f"{path}: the points hold NaN or infinite values")
    return PointDataset(pts, path.stem, "unknown", {"path": str(path)})


def load_points(spec: str | Path) -> PointDataset:
    """A toy set by name ("toy:ring8") or an (N, D) array file. Raises DataError otherwise."""
    spec = str(spec)
    if spec in TOYS:
        return TOYS[spec]()
    if spec.startswith("toy:"):
        raise DataError(f"unknown toy data set {spec!r} (known: {', '.join(sorted(TOYS))})")
    path = Path(spec).expanduser()
    if not path.is_file() or path.suffix not in (".npy", ".npz"):
        raise DataError(f"{spec}: not a point data set (expected {', '.join(sorted(TOYS))}, or an .npy / .npz "
                        f"file of shape (N, D))")
    return _load_array(path)
