"""Discriminator rejection sampling, DRS (Azadi, Olsson, Darrell, Goodfellow, Odena, ICLR 2019).

With D̃(x) the critic's logit (calibrated: see drs_calibration.py; by default a copy of the critic fine-tuned
with the logistic loss, drs_finetune.py), exp(D̃(x)) estimates p_data(x) / p_G(x),
and rejection sampling keeps a generated x with probability exp(D̃(x) − D̃_M), D̃_M = max D̃. The paper's
practical scheme, followed here:

  1. burn-in: score K generated samples to estimate D̃_M;
  2. F(x) = D̃(x) − D̃_M − log(1 − exp(D̃(x) − D̃_M − ε)) − γ, ε = 1e-6; keep x with probability σ(F(x))
     (with γ = 0 and ε → 0, σ(F) is exactly exp(D̃ − D̃_M); γ shifts every sample's odds alike);
  3. D̃_M keeps rising to the largest logit met while sampling.

γ: as in the paper, γ is set so that the P-th percentile of F (computed with γ = 0) is 0, P = 95 by default:
γ = percentile_P(F) over the burn-in samples. A higher P means a larger γ: fewer samples kept, better ones.
The paper re-sets γ for every batch; we re-set it from the stored burn-in logits whenever D̃_M rises, so the
percentile always refers to the current D̃_M (a γ frozen at the burn-in D̃_M would make every later sample
less likely each time the maximum grows: measured on the shipped model, 7% accepted instead of 17%).

K = 2,000 by default, not the paper's 10,000: the 95th percentile then rests on 100 samples above it (its
estimate moves by a few hundredths), D̃_M is only a starting value that rises during sampling anyway (and γ
follows it), and 2,000 samples take under a second on a busy CPU where 10,000 take four; the GUI waits for it.

Seeds: DRS cannot keep "seed S is the image of S" for every S. `drs_sample(seed=S, n=N)` tries the candidate
seeds S, S+1, … in order and returns the first N it accepts, with their seeds (`sample --seed s` renders any
of them again). Candidate s's uniform draw comes from s's own stream, right after its latent, and the burn-in
samples from a fixed stream of their own, so a result depends only on (S, N, K, P, ψ, model, calibration) —
not on the batch size — and a run for N is the start of the run for N + k.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch

from ..device import device_of
from ..errors import UserError
from .drs_calibration import Calibration, critic_scores
from .sampling import generate, seed_latent

EPS = 1e-6
DEFAULT_PERCENTILE = 95.0
DEFAULT_BURN_IN = 2000
BURN_IN_SEED = 0xB1A5     # the burn-in samples' stream (independent of the user's seeds)
MAX_BATCH = 256


# ---------------------------------------------------------------- the formula

def drs_F(logits: torch.Tensor, logit_max, gamma=0.0, eps: float = EPS) -> torch.Tensor:
    """F(x) for logits (N,) against D̃_M and γ (numbers or (N,); D̃_M ≥ logits), float64 (N,)."""
    d = (logits.double() - torch.as_tensor(logit_max, dtype=torch.float64)).clamp(max=0.0)
    return d - torch.log1p(-torch.exp(d - eps)) - gamma


def acceptance_probability(logits: torch.Tensor, logit_max, gamma=0.0, eps: float = EPS) -> torch.Tensor:
    """σ(F(x)), float64 (N,)."""
    return torch.sigmoid(drs_F(logits, logit_max, gamma, eps))


# ---------------------------------------------------------------- burn-in

@dataclass
class BurnIn:
    logit_max: float          # D̃_M over the burn-in samples
    gamma: float              # γ at that D̃_M
    percentile: float | None  # None when γ was given directly (then it never changes)
    n: int
    expected_rate: float      # mean σ(F) over the burn-in samples: the acceptance rate to expect
    truncation_psi: float = 1.0
    logits: torch.Tensor | None = field(default=None, repr=False)   # (K,) float64 burn-in logits

    def gamma_at(self, logit_max: float) -> float:
        """γ making the P-th percentile of the burn-in F zero when D̃_M is `logit_max`."""
        if self.percentile is None or self.logits is None or logit_max == self.logit_max:
            return self.gamma
        return float(torch.quantile(drs_F(self.logits, logit_max), self.percentile / 100.0))


def on_device(net, device):
    """net itself when it is on `device` (or device is None), else a copy moved there."""
    if device is None:
        return net
    here = device_of(net)
    return net if here == torch.device(device) else copy.deepcopy(net).to(device).eval()


def _logits(G, critic, cal: Calibration, z: torch.Tensor, psi: float) -> tuple[torch.Tensor, torch.Tensor]:
    """z (B, z_dim) -> images (B, C, H, W) on the CPU and their calibrated logits (B,) float64."""
    imgs = generate(G, z, truncation_psi=psi)
    lg = cal.logits(critic_scores(cal.scorer(critic), imgs)).double()     # the fine-tuned copy, if there is one
    return imgs, torch.nan_to_num(lg, nan=float("-inf"))


def check_percentile(percentile: float) -> float:
    p = float(percentile)
    if not 0.0 <= p <= 100.0:
        raise UserError(f"the DRS percentile must be between 0 and 100, not {percentile:g}")
    return p


def burn_in_iter(G, critic, cal: Calibration, n: int = DEFAULT_BURN_IN, percentile: float = DEFAULT_PERCENTILE,
                 gamma: float | None = None, truncation_psi: float = 1.0, batch: int = 250) -> Iterator[dict]:
    """Yields progress dicts, then {"stage": "done", "result": BurnIn}. G and critic on the same device."""
    if n < 2:
        raise UserError(f"the DRS burn-in needs at least 2 samples, not {n}")
    if gamma is None:
        percentile = check_percentile(percentile)
    z = torch.randn(n, G.z_dim, generator=torch.Generator("cpu").manual_seed(BURN_IN_SEED))   # (K, z_dim)
    parts = []
    for i in range(0, n, batch):
        parts.append(_logits(G, critic, cal, z[i:i + batch], truncation_psi)[1])
        yield {"stage": "burn-in", "done": min(i + batch, n), "total": n}
    logits = torch.cat(parts)                                                                  # (K,)
    if not torch.isfinite(logits).all():
        raise UserError("the critic gave non-finite scores for generated images; DRS cannot use it")
    top = float(logits.max())
    f0 = drs_F(logits, top)
    g = float(torch.quantile(f0, percentile / 100.0)) if gamma is None else float(gamma)
    rate = float(torch.sigmoid(f0 - g).mean())
    yield {"stage": "done", "result": BurnIn(top, g, None if gamma is not None else percentile, n, rate,
                                              float(truncation_psi), logits)}


def burn_in(G, critic, cal: Calibration, **kw) -> BurnIn:
    return _last_result(burn_in_iter(G, critic, cal, **kw))


# ---------------------------------------------------------------- sampling

@dataclass
class DRSResult:
    seeds: list[int]              # the accepted seeds, in the order tried
    images: torch.Tensor          # (N, C, H, W) float32 in [-1, 1] on the CPU, one per accepted seed
    first_seed: int
    logits: torch.Tensor          # (M,) calibrated logit of every candidate first_seed … first_seed + M − 1
    probs: torch.Tensor           # (M,) its acceptance probability σ(F)
    accepted: torch.Tensor        # (M,) bool
    burn: BurnIn
    logit_max: float              # D̃_M at the end

    @property
    def candidates(self) -> int:
        return int(self.accepted.numel())

    @property
    def acceptance_rate(self) -> float:
        return len(self.seeds) / max(self.candidates, 1)

    def summary(self) -> dict:
        """JSON-friendly figures of the run."""
        return {"accepted": len(self.seeds), "candidates": self.candidates,
                "acceptance_rate": round(self.acceptance_rate, 6), "first_seed": self.first_seed,
                "seeds": list(self.seeds), "gamma": self.burn.gamma, "percentile": self.burn.percentile,
                "burn_in": self.burn.n, "logit_max": self.logit_max, "truncation_psi": self.burn.truncation_psi}


def seeds_latents_uniforms(seeds: Sequence[int], z_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """z (B, z_dim) exactly as seed_latent gives them, and each seed's acceptance uniform u (B,) float64,
    drawn from the same stream right after its latent."""
    zs, us = [], []
    for s in seeds:
        seed_latent(s, z_dim)                       # range check, one clear message
        g = torch.Generator("cpu").manual_seed(int(s))
        zs.append(torch.randn(1, z_dim, generator=g))
        us.append(torch.rand(1, generator=g, dtype=torch.float64))
    return torch.cat(zs), torch.cat(us)


def default_max_candidates(n: int) -> int:
    return 200 * n + 10_000


def _batch_size(need: int, rate: float) -> int:
    """Candidates to try next: enough for `need` acceptances at the expected rate (results do not depend on it)."""
    return int(min(MAX_BATCH, max(16, 1.25 * need / max(rate, 0.01))))


def drs_iter(G, critic, cal: Calibration, seed: int, n: int, burn: BurnIn | None = None,
             percentile: float = DEFAULT_PERCENTILE, burn_in_n: int = DEFAULT_BURN_IN, truncation_psi: float = 1.0,
             max_candidates: int | None = None, device=None) -> Iterator[dict]:
    """Yields progress dicts (burn-in, then {"stage": "sampling", "done", "total", "candidates"}), then
    {"stage": "done", "result": DRSResult}. Pass `burn` to reuse an earlier burn-in (it must have used the
    same model, calibration and truncation)."""
    if n < 1:
        raise UserError(f"--n must be at least 1, not {n}")
    G, critic = on_device(G, device), on_device(critic, device)
    if burn is None:
        burn = yield from forward_progress(burn_in_iter(G, critic, cal, n=burn_in_n, percentile=percentile,
                                                truncation_psi=truncation_psi))
    limit = max_candidates or default_max_candidates(n)
    top, nxt = burn.logit_max, int(seed)
    seeds, images, logits, probs, accepted = [], [], [], [], []
    while len(seeds) < n:
        if nxt - seed >= limit:
            raise UserError(f"DRS accepted only {len(seeds)} of {n} samples in {limit} candidates "
                            f"({len(seeds) / limit:.2%}); lower the DRS percentile")
        cand = list(range(nxt, nxt + min(_batch_size(n - len(seeds), burn.expected_rate), limit - (nxt - seed))))
        z, u = seeds_latents_uniforms(cand, G.z_dim)
        imgs, lg = _logits(G, critic, cal, z, truncation_psi)                                # (B, C, H, W), (B,)
        running = torch.maximum(torch.cummax(lg, 0).values, torch.tensor(top, dtype=torch.float64))  # D̃_M (B,)
        gammas = {m: burn.gamma_at(m) for m in torch.unique(running).tolist()}       # D̃_M rarely changes
        p = acceptance_probability(lg, running, torch.tensor([gammas[m] for m in running.tolist()],
                                                             dtype=torch.float64))
        acc = u <= p
        hits = torch.nonzero(acc).flatten()
        cut = int(hits[n - len(seeds) - 1]) + 1 if len(hits) >= n - len(seeds) else len(cand)
        keep = acc[:cut]
        seeds += [s for s, k in zip(cand[:cut], keep.tolist()) if k]
        images.append(imgs[:cut][keep])
        logits.append(lg[:cut])
        probs.append(p[:cut])
        accepted.append(keep)
        top, nxt = float(running[cut - 1]), nxt + cut
        yield {"stage": "sampling", "done": len(seeds), "total": n, "candidates": nxt - seed}
    yield {"stage": "done", "result": DRSResult(seeds, torch.cat(images), int(seed), torch.cat(logits),
                                                 torch.cat(probs), torch.cat(accepted), burn, top)}


def drs_sample(G, critic, cal: Calibration, seed: int, n: int, **kw) -> DRSResult:
    """The first n accepted samples from candidate seeds seed, seed + 1, …"""
    return _last_result(drs_iter(G, critic, cal, seed, n, **kw))


def forward_progress(gen: Iterator[dict]):
    """Re-yield a sub-generator's progress and return its result."""
    result = None
    for p in gen:
        if "result" in p:
            result = p["result"]
        else:
            yield p
    return result


def _last_result(gen: Iterator[dict]):
    result = None
    for p in gen:
        result = p.get("result", result)
    return result
