"""DCGAN-style generator and critic for 28, 32 or 64 px images with 1 or 3 channels.

Generator: z -> linear -> (ch0, b, b) -> [ConvT 4x4 s2 + BN + ReLU]* -> ConvT -> tanh, b = 7 for 28 px, 4 otherwise.
Critic: the mirror image with LeakyReLU(0.2) and no batch norm (safe with gradient penalties), linear output:
one score per image, or an `out_dim`-dimensional embedding (MD-GAN's critic) when out_dim > 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import Config
from ..registry import ARCHITECTURES
from .base import Family, ImageGenerator

RESOLUTIONS = {28: (7, 2), 32: (4, 3), 64: (4, 4)}  # resolution -> (base size, upsamplings)


@dataclass
class DCGANConfig(Config):
    z_dim: int = 64
    img_resolution: int = 28
    img_channels: int = 1
    width: int = 64          # channels of the last hidden layer; earlier layers double it
    out_dim: int = 1         # the critic's output: 1 = a score (N,), > 1 = an embedding (N, out_dim)

    def __post_init__(self) -> None:
        if self.img_resolution not in RESOLUTIONS:
            raise ValueError(f"img_resolution must be one of {sorted(RESOLUTIONS)}, not {self.img_resolution}")
        if self.img_channels not in (1, 3):
            raise ValueError(f"img_channels must be 1 or 3, not {self.img_channels}")
        if self.z_dim < 1 or self.width < 1 or self.out_dim < 1:
            raise ValueError("z_dim, width and out_dim must be positive")

    @classmethod
    def infer_from_state_dict(cls, sd: dict) -> dict:
        """Config of a DCGAN generator from its weight shapes (for plain state_dict files)."""
        fc = sd["fc.0.weight"]                                    # (ch0 * b * b, z_dim)
        convs = sorted(k for k in sd if k.startswith("net.") and k.endswith(".weight") and sd[k].ndim == 4)
        res = {2: 28, 3: 32, 4: 64}.get(len(convs))
        if res is None:
            raise ValueError(f"{len(convs)} transposed convolutions match no known resolution")
        last = sd[convs[-1]]                                      # (width, C, 4, 4)
        return cls(z_dim=fc.shape[1], img_resolution=res, img_channels=last.shape[1],
                   width=last.shape[0]).to_dict()

    def channels(self) -> list[int]:
        """Hidden channels from the base layer outwards, e.g. [128, 64] for 28 px at width 64."""
        _, ups = RESOLUTIONS[self.img_resolution]
        return [self.width * 2 ** (ups - 1 - i) for i in range(ups)]


class DCGANGenerator(ImageGenerator):
    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        self.cfg = cfg
        self.z_dim = self.w_dim = cfg.z_dim
        self.num_ws = 1
        self.img_channels, self.img_resolution = cfg.img_channels, cfg.img_resolution
        base, _ = RESOLUTIONS[cfg.img_resolution]
        chans = cfg.channels()
        self.base = base
        self.fc = nn.Sequential(nn.Linear(cfg.z_dim, chans[0] * base * base, bias=False),
                                nn.BatchNorm1d(chans[0] * base * base), nn.ReLU(True))
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(chans[-1], cfg.img_channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def sefa_weight(self) -> torch.Tensor:
        """The weight that first maps the latent (out, z_dim), for SeFa."""
        return self.fc[0].weight

    def first_layer(self, z: torch.Tensor) -> torch.Tensor:
        """First-layer activations (N, ch0 * b * b), for GANSpace."""
        return self.fc(z)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        x = self.fc(ws[:, 0])                                        # (N, ch0 * b * b)
        x = x.view(x.shape[0], -1, self.base, self.base)             # (N, ch0, b, b)
        return self.net(x)                                           # (N, C, H, W) in [-1, 1]


class DCGANCritic(nn.Module):
    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        self.cfg = cfg
        chans = cfg.channels()[::-1]          # e.g. [64, 128]
        base, _ = RESOLUTIONS[cfg.img_resolution]
        layers: list[nn.Module] = []
        cin = cfg.img_channels
        for cout in chans:
            layers += [nn.Conv2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            cin = cout
        self.net = nn.Sequential(*layers)
        self.fc = nn.Linear(chans[-1] * base * base, cfg.out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N,), or (N, out_dim) if out_dim > 1
        out = self.fc(self.net(x).flatten(1))
        return out.squeeze(1) if out.shape[1] == 1 else out


ARCHITECTURES.register("dcgan")(Family(DCGANConfig, {"generator": DCGANGenerator, "critic": DCGANCritic},
                                       "image-generator"))
