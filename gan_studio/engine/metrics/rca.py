"""Reconstructor classification accuracy (RCA): how distinguishable a set of directions is.

A fresh reconstructor is trained with a fixed budget (the same for every method, so numbers compare) to
tell which direction moved an image pair, then scored on held-out pairs. Shifts use the discovery shift
distribution (ε = 6·U(−1, 1), |ε| ≥ 0.5), scaled by the direction set's shift_scale.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..device import device_of
from ..latent.directions.core import DirectionSet
from ..latent.directions.voynov import PRESETS, PairRenderer, Reconstructor, pair_input, sample_shifts


@dataclass(frozen=True)
class RCABudget:
    """The one fixed budget every method is scored with. 6,000 cosine-decayed steps: at 2,000 constant-lr steps the
    fresh reconstructor was the bottleneck (the same 10-minute Voynov directions scored 0.794 there, 0.819 with a
    cosine decay, 0.880 at 6,000 constant and 0.902 at 6,000 cosine), and random directions never left chance."""
    steps: int = 6000
    batch: int = 32
    eval_pairs: int = 3000
    lr: float = 1e-3
    width: int = 2
    pair_input: str = "concat+diff"
    schedule: str = "cosine"          # "cosine" (lr decays to 0 over the steps) or "constant"

    def __post_init__(self) -> None:
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"RCA schedule must be 'constant' or 'cosine', not {self.schedule!r}")

    def describe(self) -> str:
        lr = f"Adam lr {self.lr}" + (", cosine decay to 0" if self.schedule == "cosine" else "")
        return (f"fresh reconstructor (LeNet-style, width {self.width}, input {self.pair_input}), "
                f"{self.steps} steps of batch {self.batch}, {lr}; accuracy on {self.eval_pairs} "
                f"held-out pairs")


def rca_iter(G, ds: DirectionSet, budget: RCABudget = RCABudget(), seed: int = 0) -> Iterator[dict]:
    """Yields training progress, then {"rca": accuracy, ...}."""
    G = G.eval()
    device = device_of(G)
    preset = PRESETS["paper"]
    dirs = ds.directions.to(device)
    pairs = PairRenderer(G, ds.space, ds.shift_scale)
    torch.manual_seed(seed)
    rec = Reconstructor(G.img_channels * (2 if budget.pair_input == "concat" else 3), ds.k, budget.width).to(device)
    opt = torch.optim.Adam(rec.parameters(), lr=budget.lr)
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=budget.steps)
             if budget.schedule == "cosine" else None)
    gen = torch.Generator().manual_seed(seed)

    def batch(n: int):
        z = torch.randn(n, G.z_dim, generator=gen).to(device)
        k, eps = sample_shifts(n, ds.k, preset, gen, device)
        with torch.no_grad():
            base = pairs.base(z)
            x = pair_input(pairs.render(base), pairs.render(base, dirs[k] * eps[:, None]), budget.pair_input)
        return x, k

    for step in range(1, budget.steps + 1):
        rec.train()
        x, k = batch(budget.batch)
        loss = F.cross_entropy(rec(x)[0], k)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        if step % 50 == 0 or step == budget.steps:
            yield {"stage": "training", "step": step, "total": budget.steps, "loss": loss.detach().item()}
    rec.eval()
    gen.manual_seed(seed + 1_000_003)                        # held-out pairs: a different stream
    correct = 0
    with torch.no_grad():
        for i in range(0, budget.eval_pairs, 250):
            n = min(250, budget.eval_pairs - i)
            x, k = batch(n)
            correct += (rec(x)[0].argmax(1) == k).sum().item()
    yield {"stage": "done", "rca": correct / budget.eval_pairs, "k": ds.k, "method": ds.method,
           "budget": budget.describe()}


def rca(G, ds: DirectionSet, budget: RCABudget = RCABudget(), seed: int = 0) -> dict:
    out = None
    for p in rca_iter(G, ds, budget, seed):
        out = p
    return out
