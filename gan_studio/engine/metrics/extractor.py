"""The feature-extractor interface that FID and precision/recall use; the extractors are features.py's
(lenet-mnist) and inception.py's, registered by name in FEATURES."""
from __future__ import annotations

import torch


class FeatureExtractor:
    name: str
    dim: int

    def __call__(self, images: torch.Tensor) -> torch.Tensor:   # (N, C, H, W) in [-1, 1] -> (N, dim) float64
        raise NotImplementedError

    def to(self, device) -> FeatureExtractor:
        """Run on `device` where that helps (a big network); the default stays on the CPU."""
        return self

    def info(self) -> dict:
        """Extra facts for a metrics result (e.g. which weights file)."""
        return {}

    def trained_on(self) -> dict | None:
        """The data the network was trained on, from its metadata ({"name", "path", "n", "fingerprints"};
        "general": True for general-purpose features such as ImageNet's), or None when unknown."""
        return None
