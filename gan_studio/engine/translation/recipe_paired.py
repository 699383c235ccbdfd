"""The paired recipes: pix2pix (Isola et al. 2017) and super-resolution, SRResNet and SRGAN (Ledig et al. 2017).

pix2pix: min_G max_D L_cGAN(G, D) + lambda L1(G), lambda = 100; D is the conditional PatchGAN on concat(A, B), its
objective halved; the non-saturating loss (`--loss ns`, BCE with logits) by default; Adam 2e-4, (0.5, 0.999), batch
norm replaced by instance norm (the paper's batch 1 is exactly that); dropout 0.5 in the decoder while training (the
paper's only noise; off when translating, so a drawing gives one answer). `--options '{"gan_weight": 0}'` trains the
same generator with L1 alone (the paper's L1-only baseline); its critic is then not trained.

SRResNet: the pixel MSE only, Adam 1e-4 (0.9, 0.999): the PSNR baseline. SRGAN: the perceptual loss
l = l_content + 1e-3 l_adv, l_content the MSE of features of a network (content.py: the shipped lenet-mnist by
default; a user's VGG file with `content: "vgg:PATH"`; `pixel` for the plain MSE), l_adv = -log D(G(lr)); the
generator starts from a pixel-loss SRResNet (`init`: its file) or is pre-trained here with the MSE for
`pretrain_steps` steps; the learning rate drops to a tenth at `lr_drop_at` of the steps (the paper: 1e-4 then 1e-5).
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from ..bundle import load_bundle
from ..checks import FRACTION, NON_NEGATIVE, Range
from ..errors import UserError
from ..training.recipes import RECIPES
from .content import content_loss
from .recipe_base import SAMPLE_COLUMNS, TranslationRecipe


@RECIPES.register("pix2pix")
class Pix2PixRecipe(TranslationRecipe):
    FAMILY = "pix2pix"
    PAIRED = True
    DEFAULT_TRANSFORM = "strokes"
    LOSSES_ALLOWED = ("ns", "vanilla", "lsgan", "hinge")
    SPEC = {"lr": 2e-4, "betas": (0.5, 0.999), "n_critic": 1}
    SAMPLE_ROWS = (("a", "a2b", "b"), ("a", "a2b", "b"))
    OPTIONS = {"l1_weight": (100.0, float, NON_NEGATIVE, "lambda of the L1 term (the paper's 100)"),
               "gan_weight": (1.0, float, NON_NEGATIVE, "weight of the cGAN term; 0 trains with L1 alone")}

    def _build(self) -> None:
        self.G, self.D = self.nets["generator"], self.nets["critic"]
        self.opt_g = self.optimizer(self.G)
        self.opt_d = self.optimizer(self.D)

    def train_step(self, batches) -> dict[str, float]:
        self._schedule()
        a, b = next(batches)
        fake = self.G(a)
        logs = {}
        gan = self.s["gan_weight"] > 0
        if gan:
            d_loss = 0.5 * self.spec.critic_loss(self.D(torch.cat([a, b], 1)),
                                                 self.D(torch.cat([a, fake.detach()], 1)))
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            logs["d_loss"] = d_loss.detach().item()
        l1 = (fake - b).abs().mean()
        g_loss = self.s["l1_weight"] * l1
        if gan:
            self.D.requires_grad_(False)
            g_adv = self.spec.generator_loss(self.D(torch.cat([a, fake], 1)))
            g_loss = g_loss + self.s["gan_weight"] * g_adv
            logs["g_gan"] = g_adv.detach().item()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        self.step += 1
        return logs | {"g_loss": g_loss.detach().item(), "l1": l1.detach().item()}

    def sample_rows(self) -> list[torch.Tensor]:
        a, b = self._fixed(self.data.a), self._fixed(self.data.b)
        a2, b2 = self._fixed(self.data.a, SAMPLE_COLUMNS), self._fixed(self.data.b, SAMPLE_COLUMNS)
        return [a, self.G(a), b, a2, self.G(a2), b2]

    def _training_meta(self) -> dict:
        return {"objective": "cGAN + L1" if self.s["gan_weight"] > 0 else "L1 only",
                "patch_receptive_field": self.D.receptive_field}


@RECIPES.register("srresnet")
class SRResNetRecipe(TranslationRecipe):
    FAMILY = "srresnet"
    PAIRED = True
    DEFAULT_TRANSFORM = "down4"
    LOSSES_ALLOWED = ("ns",)               # unused: SRResNet has no adversary (the loop wants a loss name)
    SPEC = {"lr": 1e-4, "betas": (0.9, 0.999), "n_critic": 1}
    SAMPLE_ROWS = (("a", "bicubic", "a2b", "b"),)
    OPTIONS = {"lr_drop_at": (1.0, float, FRACTION, "the learning rate drops to a tenth at this fraction of the "
                                                    "steps (1: never)"),
               "init": ("", str, None, "start the generator from this srresnet / srgan file")}

    def _build(self) -> None:
        self.G = self.nets["generator"]
        self._init_from_file()
        self.opt_g = self.optimizer(self.G)

    def _init_from_file(self) -> None:
        if not self.s["init"]:
            return
        b = load_bundle(Path(self.s["init"]).expanduser())
        if b.meta.get("arch") not in ("srresnet", "srgan") or b.meta.get("config") != self.arch_config:
            raise UserError(f"init: {self.s['init']} is a {b.meta.get('arch')} model with config "
                            f"{b.meta.get('config')}, not a super-resolution generator of this config "
                            f"{self.arch_config}")
        self.G.load_state_dict(b.networks["generator"].state_dict())

    def lr_factor(self, step: int) -> float:
        drop = 0.1 if step >= self.s["lr_drop_at"] * self.cfg.steps and self.s["lr_drop_at"] < 1 else 1.0
        return drop * super().lr_factor(step)

    def pixel_step(self, lr: torch.Tensor, hr: torch.Tensor) -> dict[str, float]:
        loss = F.mse_loss(self.G(lr), hr)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        return {"mse": loss.detach().item()}

    def train_step(self, batches) -> dict[str, float]:
        self._schedule()
        logs = self.pixel_step(*next(batches))
        self.step += 1
        return logs

    def sample_rows(self) -> list[torch.Tensor]:
        a, b = self._fixed(self.data.a), self._fixed(self.data.b)
        bicubic = F.interpolate(a, size=b.shape[-2:], mode="bicubic", align_corners=False).clamp(-1, 1)
        return [a, bicubic, self.G(a), b]

    def _training_meta(self) -> dict:
        return {"objective": "pixel MSE", "init": self.s["init"] or None}


@RECIPES.register("srgan")
class SRGANRecipe(SRResNetRecipe):
    FAMILY = "srgan"
    LOSSES_ALLOWED = ("ns", "vanilla", "lsgan")
    OPTIONS = SRResNetRecipe.OPTIONS | {
        "content": ("lenet", str, None, "feature space of the content loss: lenet (the shipped lenet-mnist), "
                                        "lenet:PATH, vgg:PATH (a torchvision VGG state_dict) or pixel (MSE)"),
        "adv_weight": (1e-3, float, NON_NEGATIVE, "weight of the adversarial loss (the paper's 1e-3)"),
        "pretrain_steps": (0, int, Range(0, 10**9), "pixel-loss (SRResNet) steps before the adversarial ones"),
        "lr_drop_at": (0.5, float, FRACTION, "the learning rate drops to a tenth here (the paper: half way)")}

    def _build(self) -> None:
        super()._build()
        self.D = self.nets["critic"]
        self.opt_d = self.optimizer(self.D)
        self.content = content_loss(self.s["content"], self.device)

    def train_step(self, batches) -> dict[str, float]:
        self._schedule()
        lr, hr = next(batches)
        if self.step < self.s["pretrain_steps"]:
            self.step += 1
            return self.pixel_step(lr, hr)
        sr = self.G(lr)
        d_loss = self.spec.critic_loss(self.D(hr), self.D(sr.detach()))
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        self.D.requires_grad_(False)
        content = self.content(sr, hr)
        adv = self.spec.generator_loss(self.D(sr))
        g_loss = content + self.s["adv_weight"] * adv
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        self.step += 1
        with torch.no_grad():
            mse = F.mse_loss(sr, hr).item()
        return {"d_loss": d_loss.detach().item(), "g_adv": adv.detach().item(),
                "content": content.detach().item(), "mse": mse}

    def _training_meta(self) -> dict:
        return {"objective": f"content ({self.content.name}) + {self.s['adv_weight']:g} adversarial",
                "content_scale": self.content.scale, "init": self.s["init"] or None}
