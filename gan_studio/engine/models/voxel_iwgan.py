"""VAE-IWGAN for 3D reconstruction (Smith & Meger 2017, "Improved Adversarial Systems for 3D Object
Generation and Reconstruction"): image -> 200-d latent -> 32³ occupancy.

Generator: z (N, z_dim) -> dense -> (N, 8g, 2, 2, 2) -> [ConvT3d 4³ s2 + BN + ReLU] x3 -> ConvT3d -> sigmoid,
  channels 8g -> 4g -> 2g -> g -> 1 (the authors' g = 32: 256 -> 128 -> 64 -> 32 -> 1).
Critic: (N, 1, 32, 32, 32) -> [Conv3d 4³ s2 + LeakyReLU 0.2] x4, channels d -> 2d -> 4d -> 8d, no batch
  norm (safe with the gradient penalty) -> linear -> (N,).
Encoder: a grayscale view (N, 1, S, S) in [0, 1] -> [Conv2d 4² s2 + BN + LeakyReLU 0.2] down to 4² ->
  linear -> (mean, logvar), each (N, z_dim); `reparameterize` draws z = mean + exp(logvar / 2) * eps.
Voxel grids are indexed [x, y, z] with z up, as in the training data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..config import Config
from ..registry import ARCHITECTURES
from .base import Family
from .voxel_prior import LatentPrior

VOXEL_RESOLUTION = 32
IMAGE_SIZES = (32, 64, 128)
MAX_PRIOR_COMPONENTS = 256


@dataclass
class VoxelIWGANConfig(Config):
    z_dim: int = 200
    g_width: int = 32        # generator channels at 16³; the 2³ base has 8x as many
    d_width: int = 32        # critic channels at 16³; doubles per layer up to 8x at 2³
    e_width: int = 32        # encoder channels after the first conv; doubles per layer
    image_size: int = 64     # encoder input: (1, image_size, image_size) grayscale in [0, 1]
    resolution: int = VOXEL_RESOLUTION
    prior_components: int = 0  # a fitted latent prior's mixture components (voxel_prior.py); 0: none

    def __post_init__(self) -> None:
        if self.resolution != VOXEL_RESOLUTION:
            raise ValueError(f"resolution must be {VOXEL_RESOLUTION}, not {self.resolution}")
        if self.image_size not in IMAGE_SIZES:
            raise ValueError(f"image_size must be one of {IMAGE_SIZES}, not {self.image_size}")
        if min(self.z_dim, self.g_width, self.d_width, self.e_width) < 1:
            raise ValueError("z_dim and widths must be positive")
        if not 0 <= self.prior_components <= MAX_PRIOR_COMPONENTS:
            raise ValueError(f"prior_components must be 0 to {MAX_PRIOR_COMPONENTS}, not {self.prior_components}")


class VoxelGenerator(nn.Module):
    """z (N, z_dim) -> occupancy probabilities (N, 1, 32, 32, 32); `logits` gives the pre-sigmoid values."""

    def __init__(self, cfg: VoxelIWGANConfig):
        super().__init__()
        self.cfg = cfg
        self.z_dim = cfg.z_dim
        g = cfg.g_width
        self.fc = nn.Sequential(nn.Linear(cfg.z_dim, 8 * g * 8, bias=False), nn.BatchNorm1d(8 * g * 8),
                                nn.ReLU(True))
        layers: list[nn.Module] = []
        for cin, cout in ((8 * g, 4 * g), (4 * g, 2 * g), (2 * g, g)):
            layers += [nn.ConvTranspose3d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm3d(cout), nn.ReLU(True)]
        layers += [nn.ConvTranspose3d(g, 1, 4, 2, 1)]
        self.net = nn.Sequential(*layers)

    @property
    def voxel_shape(self) -> tuple[int, int, int]:
        return (self.cfg.resolution,) * 3

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        x = self.fc(z)                                          # (N, 8g * 8)
        x = x.view(x.shape[0], -1, 2, 2, 2)                     # (N, 8g, 2, 2, 2)
        return self.net(x)                                      # (N, 1, 32, 32, 32)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(z))                    # (N, 1, 32, 32, 32) in (0, 1)


class VoxelCritic(nn.Module):
    """(N, 1, 32, 32, 32) -> (N,) unbounded scores."""

    def __init__(self, cfg: VoxelIWGANConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_width
        layers: list[nn.Module] = []
        cin = 1
        for cout in (d, 2 * d, 4 * d, 8 * d):                   # 32³ -> 16³ -> 8³ -> 4³ -> 2³
            layers += [nn.Conv3d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.2, True)]
            cin = cout
        self.net = nn.Sequential(*layers)
        self.fc = nn.Linear(8 * d * 8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.net(x).flatten(1)).squeeze(1)       # (N,)


class ImageEncoder(nn.Module):
    """(N, 1, S, S) in [0, 1] -> (mean, logvar), each (N, z_dim)."""

    def __init__(self, cfg: VoxelIWGANConfig):
        super().__init__()
        self.cfg = cfg
        self.z_dim = cfg.z_dim
        n_down = int(math.log2(cfg.image_size // 4))            # 64 px: 4 convs to 4²
        layers: list[nn.Module] = []
        cin = 1
        for i in range(n_down):
            cout = cfg.e_width * 2 ** min(i, 3)
            layers += [nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True)]
            cin = cout
        self.net = nn.Sequential(*layers)
        self.fc = nn.Linear(cin * 16, 2 * cfg.z_dim)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (1, self.cfg.image_size, self.cfg.image_size)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.net(images * 2 - 1).flatten(1)                 # (N, C * 16), input scaled to [-1, 1]
        mean, logvar = self.fc(h).chunk(2, dim=1)               # (N, z_dim) each
        return mean, logvar.clamp(-12.0, 8.0)


def reparameterize(mean: torch.Tensor, logvar: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
    """z = mean + sigma * eps, eps ~ N(0, 1): (N, z_dim)."""
    eps = torch.randn(mean.shape, generator=gen, device=mean.device, dtype=mean.dtype)
    return mean + torch.exp(0.5 * logvar) * eps


def kl_divergence(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, sigma²) || N(0, 1)) averaged over batch and latent dimensions (as the authors' code)."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).mean()


@torch.no_grad()
def widen_encoder(old: ImageEncoder, e_width: int) -> ImageEncoder:
    """A wider encoder computing exactly what `old` computes (Net2Net-style): old channels keep their weights and
    batch-norm statistics, new ones start with small random input weights, identity batch norm and zero
    weights into the next layer (and into the linear head), so they add capacity without changing the output."""
    if e_width < old.cfg.e_width:
        raise ValueError(f"e_width {e_width} is narrower than the encoder's {old.cfg.e_width}")
    cfg = VoxelIWGANConfig.from_dict(old.cfg.to_dict() | {"e_width": e_width})
    new = ImageEncoder(cfg)
    convs_old = [m for m in old.net if isinstance(m, nn.Conv2d)]
    bns_old = [m for m in old.net if isinstance(m, nn.BatchNorm2d)]
    convs_new = [m for m in new.net if isinstance(m, nn.Conv2d)]
    bns_new = [m for m in new.net if isinstance(m, nn.BatchNorm2d)]
    for i, (co, cn) in enumerate(zip(convs_old, convs_new)):
        o_out, o_in = co.weight.shape[:2]
        cn.weight.mul_(0.1)
        if i:                                                   # nothing from the new channels of the layer below
            cn.weight[:, convs_old[i - 1].weight.shape[0]:] = 0
        cn.weight[:o_out, :o_in] = co.weight
        bo, bn = bns_old[i], bns_new[i]
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(bn, name)[:o_out] = getattr(bo, name)
        bn.num_batches_tracked.copy_(bo.num_batches_tracked)
    c_old, c_new = convs_old[-1].weight.shape[0], convs_new[-1].weight.shape[0]
    fc = new.fc.weight.view(new.fc.out_features, c_new, -1)      # (2z, C, 16): features are channel-major
    fc.zero_()
    fc[:, :c_old] = old.fc.weight.view(old.fc.out_features, c_old, -1)
    new.fc.bias.copy_(old.fc.bias)
    return new


@torch.no_grad()
def reconstruct(encoder: ImageEncoder, generator: VoxelGenerator, images: torch.Tensor) -> torch.Tensor:
    """Images (N, 1, S, S) in [0, 1] -> occupancy probabilities (N, 32, 32, 32), from the posterior mean."""
    mean, _ = encoder(images)
    return generator(mean)[:, 0]


ARCHITECTURES.register("voxel-iwgan")(Family(
    VoxelIWGANConfig, {"generator": VoxelGenerator, "generator_recon": VoxelGenerator, "critic": VoxelCritic,
                       "encoder": ImageEncoder,
                       # the live (trained) weights beside weight-averaged ones, for resume (--options ema_beta)
                       "generator_live": VoxelGenerator, "encoder_live": ImageEncoder,
                       "generator_recon_live": VoxelGenerator,
                       # a fitted prior over the reconstruction generator's latents (`gan-studio prior3d`)
                       "latent_prior": LatentPrior},
    kind="voxel-model"))
