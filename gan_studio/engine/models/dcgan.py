"""DCGAN-style generator and critic for 28, 32 or 64 px images with 1 or 3 channels.

Generator: z -> linear -> (ch0, b, b) -> [ConvT 4x4 s2 + BN + ReLU]* -> ConvT -> tanh, b = 7 for 28 px, 4 otherwise.
Critic: the mirror image with LeakyReLU(0.2) and no batch norm (safe with gradient penalties), linear output:
one score per image, or an `out_dim`-dimensional embedding (MD-GAN's critic) when out_dim > 1.

Conditional (`num_classes` > 0) and InfoGAN (`info_cat`, `info_cont`) models (see codes.py for the latent layout):
the generator reads the class one-hot and the codes from ws = [noise, onehot(class), onehot(cat), cont], so its
first layer takes w_dim inputs. The critic is a projection discriminator (Miyato & Koyama 2018):
D(x, y) = ψ(φ(x)) + embed(y)·φ(x), φ the flattened conv features and ψ the linear output (with out_dim > 1 each
class has its own linear map F -> out_dim added, the same projection per output); called without a class it
scores ψ(φ(x)) alone. InfoGAN's Q head (Chen et al. 2016) shares φ: φ -> 128 -> LeakyReLU -> category logits
and continuous-code means. The extra layers are created after the plain ones, so plain models initialise as before.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import Config
from ..errors import UserError
from ..registry import ARCHITECTURES
from .base import Family, ImageGenerator
from .codes import CodeLayout

RESOLUTIONS = {28: (7, 2), 32: (4, 3), 64: (4, 4)}  # resolution -> (base size, upsamplings)


def generator_body(w_dim: int, chans: list[int], base: int, img_channels: int) -> tuple[nn.Module, nn.Module]:
    """DCGAN's generator layers (fc, net): w -> linear + BN + ReLU -> (chans[0], base, base), then
    [ConvT 4x4 s2 + BN + ReLU]* through chans, then ConvT -> tanh to img_channels. Shared by every DCGAN-shaped
    generator (the text model's too), in this creation order so seeded weights stay what they were."""
    fc = nn.Sequential(nn.Linear(w_dim, chans[0] * base * base, bias=False),
                       nn.BatchNorm1d(chans[0] * base * base), nn.ReLU(True))
    layers: list[nn.Module] = []
    for cin, cout in zip(chans[:-1], chans[1:]):
        layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]
    layers += [nn.ConvTranspose2d(chans[-1], img_channels, 4, 2, 1), nn.Tanh()]
    return fc, nn.Sequential(*layers)


def critic_convs(img_channels: int, chans: list[int]) -> nn.Sequential:
    """DCGAN's critic convolutions: [Conv 4x4 s2 + LeakyReLU(0.2)]* from img_channels through chans."""
    layers: list[nn.Module] = []
    for cin, cout in zip([img_channels, *chans[:-1]], chans):
        layers += [nn.Conv2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    return nn.Sequential(*layers)


@dataclass
class DCGANConfig(Config):
    z_dim: int = 64
    img_resolution: int = 28
    img_channels: int = 1
    width: int = 64          # channels of the last hidden layer; earlier layers double it
    out_dim: int = 1         # the critic's output: 1 = a score (N,), > 1 = an embedding (N, out_dim)
    num_classes: int = 0     # > 0: conditional on a class label (projection critic)
    info_cat: int = 0        # InfoGAN: categories of the categorical code (0: none)
    info_cont: int = 0       # InfoGAN: continuous codes

    def __post_init__(self) -> None:
        if self.img_resolution not in RESOLUTIONS:
            raise ValueError(f"img_resolution must be one of {sorted(RESOLUTIONS)}, not {self.img_resolution}")
        if self.img_channels not in (1, 3):
            raise ValueError(f"img_channels must be 1 or 3, not {self.img_channels}")
        if self.z_dim < 1 or self.width < 1 or self.out_dim < 1:
            raise ValueError("z_dim, width and out_dim must be positive")
        if self.num_classes < 0 or self.info_cont < 0 or self.info_cat < 0:
            raise ValueError("num_classes, info_cat and info_cont must be 0 or more")
        if self.num_classes == 1 or self.info_cat == 1:
            raise ValueError("a class label or categorical code needs at least 2 values")

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

    def layout(self) -> CodeLayout:
        return CodeLayout(self.z_dim, self.num_classes, self.info_cat, self.info_cont)


class DCGANGenerator(ImageGenerator):
    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        self.cfg = cfg
        self.code_layout = cfg.layout()
        self.z_dim, self.w_dim = self.code_layout.z_dim, self.code_layout.w_dim    # both cfg.z_dim without codes
        self.c_dim = cfg.num_classes
        self.num_ws = 1
        self.img_channels, self.img_resolution = cfg.img_channels, cfg.img_resolution
        base, _ = RESOLUTIONS[cfg.img_resolution]
        chans = cfg.channels()
        self.base = base
        self.fc, self.net = generator_body(self.w_dim, chans, base, cfg.img_channels)

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        """z (N, z_dim) -> ws (N, 1, w_dim): z itself, or with codes [noise, class one-hot, codes] (codes.py);
        `c` (class ids (N,) or one-hot (N, c_dim)) overrides the class a conditional model reads off z."""
        layout = self.code_layout
        if not layout.has_codes:
            if c is not None:
                raise UserError("this generator is not conditional: it takes no class")
            return super().mapping(z, None, truncation_psi, truncation_cutoff)
        return layout.truncate(layout.to_ws(z, c), truncation_psi)

    def sefa_weight(self) -> torch.Tensor:
        """The weight that first maps the latent (out, z_dim), for SeFa; code coordinates get zero columns."""
        w = self.fc[0].weight[:, :self.code_layout.noise_dim]
        return torch.cat([w, w.new_zeros(w.shape[0], self.z_dim - w.shape[1])], 1)

    def first_layer(self, z: torch.Tensor) -> torch.Tensor:
        """First-layer activations (N, ch0 * b * b), for GANSpace."""
        return self.fc(self.mapping(z)[:, 0])

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        x = self.fc(ws[:, 0])                                        # (N, ch0 * b * b)
        x = x.view(x.shape[0], -1, self.base, self.base)             # (N, ch0, b, b)
        return self.net(x)                                           # (N, C, H, W) in [-1, 1]


class DCGANCritic(nn.Module):
    """forward(x, c=None) -> score (N,) or embedding (N, out_dim); `q(x)` -> InfoGAN's Q outputs (N, q_dim)."""

    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        self.cfg = cfg
        chans = cfg.channels()[::-1]          # e.g. [64, 128]
        base, _ = RESOLUTIONS[cfg.img_resolution]
        self.net = critic_convs(cfg.img_channels, chans)
        feat = chans[-1] * base * base
        self.fc = nn.Linear(feat, cfg.out_dim)
        self.code_layout = cfg.layout()
        if cfg.num_classes:          # embed(y) as a bias-free linear map of the one-hot, so --sn normalises it
            self.embed = nn.Linear(cfg.num_classes, feat * cfg.out_dim, bias=False)
            nn.init.xavier_uniform_(self.embed.weight)
        if self.code_layout.has_info:
            self.q_head = nn.Sequential(nn.Linear(feat, 128), nn.LeakyReLU(0.2, True),
                                        nn.Linear(128, self.code_layout.q_dim))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """φ(x): (N, C, H, W) -> (N, F)."""
        return self.net(x).flatten(1)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """(N, C, H, W), classes (N,) / one-hot (N, K) -> (N,), or (N, out_dim) if out_dim > 1."""
        phi = self.features(x)                                          # (N, F)
        out = self.fc(phi)                                              # (N, out_dim)
        if c is not None:
            if not self.cfg.num_classes:
                raise UserError("this critic is not conditional: it takes no class")
            y = F.one_hot(self.code_layout.class_ids(c, x.shape[0]).to(x.device), self.cfg.num_classes)
            e = self.embed(y.to(phi.dtype)).view(x.shape[0], phi.shape[1], -1)     # (N, F, out_dim)
            out = out + torch.einsum("nf,nfo->no", phi, e)
        return out.squeeze(1) if out.shape[1] == 1 else out

    def q(self, x: torch.Tensor) -> torch.Tensor:
        """InfoGAN's Q: (N, C, H, W) -> (N, info_cat + info_cont): category logits, continuous-code means."""
        if not self.code_layout.has_info:
            raise UserError("this critic has no InfoGAN Q head")
        return self.q_head(self.features(x))


ARCHITECTURES.register("dcgan")(Family(DCGANConfig, {"generator": DCGANGenerator, "critic": DCGANCritic},
                                       "image-generator"))
