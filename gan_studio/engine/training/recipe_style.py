"""The StyleGAN2 recipe (Karras et al. 2020), registered under the architecture name "stylegan2".

One loop step = one critic step + one generator step (stylegan2's alternation), with
- the non-saturating logistic loss (`--loss ns`),
- lazy R1 on real images every `r1_interval` steps, weighted gamma/2 * interval, with the critic's Adam lr and
  betas corrected by interval/(interval+1) as in the paper,
- style-mixing regularisation: with probability `mixing_prob` a batch switches to a second latent's ws from
  a random ws index on,
- an EMA of the generator's weights (half-life `ema_kimg` thousand images, ramped up over the first images)
  saved as the `generator_ema` network, which `Bundle.generator()` prefers; its buffers (w_avg, the const
  noise) are copied from the generator, whose mapping tracks w_avg while training.

Defaults are stylegan2-ada's small-resolution settings: Adam lr 0.0025, betas (0, 0.99), eps 1e-8.
R1 gamma defaults to 0.1 (see DEFAULT_R1_GAMMA). Settings: `TrainConfig.reg_weight` (gamma) or
`TrainConfig.options` {"r1_gamma", "r1_interval", "mixing_prob", "ema_kimg", "ema_rampup", "betas",
"g_lr", "d_lr"} (g_lr / d_lr: one network's Adam lr instead of --lr, e.g. a slower generator).
"""
from __future__ import annotations

import copy
from collections.abc import Iterator

import torch
from torch import nn

from ..checks import FRACTION, NON_NEGATIVE, POSITIVE, Range, check_settings
from ..data import load_images
from ..errors import UserError
from ..imaging import save_grid
from ..models.base import build
from .batches import batches
from .recipes import RECIPES, update_ema
from .regularizers import r1_penalty

# R1 gamma for 32 px MNIST: 0.1. stylegan2-ada's heuristic 0.0002 * res^2 / batch gives 0.0064 here and its
# CIFAR-10 config uses 0.01 — values tuned for FID on natural images *with* adaptive augmentation. Here there
# is no augmentation, MNIST's near-binary strokes on an exactly flat background let a critic separate real
# from fake by sharp edges early, and the run goes unattended for hours, so we take ~10x more for stability.
# At 0.1 the penalty gamma/2 * |grad D(real)|^2 is 0.05 for a unit gradient and reaches the size of the
# logistic loss (~1.4) only near |grad D| = 5: it restrains a critic whose gradients on real digits blow up,
# and barely touches one that stays smooth. (A judgement, not a sweep: override with options r1_gamma.)
DEFAULT_R1_GAMMA = 0.1
DEFAULTS = {"r1_gamma": DEFAULT_R1_GAMMA, "r1_interval": 16, "mixing_prob": 0.9, "ema_kimg": 10.0,
            "ema_rampup": 0.05, "betas": [0.0, 0.99], "g_lr": None, "d_lr": None}
LR, BETAS, EPS = 0.0025, (0.0, 0.99), 1e-8


OPTION_TYPES = {"r1_gamma": (float, NON_NEGATIVE, False), "r1_interval": (int, Range(1, 10_000), False),
                "mixing_prob": (float, FRACTION, False), "ema_kimg": (float, NON_NEGATIVE, False),
                "ema_rampup": (float, NON_NEGATIVE, True), "betas": (list, None, False),
                "g_lr": (float, POSITIVE, True), "d_lr": (float, POSITIVE, True)}


def _settings(cfg) -> dict:
    """--options over DEFAULTS, each of the right type and range (one UserError line otherwise)."""
    s = dict(DEFAULTS) | check_settings("stylegan2 training", dict(cfg.options), OPTION_TYPES)
    if cfg.reg_weight is not None:
        s["r1_gamma"] = float(cfg.reg_weight)
    betas = s["betas"]
    if not (isinstance(betas, (list, tuple)) and len(betas) == 2
            and all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in betas)):
        raise UserError(f"stylegan2 training: betas must be two numbers in [0, 1), not {betas!r}")
    s["betas"] = [float(b) for b in betas]
    return s


def _power_of_two_at_least(h: int) -> int:
    r = 8
    while r < h:
        r *= 2
    return r


@RECIPES.register("stylegan2")
class StyleGANRecipe:
    """Non-saturating loss + lazy R1 + style mixing + generator EMA (see the module docstring)."""

    LOSSES_ALLOWED = ("ns",)                        # the losses it trains with (training/families.py)

    def __init__(self, cfg, device: torch.device):
        if cfg.loss != "ns":
            raise UserError(f"--arch stylegan2 trains with --loss ns (the non-saturating logistic loss "
                            f"with lazy R1), not {cfg.loss!r}")
        if cfg.reg not in (None, "r1"):
            raise UserError(f"--arch stylegan2 uses lazy R1 as its regulariser, not {cfg.reg!r}")
        if cfg.n_critic not in (None, 1):
            raise UserError("--arch stylegan2 alternates one critic and one generator step (--n-critic 1)")
        self.cfg, self.device = cfg, device
        self.s = _settings(cfg)
        self.data = data = load_images(cfg.data, cfg.split)
        c, h = data.images.shape[1], data.images.shape[-1]
        defaults = {"img_channels": c, "img_resolution": _power_of_two_at_least(h)}
        self.arch_config = build(cfg.arch, "generator", defaults | cfg.arch_config).cfg.to_dict()
        self.G = build(cfg.arch, "generator", self.arch_config).to(device)
        self.D = build(cfg.arch, "critic", self.arch_config).to(device)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.z_dim = self.G.z_dim
        self.reg_name, self.reg_weight, self.n_critic = "r1", self.s["r1_gamma"], 1
        self.lr = cfg.lr or LR
        self.g_lr, self.d_lr = self.s["g_lr"] or self.lr, self.s["d_lr"] or self.lr
        k = self.s["r1_interval"] / (self.s["r1_interval"] + 1)     # lazy regularisation correction
        b1, b2 = self.s["betas"]
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=self.g_lr, betas=(b1, b2), eps=EPS)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=self.d_lr * k, betas=(b1 ** k, b2 ** k), eps=EPS)
        self.steps_done, self.nimg, self.resumed = 0, 0, False

    # ------------------------------------------------------------ one step

    def _ws(self, n: int) -> torch.Tensor:
        """ws (n, num_ws, w_dim) of fresh latents, style-mixed with probability mixing_prob."""
        ws = self.G.mapping(torch.randn(n, self.z_dim, device=self.device))
        if torch.rand(()) < self.s["mixing_prob"]:
            cutoff = int(torch.randint(1, ws.shape[1], ()))
            ws2 = self.G.mapping(torch.randn(n, self.z_dim, device=self.device))
            ws = torch.cat([ws[:, :cutoff], ws2[:, cutoff:]], 1)
        return ws

    def _fake(self, n: int) -> torch.Tensor:
        return self.G.synthesis(self._ws(n), noise_mode="random")

    def train_step(self, batches: Iterator[torch.Tensor]) -> dict[str, float]:
        self.G.train()
        self.D.train()
        real = next(batches)
        n = real.shape[0]
        # critic: softplus(D(fake)) + softplus(-D(real)), plus lazy R1 on real every r1_interval steps
        with torch.no_grad():
            fake = self._fake(n)
        d_real, d_fake = self.D(real), self.D(fake)
        d_loss = nn.functional.softplus(-d_real).mean() + nn.functional.softplus(d_fake).mean()
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        penalty = real.new_zeros(())
        if self.steps_done % self.s["r1_interval"] == 0 and self.s["r1_gamma"] > 0:
            penalty = r1_penalty(self.D, real, real, self.s["r1_gamma"])     # gamma/2 * E|grad D(real)|^2
            (penalty * self.s["r1_interval"]).backward()
        self.opt_d.step()
        # generator: softplus(-D(G(z)))
        self.D.requires_grad_(False)
        g_loss = nn.functional.softplus(-self.D(self._fake(n))).mean()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        self.steps_done += 1
        self.nimg += n
        self._update_ema(n)
        return {"d_loss": d_loss.detach().item(), "g_loss": g_loss.detach().item(),
                "r1": penalty.detach().item(), "d_real": d_real.mean().detach().item(),
                "d_fake": d_fake.mean().detach().item()}

    @torch.no_grad()
    def _update_ema(self, batch: int) -> None:
        ema_nimg = self.s["ema_kimg"] * 1000
        if self.s["ema_rampup"] and not self.resumed:
            ema_nimg = min(ema_nimg, self.nimg * self.s["ema_rampup"])
        update_ema(self.G_ema, self.G, 0.5 ** (batch / max(ema_nimg, 1e-8)) if ema_nimg > 0 else 0.0)

    # ------------------------------------------------------------ loop interface

    def batches(self, gen: torch.Generator) -> Iterator[torch.Tensor]:
        """Endless random batches of training images in [-1, 1] at the model's shape (28 px MNIST is padded
        to 32), on the device."""
        real = self.data.as_float(self.G.img_resolution, self.G.img_channels).to(self.device)
        return batches(real, self.cfg.batch, gen)

    def save_samples(self, path, samples: torch.Tensor) -> None:
        save_grid(path, samples, ncols=8, scale=2)

    @torch.no_grad()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        self.G_ema.eval()
        return self.G_ema(z, noise_mode="const").float().cpu()

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.G, "generator_ema": self.G_ema, "critic": self.D}

    def load_networks(self, nets: dict[str, nn.Module]) -> None:
        self.G.load_state_dict(nets["generator"].state_dict())
        self.G_ema.load_state_dict(nets.get("generator_ema", nets["generator"]).state_dict())
        if "critic" in nets:
            self.D.load_state_dict(nets["critic"].state_dict())
        self.resumed = True           # past the EMA ramp-up: keep the full half-life after a resume

    def metadata(self, command: str) -> dict:
        cfg, data, G = self.cfg, self.data, self.G
        return {
            "kind": "image-generator", "arch": cfg.arch, "config": self.arch_config, "name": None,
            "z_dim": G.z_dim, "w_dim": G.w_dim, "num_ws": G.num_ws, "ws_resolutions": list(G.ws_resolutions),
            "image_shape": list(G.image_shape), "value_range": [-1, 1],
            "dataset": {"name": data.name, "path": str(cfg.data), "split": cfg.split, "n": len(data)},
            "license": data.license,
            "training": {"command": command, "seed": cfg.seed, "recipe": "stylegan2", "loss": "ns", "reg": "r1",
                         "reg_weight": self.s["r1_gamma"], "r1_interval": self.s["r1_interval"],
                         "mixing_prob": self.s["mixing_prob"], "ema_kimg": self.s["ema_kimg"],
                         "ema_rampup": self.s["ema_rampup"], "n_critic": 1, "batch": cfg.batch, "lr": self.lr,
                         "g_lr": self.g_lr, "d_lr": self.d_lr,
                         "betas": self.s["betas"], "noise_mode_training": "random", "steps_planned": cfg.steps,
                         "device": str(self.device), "torch": torch.__version__},
            "metrics": {},
        }
