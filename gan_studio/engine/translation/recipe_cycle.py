"""The unpaired, cycle-consistent recipes: two generators G: A -> B and F: B -> A, two critics D_B and D_A.

- CycleGAN (Zhu et al. 2017): LSGAN losses (`--loss lsgan`), cycle L1 with lambda 10, identity L1 with 0.5 lambda
  (G(b) ~ b, F(a) ~ a; only when A and B have the same channels), the critics fed from a history pool of the last 50
  generated images (Shrivastava et al. 2017: half the time an older fake), their objective halved; Adam 2e-4
  (0.5, 0.999); the learning rate constant for the first half of the steps, then linearly to 0.
- DiscoGAN (Kim et al. 2017): the GAN loss (`--loss ns`, BCE) and the reconstruction loss d(F(G(a)), a) with d the
  MSE, both directions, weight 1 each; Adam 2e-4 (0.5, 0.999) with weight decay 1e-5 (the authors' code);
  encoder-decoder generators, image-level critics.
- DualGAN (Yi et al. 2017): WGAN critics (`--loss wgan`) with weight clipping at 0.01, n_critic 2, RMSProp 5e-5;
  the generator's loss is the two adversarial terms plus the L1 reconstruction errors with lambda 100 (the paper
  sets lambda_U = lambda_V in [100, 1000]); U-Net generators, PatchGAN critics (no sigmoid).

Logged: d_loss (both critics), g_adv, cycle (the mean of both reconstruction errors, before lambda), identity.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..checks import NON_NEGATIVE, Range
from ..training.recipes import RECIPES
from .recipe_base import TranslationRecipe


class ImagePool:
    """Shrivastava et al.'s history of generated images: until `size` are stored each fake is stored and used;
    then each is used with probability 1/2, else an older one is used and replaced by it."""

    def __init__(self, size: int):
        self.size, self.images = size, []

    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return fakes
        out = []
        for img in fakes.detach():
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
            elif torch.rand(()) < 0.5:
                i = int(torch.randint(len(self.images), ()))
                out.append(self.images[i].clone())
                self.images[i] = img.clone()
            else:
                out.append(img)
        return torch.stack(out)


class CycleRecipe(TranslationRecipe):
    PAIRED = False
    DEFAULT_TRANSFORM = "edges"
    DISTANCE = "l1"                # the reconstruction distance: l1 or mse
    SAMPLE_ROWS = (("a", "a2b", "a2b2a"), ("b", "b2a", "b2a2b"))
    OPTIONS = {"cycle_weight": (10.0, float, NON_NEGATIVE, "lambda of the cycle-consistency loss"),
               "identity_weight": (5.0, float, NON_NEGATIVE, "weight of the identity loss (0.5 lambda)"),
               "pool": (50, int, Range(0, 10_000), "generated images kept in the critics' history pool")}
    WEIGHT_DECAY = 0.0

    def _build(self) -> None:
        n = self.nets
        self.G, self.F, self.D_B, self.D_A = n["generator"], n["generator_ba"], n["critic"], n["critic_a"]
        self.opt_g = self.optimizer(self.G, self.F)
        self.opt_d = self.optimizer(self.D_B, self.D_A)
        for opt in self.optimizers:
            for g in opt.param_groups:
                g["weight_decay"] = self.WEIGHT_DECAY
        self.pool_a, self.pool_b = ImagePool(self.s["pool"]), ImagePool(self.s["pool"])
        self.same_channels = self.arch_config["in_channels"] == self.arch_config["out_channels"]

    def _distance(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (x - y).abs().mean() if self.DISTANCE == "l1" else F.mse_loss(x, y)

    def _generator_step(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict]:
        for d in (self.D_A, self.D_B):
            d.requires_grad_(False)
        fake_b, fake_a = self.G(a), self.F(b)
        adv = self.spec.generator_loss(self.D_B(fake_b)) + self.spec.generator_loss(self.D_A(fake_a))
        cycle = self._distance(self.F(fake_b), a) + self._distance(self.G(fake_a), b)
        loss = adv + self.s["cycle_weight"] * cycle
        logs = {"g_adv": adv.detach().item(), "cycle": cycle.detach().item() / 2}
        if self.s["identity_weight"] > 0 and self.same_channels:
            identity = self._distance(self.G(b), b) + self._distance(self.F(a), a)
            loss = loss + self.s["identity_weight"] * identity
            logs["identity"] = identity.detach().item() / 2
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        for d in (self.D_A, self.D_B):
            d.requires_grad_(True)
        return fake_b.detach(), fake_a.detach(), logs | {"g_loss": loss.detach().item()}

    def _critic_step(self, a, b, fake_b, fake_a) -> float:
        fb, fa = self.pool_b.query(fake_b), self.pool_a.query(fake_a)
        loss = self.D_SCALE * (self.spec.critic_loss(self.D_B(b), self.D_B(fb)) +
                               self.spec.critic_loss(self.D_A(a), self.D_A(fa)))
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        if self.spec.clip is not None:
            with torch.no_grad():
                for d in (self.D_A, self.D_B):
                    for p in d.parameters():
                        p.clamp_(-self.spec.clip, self.spec.clip)
        return loss.detach().item()

    D_SCALE = 0.5

    def train_step(self, batches) -> dict[str, float]:
        self._schedule()
        a, b = next(batches)
        fake_b, fake_a, logs = self._generator_step(a, b)
        d_loss = self._critic_step(a, b, fake_b, fake_a)
        for _ in range(self.n_critic - 1):                 # DualGAN's extra critic steps, on fresh batches
            a2, b2 = next(batches)
            with torch.no_grad():
                fb, fa = self.G(a2), self.F(b2)
            d_loss = self._critic_step(a2, b2, fb, fa)
        self.step += 1
        return logs | {"d_loss": d_loss}

    def sample_rows(self) -> list[torch.Tensor]:
        a, b = self._fixed(self.data.a), self._fixed(self.data.b)
        ab, ba = self.G(a), self.F(b)
        return [a, ab, self.F(ab), b, ba, self.G(ba)]

    def _training_meta(self) -> dict:
        return {"reconstruction_distance": self.DISTANCE, "critic_objective_scale": self.D_SCALE,
                "weight_decay": self.WEIGHT_DECAY, "clip": self.spec.clip}


@RECIPES.register("cyclegan")
class CycleGANRecipe(CycleRecipe):
    FAMILY = "cyclegan"
    LOSSES_ALLOWED = ("lsgan", "ns", "vanilla", "hinge")
    SPEC = {"lr": 2e-4, "betas": (0.5, 0.999), "n_critic": 1}
    OPTIONS = CycleRecipe.OPTIONS | {"decay_from": (0.5, float, Range(0, 1), "the learning rate decays linearly "
                                                                             "to 0 from this fraction of the steps")}


@RECIPES.register("discogan")
class DiscoGANRecipe(CycleRecipe):
    FAMILY = "discogan"
    LOSSES_ALLOWED = ("ns", "vanilla", "lsgan")
    SPEC = {"lr": 2e-4, "betas": (0.5, 0.999), "n_critic": 1}
    DISTANCE = "mse"
    D_SCALE = 1.0
    WEIGHT_DECAY = 1e-5
    OPTIONS = {"cycle_weight": (1.0, float, NON_NEGATIVE, "weight of the reconstruction losses"),
               "identity_weight": (0.0, float, NON_NEGATIVE, "weight of an identity loss (DiscoGAN has none)"),
               "pool": (0, int, Range(0, 10_000), "generated images kept in a history pool (DiscoGAN: none)")}


@RECIPES.register("dualgan")
class DualGANRecipe(CycleRecipe):
    FAMILY = "dualgan"
    LOSSES_ALLOWED = ("wgan",)
    SPEC = {"lr": 5e-5, "optimizer": "rmsprop", "n_critic": 2}
    D_SCALE = 1.0
    OPTIONS = {"cycle_weight": (100.0, float, NON_NEGATIVE, "lambda of the L1 reconstruction losses (the paper: "
                                                            "100 to 1000)"),
               "identity_weight": (0.0, float, NON_NEGATIVE, "weight of an identity loss (DualGAN has none)"),
               "pool": (0, int, Range(0, 10_000), "generated images kept in a history pool (DualGAN: none)")}
