"""Intersection over union of occupancy grids, the reconstruction metric of the 3D model.

    iou(pred, target) -> (N,)                 per object, pred/target bool (N, X, Y, Z)
    iou_at_thresholds(probs, target, ts)      (N, T) for many thresholds at once (threshold selection)
    per_class(ious, labels, classes)          {class: mean}, and the mean over classes
    class_mean_shapes / baseline_iou          predicting the mean training shape of the true class
    evaluate_reconstruction(...)              a generator: progress dicts, then {"result": {...}}

Views are rendered in one of the renderer's styles (shaded, lines, silhouette: data/views.py) from eval3d's seeded
cameras, so a style's figure differs from the shaded one only by how the picture was made. With `refine` > 0
each encoding is refined for that many steps (latent/voxel_refine.py, camera searched as for a user's picture)
at the given threshold.

Conventions: an object whose prediction and truth are both empty scores 1.0; the threshold is chosen on
training data (never the evaluated split) as the one maximising the mean IoU over objects.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from ..data.views import random_params, render_views
from ..device import device_of
from ..latent.voxel_refine import RefineSettings, refine_latents

THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.05, 0.96, 0.05))
REFINE_BATCH = 16               # objects refined together (memory: the pose search renders 72 views of each)


def iou(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-object IoU of boolean grids (N, ...) -> (N,) float64."""
    p, t = pred.reshape(pred.shape[0], -1).bool(), target.reshape(target.shape[0], -1).bool()
    inter = (p & t).sum(1).double()
    union = (p | t).sum(1).double()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(inter))


def iou_at_thresholds(probs: torch.Tensor, target: torch.Tensor,
                      thresholds: Sequence[float] = THRESHOLDS, chunk: int = 256) -> torch.Tensor:
    """Per-object IoU of probabilities (N, ...) thresholded (> t) at each t, against bool target: (N, T).

    One pass: each voxel's bucket among the thresholds, counted per object, then cumulative counts."""
    bounds = torch.tensor(thresholds, dtype=torch.float32)
    n_t = len(thresholds)
    out = []
    for i in range(0, probs.shape[0], chunk):
        p = probs[i:i + chunk].reshape(-1, probs[0].numel()).float().contiguous()   # (n, V)
        t = target[i:i + chunk].reshape(p.shape).bool()
        n = p.shape[0]
        idx = (torch.bucketize(p, bounds) + (n_t + 1) * torch.arange(n)[:, None]).flatten()
        all_ = torch.bincount(idx, minlength=n * (n_t + 1)).view(n, n_t + 1).double()
        pos = torch.bincount(idx, weights=t.flatten().double(), minlength=n * (n_t + 1)).view(n, n_t + 1)
        above_all = all_.flip(1).cumsum(1).flip(1)[:, 1:]                      # (n, T): count of p > t_j
        above_pos = pos.flip(1).cumsum(1).flip(1)[:, 1:]
        union = above_all + t.sum(1, keepdim=True).double() - above_pos
        out.append(torch.where(union > 0, above_pos / union.clamp(min=1), torch.ones_like(union)))
    return torch.cat(out) if out else torch.zeros(0, n_t, dtype=torch.float64)


def per_class(ious: torch.Tensor, labels: torch.Tensor, classes: Sequence[str]) -> tuple[dict, float]:
    """Mean IoU per class name (classes without objects are left out) and the mean over those classes."""
    out = {}
    for c, name in enumerate(classes):
        m = labels == c
        if m.any():
            out[name] = float(ious[m].mean())
    return out, float(np.mean(list(out.values()))) if out else float("nan")


def choose_threshold(ious_by_t: torch.Tensor, thresholds: Sequence[float] = THRESHOLDS) -> float:
    """The threshold with the best mean IoU over objects, from an (N, T) matrix."""
    return float(thresholds[int(ious_by_t.mean(0).argmax())])


def class_mean_shapes(voxels: torch.Tensor, labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Mean occupancy of each class's training grids: (C, X, Y, Z) float32 (zeros for absent classes)."""
    out = torch.zeros(n_classes, *voxels.shape[1:])
    for c in range(n_classes):
        m = labels == c
        if m.any():
            out[c] = voxels[m].float().mean(0)
    return out


def baseline_iou(train, test, thresholds: Sequence[float] = THRESHOLDS) -> dict:
    """IoU of predicting the class-mean training shape of each test object's true class, thresholded per
    class at the threshold best on that class's training objects."""
    means = class_mean_shapes(train.voxels, train.labels, len(train.classes))    # (C, 32, 32, 32)
    per_t = torch.zeros(len(train.classes))
    for c in range(len(train.classes)):
        m = train.labels == c
        if m.any():
            per_t[c] = choose_threshold(iou_at_thresholds(means[c].expand(int(m.sum()), *means.shape[1:]),
                                                          train.voxels[m], thresholds), thresholds)
    ious = iou(means[test.labels] > per_t[test.labels].view(-1, 1, 1, 1), test.voxels)
    classes, class_mean = per_class(ious, test.labels, test.classes)
    return {"mean_iou": float(ious.mean()), "class_mean_iou": class_mean, "per_class": classes,
            "threshold": {c: round(float(per_t[i]), 2) for i, c in enumerate(train.classes)}, "n": len(test)}


def reconstruct_views(encoder, generator, images: torch.Tensor, device=None, batch: int = 64,
                      refine: RefineSettings | None = None, threshold: float = 0.5) -> torch.Tensor:
    """Views (N, 1, S, S) in [0, 1] -> occupancy probabilities (N, 32, 32, 32) on the CPU, from E's mean
    (refined for `refine.steps` steps at `threshold` when given)."""
    device = device or device_of(generator)
    encoder.eval()
    generator.eval()
    outs = []
    for i in range(0, images.shape[0], batch):
        with torch.no_grad():
            mean, logvar = encoder(images[i:i + batch].to(device))
        if refine is not None and refine.steps:
            for j in range(0, len(mean), REFINE_BATCH):
                z, _ = refine_latents(generator, mean[j:j + REFINE_BATCH], logvar[j:j + REFINE_BATCH],
                                      images[i + j:i + j + REFINE_BATCH], refine, threshold)
                mean[j:j + REFINE_BATCH] = z.to(mean.device)
        with torch.no_grad():
            outs.append(generator(mean)[:, 0].float().cpu())
    return torch.cat(outs) if outs else torch.zeros(0, 32, 32, 32)


def _ious_by_threshold(encoder, generator, data, seed: int, chunk: int, thresholds, device,
                       stage: str, style: str = "shaded", refine: RefineSettings | None = None) -> Iterator[dict]:
    """Yield progress over `data` in chunks; the last dict carries "ious" (N, T)."""
    params = random_params(len(data), torch.Generator().manual_seed(int(seed)))   # one view per object
    size = encoder.cfg.image_size
    rows = []
    for i in range(0, len(data), chunk):
        vox = data.voxels[i:i + chunk]
        imgs = render_views(vox, params.slice(i, i + chunk), size, style=style)
        probs = reconstruct_views(encoder, generator, imgs, device, refine=refine, threshold=thresholds[0])
        rows.append(iou_at_thresholds(probs, vox, thresholds))
        yield {"stage": stage, "done": min(i + chunk, len(data)), "total": len(data)}
    yield {"stage": stage, "ious": torch.cat(rows)}


def evaluate_reconstruction(encoder, generator, test, train=None, threshold: float | None = None,
                            seed: int = 0, chunk: int = 64, device=None,
                            thresholds: Sequence[float] = THRESHOLDS, style: str = "shaded",
                            refine: RefineSettings | None = None) -> Iterator[dict]:
    """Mean IoU of single-view reconstructions of `test` (a VoxelDataset), one seeded view per object, drawn
    in `style`, refined by `refine` (which needs a given threshold).

    The threshold is `threshold` if given, else chosen on `train` (views from seed + 1). Yields progress
    dicts {"stage", "done", "total"}, then {"result": {...}}."""
    steps = refine.steps if refine is not None else 0
    if threshold is None:
        if train is None or steps:
            raise ValueError("give a threshold" + ("" if steps else " or training data to choose it on"))
        for p in _ious_by_threshold(encoder, generator, train, seed + 1, chunk, thresholds, device, "threshold"):
            if "ious" in p:
                threshold = choose_threshold(p["ious"], thresholds)
            else:
                yield p
        source = f"chosen on {len(train)} training objects"
    else:
        source = "given"
    t0 = time.perf_counter()
    for p in _ious_by_threshold(encoder, generator, test, seed, chunk, [threshold], device, "evaluate", style,
                                refine):
        if "ious" in p:
            ious = p["ious"][:, 0]
        else:
            yield p
    classes, class_mean = per_class(ious, test.labels, test.classes)
    yield {"result": {"mean_iou": float(ious.mean()), "class_mean_iou": class_mean, "per_class": classes,
                      "threshold": float(threshold), "threshold_source": source, "n": len(test),
                      "split": test.split, "seed": int(seed), "style": style, "refine_steps": steps,
                      "ms_per_object": round(1000 * (time.perf_counter() - t0) / max(len(test), 1), 1)}}
