"""A small VoxNet-style 3D CNN (Maturana & Scherer 2015) that classifies 32³ occupancy grids; its penultimate
layer is the `voxnet-modelnet10` feature space for the 3D metrics (a "3D FID", random-shape confidence), as
`lenet` is for 2-D digits.

    (N, 1, 32, 32, 32) occupancy in [0, 1]
    -> Conv3d 5³ stride 2 (w)  + BN + ReLU      16³
    -> Conv3d 3³ stride 2 (2w) + BN + ReLU       8³
    -> Conv3d 3³ (4w) + BN + ReLU + MaxPool 2    4³
    -> Linear (feature_dim) + ReLU               the features
    -> Dropout -> Linear (num_classes)           the logits

Grids are indexed [x, y, z] with z up, as the ModelNet10 32³ data.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import Config
from ..registry import ARCHITECTURES
from .base import Family

RESOLUTION = 32


@dataclass
class VoxNetConfig(Config):
    resolution: int = RESOLUTION
    num_classes: int = 10
    width: int = 16              # channels of the first conv; doubles twice
    feature_dim: int = 128
    dropout: float = 0.5

    def __post_init__(self) -> None:
        if self.resolution != RESOLUTION:
            raise ValueError(f"resolution must be {RESOLUTION}, not {self.resolution}")
        if not 1 <= self.num_classes <= 1000 or not 1 <= self.width <= 256 or not 1 <= self.feature_dim <= 4096:
            raise ValueError("num_classes must be in [1, 1000], width in [1, 256], feature_dim in [1, 4096]")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), not {self.dropout}")


class VoxNet(nn.Module):
    def __init__(self, cfg: VoxNetConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.body = nn.Sequential(
            nn.Conv3d(1, w, 5, 2, 2), nn.BatchNorm3d(w), nn.ReLU(True),                  # (N, w, 16, 16, 16)
            nn.Conv3d(w, 2 * w, 3, 2, 1), nn.BatchNorm3d(2 * w), nn.ReLU(True),          # (N, 2w, 8, 8, 8)
            nn.Conv3d(2 * w, 4 * w, 3, 1, 1), nn.BatchNorm3d(4 * w), nn.ReLU(True),
            nn.MaxPool3d(2),                                                             # (N, 4w, 4, 4, 4)
            nn.Flatten(), nn.Linear(4 * w * 64, cfg.feature_dim), nn.ReLU(True),
        )
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(cfg.feature_dim, cfg.num_classes))

    @staticmethod
    def _input(x: torch.Tensor) -> torch.Tensor:
        """(N, 32, 32, 32) or (N, 1, 32, 32, 32), bool / uint8 / float in [0, 1] -> (N, 1, 32, 32, 32) float."""
        x = x if x.ndim == 5 else x.unsqueeze(1)
        return x.float() * 2 - 1

    def features(self, x: torch.Tensor) -> torch.Tensor:    # -> (N, feature_dim)
        return self.body(self._input(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:     # -> logits (N, num_classes)
        return self.head(self.body(self._input(x)))


ARCHITECTURES.register("voxnet")(Family(VoxNetConfig, {"classifier": VoxNet}, "classifier"))
