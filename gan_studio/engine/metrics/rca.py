"""Reconstructor classification accuracy (RCA): how distinguishable a set of directions is.

A fresh reconstructor is trained with a fixed budget (the same for every method, so numbers compare) to
tell which direction moved an image pair, then scored on held-out pairs. Shifts use the discovery shift
distribution (ε = 6·U(−1, 1), |ε| ≥ 0.5), scaled by the direction set's shift_scale.

Three published protocols (`BUDGETS`):
    "fast"    (default) the training pairs are rendered once (196,608 of them) and a LeNet reconstructor at
              width 8 takes 3,000 steps of batch 128 over them, so a step costs only its own forward/backward.
              The reconstructor's budget decides how close the figure comes to the directions' real
              distinguishability. On one mnist-wgan-gp file (the default discovery's, running accuracy 0.900):
              65,536 pairs read 0.885 with the reconstructor at 0.979 on its own training pairs (it memorises
              them), 131,072 pairs 0.899, 196,608 pairs 0.902 (0.94 on its training pairs); 2,000 steps 0.894,
              batch 256 0.905 at twice the cost; width 6 0.897; training on swapped pairs too 0.852.
    "lenet4"  an earlier fast protocol: LeNet width 4, 2,000 steps on 65,536 pairs (about 43 s on an idle
              2-core machine); it reads low (see above).
    "full"    the first release's protocol: new pairs every step, the wide reconstructor, 6,000 steps of batch
              32 (12 min on 2 threads). Undertrained rather than slow: random directions read 0.031 (chance
              for K 32) where the cached protocols read far above chance, and the previous default's
              directions 0.769 against 0.843 / 0.880 with the LeNet protocols.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from ..device import channels_last_copy, device_of
from ..errors import UserError
from ..latent.directions.core import DirectionSet
from ..latent.directions.reconstructors import Reconstructor, input_channels, pair_input
from ..latent.directions.voynov import PRESETS, PairRenderer, sample_shifts

CACHE_BYTES = 768 << 20           # the fast protocol's rendered pairs: at most this much memory


@dataclass(frozen=True)
class RCABudget:
    """One fixed budget every method is scored with (the defaults: protocol "fast"). `protocol` "cached":
    `train_pairs` pairs rendered once, `steps` optimizer steps of `batch` pairs drawn from them (epochs); "fresh":
    every step renders new pairs."""
    protocol: str = "cached"
    steps: int = 3000
    batch: int = 128
    eval_pairs: int = 4000
    lr: float = 2e-3
    width: int = 8
    arch: str = "lenet"
    pair_input: str = "concat+diff"
    schedule: str = "cosine"          # "cosine" (lr decays to 0 over the steps) or "constant"
    train_pairs: int = 196_608
    shifts_per_base: int = 4          # cached: each base image G(z) is shared by this many shifted images

    def __post_init__(self) -> None:
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"RCA schedule must be 'constant' or 'cosine', not {self.schedule!r}")
        if self.protocol not in ("cached", "fresh"):
            raise ValueError(f"RCA protocol must be 'cached' or 'fresh', not {self.protocol!r}")
        for name in ("steps", "batch", "train_pairs", "eval_pairs"):
            if getattr(self, name) < 1:                 # 0 steps "measured" chance and called it an RCA
                raise UserError(f"RCA {name.replace('_', ' ')} must be at least 1, not {getattr(self, name)}")

    def describe(self) -> str:
        lr = f"Adam lr {self.lr}" + (", cosine decay to 0" if self.schedule == "cosine" else "")
        pairs = (f"{self.train_pairs} pairs rendered once" if self.protocol == "cached"
                 else "new pairs every step")
        return (f"fresh reconstructor ({self.arch}, width {self.width}, input {self.pair_input}), "
                f"{self.steps} steps of batch {self.batch}, {pairs}, {lr}; accuracy on {self.eval_pairs} "
                f"held-out pairs")


FULL = RCABudget(protocol="fresh", steps=6000, batch=32, eval_pairs=3000, lr=1e-3, width=2, arch="wide")
BUDGETS = {"fast": RCABudget(), "lenet4": RCABudget(width=4, steps=2000, train_pairs=65_536), "full": FULL}


def budget_named(name: str, **overrides) -> RCABudget:
    if name not in BUDGETS:
        raise ValueError(f"RCA protocol must be one of {', '.join(BUDGETS)}, not {name!r}")
    return replace(BUDGETS[name], **{k: v for k, v in overrides.items() if v is not None})


class _Pairs:
    """Renders (pair input, direction index) batches of a direction set, from a seeded stream."""

    def __init__(self, G, ds: DirectionSet, budget: RCABudget, seed: int):
        self.G, self.budget, self.k = G, budget, ds.k
        self.device = device_of(G)
        self.dirs = ds.directions.to(self.device)
        self.pairs = PairRenderer(G, ds.space, ds.shift_scale)
        self.gen = torch.Generator().manual_seed(seed)

    def images(self, n: int, per_base: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        m = -(-n // per_base)
        z = torch.randn(m, self.G.z_dim, generator=self.gen).to(self.device)
        k, eps = sample_shifts(n, self.k, PRESETS["paper"], self.gen, self.device)
        base, a = self.pairs.shared_bases(z, per_base, n)
        with torch.no_grad():
            b = self.pairs.render(base, self.dirs[k] * eps[:, None])
        return a, b, k

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        a, b, k = self.images(n)
        return pair_input(a, b, self.budget.pair_input), k


def _cache(src: _Pairs, n: int) -> Iterator[dict | tuple]:
    """Render n training pairs once (float16, resized as the reconstructor sees them), in chunks of 256."""
    a0, b0, _ = src.images(1)
    x0 = pair_input(a0, b0, "concat")
    n = max(1, min(n, CACHE_BYTES // (x0[0].numel() * 2)))
    xs = torch.empty(n, *x0.shape[1:], dtype=torch.float16, device=src.device)
    ks = torch.empty(n, dtype=torch.long, device=src.device)
    for i in range(0, n, 256):
        m = min(256, n - i)
        a, b, k = src.images(m, src.budget.shifts_per_base)
        xs[i:i + m], ks[i:i + m] = pair_input(a, b, "concat").half(), k
        yield {"stage": "rendering", "step": i + m, "total": n}
    yield xs, ks


def _expand(x: torch.Tensor, mode: str, c: int) -> torch.Tensor:
    x = x.float()
    return x if mode == "concat" else torch.cat([x, x[:, c:] - x[:, :c]], 1)


def rca_iter(G, ds: DirectionSet, budget: RCABudget = RCABudget(), seed: int = 0) -> Iterator[dict]:
    """Yields progress ({"stage": "rendering" | "training", "step", "total", ...}), then {"rca": accuracy, ...}."""
    G = G.eval()
    src = _Pairs(G, ds, budget, seed)
    torch.manual_seed(seed)
    rec = channels_last_copy(Reconstructor(input_channels(G.img_channels, budget.pair_input), ds.k, budget.width,
                                           budget.arch).to(src.device), copy=False)
    opt = torch.optim.Adam(rec.parameters(), lr=budget.lr)
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=budget.steps)
             if budget.schedule == "cosine" else None)
    cache = None
    if budget.protocol == "cached":
        for item in _cache(src, budget.train_pairs):
            if isinstance(item, dict):
                yield item
            else:
                cache = item
    order = torch.Generator().manual_seed(seed + 7)
    for step in range(1, budget.steps + 1):
        rec.train()
        if cache is None:
            x, k = src.batch(budget.batch)
        else:
            idx = torch.randint(0, cache[0].shape[0], (budget.batch,), generator=order).to(src.device)
            x, k = _expand(cache[0][idx], budget.pair_input, G.img_channels), cache[1][idx]
        loss = F.cross_entropy(rec(x)[0], k)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        if step % 50 == 0 or step == budget.steps:
            yield {"stage": "training", "step": step, "total": budget.steps, "loss": loss.detach().item()}
    yield {"stage": "done", "rca": _score(rec, src, budget, seed), "k": ds.k, "method": ds.method,
           "budget": budget.describe()}


def _score(rec, src: _Pairs, budget: RCABudget, seed: int) -> float:
    rec.eval()
    src.gen.manual_seed(seed + 1_000_003)                    # held-out pairs: a different stream
    correct = 0
    with torch.no_grad():
        for i in range(0, budget.eval_pairs, 250):
            x, k = src.batch(min(250, budget.eval_pairs - i))
            correct += (rec(x)[0].argmax(1) == k).sum().item()
    return correct / budget.eval_pairs


def rca(G, ds: DirectionSet, budget: RCABudget = RCABudget(), seed: int = 0) -> dict:
    out = None
    for p in rca_iter(G, ds, budget, seed):
        out = p
    return out
