"""LAPGAN's recipe (Denton et al. 2015): `--arch lapgan --loss ns|vanilla|lsgan|hinge` (models/lapgan.py).

Every level trains as its own GAN on the real images' Laplacian pyramid, as in the paper (each level sees the real
coarser image as its condition, never a generated one): the coarse GAN on I_0, and per finer level the conditional
GAN of min_G max_D E[log D(h, l)] + E[log(1 - D(G(z, l), l))] with l = u(I_{k-1}) and h = I_k - l. One step trains
every level once on the same batch (the levels share no weights, so one Adam over all of them is a per-level Adam).
The loss is the chosen `--loss`'s (default ns: the paper's objective with the non-saturating generator loss), per
level; Adam with the loss's lr and betas (2e-4, (0.5, 0.999): DCGAN's, in place of the paper's SGD with momentum).
Logged: d_loss and g_loss (summed over the levels) and each level's, d_7px, g_7px, d_14px, ...
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from ..errors import UserError
from ..models.lapgan import laplacian_pyramid
from ..registry import LOSSES
from .recipe_family import FamilyRecipe
from .recipes import RECIPES


@RECIPES.register("lapgan")
class LAPGANRecipe(FamilyRecipe):
    ARCH = "lapgan"
    LOSSES_ALLOWED = ("ns", "vanilla", "lsgan", "hinge")

    def _build(self) -> None:
        cfg = self.cfg
        if cfg.reg not in (None, "none"):
            raise UserError(f"--arch lapgan trains without a critic regulariser (--reg none), not {cfg.reg!r}")
        self.spec = LOSSES.get(cfg.loss)
        self.D = self.network("critic")
        self.lr, self.n_critic = cfg.lr or self.spec.lr, cfg.n_critic or 1
        betas = tuple(float(b) for b in self.spec.betas)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=self.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=self.lr, betas=betas)
        self.levels = self.G.levels

    def _real_levels(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
        """[(target, condition)] per level: (I_0, None), then (h_k, l_k)."""
        coarse, bands = laplacian_pyramid(x, len(self.levels))
        return [(coarse, None)] + [(h, low) for low, h in bands]

    def _fakes(self, reals, n: int) -> list[torch.Tensor]:
        """Each level's generated target given the real condition: G_0(z_0), then G_k(z_k, l_k)."""
        ws = self.G.mapping(self._z(n))
        r0 = self.levels[0]
        out = [self.G.coarse(ws[:, 0]).view(n, self.G.img_channels, r0, r0)]
        return out + [level(ws[:, k], reals[k][1]) for k, level in enumerate(self.G.refine, start=1)]

    def _critic_step(self, x: torch.Tensor) -> list[torch.Tensor]:
        reals = self._real_levels(x)
        with torch.no_grad():
            fakes = self._fakes(reals, x.shape[0])
        losses = [self.spec.critic_loss(self.D.level(k, h, low), self.D.level(k, f, low))
                  for k, ((h, low), f) in enumerate(zip(reals, fakes))]
        self.opt_d.zero_grad(set_to_none=True)
        sum(losses).backward()
        self.opt_d.step()
        return [v.detach() for v in losses]

    def train_step(self, batches: Iterator[torch.Tensor]) -> dict[str, float]:
        self.G.train()
        self.D.train()
        for _ in range(self.n_critic):
            d_losses = self._critic_step(next(batches))
        self.D.requires_grad_(False)
        reals = self._real_levels(next(batches))
        fakes = self._fakes(reals, reals[0][0].shape[0])
        g_losses = [self.spec.generator_loss(self.D.level(k, f, reals[k][1])) for k, f in enumerate(fakes)]
        self.opt_g.zero_grad(set_to_none=True)
        sum(g_losses).backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        logs = {"d_loss": float(sum(d_losses)), "g_loss": sum(g.detach().item() for g in g_losses)}
        for r, d, g in zip(self.levels, d_losses, g_losses):
            logs |= {f"d_{r}px": d.item(), f"g_{r}px": g.detach().item()}
        return logs

    def _other_networks(self) -> dict[str, nn.Module]:
        return {"critic": self.D}

    def _training_meta(self) -> dict:
        return {"reg": "none", "n_critic": self.n_critic, "lr": self.lr, "optimizer": "adam",
                "betas": list(self.spec.betas), "levels": list(self.levels)}
