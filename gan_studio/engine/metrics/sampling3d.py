"""How a voxel model's random shapes are drawn: the truncation ψ of the seeds' latents and the occupancy threshold,
chosen together on the model's own training objects (`eval3d --choose-sampling`, stored by `--write` as the model
file's `truncation` and `sample_threshold`).

The reconstruction threshold is chosen for IoU on training views; random shapes have no true shape to score, so
their pair is the one whose shapes (seeds 0 … n-1) are nearest the training objects in the 3D FID of
`voxnet-modelnet10` (shapes3d.py): one Fréchet distance per (ψ, threshold) on the grid, the lowest wins. Only
training objects are used, so the test split's figures stay an honest report. The two knobs are not independent
(a smaller ψ gives fuller, blander shapes; a lower threshold fuller ones too), which is why they are chosen as a
pair and not one after the other.

Measured on the `modelnet10-iwgan` sampling generator (unchanged since step 15,066), 1,000 seeds (test-split 3D
FID, floor 244): ψ 1 at the reconstruction threshold 0.55 scores 553; ψ 1 at 0.3 509; ψ 0.8 at 0.3 493; ψ 0.6 at
0.3 561, ψ 0.5 638 (too bland). Re-estimating the generator's batch-norm statistics (batches of 16, 64 or 256; on
ψ-scaled z) moved it by under 1 %. `eval3d --choose-sampling` picked ψ 0.8 at 0.35 (468 against the training
objects; test 497, 2.04x the floor).
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


def choose_sampling(net: VoxNetFeatures, sampler, train, n: int = 1000,
                    truncations: Sequence[float] = TRUNCATIONS, thresholds: Sequence[float] = THRESHOLDS,
                    batch: int = 50) -> Iterator[dict]:
    """Yields progress {"stage", "done", "total"}, then {"result": {"truncation", "threshold", "fid", "grid": [...],
    "n", "n_ref", "split", "criterion"}}: the (ψ, threshold) of the lowest 3D FID of seeds 0 … n-1 against the
    objects of `train` (a VoxelDataset, the model's training split)."""
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
    best = min(grid, key=lambda g: g["fid"])
    yield {"result": {"truncation": best["truncation"], "threshold": best["threshold"], "fid": best["fid"],
                      "grid": grid, "n": n, "seeds": f"0-{n - 1}", "n_ref": len(train), "split": train.split,
                      "classifier": net.name,
                      "criterion": f"lowest 3D FID ({net.name} features) of the seeds' shapes against the "
                                   f"{train.split} split"}}
