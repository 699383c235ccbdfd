"""Toy voxel data for the 3D tests: a ModelNet-format .npz of boxes, balls and tables, and tiny widths."""
from __future__ import annotations

from pathlib import Path

import numpy as np

TINY_ARCH = {"z_dim": 8, "g_width": 2, "d_width": 2, "e_width": 2, "image_size": 32}


def _shape(kind: int, rng: np.random.Generator) -> np.ndarray:
    """A 32³ grid [x, y, z] of one of three toy classes: a box, a ball, a table (top + 4 legs)."""
    g = np.zeros((32, 32, 32), bool)
    if kind == 0:
        lo, hi = rng.integers(4, 12, 3), rng.integers(20, 28, 3)
        g[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = True
    elif kind == 1:
        x, y, z = np.mgrid[:32, :32, :32]
        g[(x - 15.5) ** 2 + (y - 15.5) ** 2 + (z - 15.5) ** 2 < rng.uniform(6, 13) ** 2] = True
    else:
        top = int(rng.integers(14, 26))
        g[4:28, 6:26, top:top + 2] = True
        for x, y in ((4, 6), (26, 6), (4, 24), (26, 24)):
            g[x:x + 2, y:y + 2, 0:top] = True
    return g


def make_voxel_npz(path: Path, n_train: int = 36, n_test: int = 12, seed: int = 0) -> Path:
    """ModelNet-format .npz: X_* int32 (N, 32, 32, 32) with one empty grid per split, y_* labels 0-2."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        y = np.arange(n) % 3
        x = np.stack([_shape(int(k), rng) for k in y]).astype(np.int32)
        x[-1] = 0                                                     # an empty grid to skip
        arrays[f"X_{split}"], arrays[f"y_{split}"] = x, y
    np.savez_compressed(path, **arrays)
    return path


def add_prior(src: Path, dst: Path, names: tuple[str, ...] = ("bed", "chair", "sofa"), spread: float = 3.0,
              weights: tuple[float, ...] | None = None) -> Path:
    """`src` (a voxel model) with a hand-made latent prior of one component per name: component i is centred on
    `spread` times the i-th unit vector (distinct shapes) with a diagonal scale of 0.5, weights as given (equal)."""
    import torch

    from gan_studio.engine.bundle import load_bundle, save_bundle
    from gan_studio.engine.models.voxel_iwgan import VoxelIWGANConfig
    from gan_studio.engine.models.voxel_prior import LatentPrior
    from gan_studio.engine.training.prior3d import with_prior
    b = load_bundle(src)
    cfg = VoxelIWGANConfig.from_dict(dict(b.meta["config"], prior_components=len(names)))
    prior = LatentPrior(cfg)
    with torch.no_grad():
        prior.means.zero_()
        for i in range(len(names)):
            prior.means[i, i % cfg.z_dim] = spread
        prior.scales.copy_(0.5 * torch.eye(cfg.z_dim).repeat(len(names), 1, 1))
        if weights is not None:
            prior.weights.copy_(torch.tensor(weights))
    nets, meta = with_prior(b, prior, {"components": list(names), "counts": [10] * len(names), "views": 1,
                                       "shrink": 0.1}, "tests: add_prior")
    return save_bundle(dst, nets, meta)
