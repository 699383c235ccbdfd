"""LAPGAN (Denton, Chintala, Szlam & Fergus 2015): a Laplacian pyramid of GANs. Its recipe is training/recipe_lapgan.py.

Levels: the target halved while even and above 8 px: 28 px -> [7, 14, 28], 32 -> [8, 16, 32], 64 -> [8, 16, 32, 64].
Pyramid operators: d = 2 x 2 average pooling, u = bilinear 2x up-sampling. An image I has the Gaussian levels
I_0 (coarsest) ... I_L = I, I_{k-1} = d(I_k), and the band-pass residuals h_k = I_k - u(I_{k-1}).
Generator: level 0 is a GAN of the coarse image, an MLP z_0 -> 7 x 7 (the paper's coarse CIFAR model was an MLP
too); every later level k is a conditional GAN of the residual: G_k(z_k, l_k) with l_k = u(I~_{k-1}) the up-sampled
coarser image, a convnet over [l_k, a noise plane made from z_k] (the paper's scheme: the noise as an extra
channel). A sample is I~_0 = G_0(z_0), I~_k = u(I~_{k-1}) + G_k(z_k, u(I~_{k-1})).
Critic: per level D_k(h, l) on the residual and its conditioning image (level 0: an MLP on the coarse image).

Latents, through the one generator interface (models/base.py): one latent per level. z (N, L * w_dim) is the levels'
noises side by side; `mapping` splits it into ws (N, L, w_dim) with ws[:, k] = z_k (k = 0 the coarse image, then
each finer level's residual), the identity otherwise: walks in z and in ws are the same path, directions move any
level's noise, and Style mixing (num_ws = L > 1; `ws_resolutions` = the levels) swaps whole levels — the coarse
digit of one sample with the finer detail of another. Truncation pulls every z_k towards 0.
`sample_pyramid(G, z)` returns a sample's pyramid: each level's image and residual (`recompose` rebuilds the sample,
`pyramid_figure` lays it out as pictures for a grid).
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


@dataclass
class LAPGANConfig(Config):
    w_dim: int = 32              # each level's noise z_k (z_dim = levels * w_dim)
    img_resolution: int = 28
    img_channels: int = 1
    width: int = 64              # channels of each level's convnets (the paper: 128)
    mlp_width: int = 600         # hidden units of the coarse MLPs (the paper: 1200)
    kernel: int = 5              # the level convnets' kernel (the paper's 5 x 5)

    def __post_init__(self) -> None:
        if not 16 <= self.img_resolution <= 1024:
            raise ValueError(f"img_resolution must be from 16 to 1024, not {self.img_resolution}")
        if self.levels()[0] > 8:
            raise ValueError(f"img_resolution {self.img_resolution} does not halve down to 8 px or less "
                             f"(use e.g. 28, 32 or 64)")
        if self.img_channels not in (1, 3):
            raise ValueError(f"img_channels must be 1 or 3, not {self.img_channels}")
        if min(self.w_dim, self.width, self.mlp_width) < 1 or self.kernel < 1 or self.kernel % 2 == 0:
            raise ValueError("w_dim, width and mlp_width must be positive, kernel a positive odd number")

    def levels(self) -> list[int]:
        """The pyramid's resolutions, coarsest first (e.g. [7, 14, 28])."""
        out = [self.img_resolution]
        while out[-1] > 8 and out[-1] % 2 == 0:
            out.append(out[-1] // 2)
        return out[::-1]


def down(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 2)


def up(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def laplacian_pyramid(x: torch.Tensor, levels: int) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
    """(I_0, [(l_k, h_k) for k = 1..levels-1]): the coarsest image and, per finer level, the up-sampled coarser
    image and the band-pass residual, so that I_k = l_k + h_k exactly."""
    gauss = [x]
    for _ in range(levels - 1):
        gauss.append(down(gauss[-1]))
    gauss = gauss[::-1]
    return gauss[0], [(up(gauss[k - 1]), gauss[k] - up(gauss[k - 1])) for k in range(1, levels)]


@dataclass
class PyramidLevel:
    resolution: int
    image: torch.Tensor                  # I~_k (N, C, r, r), before any clamping
    residual: torch.Tensor | None        # h~_k = I~_k - u(I~_{k-1}); None at the coarse level


def recompose(levels: list[PyramidLevel]) -> torch.Tensor:
    """The finest image rebuilt from the coarse image and the residuals: u(...u(I_0) + h_1...) + h_L."""
    img = levels[0].image
    for lv in levels[1:]:
        img = up(img) + lv.residual
    return img


def _mlp(sizes: list[int], act: nn.Module) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), act]
    return nn.Sequential(*layers[:-1])


class LevelG(nn.Module):
    """G_k(z_k, l): the residual (N, C, r, r) of level r given the up-sampled coarser image l."""

    def __init__(self, cfg: LAPGANConfig, res: int):
        super().__init__()
        c, w, k = cfg.img_channels, cfg.width, cfg.kernel
        self.res = res
        self.noise = nn.Linear(cfg.w_dim, res * res)
        self.net = nn.Sequential(nn.Conv2d(c + 1, w, k, padding=k // 2), nn.ReLU(True),
                                 nn.Conv2d(w, w, k, padding=k // 2), nn.ReLU(True), nn.Conv2d(w, c, k, padding=k // 2))

    def forward(self, z: torch.Tensor, low: torch.Tensor) -> torch.Tensor:
        plane = self.noise(z).view(z.shape[0], 1, self.res, self.res)
        return self.net(torch.cat([low, plane], 1))


class LAPGANGenerator(ImageGenerator):
    def __init__(self, cfg: LAPGANConfig):
        super().__init__()
        self.cfg = cfg
        self.levels = cfg.levels()
        self.num_ws, self.w_dim = len(self.levels), cfg.w_dim
        self.z_dim = self.num_ws * cfg.w_dim
        self.img_channels, self.img_resolution = cfg.img_channels, cfg.img_resolution
        self.ws_resolutions: list[int] = list(self.levels)
        r0 = self.levels[0]
        self.coarse = nn.Sequential(_mlp([cfg.w_dim, cfg.mlp_width, cfg.mlp_width, cfg.img_channels * r0 * r0],
                                         nn.ReLU(True)), nn.Tanh())
        self.refine = nn.ModuleList([LevelG(cfg, r) for r in self.levels[1:]])

    def _map(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise UserError(f"latents must have shape (N, {self.z_dim}), not {tuple(z.shape)}")
        return z.view(z.shape[0], self.num_ws, self.w_dim)

    def pyramid(self, ws: torch.Tensor) -> list[PyramidLevel]:
        """Every level of the samples of ws (N, L, w_dim): image and residual, coarsest first."""
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise UserError(f"ws must have shape (N, {self.num_ws}, {self.w_dim}), not {tuple(ws.shape)}")
        r0 = self.levels[0]
        img = self.coarse(ws[:, 0]).view(ws.shape[0], self.img_channels, r0, r0)
        out = [PyramidLevel(r0, img, None)]
        for k, level in enumerate(self.refine, start=1):
            low = up(img)
            residual = level(ws[:, k], low)
            img = low + residual
            out.append(PyramidLevel(level.res, img, residual))
        return out

    def sefa_weight(self) -> torch.Tensor:
        """Every level's first map of its latent stacked (sum of their widths, w_dim), for SeFa (a direction in w
        moves every level's noise, as in a style generator)."""
        return torch.cat([self.coarse[0][0].weight] + [level.noise.weight for level in self.refine], 0)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        img = self.pyramid(ws)[-1].image
        return img if self.training else img.clamp(-1, 1)


@torch.no_grad()
def sample_pyramid(G: LAPGANGenerator, z: torch.Tensor, truncation_psi: float = 1.0) -> list[PyramidLevel]:
    """A LAPGAN sample's pyramid from latents z (N, z_dim): each level's image and residual, coarsest first."""
    if not isinstance(G, LAPGANGenerator):
        raise UserError("only a LAPGAN generator has a Laplacian pyramid")
    return G.pyramid(G.mapping(z, truncation_psi=truncation_psi))


def pyramid_figure(levels: list[PyramidLevel]) -> torch.Tensor:
    """A sample's pyramid as pictures for a grid of 2L - 1 columns per sample: the coarse image, then per finer level
    its residual (scaled by its own largest magnitude, so 0 is mid grey) and its image, every one up-sampled
    (nearest) to the finest size. (N * (2L - 1), C, R, R) in [-1, 1], sample by sample."""
    size = levels[-1].resolution
    cols = [levels[0].image]
    for lv in levels[1:]:
        scale = lv.residual.abs().flatten(1).amax(1).clamp_min(1e-8).view(-1, 1, 1, 1)
        cols += [lv.residual / scale, lv.image]
    cols = [F.interpolate(c, size=(size, size), mode="nearest").clamp(-1, 1) for c in cols]
    return torch.stack(cols, 1).flatten(0, 1)



def pyramid_captions(levels: list[PyramidLevel]) -> list[str]:
    """Captions of one sample's `pyramid_figure` columns: '7 px', 'residual 14 px', '14 px', …"""
    out = [f"{levels[0].resolution} px"]
    for lv in levels[1:]:
        out += [f"residual {lv.resolution} px", f"{lv.resolution} px"]
    return out

class LevelD(nn.Module):
    """D_k(h, l) -> logit (N,): a residual and the image it refines."""

    def __init__(self, cfg: LAPGANConfig, res: int):
        super().__init__()
        c, w, k = cfg.img_channels, cfg.width, cfg.kernel
        side = (res + 1) // 2
        self.net = nn.Sequential(nn.Conv2d(2 * c, w, k, padding=k // 2), nn.LeakyReLU(0.2, True),
                                 nn.Conv2d(w, w, k, stride=2, padding=k // 2), nn.LeakyReLU(0.2, True),
                                 nn.Flatten(), nn.Linear(w * side * side, 1))

    def forward(self, h: torch.Tensor, low: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([h, low], 1)).squeeze(1)


class LAPGANCritic(nn.Module):
    """Per level a critic: `level(k, h, low)`; forward(x) sums the levels' logits over x's own pyramid."""

    def __init__(self, cfg: LAPGANConfig):
        super().__init__()
        self.levels = cfg.levels()
        r0 = self.levels[0]
        self.coarse = _mlp([cfg.img_channels * r0 * r0, cfg.mlp_width, cfg.mlp_width, 1], nn.LeakyReLU(0.2, True))
        self.refine = nn.ModuleList([LevelD(cfg, r) for r in self.levels[1:]])

    def level(self, k: int, h: torch.Tensor, low: torch.Tensor | None = None) -> torch.Tensor:
        return self.coarse(h.flatten(1)).squeeze(1) if k == 0 else self.refine[k - 1](h, low)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        coarse, bands = laplacian_pyramid(x, len(self.levels))
        return self.level(0, coarse) + sum(self.level(k, h, low) for k, (low, h) in enumerate(bands, start=1))


ARCHITECTURES.register("lapgan")(Family(LAPGANConfig, {"generator": LAPGANGenerator, "critic": LAPGANCritic},
                                        "image-generator"))
