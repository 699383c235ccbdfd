"""Unrolled GAN (Metz, Poole, Pfau & Sohl-Dickstein, ICLR 2017): the generator's loss against a critic K steps ahead.

    f_K(theta_G, theta_D) = f(theta_G, theta_D^K(theta_G, theta_D))

theta_D^0 is the critic's current parameters (constants here); theta_D^{k+1} = theta_D^k + one optimiser step on
the critic's loss at theta_D^k, with fresh real data and fresh fakes G(z). The fakes keep their graph to theta_G
and the critic's gradients are taken with create_graph=True, so backpropagating f_K reaches theta_G also through
the K updates: the paper's second-order term d theta_D^K / d theta_G. The steps are Adam's, as in the paper,
continuing the critic optimiser's own moments and step count (plain SGD with its learning rate when the critic
optimiser is not Adam). The critic network itself is never changed: it is called through
`torch.func.functional_call` with the unrolled parameters.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call

Critic = Callable[[torch.Tensor], torch.Tensor]


def _adam_moments(opt: torch.optim.Optimizer, params: list[nn.Parameter]) -> list[tuple]:
    """(exp_avg, exp_avg_sq, step) of each parameter from the optimiser's state (zeros before its first step)."""
    out = []
    for p in params:
        st = opt.state.get(p, {})
        out.append((st.get("exp_avg", torch.zeros_like(p)).detach(), st.get("exp_avg_sq", torch.zeros_like(p)).detach(),
                    float(st.get("step", 0))))
    return out


def _adam_step(theta, grad, moments, lr, betas, eps):
    """One differentiable Adam step; returns (theta', moments')."""
    m, v, t = moments
    b1, b2 = betas
    m, v, t = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad, t + 1
    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    # sqrt(v + 1e-16): sqrt has an infinite slope at 0, which turns a zero gradient into NaN when differentiated
    return theta - lr * m_hat / ((v_hat + 1e-16).sqrt() + eps), (m, v, t)


def unrolled_critic(D: nn.Module, opt: torch.optim.Optimizer, objective: Callable, draw: Callable,
                    steps: int, second_order: bool = True) -> Critic:
    """The critic `steps` optimiser steps ahead, as a function x (, c) -> D(x (, c); theta_D^K).

    objective(critic, real, fake) -> the critic's scalar loss; draw() -> (real, fake) with fake = G(z) attached to
    the generator's graph. With second_order=False the fakes are detached and the steps not differentiated
    (the critic ahead is then a constant: only the first-order part of the unrolled gradient remains).
    """
    names = [n for n, _ in D.named_parameters()]
    params = [p for _, p in D.named_parameters()]
    theta = [p.detach().requires_grad_(True) for p in params]
    group = opt.param_groups[0]
    adam = isinstance(opt, torch.optim.Adam)
    moments = _adam_moments(opt, params) if adam else None

    def critic_at(th):                       # extra arguments pass through (a conditional critic's classes)
        return lambda x, *args: functional_call(D, dict(zip(names, th)), (x, *args))

    for _ in range(steps):
        real, fake = draw()
        if not second_order:
            fake = fake.detach()
        loss = objective(critic_at(theta), real, fake)
        grads = torch.autograd.grad(loss, theta, create_graph=second_order, allow_unused=True)
        grads = [torch.zeros_like(t) if g is None else g for t, g in zip(theta, grads)]   # e.g. InfoGAN's Q head
        if adam:
            stepped = [_adam_step(t, g, mo, group["lr"], group["betas"], group["eps"])
                       for t, g, mo in zip(theta, grads, moments)]
            theta, moments = [s[0] for s in stepped], [s[1] for s in stepped]
        else:
            theta = [t - group["lr"] * g for t, g in zip(theta, grads)]
        if not second_order:
            theta = [t.detach().requires_grad_(True) for t in theta]
            moments = [tuple(x.detach() if torch.is_tensor(x) else x for x in mo) for mo in moments] if adam else None
    return critic_at(theta)
