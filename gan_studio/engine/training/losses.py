"""GAN losses by name, each with the defaults of its paper (optimiser, learning rate, betas, n_critic, regulariser).

A loss maps critic outputs to scalars: `critic_loss(d_real, d_fake)` and `generator_loss(d_fake)`.
The training zoo adds more entries here without touching the loop.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..registry import LOSSES


@dataclass(frozen=True)
class LossSpec:
    name: str
    critic_loss: callable
    generator_loss: callable
    n_critic: int = 1
    optimizer: str = "adam"
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    reg: str = "none"                 # default regulariser
    reg_weight: float = 0.0
    clip: float | None = None         # weight clipping of the critic (WGAN)
    description: str = ""
    extra: dict = field(default_factory=dict)


def _ns_critic(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def _ns_generator(d_fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-d_fake).mean()


def _wgan_critic(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    return d_fake.mean() - d_real.mean()


def _wgan_generator(d_fake: torch.Tensor) -> torch.Tensor:
    return -d_fake.mean()


LOSSES.register("ns")(LossSpec(
    "ns", _ns_critic, _ns_generator, n_critic=1, lr=2e-4, betas=(0.5, 0.999),
    description="non-saturating GAN (Goodfellow et al. 2014), DCGAN optimiser settings"))
LOSSES.register("wgan-gp")(LossSpec(
    "wgan-gp", _wgan_critic, _wgan_generator, n_critic=5, lr=1e-4, betas=(0.0, 0.9), reg="gp", reg_weight=10.0,
    description="WGAN with gradient penalty (Gulrajani et al. 2017): lambda 10, n_critic 5, Adam 1e-4 (0, 0.9)"))
