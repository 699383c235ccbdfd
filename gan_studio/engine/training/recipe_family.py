"""What the recipes of issue 24's families (ProGAN, MRGAN, LAPGAN) share: the data, the architecture config from the
data and `--arch-config`, the loop interface (batches, samples, networks, metadata) and the family's table of
`--options` that the command line checks and the Training tab turns into boxes (`families.py`).

A subclass sets ARCH, LOSSES_ALLOWED (the `--loss` names it trains with: the family decides what a loss means for
it), OPTIONS {name: (default, kind, bounds, tip)}, ROLES (the networks it saves), and writes `_build`,
`train_step` and `_training_meta`.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator

import torch
from torch import nn

from ..checks import check_settings
from ..data import load_images
from ..errors import UserError
from ..imaging import save_grid
from ..models.base import build
from ..registry import ARCHITECTURES
from .batches import batches
from .recipes import update_ema


def option_defaults(table: dict) -> dict:
    return {k: v[0] for k, v in table.items()}


class FamilyRecipe:
    ARCH = ""
    LOSSES_ALLOWED: tuple[str, ...] = ()
    OPTIONS: dict[str, tuple] = {}          # name -> (default, kind, bounds, tip)
    EMA_BETA = 0.0                          # > 0: an EMA of the generator, saved as generator_ema (option ema_beta)

    @classmethod
    def options_table(cls, loss: str) -> dict[str, tuple]:
        """The `--options` this family takes with `loss` (name -> (default, kind, bounds, tip))."""
        return cls.OPTIONS

    def __init__(self, cfg, device: torch.device):
        if cfg.loss not in self.LOSSES_ALLOWED:
            raise UserError(f"--arch {self.ARCH} trains with --loss {' or --loss '.join(self.LOSSES_ALLOWED)}, "
                            f"not {cfg.loss!r}")
        self.cfg, self.device = cfg, device
        table = self.options_table(cfg.loss)
        self.s = option_defaults(table) | check_settings(
            f"{self.ARCH} training", dict(cfg.options), {k: (v[1], v[2], False) for k, v in table.items()})
        self.data = load_images(cfg.data, cfg.split)
        c, h = self.data.images.shape[1], self.data.images.shape[-1]
        defaults = {"img_channels": c, "img_resolution": h if h in (28, 32, 64) else 32}
        self.arch_config = ARCHITECTURES.get(self.ARCH).config_class.from_dict(
            defaults | cfg.arch_config).to_dict()
        self.G = self.network("generator")
        self.z_dim = self.G.z_dim
        self.ema_beta = float(self.s.get("ema_beta", self.EMA_BETA))
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if self.ema_beta > 0 else None
        self.ema_updates, self.resumed = 0, False
        self._build()

    def network(self, role: str) -> nn.Module:
        return build(self.ARCH, role, self.arch_config).to(self.device)

    def _build(self) -> None:
        raise NotImplementedError

    def _z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.z_dim, device=self.device)

    def _update_ema(self) -> None:
        """The generator's EMA, warmed up as min(beta, (1 + t) / (10 + t)) on a fresh run (recipes.GANRecipe's)."""
        if self.G_ema is None:
            return
        t = self.ema_updates
        beta = self.ema_beta if self.resumed else min(self.ema_beta, (1 + t) / (10 + t))
        update_ema(self.G_ema, self.G, beta)
        self.ema_updates += 1

    # ------------------------------------------------------------ loop interface

    def batches(self, gen: torch.Generator) -> Iterator[torch.Tensor]:
        """Endless random batches of training images in [-1, 1] at the model's shape, on the device."""
        real = self.data.as_float(self.G.img_resolution, self.G.img_channels).to(self.device)
        return batches(real, self.cfg.batch, gen)

    @torch.no_grad()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        G = self.G_ema if self.G_ema is not None else self.G
        G.eval()
        out = G(z).float().cpu()
        self.G.train()
        return out

    def save_samples(self, path, samples: torch.Tensor) -> None:
        save_grid(path, samples, ncols=8, scale=2)

    def networks(self) -> dict[str, nn.Module]:
        nets = {"generator": self.G, **self._other_networks()}
        if self.G_ema is not None:
            nets["generator_ema"] = self.G_ema
        return nets

    def _other_networks(self) -> dict[str, nn.Module]:
        return {}

    def load_networks(self, nets: dict[str, nn.Module]) -> None:
        self.resumed = True
        self.G.load_state_dict(nets["generator"].state_dict())
        if self.G_ema is not None:
            self.G_ema.load_state_dict(nets.get("generator_ema", nets["generator"]).state_dict())
        for role, net in self._other_networks().items():
            if role in nets:
                net.load_state_dict(nets[role].state_dict())

    def _training_meta(self) -> dict:
        return {}

    def metadata(self, command: str) -> dict:
        cfg, data, G = self.cfg, self.data, self.G
        meta = {
            "kind": "image-generator", "arch": self.ARCH, "config": self.arch_config, "name": None,
            "z_dim": G.z_dim, "w_dim": G.w_dim, "num_ws": G.num_ws, "image_shape": list(G.image_shape),
            "value_range": [-1, 1],
            "dataset": {"name": data.name, "path": str(cfg.data), "split": cfg.split, "n": len(data)},
            "license": data.license,
            "training": {"command": command, "seed": cfg.seed, "recipe": self.ARCH, "loss": cfg.loss,
                         self.ARCH: dict(self.s), "batch": cfg.batch, "steps_planned": cfg.steps,
                         "ema_beta": self.ema_beta, "device": str(self.device), "torch": torch.__version__,
                         **self._training_meta()},
            "metrics": {},
        }
        if getattr(G, "ws_resolutions", None):
            meta["ws_resolutions"] = list(G.ws_resolutions)
        return meta
