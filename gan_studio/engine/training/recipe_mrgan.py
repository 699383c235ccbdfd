"""Mode-regularised GANs (MRGAN, Che, Li, Jacob, Bengio & Li, ICLR 2017): `--arch dcgan-enc --loss mrgan`
(models/encoded.py: the DCGAN generator and critic plus an encoder E).

Regularised GAN (the default): D is the usual logistic critic on x against G(z). With d = the per-pixel mean squared
error (the paper's squared L2 distance, averaged over pixels so that lambda does not depend on the image size):
    geometric regulariser  R1 = E_x d(x, G(E(x)))
    mode regulariser       R2 = E_x -log D(G(E(x)))
    T_G = -E_z log D(G(z)) + lambda1 R1 + lambda2 R2,      T_E = lambda1 R1 + lambda2 R2
The paper prints the mode term as "+ lambda2 log D(G(E(x)))"; with its own D (1 = real) minimising that would push
the reconstructions towards "fake", against what the paper says the term does (G(E(x)) of every mode should look
real, so that the generator keeps the modes its encoder finds), so we take -log D. lambda1 = 0.2, lambda2 = 0.4
(options lambda_geometric, lambda_mode): the paper tunes them per experiment; these are small values of the kind it
uses, not figures we could check against its text here.
Manifold-diffusion variant (option manifold_diffusion, the paper's MDGAN), two steps per iteration:
    manifold step:  D_M (the critic) tells x from G(E(x)); G and E minimise lambda1 d(x, G(E(x))) - log D_M(G(E(x)))
    diffusion step: D_D (diffusion_critic) tells G(E(x)) (as "real") from G(z); G minimises -log D_D(G(z)).
Optimiser: Adam 2e-4 (0.5, 0.999) for every network (DCGAN's; the paper's own varies by experiment).
Logged: d_loss, g_loss, geometric (R1), mode (R2), and d_diffusion with the variant.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import NON_NEGATIVE
from ..errors import UserError
from ..registry import LOSSES
from .losses import LossSpec
from .recipe_family import FamilyRecipe
from .recipes import RECIPES

ARCH = "dcgan-enc"
LR, BETAS = 2e-4, (0.5, 0.999)


def mode_regularisers(x: torch.Tensor, recon: torch.Tensor, d_recon: torch.Tensor, lambda_geometric: float,
                      lambda_mode: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(R1, R2, lambda1 R1 + lambda2 R2): R1 = mean over images of the per-pixel MSE of x and G(E(x)) = `recon`,
    R2 = mean of -log D(G(E(x))) with D = sigmoid(`d_recon`), the critic's logits of the reconstructions."""
    geometric = (x - recon).pow(2).flatten(1).mean(1).mean()
    mode = F.softplus(-d_recon).mean()
    return geometric, mode, lambda_geometric * geometric + lambda_mode * mode


def _logistic(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def _needs_encoder(*_args):
    raise UserError("--loss mrgan trains an encoder with the generator: use --arch dcgan-enc")


LOSSES.register("mrgan")(LossSpec(
    "mrgan", _needs_encoder, _needs_encoder, lr=LR, betas=BETAS, extra={"arch": ARCH},
    description="Mode-regularised GAN (Che et al. 2017), with --arch dcgan-enc: an encoder E, the geometric "
                "regulariser 0.2 d(x, G(E(x))) and the mode regulariser 0.4 -log D(G(E(x))) in the generator's "
                "and encoder's objectives (--options lambda_geometric, lambda_mode; manifold_diffusion: the MDGAN "
                "variant); Adam 2e-4 (0.5, 0.999)"))


@RECIPES.register(ARCH)
class MRGANRecipe(FamilyRecipe):
    ARCH = ARCH
    LOSSES_ALLOWED = ("mrgan",)
    OPTIONS = {
        "lambda_geometric": (0.2, float, NON_NEGATIVE, "λ₁: weight of the geometric regulariser d(x, G(E(x)))"),
        "lambda_mode": (0.4, float, NON_NEGATIVE, "λ₂: weight of the mode regulariser −log D(G(E(x)))"),
        "manifold_diffusion": (False, bool, None, "The manifold-diffusion variant (MDGAN): a manifold step "
                                                  "x vs G(E(x)), then a diffusion step G(E(x)) vs G(z)"),
    }

    def _build(self) -> None:
        cfg = self.cfg
        if cfg.reg not in (None, "none"):
            raise UserError(f"--loss mrgan has no critic regulariser (--reg none), not {cfg.reg!r}")
        self.D, self.E = self.network("critic"), self.network("encoder")
        self.md = bool(self.s["manifold_diffusion"])
        self.D2 = self.network("diffusion_critic") if self.md else None
        self.lr, self.n_critic = cfg.lr or LR, cfg.n_critic or 1

        def adam(*nets):
            return torch.optim.Adam([p for n in nets for p in n.parameters()], lr=self.lr, betas=BETAS)
        self.opt_d, self.opt_ge = adam(self.D), adam(self.G, self.E)
        self.opt_d2, self.opt_g = (adam(self.D2), adam(self.G)) if self.md else (None, None)

    def _critic_step(self, critic, opt, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        loss = _logistic(critic(real), critic(fake.detach()))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    def _regularised_step(self, x: torch.Tensor) -> dict[str, float]:
        """The regularised GAN: D on x vs G(z); G and E on T_G and T_E (their shared terms in one backward)."""
        for _ in range(self.n_critic):
            with torch.no_grad():
                fake = self.G(self._z(x.shape[0]))
            d_loss = self._critic_step(self.D, self.opt_d, x, fake)
        self.D.requires_grad_(False)
        recon = self.G(self.E(x))
        geometric, mode, reg = mode_regularisers(x, recon, self.D(recon), self.s["lambda_geometric"],
                                                 self.s["lambda_mode"])
        g_adv = F.softplus(-self.D(self.G(self._z(self.cfg.batch)))).mean()
        self.opt_ge.zero_grad(set_to_none=True)
        (g_adv + reg).backward()
        self.opt_ge.step()
        self.D.requires_grad_(True)
        return {"d_loss": d_loss.item(), "g_loss": (g_adv + reg).detach().item(), "geometric": geometric.item(),
                "mode": mode.item()}

    def _manifold_diffusion_step(self, x: torch.Tensor) -> dict[str, float]:
        """MDGAN: the manifold step (D_M: x vs G(E(x)); G, E: lambda1 d + -log D_M(G(E(x)))), then the diffusion
        step (D_D: G(E(x)) vs G(z); G: -log D_D(G(z)))."""
        with torch.no_grad():
            recon = self.G(self.E(x))
        d_loss = self._critic_step(self.D, self.opt_d, x, recon)
        self.D.requires_grad_(False)
        recon = self.G(self.E(x))
        geometric, mode, _ = mode_regularisers(x, recon, self.D(recon), 1.0, 1.0)
        manifold = self.s["lambda_geometric"] * geometric + mode
        self.opt_ge.zero_grad(set_to_none=True)
        manifold.backward()
        self.opt_ge.step()
        self.D.requires_grad_(True)
        with torch.no_grad():
            recon, fake = self.G(self.E(x)), self.G(self._z(x.shape[0]))
        d2_loss = self._critic_step(self.D2, self.opt_d2, recon, fake)
        self.D2.requires_grad_(False)
        g_loss = F.softplus(-self.D2(self.G(self._z(self.cfg.batch)))).mean()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.D2.requires_grad_(True)
        return {"d_loss": d_loss.item(), "g_loss": g_loss.detach().item(), "geometric": geometric.item(),
                "mode": mode.item(), "d_diffusion": d2_loss.item(), "manifold": manifold.detach().item()}

    def train_step(self, batches: Iterator[torch.Tensor]) -> dict[str, float]:
        for net in (self.G, self.D, self.E):
            net.train()
        x = next(batches)
        return self._manifold_diffusion_step(x) if self.md else self._regularised_step(x)

    def _other_networks(self) -> dict[str, nn.Module]:
        nets = {"critic": self.D, "encoder": self.E}
        if self.D2 is not None:
            nets["diffusion_critic"] = self.D2
        return nets

    def _training_meta(self) -> dict:
        return {"reg": "none", "n_critic": self.n_critic, "lr": self.lr, "optimizer": "adam", "betas": list(BETAS),
                "distance": "per-pixel mean squared error", "variant": "mdgan" if self.md else "regularised"}
