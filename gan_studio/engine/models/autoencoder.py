"""The "dcgan-ae" family: the DCGAN generator with an auto-encoder critic, for the energy-based GANs
(EBGAN, Zhao et al. 2017; BEGAN, Berthelot et al. 2017; their recipe is training/recipe_ae.py).

`style` (the recipe picks it: "began" for --loss began, "dcgan" for EBGAN and every file written before it existed):
"dcgan": generator exactly `DCGANGenerator` (batch norm, ReLU, tanh), decoder with a tanh output.
"began": the BEGAN paper's design (Berthelot et al. 2017): generator = decoder = linear -> ELU -> [ConvT + ELU]*
    -> ConvT with a LINEAR output and no batch norm. Why: the critic's L1 energy of a blank (all -1) image must keep
    a gradient, to the critic (for k_t's push) and to the generator (to leave it). Behind a tanh both vanish at -1
    (tanh'(-1) = 0): trained on MNIST's -1 backgrounds, the decoder saturates there, and a generator driven to
    blank images saturates too, so neither could move out once there. The generator clamps to [-1, 1] in eval
    mode (sampling, every tab); training sees its linear output.
Either way the generator is a `DCGANGenerator` (the one generator interface for sampling, walks, directions).
critic: `AECritic`, x -> encoder (the DCGAN critic's convs, ELU) -> code (`code_dim`, default 64) -> decoder
    (the DCGAN generator's transposed convs, ELU, no batch norm). Its energy is the per-sample reconstruction
    error. It also holds BEGAN's equilibrium variable k_t as a buffer, so a checkpoint (the model file) carries
    it and a resumed run continues from it.
    code_norm "batch" (an option; "none", the papers' plain code, is the default): batch norm on the codes, so a
    batch of near-identical fakes has near-zero normalised codes and decodes to one image that matches none of
    them: the critic sees a collapsed batch as a whole (recipe_ae.py's table: on MNIST it removed BEGAN's "1" mode
    but gave squiggles, not digits). The energy of one image then depends on its batch in training mode.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import Config
from ..registry import ARCHITECTURES
from .base import Family
from .began_nets import BEGANDecoder, BEGANEncoder, glorot_init
from .dcgan import RESOLUTIONS, DCGANConfig, DCGANGenerator


@dataclass
class AEConfig(Config):
    z_dim: int = 64
    img_resolution: int = 28
    img_channels: int = 1
    width: int = 64          # channels of the critic's first conv / the decoder's last hidden layer
    code_dim: int = 64       # the auto-encoder's bottleneck (the codes EBGAN's pull-away term reads)
    style: str = "dcgan"     # "dcgan" (BN generator, tanh outputs) or "began" (the paper's: ELU, linear outputs)
    code_norm: str = "none"  # "batch": batch norm on the codes (the critic then sees each batch as a whole)
    z_dist: str = "normal"   # "uniform": the generator reads z through Phi (2 Phi(z) - 1 ~ U(-1, 1), the paper's z)
    skip: bool = False       # style "began-nn": h0 injected into every decoder / generator level (began_nets.py)
    g_norm: str = "none"     # style "began-nn": "batch": batch norm in the generator's blocks (not the paper's)

    def __post_init__(self) -> None:
        self.dcgan()                                   # the DCGAN fields' own checks
        if self.code_dim < 1:
            raise ValueError("code_dim must be positive")
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {', '.join(STYLES)}, not {self.style!r}")
        if self.code_norm not in CODE_NORMS:
            raise ValueError(f"code_norm must be one of {', '.join(CODE_NORMS)}, not {self.code_norm!r}")
        if self.z_dist not in Z_DISTS:
            raise ValueError(f"z_dist must be one of {', '.join(Z_DISTS)}, not {self.z_dist!r}")
        if self.skip and self.style != "began-nn":
            raise ValueError("skip needs style 'began-nn'")
        if self.g_norm not in CODE_NORMS or (self.g_norm != "none" and self.style != "began-nn"):
            raise ValueError(f"g_norm is one of {', '.join(CODE_NORMS)}, with style 'began-nn' only")

    def dcgan(self) -> DCGANConfig:
        """The generator's (and the critic's layer sizes') DCGAN config."""
        return DCGANConfig(z_dim=self.z_dim, img_resolution=self.img_resolution, img_channels=self.img_channels,
                           width=self.width)


STYLES = ("dcgan", "began", "began-nn")
CODE_NORMS = ("none", "batch")
Z_DISTS = ("normal", "uniform")


def _levels(cfg: AEConfig) -> tuple[int, int]:
    """(base size, levels) of the began-nn networks: 7 -> 14 -> 28 for 28 px (3 levels), 4 -> ... otherwise."""
    base, ups = RESOLUTIONS[cfg.img_resolution]
    return base, ups + 1


def _up_stack(chans: list[int], out_channels: int) -> list[nn.Module]:
    """[ConvT 4x4 s2 + ELU]* -> ConvT to out_channels, linear (BEGAN's generator and decoder)."""
    layers: list[nn.Module] = []
    for a, b in zip(chans[:-1], chans[1:]):
        layers += [nn.ConvTranspose2d(a, b, 4, 2, 1), nn.ELU(inplace=True)]
    return layers + [nn.ConvTranspose2d(chans[-1], out_channels, 4, 2, 1)]


class BEGANGenerator(DCGANGenerator):
    """The DCGAN generator's interface with BEGAN's layers, no batch norm, a linear output (clamped to [-1, 1]
    outside training). Style "began": linear -> ELU -> [ConvT + ELU]* -> ConvT; "began-nn": the paper's decoder
    (began_nets.py; `fc` is its first linear map, `net` the rest). z_dist "uniform": z enters as 2 Phi(z) - 1."""

    def __init__(self, cfg: AEConfig):
        super().__init__(cfg.dcgan())
        self.uniform = cfg.z_dist == "uniform"
        if cfg.style == "began-nn":
            base, levels = _levels(cfg)
            self.fc = nn.Sequential(nn.Linear(self.w_dim, cfg.width * base * base))   # SeFa / GANSpace read it
            self.net = BEGANDecoder(0, cfg.width, base, levels, cfg.img_channels, cfg.skip, cfg.g_norm == "batch")
            glorot_init(self.fc), glorot_init(self.net)
            return
        chans = cfg.dcgan().channels()
        self.fc = nn.Sequential(nn.Linear(self.w_dim, chans[0] * self.base * self.base), nn.ELU(inplace=True))
        self.net = nn.Sequential(*_up_stack(chans, cfg.img_channels))

    def latent_input(self, z: torch.Tensor) -> torch.Tensor:
        """What the layers read of z: z itself, or 2 Phi(z) - 1 ~ U(-1, 1) with z_dist "uniform"."""
        return torch.erf(z * 0.5 ** 0.5) if self.uniform else z

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        ws = self.latent_input(ws)
        if isinstance(self.net, BEGANDecoder):
            x = self.net.body(self.fc(ws[:, 0]))
        else:
            x = super().synthesis(ws, noise_mode)
        return x if self.training else x.clamp(-1.0, 1.0)


def ae_generator(cfg: AEConfig) -> DCGANGenerator:
    return DCGANGenerator(cfg.dcgan()) if cfg.style == "dcgan" else BEGANGenerator(cfg)


class AECritic(nn.Module):
    """forward(x) -> reconstruction (N, C, H, W); encode(x) -> codes (N, code_dim); energy(x, p) -> (N,)."""

    def __init__(self, cfg: AEConfig):
        super().__init__()
        self.cfg = cfg
        dc = cfg.dcgan()
        chans = dc.channels()                      # e.g. [128, 64]: decoder order; the encoder runs backwards
        base, _ = RESOLUTIONS[cfg.img_resolution]
        self.base, self.top = base, chans[0]
        self.register_buffer("k_t", torch.zeros(()))    # BEGAN's equilibrium control variable (EBGAN: unused)
        if cfg.style == "began-nn":
            base, levels = _levels(cfg)
            self.encoder = BEGANEncoder(cfg.img_channels, cfg.width, base, levels, cfg.code_dim)
            self.to_code = nn.BatchNorm1d(cfg.code_dim) if cfg.code_norm == "batch" else nn.Identity()
            self.decoder = BEGANDecoder(cfg.code_dim, cfg.width, base, levels, cfg.img_channels, cfg.skip)
            glorot_init(self.encoder), glorot_init(self.decoder)
            return
        enc: list[nn.Module] = []
        cin = cfg.img_channels
        for cout in chans[::-1]:
            enc += [nn.Conv2d(cin, cout, 4, 2, 1), nn.ELU(inplace=True)]
            cin = cout
        self.encoder = nn.Sequential(*enc)
        self.to_code = nn.Linear(chans[0] * base * base, cfg.code_dim)
        if cfg.code_norm == "batch":
            self.to_code = nn.Sequential(self.to_code, nn.BatchNorm1d(cfg.code_dim))
        self.from_code = nn.Sequential(nn.Linear(cfg.code_dim, chans[0] * base * base), nn.ELU(inplace=True))
        dec = _up_stack(chans, cfg.img_channels)
        self.decoder = nn.Sequential(*dec, nn.Tanh()) if cfg.style == "dcgan" else nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_code(self.encoder(x).flatten(1))

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        if isinstance(self.decoder, BEGANDecoder):
            return self.decoder(code)
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
