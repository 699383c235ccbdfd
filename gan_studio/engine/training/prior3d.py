"""Fit a voxel model's latent prior (models/voxel_prior.py) to its own training objects, as `gan-studio prior3d`
does:

    1. every training object is drawn from `views` random views (data/views.py, the training renderer, seeds
       seed … seed + views - 1), and the encoder's posterior means of those views are averaged: one latent each;
    2. per class with at least MIN_OBJECTS objects (the others are left out, and named), the mean and covariance
       of those latents, the covariance shrunk towards its diagonal by `shrink` (a class has a few hundred objects
       in 200 dimensions: without it the covariance is singular), and its Cholesky factor; the mixture weights are
       the classes' shares of the training objects.

Measured on `modelnet10-iwgan` (seeds 0-999; 3D FID against the training objects / the test split, floor 244;
`eval3d --choose-sampling` then picks ψ): one view, shrink 0.1: 146 / 398 at ψ 1.4; shrink 0.3: 155 / 415;
four views averaged: 152 / 427 (averaging contracts the latents: the shapes get blander). A single Gaussian over
all classes reaches 298 / 512 at best: the classes are separate clumps in the encoder's latent space.
"""
from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from ..bundle import Bundle
from ..data.views import render_random
from ..data.voxels import VoxelDataset
from ..errors import UserError
from ..models.voxel_iwgan import MAX_PRIOR_COMPONENTS, VoxelIWGANConfig
from ..models.voxel_prior import LatentPrior

MAX_VIEWS = 64
MIN_OBJECTS = 2                  # a class needs a covariance


@torch.no_grad()
def encode_objects(encoder, voxels: torch.Tensor, views: int = 1, seed: int = 0, chunk: int = 256,
                   device=None) -> Iterator[dict]:
    """Yields progress {"stage", "done", "total"}, then {"latents": (N, z_dim)}: each object's posterior mean
    averaged over `views` random views (view k from seed + k)."""
    device = device or next(encoder.parameters()).device
    encoder.eval()
    total, acc = views * len(voxels), torch.zeros(len(voxels), encoder.z_dim)
    for k in range(views):
        gen = torch.Generator().manual_seed(int(seed) + k)
        for i in range(0, len(voxels), chunk):
            imgs, _ = render_random(voxels[i:i + chunk], gen, encoder.cfg.image_size)
            acc[i:i + chunk] += encoder(imgs.to(device))[0].float().cpu()
            yield {"stage": "encoding training views", "done": k * len(voxels) + min(i + chunk, len(voxels)),
                   "total": total}
    yield {"latents": acc / views}


def fit_mixture(latents: torch.Tensor, labels: torch.Tensor, n_classes: int, shrink: float) -> dict:
    """Gaussians for the classes with at least MIN_OBJECTS objects -> {"classes" [K] (their indices), "weights"
    (K,), "means" (K, d), "scales" (K, d, d), "counts" [K]}; UserError when no class has enough."""
    z = latents.double()
    d = z.shape[1]
    counts = torch.bincount(labels, minlength=n_classes)
    keep = [c for c in range(n_classes) if counts[c] >= MIN_OBJECTS]
    if not keep:
        raise UserError(f"no class has {MIN_OBJECTS} or more training objects: no covariance to fit")
    k = len(keep)
    means, scales = torch.zeros(k, d, dtype=torch.double), torch.zeros(k, d, d, dtype=torch.double)
    for i, c in enumerate(keep):
        zc = z[labels == c]
        cov = torch.cov(zc.T)
        cov = (1 - shrink) * cov + shrink * torch.diag(torch.diag(cov))
        jitter = 1e-6 * float(torch.diag(cov).mean().clamp_min(1e-12))
        scales[i] = torch.linalg.cholesky(cov + jitter * torch.eye(d, dtype=torch.double))
        means[i] = zc.mean(0)
    kept = counts[keep].double()
    return {"classes": keep, "weights": kept / kept.sum(), "means": means, "scales": scales,
            "counts": [int(n) for n in counts[keep]]}


def fit_prior(encoder, data: VoxelDataset, views: int = 1, shrink: float = 0.1, seed: int = 0,
              device=None) -> Iterator[dict]:
    """Yields progress, then {"result": {"prior": LatentPrior, "report": {...}}} (see the module doc)."""
    if not 1 <= views <= MAX_VIEWS:
        raise UserError(f"views must be 1 to {MAX_VIEWS}, not {views}")
    if not 0.0 <= shrink <= 1.0 or math.isnan(shrink):
        raise UserError(f"shrink must be in [0, 1], not {shrink:g}")
    if not 1 <= len(data.classes) <= MAX_PRIOR_COMPONENTS:
        raise UserError(f"a prior needs 1 to {MAX_PRIOR_COMPONENTS} classes, not {len(data.classes)}")
    latents = None
    for p in encode_objects(encoder, data.voxels, views, seed, device=device):
        if "latents" in p:
            latents = p["latents"]
        else:
            yield p
    fit = fit_mixture(latents, data.labels, len(data.classes), shrink)
    cfg = VoxelIWGANConfig.from_dict(encoder.cfg.to_dict() | {"prior_components": len(fit["classes"])})
    prior = LatentPrior(cfg)
    for name in ("weights", "means", "scales"):
        getattr(prior, name).copy_(fit[name].float())
    yield {"result": {"prior": prior, "report": {
        "components": [data.classes[c] for c in fit["classes"]], "counts": fit["counts"],
        "left_out": [c for i, c in enumerate(data.classes) if i not in fit["classes"]],
        "views": views, "shrink": shrink,
        "seed": seed, "split": data.split, "n_objects": len(data), "dataset": data.name,
        "latent_spread": round(float(latents.std(0).mean()), 4)}}}


def with_prior(bundle: Bundle, prior: LatentPrior, report: dict, command: str) -> tuple[dict, dict]:
    """(networks, metadata) of `bundle` with `prior` added: the config counts its components, the metadata says
    how it was fitted, and the random shapes' ψ and threshold (chosen for the old sampler) are dropped until
    `eval3d --choose-sampling` chooses them for the new one."""
    if bundle.kind != "voxel-model" or "encoder" not in bundle.networks:
        raise UserError(f"{bundle.name} is not a voxel model with an encoder")
    nets = {role: net.float().cpu() for role, net in bundle.networks.items() if role != "latent_prior"}
    nets["latent_prior"] = prior.cpu()
    meta = dict(bundle.meta)
    meta["config"] = dict(meta.get("config") or {}, prior_components=prior.n_components)
    meta["prior"] = dict(report, command=command)
    for key in ("sample_threshold", "truncation"):
        meta.pop(key, None)
    return nets, meta
