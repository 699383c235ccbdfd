"""The "dcgan-enc" family: the DCGAN generator and critic plus an encoder E: image -> latent, for the
encoder-regularised GANs (MRGAN, Che et al. 2017; its recipe is training/recipe_mrgan.py).

generator: exactly `DCGANGenerator`, so every tab sees the one generator interface unchanged.
critic: `DCGANCritic` (one logit). diffusion_critic: a second `DCGANCritic`, trained only by the manifold-diffusion
    variant (MDGAN) to tell G(E(x)) from G(z).
encoder: the DCGAN critic's convolutions with a z_dim-wide linear output: x (N, C, H, W) -> z (N, z_dim).
Every network is saved in the model file, the encoder included (`Bundle.networks["encoder"]`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import Config
from ..registry import ARCHITECTURES
from .base import Family
from .dcgan import DCGANConfig, DCGANCritic, DCGANGenerator


@dataclass
class EncodedConfig(Config):
    z_dim: int = 64
    img_resolution: int = 28
    img_channels: int = 1
    width: int = 64

    def __post_init__(self) -> None:
        self.dcgan()                                   # the DCGAN fields' own checks

    def dcgan(self, out_dim: int = 1) -> DCGANConfig:
        return DCGANConfig(z_dim=self.z_dim, img_resolution=self.img_resolution, img_channels=self.img_channels,
                           width=self.width, out_dim=out_dim)


class Encoder(nn.Module):
    """x (N, C, H, W) -> z (N, z_dim): the DCGAN critic's body with a z_dim-wide output."""

    def __init__(self, cfg: EncodedConfig):
        super().__init__()
        self.body = DCGANCritic(cfg.dcgan(out_dim=cfg.z_dim))
        self.z_dim = cfg.z_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).reshape(x.shape[0], self.z_dim)


ARCHITECTURES.register("dcgan-enc")(Family(EncodedConfig, {
    "generator": lambda cfg: DCGANGenerator(cfg.dcgan()), "critic": lambda cfg: DCGANCritic(cfg.dcgan()),
    "diffusion_critic": lambda cfg: DCGANCritic(cfg.dcgan()), "encoder": Encoder}, "image-generator"))
