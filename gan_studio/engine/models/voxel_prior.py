"""Where a voxel model's random shapes come from: a seed's N(0, 1) draw mapped to a latent, and the network
that decodes it.

Two ways (`SeedSampler`):
- the GAN's own (`plain_sampler`): z = ψ · the seed's draw, decoded by the sampling generator, as trained;
- a fitted latent prior (`LatentPrior`, fitted by `gan-studio prior3d`, engine/training/prior3d.py): a mixture of
  full-covariance Gaussians, one per ModelNet10 class, over the latents the image encoder gives the training
  objects, decoded by the reconstruction generator ("ex-post density estimation", Ghosh et al. 2020, "From
  Variational to Deterministic Autoencoders"). A seed picks its component from its own stream (`component_draws`)
  and z = mean_c + ψ · L_c · the seed's draw, L_c the component's Cholesky factor. Seeds, reconstructions and
  interpolations between them then live in one latent space and one decoder.

Why both: the encoder/decoder pair of the VAE-IWGAN was trained far longer than the WGAN's sampling generator,
and on CPU the latter improves slowly (~0.15 joint steps/s). Measured on `modelnet10-iwgan` (3D FID in
voxnet-modelnet10 features against the test split, floor 244; `eval3d --choose-sampling` picking ψ and threshold
on the training objects): the GAN sampler 497 (seeds 0-999, ψ 0.8), the fitted prior 298 at ψ 1.4 (other blocks
of 1,000 seeds 322-345; 3,000 seeds 333), classifier confidence 0.941 (real objects 0.925). The prior's seeds
are no nearer their nearest training object than new real objects are (mean voxel IoU 0.65 both): not copies.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..seeds import seeds_latents

MAX_TRUNCATION = 2.0             # ψ above 1 widens the draw (a fitted prior's covariance is that of encoder means)
COMPONENT_STREAM = 0x3D          # the second word of a seed's component stream: independent of its N(0, 1) draw


class LatentPrior(nn.Module):
    """A mixture of K Gaussians over z: buffers `weights` (K,), `means` (K, z_dim), `scales` (K, z_dim, z_dim)
    lower-triangular (each component's covariance is scales @ scales.T). forward(eps, components) -> z."""

    def __init__(self, cfg):
        super().__init__()
        k, d = int(cfg.prior_components), int(cfg.z_dim)
        if k < 1:
            raise ValueError("a latent prior needs prior_components >= 1 in its config")
        self.cfg = cfg
        self.register_buffer("weights", torch.full((k,), 1.0 / k))
        self.register_buffer("means", torch.zeros(k, d))
        self.register_buffer("scales", torch.eye(d).repeat(k, 1, 1))

    @property
    def z_dim(self) -> int:
        return self.means.shape[1]

    @property
    def n_components(self) -> int:
        return self.means.shape[0]

    def forward(self, eps: torch.Tensor, components: torch.Tensor) -> torch.Tensor:
        """eps (N, z_dim), components (N,) long -> z (N, z_dim) = mean_c + L_c eps."""
        L = self.scales[components].to(eps.dtype)                            # (N, d, d)
        return self.means[components].to(eps.dtype) + torch.bmm(L, eps.unsqueeze(-1)).squeeze(-1)

    def component_draws(self, seeds: Sequence[int]) -> torch.Tensor:
        """Each seed's component (N,) long, drawn with the mixture weights from the seed's own stream."""
        w = self.weights.detach().double().cpu().clamp_min(0)
        cdf = (w.cumsum(0) / w.sum()).numpy()
        u = np.array([np.random.default_rng((int(s), COMPONENT_STREAM)).random() for s in seeds])
        return torch.from_numpy(np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)).long()


@dataclass
class SeedSampler:
    """How seeds become shapes: `latents(seeds, ψ)` -> (N, z_dim) on the CPU, decoded by `decoder`."""
    decoder: nn.Module
    latents: Callable[[Sequence[int], float], torch.Tensor]
    name: str = "gan"

    @property
    def z_dim(self) -> int:
        return self.decoder.z_dim


def plain_sampler(generator: nn.Module) -> SeedSampler:
    """The GAN's way: z = ψ · the seed's N(0, 1) draw, decoded by `generator`."""
    return SeedSampler(generator, lambda seeds, psi: seeds_latents(list(seeds), generator.z_dim) * float(psi))


def prior_sampler(prior: LatentPrior, decoder: nn.Module, component: int | None = None) -> SeedSampler:
    """A fitted prior's way (see the module doc); `component`: every seed from that component (a class)."""
    if component is not None and not 0 <= component < prior.n_components:
        raise ValueError(f"component {component} is not one of the prior's 0-{prior.n_components - 1}")

    @torch.no_grad()
    def latents(seeds: Sequence[int], psi: float) -> torch.Tensor:
        seeds = list(seeds)
        comps = (prior.component_draws(seeds) if component is None
                 else torch.full((len(seeds),), int(component), dtype=torch.long))
        eps = seeds_latents(seeds, prior.z_dim) * float(psi)
        return prior(eps.to(prior.means.device), comps.to(prior.means.device)).float().cpu()
    return SeedSampler(decoder, latents, "prior")


def as_sampler(x) -> SeedSampler:
    """A SeedSampler as given, or a bare generator's plain one."""
    return x if isinstance(x, SeedSampler) else plain_sampler(x)
