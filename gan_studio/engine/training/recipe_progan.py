"""ProGAN's recipe (Karras et al. 2018): `--arch progan --loss wgan-gp` (models/progan.py).

Schedule: the first resolution trains (stabilises) for `stable_steps`; each later one fades in over `fade_steps`
(alpha = steps into the phase / fade_steps, reaching 1 at the phase's last step) and then stabilises for
`stable_steps`; after the last, training stays at the full resolution. The paper's phases are 800k images each
(12,500 steps at batch 64); ours default to 1,000 steps each (64k images at batch 64) so a CPU run reaches 28 px
in 7,000 steps: options fade_steps / stable_steps. The clock is the generator's `steps_done` buffer, so a model
file holds where its schedule stands and `--resume` continues mid-phase.
During a fade the real images are blended the same way: alpha * x_r + (1 - alpha) * up(x_{r/2}), as the paper does.
Adam's moments are reset when a new resolution starts (the paper's reset_opt_for_new_lod).

Loss, the paper's: WGAN-GP, lambda 10 (--reg-weight), plus the drift term eps * E[D(x)^2], eps 0.001 (option
drift); n_critic 1 (the paper alternates per minibatch; --n-critic); Adam lr 1e-3 (--lr), betas (0.0, 0.99),
eps 1e-8; the generator's EMA with decay 0.999 (option ema_beta), saved as generator_ema, which samples.
Logged every step: d_loss, g_loss, penalty, drift, wasserstein, resolution (px) and alpha.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from ..checks import DECAY, NON_NEGATIVE, Range
from ..errors import UserError
from ..models.progan import resize
from .recipe_family import FamilyRecipe
from .recipes import RECIPES
from .regularizers import gradient_penalty

LR, BETAS, ADAM_EPS = 1e-3, (0.0, 0.99), 1e-8
PHASE = Range(1, 10**9)


def growth_at(step: int, levels: int, fade: int, stable: int) -> tuple[int, float]:
    """(stage, alpha) after `step` generator steps: stage 0 stabilises, then each stage fades in and stabilises."""
    if step < stable:
        return 0, 1.0
    k, into = divmod(step - stable, fade + stable)
    stage = k + 1
    if stage >= levels:
        return levels - 1, 1.0
    return (stage, (into + 1) / fade) if into < fade else (stage, 1.0)


def real_at(x: torch.Tensor, resolutions: list[int], stage: int, alpha: float) -> torch.Tensor:
    """Real images at the stage's resolution, blended with the coarser one's up-sampling during a fade."""
    r = resolutions[stage]
    xr = resize(x, r)
    if stage > 0 and alpha < 1.0:
        xr = alpha * xr + (1.0 - alpha) * resize(resize(x, resolutions[stage - 1]), r)
    return xr


@RECIPES.register("progan")
class ProGANRecipe(FamilyRecipe):
    ARCH = "progan"
    LOSSES_ALLOWED = ("wgan-gp",)
    SPEC = {"lr": LR, "n_critic": 1, "betas": BETAS}       # over wgan-gp's own (families.family_spec)
    EMA_BETA = 0.999
    OPTIONS = {
        "fade_steps": (1000, int, PHASE, "Generator steps over which each new resolution fades in (α 0 → 1)"),
        "stable_steps": (1000, int, PHASE, "Generator steps each resolution trains at α = 1 before the next grows"),
        "drift": (0.001, float, NON_NEGATIVE, "Drift term ε·E[D(x)²] that keeps the critic's scores near 0"),
        "ema_beta": (0.999, float, DECAY, "Decay of the generator's moving average (the samples); 0: off"),
    }

    def _build(self) -> None:
        cfg = self.cfg
        if cfg.reg not in (None, "gp"):
            raise UserError(f"--arch progan trains WGAN-GP (--reg gp), not --reg {cfg.reg}")
        self.D = self.network("critic")
        self.lam = 10.0 if cfg.reg_weight is None else float(cfg.reg_weight)
        self.n_critic = cfg.n_critic or 1
        self.lr = cfg.lr or LR
        self.levels = len(self.G.resolutions)
        self._stage: int | None = None
        self._optimisers()
        self._set_growth(*self.growth())

    def _optimisers(self) -> None:
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=self.lr, betas=BETAS, eps=ADAM_EPS)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=self.lr, betas=BETAS, eps=ADAM_EPS)

    def growth(self) -> tuple[int, float]:
        return growth_at(int(self.G.steps_done), self.levels, self.s["fade_steps"], self.s["stable_steps"])

    def _set_growth(self, stage: int, alpha: float) -> None:
        for net in (self.G, self.D) + ((self.G_ema,) if self.G_ema is not None else ()):
            net.set_growth(stage, alpha)

    def _critic_step(self, x: torch.Tensor, stage: int, alpha: float):
        real = real_at(x, self.G.resolutions, stage, alpha)
        with torch.no_grad():
            fake = self.G.forward_at(self.G.mapping(self._z(real.shape[0])), stage, alpha)
        d_real, d_fake = self.D.forward_at(real, stage, alpha), self.D.forward_at(fake, stage, alpha)
        gap = d_real.mean() - d_fake.mean()
        penalty = gradient_penalty(lambda v: self.D.forward_at(v, stage, alpha), real, fake, self.lam)
        drift = self.s["drift"] * d_real.pow(2).mean()
        self.opt_d.zero_grad(set_to_none=True)
        (-gap + penalty + drift).backward()
        self.opt_d.step()
        return -gap.detach(), penalty.detach(), drift.detach(), gap.detach()

    def train_step(self, batches: Iterator[torch.Tensor]) -> dict[str, float]:
        stage, alpha = self.growth()
        if self._stage is not None and stage != self._stage:
            for opt in (self.opt_g, self.opt_d):     # a new resolution: Adam's moments start afresh (the paper's);
                opt.state.clear()                    # the same optimisers keep torchrun's gradient averaging hooks
        self._stage = stage
        self._set_growth(stage, alpha)
        self.G.train()
        self.D.train()
        for _ in range(self.n_critic):
            d_loss, penalty, drift, gap = self._critic_step(next(batches), stage, alpha)
        self.D.requires_grad_(False)
        fake = self.G.forward_at(self.G.mapping(self._z(self.cfg.batch)), stage, alpha)
        g_loss = -self.D.forward_at(fake, stage, alpha).mean()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        self.G.steps_done += 1
        self._update_ema()
        return {"d_loss": (d_loss + penalty + drift).item(), "g_loss": g_loss.detach().item(),
                "penalty": penalty.item(), "drift": drift.item(), "wasserstein": gap.item(),
                "resolution": float(self.G.resolutions[stage]), "alpha": float(alpha)}

    def _other_networks(self) -> dict[str, nn.Module]:
        return {"critic": self.D}

    def load_networks(self, nets: dict[str, nn.Module]) -> None:
        super().load_networks(nets)
        self._stage = None                           # resumed mid-phase: the optimisers are fresh anyway
        self._set_growth(*self.growth())

    def _training_meta(self) -> dict:
        return {"reg": "gp", "reg_weight": self.lam, "n_critic": self.n_critic, "lr": self.lr,
                "optimizer": "adam", "betas": list(BETAS), "resolutions": list(self.G.resolutions)}
