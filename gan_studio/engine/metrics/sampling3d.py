"""How a voxel model's random shapes are drawn: the truncation ψ of the seeds' latents and the occupancy threshold,
chosen together on the model's own training objects (`eval3d --choose-sampling`, stored by `--write` as the model
file's `truncation` and `sample_threshold`).

The reconstruction threshold is chosen for IoU on training views; random shapes have no true shape to score, so
their pair is the one whose shapes (seeds 0 … n-1) are nearest the training objects in the 3D FID of
`voxnet-modelnet10` (shapes3d.py): one Fréchet distance per (ψ, threshold) on the grid, the lowest wins. Only
training objects are used, so the test split's figures stay an honest report. The two knobs are not independent
(a smaller ψ gives fuller, blander shapes; a lower threshold fuller ones too), which is why they are chosen as a
pair and not one after the other.

Measured on the `modelnet10-iwgan` GAN sampling generator (unchanged since step 15,066), 1,000 seeds (test-split
3D FID, floor 244): ψ 1 at the reconstruction threshold 0.55 scores 553; ψ 1 at 0.3 509; ψ 0.8 at 0.3 493; ψ 0.6
at 0.3 561, ψ 0.5 638 (too bland); re-estimating its batch-norm statistics moved it by under 1 %; chosen: ψ 0.8
at 0.35 (test 497, 2.04x the floor). With the fitted prior (models/voxel_prior.py) the grid's FIDs are flat in the
threshold (the reconstruction generator's outputs are nearly binary: 133-137 over 0.2-0.9 at ψ 1.4) and lowest
at ψ 1.4 (the encoder's latents are narrower than the shapes they stand for); chosen: ψ 1.4 at 0.5 (test 298).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..errors import UserError
from ..models.voxel_prior import MAX_TRUNCATION
from .fid import fid_from_features
from .shapes3d import random_probs
from .voxel_features import VoxNetFeatures

TRUNCATIONS = (0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0)
THRESHOLDS = (0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
TOLERANCE = 0.02        # FIDs within 2 % of the lowest are a tie (seed blocks of 1,000 differ by ~10 %), and a
                        # tie goes to the threshold nearest 0.5: fewer stray low-probability fragments


def pick(grid: list[dict], tolerance: float = TOLERANCE) -> dict:
    """The grid point chosen: among those within `tolerance` (relative) of the lowest FID, the one whose threshold
    is nearest 0.5, then the lowest FID."""
    low = min(g["fid"] for g in grid)
    near = [g for g in grid if g["fid"] <= low * (1 + tolerance) + 1e-12]
    return min(near, key=lambda g: (abs(g["threshold"] - 0.5), g["fid"]))


def choose_sampling(net: VoxNetFeatures, sampler, train, n: int = 1000,
                    truncations: Sequence[float] = TRUNCATIONS, thresholds: Sequence[float] = THRESHOLDS,
                    batch: int = 50) -> Iterator[dict]:
    """Yields progress {"stage", "done", "total"}, then {"result": {"truncation", "threshold", "fid", "grid": [...],
    "n", "n_ref", "split", "criterion", "lowest_fid", "tolerance"}}: the (ψ, threshold) of the lowest 3D FID of seeds
    0 … n-1 against the objects of `train` (a VoxelDataset, the model's training split), ties as `pick` breaks
    them."""
    if n < 2:
        raise UserError(f"choosing the sampling needs at least 2 shapes (a covariance), not {n}")
    if len(train) < 2:
        raise UserError("choosing the sampling needs at least 2 training objects")
    bad = ([v for v in truncations if not 0.0 < float(v) <= MAX_TRUNCATION]
           + [v for v in thresholds if not 0.0 < float(v) < 1.0])
    if bad or not truncations or not thresholds:
        raise UserError(f"truncations must be in (0, {MAX_TRUNCATION:g}] and thresholds in (0, 1), not "
                        f"{bad or 'none'}")
    f_ref = net(train.voxels)
    total, done, grid = len(truncations) * len(thresholds), 0, []
    for psi in truncations:
        probs = random_probs(sampler, list(range(n)), float(psi), batch)         # (n, 32, 32, 32)
        for t in thresholds:
            solid = probs > float(t)
            grid.append({"truncation": float(psi), "threshold": float(t),
                         "fid": fid_from_features(net(solid), f_ref),
                         "occupancy": float(solid.flatten(1).double().mean())})
            done += 1
            yield {"stage": "choosing ψ and threshold", "done": done, "total": total}
    best = pick(grid)
    yield {"result": {"truncation": best["truncation"], "threshold": best["threshold"], "fid": best["fid"],
                      "grid": grid, "n": n, "seeds": f"0-{n - 1}", "n_ref": len(train), "split": train.split,
                      "classifier": net.name, "lowest_fid": min(g["fid"] for g in grid), "tolerance": TOLERANCE,
                      "criterion": f"lowest 3D FID ({net.name} features) of the seeds' shapes against the "
                                   f"{train.split} split; within {TOLERANCE:.0%} of it, the threshold nearest 0.5"}}
