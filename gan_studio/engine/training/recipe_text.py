"""Text to image: `--arch gan-cls --loss gan-cls | gan-int-cls` on MNIST with generated captions (data/captions.py,
models/text_gan.py), after Reed et al. 2016.

Each step draws real images x with a caption t of each (one of `variants` captions per image, chosen at random)
and a wrong caption t̂ (the caption of another image of the batch), and z ~ N(0, I). With s = σ(D(·, ·)):
    s_r = D(x, t)  real image, right text;  s_w = D(x, t̂)  real image, wrong text;  s_f = D(G(z, t), t)  fake
    discriminator: maximise  L_D = log s_r + (log(1 − s_w) + log(1 − s_f)) / 2   (we minimise −L_D)
    generator:     maximise  log s_f  (the non-saturating form)
GAN-INT-CLS adds, for the generator only, fakes of interpolated text: h = β φ(t) + (1 − β) φ(t'), t' another
caption of the batch, β = 0.5 (option "beta"), each network interpolating in its own embedding space:
    generator: + λ log D(G(z', h_G), h_D)   (λ: option "int_weight", 1)
The discriminator never sees interpolated text (there are no real images of it), as in the paper.
Shared encoder (option "shared_encoder", off by default so that recorded commands reproduce): the generator's text
encoder is not trained by its own loss but copied from the discriminator's after every discriminator step, as a
pre-trained encoder shared by both networks is in the paper. The discriminator's wrong-text term makes its encoder
separate the digits within a few hundred steps (log(1 − s_w) ≈ −0.2 at step 1,500), while the generator's own
encoder, learning only through the discriminator's judgement of fakes, gave 25–30 % classifier agreement at step
1,500; the shipped model switched to the shared encoder at its step 1,750 (its history has both commands).
Mode seeking (Mao et al. 2019, MSGAN; option "mode_seeking", weight 1): the generator also minimises
1 / (mean |G(z, t) − G(z₂, t)|₁ / mean |z − z₂|₁ + 10⁻⁵) for a second latent z₂ with the same captions. Without it
the first run here ignored z after 500 steps (one image per caption, hopping from step to step).
Adam 2e-4 (0.5, 0.999), the DCGAN settings the paper used. Unlike the paper, the discriminator is regularised
by R1 (Mescheder et al. 2018) on real images with their right text, γ/2·E‖∇ₓD(x, t)‖², γ = 2 (`--reg none` or
`--reg-weight`), lazily: every 4th step with 4γ (option "r1_every", as StyleGAN2 does). Without it this DCGAN
pair collapses on MNIST with the logistic loss (docs/RESULTS.md: the vanilla row), and it did here too (noise at
200 steps, D(fake) ≈ 0.005). An EMA of the generator is kept (option "ema_beta", 0.999), batch-norm statistics
recomputed on training captions before it is sampled or saved.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import DECAY, FRACTION, NON_NEGATIVE, Range, check_settings
from ..data import captions as cap
from ..data import load_images
from ..errors import DataError, UserError
from ..imaging import save_grid
from ..models.base import build
from ..models.text_encoder import encode, tokenize
from ..registry import ARCHITECTURES, LOSSES, REGULARIZERS
from .batches import batch_indices
from .losses import LossSpec
from .recipes import RECIPES, standing_batchnorm, update_ema

ARCH = "gan-cls"
R1_GAMMA = 2.0
DEFAULTS = {"beta": 0.5, "int_weight": 1.0, "ema_beta": 0.999, "variants": 4, "r1_every": 4, "mode_seeking": 1.0,
            "shared_encoder": False}
TIPS = {"beta": "GAN-INT-CLS: the interpolation weight of the two captions' embeddings",
        "int_weight": "GAN-INT-CLS: the weight of the interpolated-text generator term",
        "ema_beta": "decay of the generator's moving average (0: the live generator)",
        "variants": "captions drawn per training image (phrasings and attribute subsets)",
        "r1_every": "lazy R1: the penalty every k steps, k times its weight",
        "mode_seeking": "weight of the mode-seeking term (MSGAN): two latents, one caption, different images",
        "shared_encoder": "the generator reads the discriminator's text encoder (copied after every discriminator "
                          "step) instead of training its own"}
TABLE = {"r1_every": (int, Range(1, 1000), False), "mode_seeking": (float, NON_NEGATIVE, False),
         "shared_encoder": (bool, None, False),
         "beta": (float, FRACTION, False),
         "int_weight": (float, NON_NEGATIVE, False), "ema_beta": (float, DECAY, False),
         "variants": (int, Range(1, 64), False)}


def matching_aware_losses(s_r: torch.Tensor, s_w: torch.Tensor, s_f: torch.Tensor) -> dict[str, torch.Tensor]:
    """The discriminator's terms from its logits: log s_r, log(1 − s_w), log(1 − s_f) (means over the batch),
    L_D = log s_r + (log(1 − s_w) + log(1 − s_f)) / 2 and the loss minimised, −L_D."""
    real, wrong, fake = -F.softplus(-s_r).mean(), -F.softplus(s_w).mean(), -F.softplus(s_f).mean()
    objective = real + (wrong + fake) / 2
    return {"log_s_r": real, "log_1_s_w": wrong, "log_1_s_f": fake, "L_D": objective, "d_loss": -objective}


def generator_loss(s_f: torch.Tensor) -> torch.Tensor:
    """−log s_f, the non-saturating generator loss."""
    return F.softplus(-s_f).mean()


def _needs_text(*_args):
    raise UserError("--loss gan-cls / gan-int-cls train a text-to-image model: use --arch gan-cls")


for _name, _what in (("gan-cls", "GAN-CLS (Reed et al. 2016)"), ("gan-int-cls", "GAN-INT-CLS (Reed et al. 2016)")):
    LOSSES.register(_name)(LossSpec(
        _name, _needs_text, _needs_text, lr=2e-4, betas=(0.5, 0.999), reg="r1", reg_weight=R1_GAMMA,
        extra={"arch": ARCH},
        description=f"{_what}, with --arch gan-cls on MNIST: captions generated from each digit's class and "
                    f"measured attributes, a matching-aware discriminator (real/right, real/wrong, fake/right)"
                    + ("; fakes of interpolated text embeddings (beta 0.5) for the generator"
                       if _name == "gan-int-cls" else "") + "; Adam 2e-4 (0.5, 0.999)"))


class _Captioned(nn.Module):
    """G as a one-input module of (z, ids) pairs, for standing batch-norm statistics."""

    def __init__(self, G: nn.Module):
        super().__init__()
        self.G = G

    def forward(self, pair):
        return self.G(pair[0], pair[1])


@RECIPES.register(ARCH)
class TextGANRecipe:
    """One discriminator step and one generator step of GAN-CLS / GAN-INT-CLS (the module docstring)."""

    LOSSES_ALLOWED = ("gan-cls", "gan-int-cls")

    @staticmethod
    def options_table(loss: str) -> dict:
        """{option: (default, kind, bounds, tip)} for the training form (training/families.py)."""
        names = [k for k in DEFAULTS if loss == "gan-int-cls" or k not in ("beta", "int_weight")]
        return {k: (DEFAULTS[k], TABLE[k][0], TABLE[k][1], TIPS[k]) for k in names}

    def __init__(self, cfg, device: torch.device):
        if cfg.loss not in ("gan-cls", "gan-int-cls"):
            raise UserError(f"--arch {ARCH} trains with --loss gan-cls or --loss gan-int-cls, not {cfg.loss!r}")
        if cfg.reg not in (None, "none", "r1"):
            raise UserError(f"--arch {ARCH} regularises with --reg r1 (the default) or none, not {cfg.reg!r}")
        self.cfg, self.device = cfg, device
        self.reg_name = cfg.reg or "r1"
        self.reg_weight = 0.0 if self.reg_name == "none" else (R1_GAMMA if cfg.reg_weight is None else cfg.reg_weight)
        self.s = dict(DEFAULTS) | check_settings(f"{cfg.loss} training", dict(cfg.options), TABLE)
        self.interpolate = cfg.loss == "gan-int-cls"
        self._load_captions()
        family = ARCHITECTURES.get(ARCH)
        defaults = {"vocab": list(cap.VOCAB), "img_resolution": 28, "img_channels": 1}
        self.arch_config = family.config_class.from_dict(defaults | cfg.arch_config).to_dict()
        self.G = build(ARCH, "generator", self.arch_config).to(device)
        self.D = build(ARCH, "critic", self.arch_config).to(device)
        self.ids = encode(self.arch_config["vocab"], [c.text for row in self.captions.captions for c in row],
                          self.arch_config["max_words"]).view(len(self.captions.captions), len(self), -1)
        self.z_dim = self.G.z_dim
        spec = LOSSES.get(cfg.loss)
        self.lr, self.betas = cfg.lr or spec.lr, spec.betas
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=self.lr, betas=self.betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=self.lr, betas=self.betas)
        if self.s["shared_encoder"]:                  # trained by the discriminator alone, copied into G
            self.G.condition.encoder.requires_grad_(False)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.ema_updates, self.resumed, self.steps = 0, False, 0
        seen = {w for row in self.captions.captions for c in row for w in tokenize(c.text)}
        self.unseen = [w for w in self.arch_config["vocab"] if w not in seen]
        self._silence_unseen()

    @torch.no_grad()
    def _silence_unseen(self) -> None:
        """Zero the embeddings of the words no training caption uses: the encoders read them as padding."""
        rows = [self.arch_config["vocab"].index(w) + 1 for w in self.unseen]
        for net in (self.G, self.D, self.G_ema):
            net.condition.encoder.embed.weight[rows] = 0.0

    def _load_captions(self) -> None:
        self.data = load_images(self.cfg.data, self.cfg.split)
        if self.data.labels is None or tuple(self.data.images.shape[1:]) != (1, 28, 28):
            raise DataError(f"--arch {ARCH} captions labelled 28×28 grey digits (an MNIST folder), not "
                            f"{self.cfg.data}")
        images, labels = self.data.images.numpy(), self.data.labels.numpy()
        self.captions = cap.caption_set(images, labels, int(self.s["variants"]), self.cfg.seed)

    def __len__(self) -> int:
        return len(self.data)

    # ------------------------------------------------------------ one step

    def batches(self, gen: torch.Generator) -> Iterator[tuple[torch.Tensor, ...]]:
        """Endless (images, right ids, wrong ids, other ids) batches on the device."""
        real = self.data.as_float(self.G.img_resolution, 1)         # 28 px, or padded to 32 / resized
        variants = self.ids.shape[0]

        def stream():
            for idx in batch_indices(len(self), self.cfg.batch, gen):
                v = torch.randint(variants, (3, idx.shape[0]), generator=gen)
                wrong = idx.roll(1)
                other = idx.roll(2)
                yield tuple(t.to(self.device) for t in (real[idx], self.ids[v[0], idx], self.ids[v[1], wrong],
                                                        self.ids[v[2], other]))
        return stream()

    def _z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.z_dim, device=self.device)

    def _discriminator_step(self, real, right, wrong) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            fake = self.G(self._z(real.shape[0]), right)
        terms = matching_aware_losses(self.D(real, right), self.D(real, wrong), self.D(fake, right))
        every = int(self.s["r1_every"])          # lazy R1: every k-th step, k times the weight
        if self.reg_name == "none" or self.steps % every:
            terms["penalty"] = real.new_zeros(())
        else:
            terms["penalty"] = REGULARIZERS.get(self.reg_name)(lambda x: self.D(x, right), real, fake,
                                                               self.reg_weight * every)
        self.opt_d.zero_grad(set_to_none=True)
        (terms["d_loss"] + terms["penalty"]).backward()
        self.opt_d.step()
        return terms

    def _mode_seeking(self, fake: torch.Tensor, z: torch.Tensor, right: torch.Tensor) -> tuple[torch.Tensor, float]:
        """MSGAN's term 1 / (mean |G(z, t) − G(z2, t)|₁ / |z − z2|₁ + ε) and the ratio, for the logs."""
        z2 = self._z(z.shape[0])
        ratio = (fake - self.G(z2, right)).abs().mean((1, 2, 3)) / (z - z2).abs().mean(1)
        return 1.0 / (ratio.mean() + 1e-5), ratio.detach().mean().item()

    def _generator_step(self, right, other) -> dict[str, float]:
        n = right.shape[0]
        z = self._z(n)
        fake = self.G(z, right)
        g_loss = generator_loss(self.D(fake, right))
        logs = {"g_loss": g_loss.detach().item()}
        if self.s["mode_seeking"]:
            term, logs["mode_seeking"] = self._mode_seeking(fake, z, right)
            g_loss = g_loss + self.s["mode_seeking"] * term
        if self.interpolate and self.s["int_weight"]:
            b = self.s["beta"]
            h_g = b * self.G.condition(right) + (1 - b) * self.G.condition(other)
            h_d = b * self.D.condition(right) + (1 - b) * self.D.condition(other)
            ws = torch.cat([self._z(n), h_g], 1).unsqueeze(1)
            g_int = generator_loss(self.D(self.G.synthesis(ws), h_d))
            g_loss = g_loss + self.s["int_weight"] * g_int
            logs["g_int"] = g_int.detach().item()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        return logs

    def train_step(self, batches: Iterator[tuple[torch.Tensor, ...]]) -> dict[str, float]:
        self.G.train()
        self.D.train()
        real, right, wrong, other = next(batches)
        terms = self._discriminator_step(real, right, wrong)
        if self.s["shared_encoder"]:
            self.G.condition.encoder.load_state_dict(self.D.condition.encoder.state_dict())
        self.D.requires_grad_(False)
        logs = self._generator_step(right, other)
        self.D.requires_grad_(True)
        beta = self.s["ema_beta"] if self.resumed else min(self.s["ema_beta"], (1 + self.ema_updates) /
                                                              (10 + self.ema_updates))
        update_ema(self.G_ema, self.G, beta)
        if self.s["shared_encoder"]:              # an average of a copied encoder lags it: copy it as it is
            self.G_ema.condition.encoder.load_state_dict(self.G.condition.encoder.state_dict())
        self.ema_updates += 1
        self.steps += 1
        return {k: v.detach().item() for k, v in terms.items() if k != "L_D"} | logs

    # ------------------------------------------------------------ loop interface

    def grid_captions(self) -> torch.Tensor:
        """The fixed grid's captions (64 ids rows): variant 0 of the first 64 images."""
        return self.ids[0, :64].to(self.device)

    def _recalibrate(self) -> None:
        gen = torch.Generator().manual_seed(12345)
        pairs = []
        for _ in range(16):
            idx = torch.randint(len(self), (128,), generator=gen)
            pairs.append((torch.randn(128, self.z_dim, generator=gen).to(self.device),
                          self.ids[0, idx].to(self.device)))
        standing_batchnorm(_Captioned(self.G_ema), pairs)

    @torch.no_grad()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        self._recalibrate()
        ids = self.grid_captions()
        return self.G_ema(z, ids[:z.shape[0]] if z.shape[0] <= ids.shape[0] else None).float().cpu()

    def save_samples(self, path, samples: torch.Tensor) -> None:
        save_grid(path, samples, ncols=8, scale=2)

    def networks(self) -> dict[str, nn.Module]:
        self._recalibrate()
        return {"generator": self.G, "critic": self.D, "generator_ema": self.G_ema}

    def load_networks(self, nets: dict[str, nn.Module]) -> None:
        self.resumed = True
        self.G.load_state_dict(nets["generator"].state_dict())
        if "critic" in nets:
            self.D.load_state_dict(nets["critic"].state_dict())
        self.G_ema.load_state_dict(nets.get("generator_ema", nets["generator"]).state_dict())
        self._silence_unseen()

    def metadata(self, command: str) -> dict:
        cfg, data, G = self.cfg, self.data, self.G
        return {
            "kind": "image-generator", "arch": ARCH, "config": self.arch_config, "name": None,
            "z_dim": G.z_dim, "w_dim": G.w_dim, "num_ws": G.num_ws, "image_shape": list(G.image_shape),
            "value_range": [-1, 1],
            "dataset": {"name": data.name, "path": str(cfg.data), "split": cfg.split, "n": len(data)},
            "license": data.license,
            "text": {"vocab": list(self.arch_config["vocab"]), "captions": cap.describe(),
                     "thresholds": self.captions.cuts.round(5).tolist(), "variants": int(self.s["variants"]),
                     "caption_seed": cfg.seed, "unseen_words": list(self.unseen),
                     "example": self.captions.captions[0][0].text},
            "training": {"command": command, "seed": cfg.seed, "recipe": cfg.loss, "loss": cfg.loss,
                         "reg": self.reg_name, "reg_weight": self.reg_weight, "options": dict(self.s),
                         "batch": cfg.batch, "lr": self.lr,
                         "optimizer": "adam", "betas": list(self.betas), "steps_planned": cfg.steps,
                         "device": str(self.device), "torch": torch.__version__},
            "metrics": {},
        }
