"""Critic regularisers by name: each returns the penalty term (already multiplied by its weight)."""
from __future__ import annotations

import torch

from ..registry import REGULARIZERS


def _grad_norm_sq(critic, x: torch.Tensor) -> torch.Tensor:
    """Per-sample squared gradient norm of the critic at x, over all pixels: (N,)."""
    x = x.detach().requires_grad_(True)
    out = critic(x)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return grad.flatten(1).pow(2).sum(1)


@REGULARIZERS.register("none")
def no_penalty(critic, real, fake, weight):
    return real.new_zeros(())


@REGULARIZERS.register("gp")
def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, weight: float = 10.0) -> torch.Tensor:
    """WGAN-GP: weight * E[(||grad D(x_hat)||_2 - 1)^2] at random interpolates of real and fake."""
    eps = torch.rand(real.shape[0], *([1] * (real.ndim - 1)), device=real.device, dtype=real.dtype)
    x_hat = eps * real.detach() + (1 - eps) * fake.detach()
    norm = (_grad_norm_sq(critic, x_hat) + 1e-12).sqrt()
    return weight * (norm - 1).pow(2).mean()


@REGULARIZERS.register("r1")
def r1_penalty(critic, real: torch.Tensor, fake: torch.Tensor, weight: float = 10.0) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): weight/2 * E[||grad D(x)||^2] on real data."""
    return weight / 2 * _grad_norm_sq(critic, real).mean()
