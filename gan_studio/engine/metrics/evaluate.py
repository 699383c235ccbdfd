"""Evaluate a generator against real data: FID, precision/recall (k=3), density/coverage (k=5).

Generated images are seeds 0..n-1 (the same seeds as everywhere else); real images are the first n of
the chosen split. `evaluate_iter` yields progress for GUIs; `evaluate` returns the result dict.
`features` is a feature spec (features.py): "lenet-mnist" (shipped), "lenet-mnist:PATH" or a bare PATH.safetensors
(a LeNet from `gan-studio train-classifier`), or "inception:PATH" for the standard FID Inception when the user has
its weights file. None picks the feature network beside the data, else the shipped one (feature_source.py); the
result names it, the data it was trained on, and carries a `features_note` warning when that is other data.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch

from ..data import load_images
from ..errors import UserError
from ..latent.sampling import generate, seeds_latents
from .feature_source import choose_features, features_report
from .features import get_extractor
from .fid import fid_from_features
from .prdc import density_coverage, precision_recall


def generated_features(G, n: int, extractor, batch: int = 250, truncation_psi: float = 1.0,
                       device=None) -> Iterator[tuple[int, torch.Tensor | None]]:
    feats = []
    for i in range(0, n, batch):
        z = seeds_latents(range(i, min(i + batch, n)), G.z_dim)
        feats.append(extractor(generate(G, z, truncation_psi=truncation_psi, device=device)))
        yield min(i + batch, n), None
    yield n, torch.cat(feats)


def evaluate_iter(G, data_path: str, split: str = "test", n: int = 10000, features: str | None = None,
                  truncation_psi: float = 1.0, device=None) -> Iterator[dict]:
    if n < 10:
        raise UserError(f"--n must be at least 10, not {n}")
    spec, source = choose_features(features, data_path)
    extractor = get_extractor(spec).to(device)
    data = load_images(data_path, split)
    if len(data) < n:
        raise UserError(f"{data_path} ({split}) has {len(data)} images, fewer than --n {n}")
    yield {"stage": "real features", "done": 0, "total": n}
    real = extractor(data.as_float(index=slice(0, n)))
    fake = None
    for done, out in generated_features(G, n, extractor, truncation_psi=truncation_psi, device=device):
        fake = out if out is not None else fake
        yield {"stage": "generating", "done": done, "total": n}
    yield {"stage": "neighbours", "done": n, "total": n}
    precision, recall = precision_recall(real, fake, k=3)
    density, coverage = density_coverage(real, fake, k=5)
    yield {"stage": "done", "result": {
        "fid": fid_from_features(real, fake), "precision": precision, "recall": recall,
        "density": density, "coverage": coverage, "features": extractor.name, "n": n,
        "k_precision_recall": 3, "k_density_coverage": 5, "split": split, "data": str(data_path),
        "truncation_psi": truncation_psi, **extractor.info(), **features_report(extractor, source, data, data_path)}}


def evaluate(G, data_path: str, **kw) -> dict:
    result = None
    for p in evaluate_iter(G, data_path, **kw):
        result = p.get("result", result)
    return result
