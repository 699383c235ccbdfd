"""Mixture Density GAN (Eghbal-zadeh, Zellinger, Widmer, CVPR 2019, arXiv:1811.00152).

The critic does not output one "real" score but an embedding e = D(x) in R^d (d = the critic's `out_dim`).
Real embeddings are modelled by the paper's Simplex Gaussian Mixture Model: K = d + 1 isotropic Gaussians
N(mu_k, VAR * I) with equal weights 1/K, their means at the vertices of a regular simplex centred at 0 (each
vertex at distance 1 from the centre, so all pairs are equally far apart: sqrt(2K/(K-1)) ~ 1.49 for d = 9).
The critic's "probability of real" is the mixture likelihood lk(e). The objective (the paper's eq. 2):

    min_G max_D  E_x[log lk(D(x))] + E_z[log(lambda - lk(D(G(z))))],   lambda = max_e lk(e)

Choices of ours, where the paper leaves numbers to the experiments: d = 9 (K = 10, as in the public
reproduction haihabi/MD-GAN), VAR = 0.1 (at 0.25 the ten overlapping Gaussians in 9-D peak at the simplex
centre, not at the vertices: no clusters; at 0.1 the vertices are 4.7 std apart and each is a clear peak),
the real term uses the exact log-likelihood (logsumexp, no epsilon floor), and `lambda - lk` is clamped at 0
with EPS added before the log, as in the reproduction.
"""
from __future__ import annotations

import math
from functools import cache

import torch

DEFAULT_DIM = 9          # embedding dimension d: K = d + 1 = 10 Gaussians
VAR = 0.1                # isotropic variance of every Gaussian
EPS = 1e-8               # inside log(lambda - lk + EPS)


def simplex_vertices(d: int) -> torch.Tensor:
    """The K = d + 1 vertices of a regular simplex in R^d, centred at 0, at unit distance from it: (K, d).
    Deterministic (no SVD sign ambiguity): e_1..e_d and a*(1..1) with a = (1 - sqrt(d + 1)) / d, centred."""
    x = torch.cat([torch.eye(d, dtype=torch.float64),
                   torch.full((1, d), (1 - math.sqrt(d + 1)) / d, dtype=torch.float64)])
    x = x - x.mean(0)
    return x / x[0].norm()


def log_likelihood(e: torch.Tensor, means: torch.Tensor, var: float = VAR) -> torch.Tensor:
    """log lk(e) of embeddings (N, d) under the equal-weight isotropic mixture with means (K, d): (N,)."""
    k, d = means.shape
    # squared distances written out rather than torch.cdist, which has no double backward (GP / R1 need one)
    sq = (e.unsqueeze(1) - means.to(e.dtype)).pow(2).sum(-1)            # (N, K)
    return (torch.logsumexp(-sq / (2 * var), dim=1) - math.log(k)
            - 0.5 * d * math.log(2 * math.pi * var))


@cache
def _mixture(d: int, var: float) -> tuple[torch.Tensor, float]:
    """Means (K, d) and lambda = the mixture's maximum. By the simplex's symmetry the maximum lies on a line from
    the centre through a vertex (at the vertex when the Gaussians are well apart, at the centre when they merge),
    so a fine 1-D search along it finds it."""
    means = simplex_vertices(d)
    t = torch.linspace(0.0, 1.5, 3001, dtype=torch.float64).unsqueeze(1)   # (T, 1)
    lam = log_likelihood(t * means[0], means, var).max().exp().item()
    return means.float(), lam


def mixture(d: int, var: float = VAR) -> tuple[torch.Tensor, float]:
    """(means (d+1, d), lambda) of the simplex mixture in d dimensions."""
    return _mixture(int(d), float(var))


def describe(d: int) -> dict:
    """The mixture's settings, for a model file's metadata."""
    _, lam = mixture(d)
    return {"dim": int(d), "components": int(d) + 1, "var": VAR, "lambda": lam,
            "means": "regular simplex, unit distance from 0"}


def _embed(out: torch.Tensor) -> torch.Tensor:
    return out.reshape(out.shape[0], -1)                                  # (N,) for d = 1 -> (N, 1)


def md_log_lk(out: torch.Tensor) -> torch.Tensor:
    """The critic's score for MD-GAN: log lk of its embeddings (N, d) -> (N,)."""
    e = _embed(out)
    means, _ = mixture(e.shape[1])
    return log_likelihood(e, means.to(e.device))


def _log_lambda_minus_lk(out: torch.Tensor) -> torch.Tensor:
    e = _embed(out)
    means, lam = mixture(e.shape[1])
    lk = log_likelihood(e, means.to(e.device)).exp()
    return torch.log((lam - lk).clamp_min(0.0) + EPS)                      # (N,)


def md_critic_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """-(E[log lk(D(x))] + E[log(lambda - lk(D(G(z))))]): the critic maximises the paper's objective."""
    return -md_log_lk(d_real).mean() - _log_lambda_minus_lk(d_fake).mean()


def md_generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    """E[log(lambda - lk(D(G(z))))]: the generator minimises the paper's objective (its fake term)."""
    return _log_lambda_minus_lk(d_fake).mean()
