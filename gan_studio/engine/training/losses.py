"""GAN losses by name, each with the defaults of its paper (optimiser, learning rate, betas, n_critic, regulariser).

A loss maps critic outputs to scalars: `critic_loss(d_real, d_fake)` and `generator_loss(d_fake)`; `score(d)`
maps a critic output to one number per sample (what the regulariser differentiates and the logs compare:
the output itself, except for MD-GAN's embeddings). `LOSSES` is the single source of truth: the CLI and the
GUI list `LOSSES.names()` and show each spec's defaults. `training_spec(loss, reg)` gives the settings a run
actually uses (`--loss wgan --reg gp` trains as `--loss wgan-gp`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..registry import LOSSES
from . import mdgan


def identity_score(d: torch.Tensor) -> torch.Tensor:
    """The score of a critic with one output: the output itself."""
    return d


@dataclass(frozen=True)
class LossSpec:
    name: str
    critic_loss: callable
    generator_loss: callable
    n_critic: int = 1
    optimizer: str = "adam"           # "adam" or "rmsprop"
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)   # Adam's; RMSProp (alpha 0.99) ignores them
    reg: str = "none"                 # default regulariser
    reg_weight: float = 0.0
    clip: float | None = None         # weight clipping of the critic (WGAN), after every critic step
    description: str = ""
    extra: dict = field(default_factory=dict)   # unroll_steps (unrolled GAN)
    score: callable = identity_score       # critic output (N, ...) -> (N,) per-sample score
    critic_out: int = 1               # the critic's output size: 1 = a scalar, > 1 an embedding (MD-GAN)
    gp_variant: str | None = None     # the loss whose settings apply when this one runs with --reg gp


def training_spec(loss: str, reg: str | None) -> LossSpec:
    """The spec whose hyper-parameters a run with this loss and regulariser uses."""
    spec = LOSSES.get(loss)
    if (reg or spec.reg) == "gp" and spec.gp_variant:
        return LOSSES.get(spec.gp_variant)
    return spec


# -------------------------------------------------------------- logistic (Goodfellow et al. 2014)

def _ns_critic(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()      # BCE with D = sigmoid(d)


def _ns_generator(d_fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-d_fake).mean()                                   # -log D(G(z))


def _minimax_generator(d_fake: torch.Tensor) -> torch.Tensor:
    return -F.softplus(d_fake).mean()                                   # log(1 - D(G(z)))


# -------------------------------------------------------------- least squares (Mao et al. 2017), a=0 b=1 c=1

def _lsgan_critic(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * (d_real - 1).pow(2).mean() + 0.5 * d_fake.pow(2).mean()


def _lsgan_generator(d_fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * (d_fake - 1).pow(2).mean()


# -------------------------------------------------------------- hinge (Lim & Ye 2017; Miyato et al. 2018)

def _hinge_critic(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()


def _wgan_critic(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    return d_fake.mean() - d_real.mean()


def _wgan_generator(d_fake: torch.Tensor) -> torch.Tensor:
    return -d_fake.mean()


LOSSES.register("vanilla")(LossSpec(
    "vanilla", _ns_critic, _minimax_generator,
    description="minimax GAN (Goodfellow et al. 2014): the generator minimises log(1 - D(G(z))), which saturates "
                "when D wins; the paper's SGD+momentum replaced by DCGAN's Adam 2e-4 (0.5, 0.999), n_critic 1"))
LOSSES.register("ns")(LossSpec(
    "ns", _ns_critic, _ns_generator, n_critic=1, lr=2e-4, betas=(0.5, 0.999),
    description="non-saturating GAN (Goodfellow et al. 2014), DCGAN optimiser settings"))
LOSSES.register("lsgan")(LossSpec(
    "lsgan", _lsgan_critic, _lsgan_generator,
    description="least-squares GAN (Mao et al. 2017): a=0, b=1, c=1, Adam 2e-4 (0.5, 0.999), n_critic 1"))
LOSSES.register("hinge")(LossSpec(
    "hinge", _hinge_critic, _wgan_generator,
    description="hinge loss (Lim & Ye 2017; Miyato et al. 2018), Adam 2e-4 (0.5, 0.999), n_critic 1 (SN-GAN's "
                "setting C); pair it with --sn as in SN-GAN"))
LOSSES.register("wgan")(LossSpec(
    "wgan", _wgan_critic, _wgan_generator, n_critic=5, optimizer="rmsprop", lr=5e-5, clip=0.01,
    gp_variant="wgan-gp",
    description="WGAN with weight clipping (Arjovsky et al. 2017): linear critic, every critic weight clipped to "
                "[-0.01, 0.01] after each of n_critic 5 steps, RMSProp 5e-5. With --reg gp clipping is off and "
                "it trains exactly as wgan-gp (lambda 10, Adam 1e-4 (0, 0.9))"))
LOSSES.register("wgan-gp")(LossSpec(
    "wgan-gp", _wgan_critic, _wgan_generator, n_critic=5, lr=1e-4, betas=(0.0, 0.9), reg="gp", reg_weight=10.0,
    description="WGAN with gradient penalty (Gulrajani et al. 2017): lambda 10, n_critic 5, Adam 1e-4 (0, 0.9)"))
LOSSES.register("mdgan")(LossSpec(
    "mdgan", mdgan.md_critic_loss, mdgan.md_generator_loss, score=mdgan.md_log_lk, critic_out=mdgan.DEFAULT_DIM,
    description="Mixture Density GAN (Eghbal-zadeh et al. 2019): the critic outputs a 9-D embedding; real data "
                "is scored by a mixture of 10 Gaussians at the vertices of a simplex, "
                "min_G max_D E log lk(D(x)) + E log(lambda - lk(D(G(z)))); Adam 2e-4 (0.5, 0.999)"))
LOSSES.register("unrolled")(LossSpec(
    "unrolled", _ns_critic, _ns_generator, extra={"unroll_steps": 5},
    description="unrolled GAN (Metz et al. 2017): non-saturating loss; the generator's loss is taken against the "
                "critic 5 Adam steps ahead, differentiated through those steps (--options unroll_steps); "
                "Adam 2e-4 (0.5, 0.999)"))
