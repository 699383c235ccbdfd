"""Energy-based GANs with an auto-encoder critic: `--arch dcgan-ae --loss began|ebgan` (models/autoencoder.py).

The critic D is an auto-encoder; its energy of an image is the per-pixel mean reconstruction error, so the scale
(and the defaults below) do not depend on the resolution or the channel count.

EBGAN (Zhao, Mathieu & LeCun, ICLR 2017): energy D(x) = mean (x - Dec(Enc(x)))^2 (the paper's MSE).
    critic:    L_D = D(x) + [m - D(G(z))]^+          margin m (option "margin", default 1.0 for per-pixel means)
    generator: L_G = D(G(z)) + w * PT(Enc(G(z)))     pull-away weight w (option "pull_away", 0.1 as in the paper)
    PT(S) = 1/(N(N-1)) sum_{i != j} (S_i . S_j / |S_i| |S_j|)^2: 0 for orthogonal codes, 1 for identical ones.
    Logged: d_loss, g_loss, energy_real, energy_fake, margin, pull_away.
BEGAN (Berthelot, Schumm & Metz 2017): L(v) = mean |v - D(v)| (eta = 1, L1).
    critic:    L_D = L(x) - k_t L(G(z_D));  generator: L_G = L(G(z_G))
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z_G))), 0, 1), k_0 = 0; the paper's lambda_k 0.001, gamma 0.5;
    defaults here lambda_k 0.01, gamma 1.0 (measured below: at gamma 0.5 MNIST's faint blobs meet the equilibrium)
    Logged: d_loss, g_loss, energy_real, energy_fake, k_t and convergence M = L(x) + |gamma L(x) - L(G(z_G))|.
    k_t lives in the critic's buffer `k_t`, so the model file holds it and --resume continues from it.
Optimiser: Adam (0.5, 0.999); lr 1e-3 for BEGAN (the paper's 1e-4 learns too slowly for a CPU run, below), 2e-4 for
EBGAN (DCGAN's; the paper tuned per data). The paper's: --lr 1e-4 --options '{"gamma": 0.5, "lambda_k": 0.001}'.

Measured on MNIST (width 32, z 64, batch 32, one thread; issue 24's Training-tab screenshots): BEGAN's generator
collapses to blank images in its first few hundred steps — an all-background image is what an auto-encoder trained
on digits reconstructs best (L(G(z)) 0.0008 against L(x) 0.059 at step 2,500), and k_t climbs as designed (0.083 at
step 2,500) without pulling it out; sample diversity 0.041 at step 200, 0.003 at 1,000. lambda_k 0.01 (k_t reaches
0.1 by step 400 and L(G(z)) the equilibrium gamma L(x)) and gamma 1 do not change that within 1,000 steps, nor does
a linear output for the decoder (0.013). Without batch norm in the generator (the paper's has none) the samples stay
grey and unformed at step 800 (diversity 0.063, L(G(z)) above gamma L(x), so k_t stays 0).
Cause found (one of them): every output was a tanh. Trained on MNIST's -1 backgrounds the decoder saturates there
(old run, step 1,500: pre-tanh -7.1 on a blank image, tanh' 0.0004), so the fake term k_t L(G(z)) had almost no
gradient to the critic (|dL/dD| 0.010 for a blank batch against 0.138 for reals), and the generator's own tanh at
-1 left it none to climb out with. --loss began now builds the paper's design (models/autoencoder.py, style
"began": generator = decoder, ELU, no batch norm, linear outputs); tests/engine/test_energy_gans.py checks both
gradients at a blank image. Same command (width 32, z 64, batch 64, seed 0, 1,500 steps, one thread): sample
diversity 0.001 -> 0.022 at step 1,500 (0.010 -> 0.052 at 500), L(x) 0.068 -> 0.193, L(G(z)) 0.003 -> 0.071;
but the samples are still faint blobs that the shipped LeNet calls "1" 1,000 times in 1,000 — not solved by this
alone: at lr 1e-4 the critic stays near the all-background reconstruction (L(x) ~ 0.2) and k_t at 0.024. lr 1e-3
(critic alone: L(x) 0.136 at 400 steps against 0.254 at 1e-4) still gave one faint mode (diversity 0.009 at 1,500):
at gamma 0.5 a faint blob is "half as hard" as a digit and meets the equilibrium, so k_t stays ~0.015. With gamma 1
and lambda_k 0.01 (the new defaults, with lr 1e-3) k_t reaches 0.09 and the samples are stroke-like digits from
step 250: step 1,000: diversity 0.147 (real-like), LeNet labels of 1,000 samples 6 classes at >= 2 % but 79 % "1",
mean confidence 0.81, no blank sample. Run: gan-studio train --arch dcgan-ae --arch-config '{"width": 32,
"z_dim": 64}' --loss began --data MNIST --steps 1000 --batch 64 --seed 0 --threads 1. Left: the "1" bias and
the blur (longer runs, the paper's lr decay, gamma below 1 once k_t has grown).
gamma's trade-off, with the collapse fix below (DCGAN auto-encoder critic, pull_away 0.1, lr 2e-4, lambda_k 0.01,
batch 64, seed 0, 10 CPU-minutes; grids of seeds 0-63): docs/began_gamma1.0.png: varied digits, k_t ~0.3 (n 2,000:
FID 253, precision 0.68, recall 0.71, 10 classes); docs/began_gamma0.5.png: broken vertical strokes, k_t ~0.003 (FID
983, precision 0.11, 5 classes): at gamma 0.5 the fakes meet the equilibrium while half as hard to reconstruct as
digits, so the critic stops pushing them (k_t -> 0).
Issue 24's zoo run (these defaults, width 32, z 64, batch 64, seed 0, 20 CPU-minutes = 11,444 steps): 64 of 64
samples a "1", LeNet 1,000 of 1,000 "1". Its critic reconstructs every class about equally (L1 of 2,000 test
images: "1" 0.063, the others 0.067-0.083, mean 0.073) and its fakes at 0.070 = gamma L(x): a collapse that meets
BEGAN's equilibrium. The generator's loss is per sample, so nothing pulls it off the cheapest digit. Next runs
(1,000 samples, LeNet labels: classes >= 1 %, top share; pixel std over the samples, MNIST's 0.369; same command
with --arch-config changes, one thread):
| hypothesis -> change                   | step 500                   | step 1,000 (1,500)                       |
| defaults (code_dim 64)                 | -                          | 79 % "1" (above)                         |
| wide bottleneck -> code_dim 16         | 9 cl., "1" 37 %, sd 0.179  | 9 cl., "1" 42 %, sd 0.167                |
| batch view -> code_norm "batch"        | 10 cl., "3" 23 %, sd 0.241 | 7 cl., "3" 39 % (1,500: 7, "3" 36 %, .218) |
code_dim 16 only slows the drift to "1". code_norm "batch" (batch norm on the codes, as eriklindernoren's PyTorch-GAN
BEGAN has in its bottleneck; models/autoencoder.py) removes the "1" mode, but by 1,500 steps the samples are dotted
squiggles, not digits (LeNet: 3 / 8 / 2): not a fix, so it is an option (--arch-config '{"code_norm": "batch"}'),
not the default. Untested: the paper's lr decay, z ~ U(-1, 1), its nearest-neighbour upsampling, a long code_norm run.
The fix that keeps every class (issue 24's zoo row, bench/zoo.py FAMILIES): EBGAN's pull-away term on the critic's codes
of the fake batch, added to the generator's loss (--options pull_away 0.1), with a DCGAN auto-encoder critic, lr 2e-4,
lambda_k 0.01, gamma 1: 20 CPU-minutes, n 10,000: 10 classes, FID 203, precision 0.71, recall 0.76 (without the term,
lambda_k 0.001: 3 classes). The paper's networks (began-nn, batch 16, lr 1e-3) with the term diverged (L(G(z)) ~10,
k_t 0; FID 630): the defaults stay the paper's until a setting that works at every width is measured. The
fix's setting at width 64 (the Training tab's default) died within ~50 steps, seed 0: blank fakes (pull-away 1.0, k_t 0,
L(G(z)) flat at 0.22; 3 CPU-minutes: 1 class, FID 1,825) -- the tanh saturation described above.
Why it is not the default (issue 24, last stop on it; one thread, batch 64, n 10,000 unless said):
| setting (pull_away 0.1, lr 2e-4, lambda_k 0.01, gamma 1)       | budget   | FID   | prec. | recall | classes |
| style "began" (linear outputs), width 64, seed 0                | 20 CPU-m | 918   | 0.93  | 0.004  | 10      |
| style "began" (linear outputs), width 32, seed 0                | 20 CPU-m | 695   | 0.50  | 0.085  | 10      |
| style "dcgan", width 32, seed 1 (n 2,000)                      | 3 CPU-m  | 456   | 0.55  | 0.28   | 9       |
| style "dcgan", width 32, seed 2 (n 2,000)                      | 3 CPU-m  | 2,054 | 0.00  | 0.00   | 3       |
| style "dcgan", width 64, seed 1: dead (pull-away 1.0 from step 25) | 1.5 CPU-m |     |       |        |         |
Linear outputs keep width 64 alive but blur (grids looked at: broken, speckled strokes). Step by step, every
setting goes through the same first 40 steps: the critic learns the all-background reconstruction, the generator's
images lose their variety over z (pixel std over z 0.37 at step 8 -> 0.05 at step 40) and its codes become parallel
(the pull-away term, on raw codes, is 0.99 at step 8 while the images still differ: the codes share one large
component). Whether k_t climbs out of that (width 32, seeds 0 and 1) or not (seed 2, width 64) is chance; at width
64 neither k0 0.1 / 0.3, lambda_k 0.1, lr 1e-4, critic_lr_scale 0.5 / 2 nor the pull-away term on batch-centred codes
changed it within 250-500 steps. So the zoo's setting is one measured run, not a default.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from ..checks import FRACTION, NON_NEGATIVE, POSITIVE, Range, check_settings
from ..data import load_images
from ..errors import UserError
from ..imaging import save_grid
from ..models.base import build
from ..registry import ARCHITECTURES, LOSSES
from .batches import batches
from .losses import LossSpec
from .recipes import RECIPES

ARCH = "dcgan-ae"
FAMILIES = {
    "began": ({"gamma": 1.0, "lambda_k": 0.01, "k0": 0.0, "constraint": 0.0, "pull_away": 0.0,
               "critic_lr_scale": 1.0},
              {"gamma": (float, Range(0, 1, lo_open=True), False), "lambda_k": (float, FRACTION, False),
               "k0": (float, FRACTION, False), "constraint": (float, NON_NEGATIVE, False),
               "pull_away": (float, NON_NEGATIVE, False), "critic_lr_scale": (float, POSITIVE, False)}),
    "ebgan": ({"margin": 1.0, "pull_away": 0.1},
              {"margin": (float, POSITIVE, False), "pull_away": (float, NON_NEGATIVE, False)}),
}
TIPS = {"gamma": "γ: diversity ratio E[L(G(z))] / E[L(x)] the equilibrium aims at (lower: sharper, less varied)",
        "lambda_k": "λ_k: proportional gain of the k_t control", "k0": "k_t at the start of a run",
        "critic_lr_scale": "The critic's Adam learning rate as a multiple of the generator's (below 1: a slower "
                           "critic, so k_t settles higher and the critic penalises a crowded mode)",
        "constraint": "α of BEGAN-CS (Chang et al. 2018): the critic's encoder maps G(z) back to the generator's "
                      "input, α·mean|Enc(G(z)) − z| (needs code_dim = z_dim; 0: plain BEGAN)",
        "margin": "m: the energy margin above which fakes no longer push the critic",
        "pull_away": "Weight of the pull-away term on the critic's codes of fakes (the generator's)"}


def pull_away(codes: torch.Tensor) -> torch.Tensor:
    """EBGAN's pull-away term of codes (N, d): the mean squared cosine similarity over pairs i != j."""
    n = codes.shape[0]
    if n < 2:
        return codes.new_zeros(())
    s = codes.flatten(1)
    s = s / s.norm(dim=1, keepdim=True).clamp_min(1e-8)
    cos2 = (s @ s.t()).pow(2)
    return (cos2.sum() - cos2.diagonal().sum()) / (n * (n - 1))


def began_balance(k: float, gamma: float, lambda_k: float, e_real: float, e_fake: float) -> tuple[float, float]:
    """(k_{t+1}, M): BEGAN's proportional control step of k in [0, 1] and its global convergence measure."""
    balance = gamma * e_real - e_fake
    return min(max(k + lambda_k * balance, 0.0), 1.0), e_real + abs(balance)


def _needs_ae(*_args):
    raise UserError("--loss began / ebgan train an auto-encoder critic: use --arch dcgan-ae")


LOSSES.register("began")(LossSpec(
    "began", _needs_ae, _needs_ae, lr=1e-3, betas=(0.5, 0.999), extra={"arch": ARCH},
    description="BEGAN (Berthelot et al. 2017), with --arch dcgan-ae: an auto-encoder critic, the L1 reconstruction "
                "errors' difference L(x) - k_t L(G(z)), equilibrium control k_t (gamma 1, lambda_k 0.01: MNIST-"
                "tuned, the paper's 0.5 / 0.001 via --options gamma, lambda_k); plots k_t and the convergence M; "
                "Adam 1e-3 (0.5, 0.999)"))
LOSSES.register("ebgan")(LossSpec(
    "ebgan", _needs_ae, _needs_ae, lr=2e-4, betas=(0.5, 0.999), extra={"arch": ARCH},
    description="EBGAN (Zhao et al. 2017), with --arch dcgan-ae: an auto-encoder critic whose per-pixel MSE is "
                "the energy, hinged at margin 1 for fakes, pull-away term 0.1 for the generator (--options "
                "margin, pull_away); Adam 2e-4 (0.5, 0.999)"))


@RECIPES.register(ARCH)
class AERecipe:
    """One critic step (or --n-critic) and one generator step of BEGAN or EBGAN (the module docstring)."""

    LOSSES_ALLOWED = tuple(FAMILIES)

    @classmethod
    def options_table(cls, loss: str) -> dict[str, tuple]:
        """--options of `loss`: name -> (default, kind, bounds, tip) (training/families.py)."""
        defaults, table = FAMILIES.get(loss, ({}, {}))
        return {k: (defaults[k], kind, bounds, TIPS.get(k, "")) for k, (kind, bounds, _) in table.items()}

    def __init__(self, cfg, device: torch.device):
        if cfg.loss not in FAMILIES:
            raise UserError(f"--arch {ARCH} trains with --loss began or --loss ebgan, not {cfg.loss!r}")
        if cfg.reg not in (None, "none"):
            raise UserError(f"--loss {cfg.loss} has no regulariser (--reg none), not {cfg.reg!r}")
        self.cfg, self.device, self.family = cfg, device, cfg.loss
        defaults, table = FAMILIES[cfg.loss]
        self.s = dict(defaults) | check_settings(f"{cfg.loss} training", dict(cfg.options), table)
        self.data = load_images(cfg.data, cfg.split)
        c, h = self.data.images.shape[1], self.data.images.shape[-1]
        data_defaults = {"img_channels": c, "img_resolution": h if h in (28, 32, 64) else 32}
        data_defaults |= ({"style": "began-nn", "z_dist": "uniform"} if cfg.loss == "began"     # the paper's nets
                          else {"style": "dcgan"})                                             # models/autoencoder.py
        self.arch_config = ARCHITECTURES.get(ARCH).config_class.from_dict(data_defaults | cfg.arch_config).to_dict()
        self.G = build(ARCH, "generator", self.arch_config).to(device)
        self.D = build(ARCH, "critic", self.arch_config).to(device)
        self.z_dim = self.G.z_dim
        if self.family == "began":
            self.D.k_t.fill_(self.s["k0"])
            if self.s["constraint"] and self.arch_config["code_dim"] != self.z_dim:
                raise UserError(f"BEGAN's constraint maps G(z) back to z: it needs code_dim = z_dim "
                                f"({self.arch_config['code_dim']} != {self.z_dim})")
        spec = LOSSES.get(cfg.loss)
        self.lr, self.betas, self.n_critic = cfg.lr or spec.lr, spec.betas, cfg.n_critic or 1
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=self.lr, betas=self.betas)
        self.critic_lr = self.lr * self.s.get("critic_lr_scale", 1.0)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=self.critic_lr, betas=self.betas)

    # ------------------------------------------------------------ one step

    def _energy(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.D.energy(x, power=1 if self.family == "began" else 2)

    def _latent_input(self, z: torch.Tensor) -> torch.Tensor:
        read = getattr(self.G, "latent_input", None)           # BEGAN's generators (z_dist); DCGAN's reads z
        return read(z) if read else z

    def _z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.z_dim, device=self.device)

    def _critic_step(self, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        z = self._z(real.shape[0])
        with torch.no_grad():
            fake = self.G(z)
        e_real, _ = self._energy(real)
        e_fake, codes = self._energy(fake)
        if self.family == "began":
            d_loss = e_real.mean() - float(self.D.k_t) * e_fake.mean()
            if self.s["constraint"]:                 # BEGAN-CS: the code of G(z) is the generator's input
                d_loss = d_loss + self.s["constraint"] * (codes - self._latent_input(z)).abs().mean()
        else:
            d_loss = e_real.mean() + torch.relu(self.s["margin"] - e_fake).mean()
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        return d_loss.detach(), e_real.detach().mean(), e_fake.detach().mean()

    def train_step(self, batches: Iterator[torch.Tensor]) -> dict[str, float]:
        self.G.train()
        self.D.train()
        for _ in range(self.n_critic):
            d_loss, e_real, e_fake = self._critic_step(next(batches))
        self.D.requires_grad_(False)
        e_gen, codes = self._energy(self.G(self._z(self.cfg.batch)))
        g_loss = e_gen.mean()
        pt = pull_away(codes) if self.family == "ebgan" or self.s["pull_away"] else None
        if pt is not None and self.s["pull_away"]:
            g_loss = g_loss + self.s["pull_away"] * pt
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        logs = {"d_loss": d_loss.item(), "g_loss": g_loss.detach().item(), "energy_real": e_real.item(),
                "energy_fake": e_fake.item()}
        if self.family == "began":
            k, m = began_balance(float(self.D.k_t), self.s["gamma"], self.s["lambda_k"], e_real.item(),
                                 e_gen.detach().mean().item())
            self.D.k_t.fill_(k)
            logs |= {"k_t": k, "convergence": m} | ({"pull_away": pt.detach().item()} if pt is not None else {})
        else:
            logs |= {"margin": self.s["margin"], "pull_away": pt.detach().item()}
        return logs

    # ------------------------------------------------------------ loop interface

    def batches(self, gen: torch.Generator) -> Iterator[torch.Tensor]:
        """Endless random batches of training images in [-1, 1] at the model's shape, on the device."""
        real = self.data.as_float(self.G.img_resolution, self.G.img_channels).to(self.device)
        return batches(real, self.cfg.batch, gen)

    @torch.no_grad()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        self.G.eval()
        return self.G(z).float().cpu()

    def save_samples(self, path, samples: torch.Tensor) -> None:
        save_grid(path, samples, ncols=8, scale=2)

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.G, "critic": self.D}

    def load_networks(self, nets: dict[str, nn.Module]) -> None:
        self.G.load_state_dict(nets["generator"].state_dict())
        if "critic" in nets:                       # with BEGAN's k_t (a buffer of the critic)
            self.D.load_state_dict(nets["critic"].state_dict())

    def metadata(self, command: str) -> dict:
        cfg, data, G = self.cfg, self.data, self.G
        return {
            "kind": "image-generator", "arch": ARCH, "config": self.arch_config, "name": None,
            "z_dim": G.z_dim, "w_dim": G.w_dim, "num_ws": G.num_ws, "image_shape": list(G.image_shape),
            "value_range": [-1, 1], **G.code_layout.describe(),
            "dataset": {"name": data.name, "path": str(cfg.data), "split": cfg.split, "n": len(data)},
            "license": data.license,
            "training": {"command": command, "seed": cfg.seed, "recipe": self.family, "loss": cfg.loss,
                         "reg": "none", "reg_weight": 0.0, self.family: dict(self.s), "n_critic": self.n_critic,
                         "batch": cfg.batch, "lr": self.lr, "critic_lr": self.critic_lr, "optimizer": "adam",
                         "betas": list(self.betas),
                         "energy": "mean |x - D(x)| (L1)" if self.family == "began" else "mean (x - D(x))^2",
                         "steps_planned": cfg.steps, "device": str(self.device), "torch": torch.__version__},
            "metrics": {},
        }
