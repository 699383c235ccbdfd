"""A small LeNet-style MNIST classifier whose penultimate layer is the `lenet-mnist` feature space for
FID and precision/recall (Inception weights cannot be downloaded here)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import Config
from ..registry import ARCHITECTURES
from .base import Family


@dataclass
class LeNetConfig(Config):
    img_resolution: int = 28
    img_channels: int = 1
    num_classes: int = 10
    feature_dim: int = 128

    def __post_init__(self) -> None:
        if not 4 <= self.img_resolution <= 1024:
            raise ValueError(f"img_resolution must be in [4, 1024], not {self.img_resolution}")
        if self.img_channels not in (1, 3):
            raise ValueError(f"img_channels must be 1 or 3, not {self.img_channels}")
        if self.num_classes < 1 or self.feature_dim < 1:
            raise ValueError("num_classes and feature_dim must be positive")


class LeNet(nn.Module):
    def __init__(self, cfg: LeNetConfig):
        super().__init__()
        self.cfg = cfg
        self.body = nn.Sequential(
            nn.Conv2d(cfg.img_channels, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),     # (N, 32, 14, 14)
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),                  # (N, 64, 7, 7)
            nn.Flatten(), nn.Linear(64 * (cfg.img_resolution // 4) ** 2, cfg.feature_dim), nn.ReLU(),
        )
        self.head = nn.Linear(cfg.feature_dim, cfg.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:   # (N, C, 28, 28) in [-1, 1] -> (N, feature_dim)
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:    # logits (N, num_classes)
        return self.head(self.body(x))


ARCHITECTURES.register("lenet")(Family(LeNetConfig, {"classifier": LeNet}, "classifier"))
