"""Small MLP generator and critic for low-dimensional point data (the 2-D toy mixtures of GAN papers).

Generator: z (z_dim) -> [Linear + ReLU] x g_layers -> Linear -> a point (point_dim), no output squashing.
Critic: point -> [Linear + LeakyReLU(0.2)] x d_layers -> Linear -> a score (N,), or an embedding
(N, out_dim) when out_dim > 1 (MD-GAN). No batch norm anywhere (safe with gradient penalties and unrolling).
The defaults follow the unrolled-GAN toy (Metz et al. 2017): 256-D z, hidden layers of 128 units.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import Config
from ..registry import ARCHITECTURES
from .base import Family

MAX_LAYERS = 64          # hidden layers of either network (a model file cannot ask for a million modules)


@dataclass
class MLP2DConfig(Config):
    z_dim: int = 256
    point_dim: int = 2
    width: int = 128
    g_layers: int = 2
    d_layers: int = 2
    out_dim: int = 1         # the critic's output: 1 = a score (N,), > 1 = an embedding (N, out_dim)

    def __post_init__(self) -> None:
        if min(self.z_dim, self.point_dim, self.width, self.g_layers, self.d_layers, self.out_dim) < 1:
            raise ValueError("every size and layer count must be positive")
        if max(self.g_layers, self.d_layers) > MAX_LAYERS:
            raise ValueError(f"g_layers and d_layers must be at most {MAX_LAYERS}")


def _mlp(sizes: list[int], act) -> nn.Sequential:
    layers: list[nn.Module] = []
    for cin, cout in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(cin, cout), act()]
    return nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))


class MLP2DGenerator(nn.Module):
    def __init__(self, cfg: MLP2DConfig):
        super().__init__()
        self.cfg = cfg
        self.z_dim = self.w_dim = cfg.z_dim
        self.num_ws = 1
        self.point_dim = cfg.point_dim
        self.net = _mlp([cfg.z_dim] + [cfg.width] * cfg.g_layers + [cfg.point_dim], lambda: nn.ReLU(True))

    def forward(self, z: torch.Tensor) -> torch.Tensor:    # (N, z_dim) -> (N, point_dim)
        return self.net(z)


class MLP2DCritic(nn.Module):
    def __init__(self, cfg: MLP2DConfig):
        super().__init__()
        self.cfg = cfg
        self.net = _mlp([cfg.point_dim] + [cfg.width] * cfg.d_layers + [cfg.out_dim], lambda: nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:    # (N, point_dim) -> (N,), or (N, out_dim) if out_dim > 1
        out = self.net(x)
        return out.squeeze(1) if out.shape[1] == 1 else out


ARCHITECTURES.register("mlp2d")(Family(MLP2DConfig, {"generator": MLP2DGenerator, "critic": MLP2DCritic}, "points"))
