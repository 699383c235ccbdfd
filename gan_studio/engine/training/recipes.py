"""Per-family training recipes. A recipe owns the networks, optimisers and one training step.

The loop (`loop.py`) calls: batches(generator) -> an endless iterator, train_step(batches) -> {name: float},
sample(z) -> tensor, save_samples(path, samples), networks(), load_networks(nets), metadata(command);
and reads `z_dim` and `arch_config`. New families (style generator with lazy R1 + mixing + EMA,
the 3D VAE-IWGAN with three networks) register their own recipe under their architecture's kind.
"""
from __future__ import annotations

import copy
from typing import Iterator

import torch
from torch import nn

from ..data import load_images
from ..imaging import save_grid
from ..models.base import build
from ..registry import LOSSES, REGULARIZERS, Registry

RECIPES: Registry = Registry("training recipe")


@torch.no_grad()
def update_ema(ema: nn.Module, net: nn.Module, beta: float) -> None:
    """ema <- beta * ema + (1 - beta) * net for parameters; buffers are copied."""
    for pe, p in zip(ema.parameters(), net.parameters()):
        pe.lerp_(p.detach(), 1.0 - beta)
    for be, b in zip(ema.buffers(), net.buffers()):
        be.copy_(b)


@torch.no_grad()
def recalibrate_batchnorm(G: nn.Module, z_dim: int, device, batches: int = 16, batch: int = 128,
                          seed: int = 12345) -> None:
    """Recompute batch-norm running statistics for G's own (averaged) weights: the copied running stats
    belong to the live generator, not to the average. Deterministic (seeded z)."""
    bns = [m for m in G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    gen = torch.Generator().manual_seed(seed)
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None                     # cumulative average over the calibration batches
        m.train()
    for _ in range(batches):
        G(torch.randn(batch, z_dim, generator=gen).to(device))
    for m, mom in zip(bns, momenta):
        m.momentum = mom
    G.eval()


def make_optimizer(name: str, params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(float(betas[0]), float(betas[1])))
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(f"unknown optimiser {name!r}")


@RECIPES.register("image-generator")
class GANRecipe:
    """Image GANs: n_critic critic steps then one generator step, any registered loss and regulariser."""

    def __init__(self, cfg, device: torch.device):
        self.cfg, self.device = cfg, device
        self.data = data = load_images(cfg.data, cfg.split)
        self.loss = LOSSES.get(cfg.loss)
        self.reg_name = cfg.reg or self.loss.reg
        self.reg = REGULARIZERS.get(self.reg_name)
        self.reg_weight = cfg.reg_weight if cfg.reg_weight is not None else (self.loss.reg_weight or 10.0)
        self.n_critic = cfg.n_critic or self.loss.n_critic
        c, h = data.images.shape[1], data.images.shape[-1]
        defaults = {"img_channels": c, "img_resolution": h if h in (28, 32, 64) else 32}
        self.arch_config = build(cfg.arch, "generator", defaults | cfg.arch_config).cfg.to_dict()
        self.G = build(cfg.arch, "generator", self.arch_config).to(device)
        self.D = build(cfg.arch, "critic", self.arch_config).to(device)
        self.z_dim = self.G.z_dim
        lr = cfg.lr or self.loss.lr
        self.opt_g = make_optimizer(self.loss.optimizer, self.G.parameters(), lr, self.loss.betas)
        self.opt_d = make_optimizer(self.loss.optimizer, self.D.parameters(), lr, self.loss.betas)
        # an exponential moving average of the generator's weights (Yazıcı et al. 2019); 0 turns it off
        self.ema_beta = float(cfg.options.get("ema_beta", 0.999))
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if self.ema_beta > 0 else None

    def batches(self, gen: torch.Generator) -> Iterator[torch.Tensor]:
        """Endless random batches of training images in [-1, 1] at the model's shape, on the device."""
        from .loop import batches
        real = self.data.as_float(self.G.img_resolution, self.G.img_channels).to(self.device)
        return batches(real, self.cfg.batch, gen)

    def _z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.z_dim, device=self.device)

    def train_step(self, batches: Iterator[torch.Tensor]) -> dict[str, float]:
        self.G.train()
        self.D.train()
        for _ in range(self.n_critic):
            real = next(batches)
            with torch.no_grad():
                fake = self.G(self._z(real.shape[0]))
            d_real, d_fake = self.D(real), self.D(fake)
            d_loss = self.loss.critic_loss(d_real, d_fake)
            penalty = self.reg(self.D, real, fake, self.reg_weight)
            self.opt_d.zero_grad(set_to_none=True)
            (d_loss + penalty).backward()
            self.opt_d.step()
            if self.loss.clip is not None:
                with torch.no_grad():
                    for p in self.D.parameters():
                        p.clamp_(-self.loss.clip, self.loss.clip)
        for p in self.D.parameters():
            p.requires_grad_(False)
        g_loss = self.loss.generator_loss(self.D(self.G(self._z(self.cfg.batch))))
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        if self.G_ema is not None:
            update_ema(self.G_ema, self.G, self.ema_beta)
        for p in self.D.parameters():
            p.requires_grad_(True)
        return {"d_loss": d_loss.detach().item(), "g_loss": g_loss.detach().item(),
                "penalty": penalty.detach().item(),
                "wasserstein": (d_real.mean() - d_fake.mean()).detach().item()}

    @torch.no_grad()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        if self.G_ema is not None:
            recalibrate_batchnorm(self.G_ema, self.z_dim, self.device)
            return self.G_ema(z).float().cpu()
        self.G.eval()
        return self.G(z).float().cpu()

    def save_samples(self, path, samples: torch.Tensor) -> None:
        save_grid(path, samples, ncols=8, scale=2)

    def networks(self) -> dict[str, nn.Module]:
        nets = {"generator": self.G, "critic": self.D}
        if self.G_ema is not None:
            recalibrate_batchnorm(self.G_ema, self.z_dim, self.device)
            nets["generator_ema"] = self.G_ema
        return nets

    def load_networks(self, nets: dict[str, nn.Module]) -> None:
        self.G.load_state_dict(nets["generator"].state_dict())
        if "critic" in nets:
            self.D.load_state_dict(nets["critic"].state_dict())
        if self.G_ema is not None:          # a checkpoint without EMA weights starts the average here
            self.G_ema.load_state_dict(nets.get("generator_ema", nets["generator"]).state_dict())

    def metadata(self, command: str) -> dict:
        cfg, data = self.cfg, self.data
        return {
            "kind": "image-generator", "arch": cfg.arch, "config": self.arch_config,
            "name": None, "z_dim": self.G.z_dim, "w_dim": self.G.w_dim, "num_ws": self.G.num_ws,
            "image_shape": list(self.G.image_shape), "value_range": [-1, 1],
            "dataset": {"name": data.name, "path": str(cfg.data), "split": cfg.split, "n": len(data)},
            "license": data.license,
            "training": {"command": command, "seed": cfg.seed, "loss": cfg.loss, "reg": self.reg_name,
                         "reg_weight": self.reg_weight if self.reg_name != "none" else 0.0,
                         "n_critic": self.n_critic, "batch": cfg.batch, "lr": cfg.lr or self.loss.lr,
                         "betas": list(self.loss.betas), "steps_planned": cfg.steps, "ema_beta": self.ema_beta,
                         "device": str(self.device), "torch": torch.__version__},
            "metrics": {},
        }
