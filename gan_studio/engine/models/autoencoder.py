"""The "dcgan-ae" family: the DCGAN generator with an auto-encoder critic, for the energy-based GANs
(EBGAN, Zhao et al. 2017; BEGAN, Berthelot et al. 2017; their recipe is training/recipe_ae.py).

generator: exactly `DCGANGenerator` (built from the DCGAN fields of the config), so sampling, walks, directions
    and every tab see the one generator interface unchanged.
critic: `AECritic`, x -> encoder (the DCGAN critic's convs, ELU) -> code (`code_dim`, default 64) -> decoder
    (the DCGAN generator's transposed convs, ELU, no batch norm) -> tanh reconstruction in [-1, 1].
    Its energy is the per-sample reconstruction error. It also holds BEGAN's equilibrium variable k_t as a
    buffer, so a checkpoint (the model file) carries it and a resumed run continues from it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import Config
from ..registry import ARCHITECTURES
from .base import Family
from .dcgan import RESOLUTIONS, DCGANConfig, DCGANGenerator


@dataclass
class AEConfig(Config):
    z_dim: int = 64
    img_resolution: int = 28
    img_channels: int = 1
    width: int = 64          # channels of the critic's first conv / the decoder's last hidden layer
    code_dim: int = 64       # the auto-encoder's bottleneck (the codes EBGAN's pull-away term reads)

    def __post_init__(self) -> None:
        self.dcgan()                                   # the DCGAN fields' own checks
        if self.code_dim < 1:
            raise ValueError("code_dim must be positive")

    def dcgan(self) -> DCGANConfig:
        """The generator's (and the critic's layer sizes') DCGAN config."""
        return DCGANConfig(z_dim=self.z_dim, img_resolution=self.img_resolution, img_channels=self.img_channels,
                           width=self.width)


def ae_generator(cfg: AEConfig) -> DCGANGenerator:
    return DCGANGenerator(cfg.dcgan())


class AECritic(nn.Module):
    """forward(x) -> reconstruction (N, C, H, W); encode(x) -> codes (N, code_dim); energy(x, p) -> (N,)."""

    def __init__(self, cfg: AEConfig):
        super().__init__()
        self.cfg = cfg
        dc = cfg.dcgan()
        chans = dc.channels()                      # e.g. [128, 64]: decoder order; the encoder runs backwards
        base, _ = RESOLUTIONS[cfg.img_resolution]
        self.base, self.top = base, chans[0]
        enc: list[nn.Module] = []
        cin = cfg.img_channels
        for cout in chans[::-1]:
            enc += [nn.Conv2d(cin, cout, 4, 2, 1), nn.ELU(inplace=True)]
            cin = cout
        self.encoder = nn.Sequential(*enc)
        self.to_code = nn.Linear(chans[0] * base * base, cfg.code_dim)
        self.from_code = nn.Sequential(nn.Linear(cfg.code_dim, chans[0] * base * base), nn.ELU(inplace=True))
        dec: list[nn.Module] = []
        for a, b in zip(chans[:-1], chans[1:]):
            dec += [nn.ConvTranspose2d(a, b, 4, 2, 1), nn.ELU(inplace=True)]
        dec += [nn.ConvTranspose2d(chans[-1], cfg.img_channels, 4, 2, 1), nn.Tanh()]
        self.decoder = nn.Sequential(*dec)
        self.register_buffer("k_t", torch.zeros(()))    # BEGAN's equilibrium control variable (EBGAN: unused)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_code(self.encoder(x).flatten(1))

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        h = self.from_code(code).view(code.shape[0], self.top, self.base, self.base)
        return self.decoder(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def energy(self, x: torch.Tensor, power: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """(per-sample mean |x - D(x)|^power over pixels (N,), the codes (N, code_dim))."""
        code = self.encode(x)
        err = (x - self.decode(code)).abs().pow(power)
        return err.flatten(1).mean(1), code


ARCHITECTURES.register("dcgan-ae")(Family(AEConfig, {"generator": ae_generator, "critic": AECritic},
                                          "image-generator"))
