"""Training recipe for kind "voxel-model": the VAE-IWGAN of Smith & Meger 2017 on ModelNet10 32³.

One loop step = n_critic (5) batches; on every batch the critic and the encoder take one Adam step, on
the last one the generator too (the authors' "generator every 5 batches"). With x the true voxels
(N, 1, 32, 32, 32), v a random view of x, (mu, logvar) = E(v), z_e = mu + sigma * eps, z ~ N(0, 1):

    x̃       = G(z) for the first half of the batch, G(z_e) for the rest ("from random z and encoded images")
    critic  = E[D(x̃)] - E[D(x)] + 10 * GP       GP: per-sample gradient norm over all voxels
    encoder = recon(G(z_e), x) + kl_weight * KL  recon = mean((G(z_e) - x)²) / 2, KL averaged over dims
    gen     = -E[D(x̃)] + 100 * recon(G(z_e), x)

Adam lr 1e-4, betas (0.5, 0.9) for all three. Settings beyond TrainConfig live in `cfg.options`
(see `IWGANOptions`). With `ema_beta` > 0 the saved generator and encoder are exponential moving averages
of the trained weights (Polyak averaging; the live weights are kept beside them for resume). Training
views come from the project's renderer, drawn from the loop's seeded generator, so a run is reproducible;
with `augment` (a dict of data/view_aug.py's ViewAugment fields, {} for its defaults) they are line drawings,
silhouettes and shaded views under other lights, sizes, positions, backgrounds and noise.

Stage "encoder" (`--options '{"stage": "encoder"}'`, resuming a trained model) fine-tunes the encoder alone on
its own loss, recon(G(z_e), x) + kl_weight * KL, through the saved reconstruction generator frozen in
inference mode; the encoder's batch norm is frozen too, so what it learns against is exactly the network
that reconstructs in the app. A step is n_critic encoder batches (as in the joint stage), ~16x cheaper
than a joint step: no critic, no gradient penalty, no generator update. Generator, critic and their
statistics are saved unchanged, so random samples stay those of the GAN.

Stage "decoder" trains the encoder and the reconstruction generator ("generator_recon") together on the same
loss, both in inference mode (batch norm frozen at the saved statistics): a single-view auto-encoder whose
decoder starts as the GAN's generator. The sampling generator and the critic stay bit for bit, so random shapes
are the GAN's; reconstructions come from the tuned copy. Why: the encoder against the frozen generator is not
over-fitting but under-fitting (the step-15,066 model, mean IoU 0.516 on 300 training objects, 0.518 on the test split),
and a wider encoder did not lift it (e_width 64: +0.003). Tuning the decoder too, from the shipped model (lr 5e-5,
ema 0.995, shaded views, one thread): mean IoU on 150 spread test objects 0.504 -> 0.531 after 2,087 steps
(lr 2e-4 was no faster: 0.517 after 900 steps against 0.519 after 650) -- a gain, slow, not a jump.
"""
from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..config import Config
from ..data import views
from ..data.view_aug import ViewAugment, augmented_views
from ..data.voxels import load_voxels
from ..errors import UserError
from ..imaging import save_grid
from ..models.base import build
from ..models.voxel_iwgan import kl_divergence, reparameterize
from .batches import batch_indices
from .recipes import RECIPES, make_optimizer, recalibrate_batchnorm, standing_batchnorm, update_ema
from .regularizers import gradient_penalty

CALIBRATION_OBJECTS = 512       # training objects whose seeded views calibrate the reconstruction statistics
ENCODER_CALIBRATION_OBJECTS = 2048  # training objects whose seeded views calibrate the encoder's statistics


@dataclass
class IWGANOptions(Config):
    recon_weight: float = 100.0      # delta: weight of recon in the generator loss
    kl_weight: float = 1.0
    gp_weight: float = 10.0          # lambda
    recon: str = "mse"               # "mse" (authors: mean squared error / 2), "bce", or "iou" (soft Jaccard)
    bce_weight: float = 0.0          # with recon "iou": + this weight times the binary cross-entropy
    stage: str = "joint"             # "joint": G, D, E together; "encoder": E alone against the frozen G;
    #                                  "decoder": E and the reconstruction generator, the sampling G frozen
    betas: list = field(default_factory=lambda: [0.5, 0.9])
    random_fraction: float = 0.5     # share of x̃ generated from random z (the rest from encoded views)
    subset: int | None = None        # train on n objects evenly spread over the data (tests, quick checks)
    probe_objects: int = 8           # fixed training objects whose reconstructions the samples PNG shows
    init_mean_occupancy: bool = True  # start G's output bias at logit(mean training occupancy), not 0.5
    ema_beta: float = 0.0            # > 0: save moving averages of G's and E's weights (e.g. 0.998), 0: off
    augment: dict | None = None      # training views augmented (data/view_aug.py ViewAugment fields; {} = defaults)

    def __post_init__(self) -> None:
        self.check_fields()          # types, and every weight finite (NaN passes every < / > test below)
        if self.recon not in RECON_FORMS:
            raise ValueError(f"recon must be one of {', '.join(RECON_FORMS)}, not {self.recon!r}")
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}, not {self.stage!r}")
        if self.bce_weight < 0:
            raise ValueError("bce_weight must be >= 0")
        if not 0.0 <= self.random_fraction <= 1.0:
            raise ValueError("random_fraction must be in [0, 1]")
        if not 0.0 <= self.ema_beta < 1.0:
            raise ValueError("ema_beta must be in [0, 1) (0 turns the weight average off)")
        if self.augment is not None:
            ViewAugment.from_dict(self.augment)       # its own checks, one line naming the field


RECON_FORMS = ("mse", "bce", "iou")
STAGES = ("joint", "encoder", "decoder")


def recon_loss(logits: torch.Tensor, target: torch.Tensor, kind: str = "mse", bce_weight: float = 0.0) -> torch.Tensor:
    """Reconstruction of target voxels (N, 1, 32, 32, 32) in {0, 1} from generator logits: a scalar.

    "mse" and "bce" are means over all voxels; "iou" is 1 - soft IoU (sum p·t / sum (p + t - p·t) per
    object, p the probabilities), averaged over objects, plus `bce_weight` times the cross-entropy. The soft
    IoU is the metric the model is judged by; cross-entropy rewards hedged probabilities on ambiguous
    voxels, which the IoU threshold then has to undo."""
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits, target)
    if kind == "iou":
        p, t = torch.sigmoid(logits).flatten(1), target.flatten(1)      # (N, V) each
        inter = (p * t).sum(1)
        soft_iou = inter / (p.sum(1) + t.sum(1) - inter).clamp(min=1e-6)
        loss = 1.0 - soft_iou.mean()
        return loss + bce_weight * F.binary_cross_entropy_with_logits(logits, target) if bce_weight else loss
    return (torch.sigmoid(logits) - target).pow(2).mean() / 2


@RECIPES.register("voxel-model")
class VoxelIWGANRecipe:
    def __init__(self, cfg, device: torch.device):
        self.cfg, self.device = cfg, device
        self.opts = IWGANOptions.from_dict(cfg.options)
        data = load_voxels(cfg.data or None, cfg.split)
        if self.opts.subset and self.opts.subset < len(data):                      # spread over classes
            data = data.subset(torch.linspace(0, len(data) - 1, self.opts.subset).round().long())
        self.data = data
        if len(self.data) < cfg.batch:
            raise UserError(f"{len(self.data)} objects are fewer than one batch of {cfg.batch}")
        self.arch_config = build(cfg.arch, "generator", cfg.arch_config).cfg.to_dict()
        self.G, self.D, self.E = (build(cfg.arch, role, self.arch_config).to(device)
                                  for role in ("generator", "critic", "encoder"))
        self.z_dim, self.view_size = self.G.z_dim, self.E.cfg.image_size
        self.n_critic = cfg.n_critic or 5
        self.lr = cfg.lr or 1e-4
        betas = tuple(float(b) for b in self.opts.betas)
        self.opt_g, self.opt_d, self.opt_e = (make_optimizer("adam", net.parameters(), self.lr, betas)
                                              for net in (self.G, self.D, self.E))
        if self.opts.init_mean_occupancy:
            self._init_output_bias()
        self.G_ema = self.E_ema = None
        self.frozen: dict[str, nn.Module] | None = None   # stage "encoder": the loaded nets kept as they are
        if self.opts.ema_beta > 0:
            self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
            self.E_ema = copy.deepcopy(self.E).eval().requires_grad_(False)
        self.probe_voxels = self.data.voxels[self._spread(self.opts.probe_objects)]   # (P, 32, 32, 32)
        self.probe_views = views.seeded_views(self.probe_voxels, 12345, self.view_size)
        self.calibration_views = views.seeded_views(self.data.voxels[self._spread(CALIBRATION_OBJECTS)], 54321,
                                                    self.view_size)
        self.encoder_calibration_views = views.seeded_views(
            self.data.voxels[self._spread(ENCODER_CALIBRATION_OBJECTS)], 777, self.view_size)

    def _spread(self, n: int) -> torch.Tensor:
        """Indices of min(n, N) training objects evenly spread over the data (so over its classes)."""
        return torch.linspace(0, len(self.data) - 1, min(n, len(self.data))).long()

    @torch.no_grad()
    def _init_output_bias(self) -> None:
        """Sigmoid(bias) = the mean occupancy (~0.1): Adam moves a bias ~lr a step, so from 0 (p = 0.5)
        the empty space would take thousands of steps to clear (resume overwrites this with the weights)."""
        p = float(self.data.voxels[:2048].float().mean().clamp(0.01, 0.5))
        self.G.net[-1].bias.fill_(float(torch.logit(torch.tensor(p))))

    # ---------------------------------------------------------------- data

    def batches(self, gen: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Endless (voxels (B, 1, 32, 32, 32) float, views (B, 1, S, S) in [0, 1]) on the device."""
        aug = None if self.opts.augment is None else ViewAugment.from_dict(self.opts.augment)
        for idx in batch_indices(len(self.data), self.cfg.batch, gen):
            vox = self.data.voxels[idx]                                             # (B, 32, 32, 32) uint8
            img = (views.render_random(vox, gen, self.view_size)[0] if aug is None
                   else augmented_views(vox, gen, self.view_size, aug))
            yield vox.float().unsqueeze(1).to(self.device), img.to(self.device)

    def _z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.z_dim, device=self.device)

    def _fakes(self, n: int) -> int:
        return int(round(n * self.opts.random_fraction))

    # ---------------------------------------------------------------- steps

    def _encoder_update(self, G: nn.Module, vox: torch.Tensor, img: torch.Tensor,
                        opt_g: torch.optim.Optimizer | None = None) -> tuple[torch.Tensor, dict]:
        """One Adam step of E on its loss, recon(G(z_e), x) + kl_weight * KL (G's weights must not require
        grad, or `opt_g` steps G on the same loss): the logits G(z_e) (B, 1, 32, 32, 32) and the loss values."""
        o = self.opts
        mean, logvar = self.E(img)                                      # (B, z) each
        logits_e = G.logits(reparameterize(mean, logvar))
        recon, kl = recon_loss(logits_e, vox, o.recon, o.bce_weight), kl_divergence(mean, logvar)
        opts = [opt for opt in (self.opt_e, opt_g) if opt is not None]
        for opt in opts:
            opt.zero_grad(set_to_none=True)
        (recon + o.kl_weight * kl).backward()
        for opt in opts:
            opt.step()
        return logits_e, {"recon": recon.detach().item(), "kl": kl.detach().item()}

    def _critic_encoder_batch(self, vox: torch.Tensor, img: torch.Tensor) -> dict[str, float]:
        o = self.opts
        _requires_grad(self.G, False)
        logits_e, e_losses = self._encoder_update(self.G, vox, img)
        _requires_grad(self.G, True)
        k = self._fakes(vox.shape[0])
        with torch.no_grad():
            fake = torch.cat([self.G(self._z(k)), torch.sigmoid(logits_e[k:].detach())])  # (B, 1, 32³)
        d_real, d_fake = self.D(vox), self.D(fake)
        penalty = gradient_penalty(self.D, vox, fake, o.gp_weight)
        d_loss = d_fake.mean() - d_real.mean()
        self.opt_d.zero_grad(set_to_none=True)
        (d_loss + penalty).backward()
        self.opt_d.step()
        return {"d_loss": d_loss.detach().item(), "penalty": penalty.detach().item(),
                "wasserstein": -d_loss.detach().item()} | e_losses

    def _generator_batch(self, vox: torch.Tensor, img: torch.Tensor) -> dict[str, float]:
        with torch.no_grad():
            z_e = reparameterize(*self.E(img))                          # (B, z)
        k = self._fakes(vox.shape[0])
        logits_e = self.G.logits(z_e)                                   # (B, 1, 32, 32, 32)
        fake = torch.cat([self.G(self._z(k)), torch.sigmoid(logits_e[k:])])
        _requires_grad(self.D, False)
        adv = -self.D(fake).mean()
        _requires_grad(self.D, True)
        recon = recon_loss(logits_e, vox, self.opts.recon, self.opts.bce_weight)
        g_loss = adv + self.opts.recon_weight * recon
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        return {"g_loss": g_loss.detach().item(), "g_adv": adv.detach().item()}

    def _over_batches(self, stream: Iterator, batch_step) -> tuple[dict[str, float], tuple]:
        """Run batch_step(vox, img) on n_critic batches: its losses averaged, and the last batch."""
        totals: dict[str, float] = {}
        for _ in range(self.n_critic):
            batch = next(stream)
            for key, v in batch_step(*batch).items():
                totals[key] = totals.get(key, 0.0) + v / self.n_critic
        return totals, batch

    def _encoder_step(self, stream: Iterator) -> dict[str, float]:
        """Stage "encoder" or "decoder": n_critic batches of E's loss (and G_recon's, stage "decoder")."""
        stage = self.opts.stage
        if self.frozen is None:
            raise UserError(f'stage "{stage}" fine-tunes a trained model: resume one (--resume, with --out a copy '
                            'of the model or its checkpoint)')
        self.E.eval()                                   # batch norm frozen: train = inference network
        decoder = stage == "decoder"
        G, opt_g = (self.G.eval(), self.opt_g) if decoder else (self.frozen["generator_recon"], None)
        totals, _ = self._over_batches(stream, lambda vox, img: self._encoder_update(G, vox, img, opt_g)[1])
        if self.E_ema is not None:
            update_ema(self.E_ema, self.E, self.opts.ema_beta)
            if decoder:
                update_ema(self.G_ema, self.G, self.opts.ema_beta)
        return totals

    def train_step(self, stream: Iterator) -> dict[str, float]:
        """n_critic batches of critic + encoder steps, then one generator step on the last batch (stages
        "encoder" / "decoder": `_encoder_step`)."""
        if self.opts.stage != "joint":
            return self._encoder_step(stream)
        for net in (self.G, self.D, self.E):
            net.train()
        totals, last = self._over_batches(stream, self._critic_encoder_batch)
        out = totals | self._generator_batch(*last)
        if self.G_ema is not None:
            update_ema(self.G_ema, self.G, self.opts.ema_beta)
            update_ema(self.E_ema, self.E, self.opts.ema_beta)
        return out

    # ---------------------------------------------------------------- samples, networks, metadata

    def _shipped_g_e(self, recon: bool = False) -> tuple[nn.Module, nn.Module]:
        """The generator and encoder a saved model holds: the weight averages when kept, else the live nets;
        in stages "encoder" / "decoder" the frozen generator ("generator_recon" with `recon`, for reconstructions,
        unless stage "decoder" trains it: then it is not among the frozen nets and G is it)."""
        G, E = (self.G_ema, self.E_ema) if self.G_ema is not None else (self.G, self.E)
        if self.frozen is not None:
            G = self.frozen.get("generator_recon" if recon else "generator", G)
        return G, E

    @torch.no_grad()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        """Renders of G(z) at a fixed 3/4 view: (N, 1, S, S) in [-1, 1] (the loop's sample grid)."""
        G = self._shipped_g_e()[0]
        G.eval()
        vox = torch.cat([G(z[i:i + 32].to(self.device))[:, 0].cpu() for i in range(0, len(z), 32)])
        return views.render_params(vox, views.fixed_params(len(vox)), self.view_size) * 2 - 1

    @torch.no_grad()
    def probe_rows(self) -> torch.Tensor:
        """Input views, true shapes and reconstructions of the probe objects: (3P, 1, S, S) in [-1, 1]."""
        G, E = self._shipped_g_e(recon=True)
        G.eval()
        E.eval()
        mean, _ = E(self.probe_views.to(self.device))
        rec = G(mean)[:, 0].cpu()                                       # (P, 32, 32, 32)
        p = views.fixed_params(len(rec))
        truth = views.render_params(self.probe_voxels, p, self.view_size)
        recon = views.render_params(rec, p, self.view_size)
        return torch.cat([self.probe_views, truth, recon]) * 2 - 1

    def save_samples(self, path, samples: torch.Tensor) -> None:
        """PNG: 16 random shapes (2 rows of 8), then probe views / true shapes / reconstructions rows."""
        rows = torch.cat([samples[:16], self.probe_rows()])
        save_grid(path, rows, ncols=max(8, self.probe_voxels.shape[0]), scale=2)

    @torch.no_grad()
    def _encoded_latents(self, E: nn.Module, batch: int = 64) -> Iterator[torch.Tensor]:
        E.eval()
        for i in range(0, self.calibration_views.shape[0], batch):
            yield E(self.calibration_views[i:i + batch].to(self.device))[0]

    @torch.no_grad()
    def _calibrated_encoder(self, E: nn.Module) -> nn.Module:
        """A copy of E with standing batch-norm statistics of seeded training views in training-size batches
        (the running averages of training lag the weights; for averaged weights they are not E's at all)."""
        E = copy.deepcopy(E)
        v, b = self.encoder_calibration_views, self.cfg.batch
        standing_batchnorm(E, (v[i:i + b].to(self.device) for i in range(0, v.shape[0] - b + 1, b)))
        return E

    def networks(self) -> dict[str, nn.Module]:
        """The generator twice, with the same weights and two sets of batch-norm statistics: "generator" with
        statistics of random z ~ N(0, 1) (sampling), "generator_recon" with those of the encoder's posterior
        means of seeded training views (reconstruction). The running statistics of training average over
        both kinds of batch and fit neither: on the step-1,500 checkpoint, test mean IoU 0.404 with them,
        0.419 with reconstruction statistics, 0.380 with random-z statistics.
        The encoder gets standing statistics too (`_calibrated_encoder`). With `ema_beta` > 0 all three are
        built from the weight averages, and the live G and E are saved as "generator_live"/"encoder_live"."""
        G, E = self._shipped_g_e()
        if self.frozen is not None:                     # stages "encoder", "decoder": statistics as they were
            live = self.E_ema is not None
            nets = self.frozen | {"encoder": E} | ({"encoder_live": self.E} if live else {})
            if self.opts.stage == "decoder":
                nets |= {"generator_recon": self._shipped_g_e(recon=True)[0]}
                nets |= {"generator_recon_live": self.G} if live else {}
            return nets
        E = self._calibrated_encoder(E)
        g_prior, g_recon = copy.deepcopy(G), copy.deepcopy(G)
        recalibrate_batchnorm(g_prior, self.z_dim, self.device, batches=8, batch=64)
        standing_batchnorm(g_recon, self._encoded_latents(E))
        nets = {"generator": g_prior, "generator_recon": g_recon, "critic": self.D, "encoder": E}
        if self.G_ema is not None:
            nets |= {"generator_live": self.G, "encoder_live": self.E}
        return nets

    def load_networks(self, nets: dict[str, nn.Module]) -> None:
        """Resume: the live weights (from "*_live" when the file holds averages) and, with `ema_beta` > 0, the
        averages; a file without averages starts them at its weights."""
        live_g, live_e = nets.get("generator_live", nets["generator"]), nets.get("encoder_live", nets["encoder"])
        if self.opts.stage != "joint":              # fine-tune the saved (averaged, calibrated) encoder
            live_e = nets["encoder"]
            if "generator_recon_live" in nets:      # a stage "decoder" file: its live weights, as joint's are
                live_e = nets.get("encoder_live", live_e)
        self.G.load_state_dict(live_g.state_dict())
        self.E.load_state_dict(live_e.state_dict())
        if "critic" in nets:
            self.D.load_state_dict(nets["critic"].state_dict())
        if self.G_ema is not None:                  # the averages, or the weights of a file without any
            self.G_ema.load_state_dict(nets["generator"].state_dict())
            self.E_ema.load_state_dict(nets["encoder"].state_dict())
        if self.opts.stage != "joint":
            self.frozen = {role: net.to(self.device).eval().requires_grad_(False) for role, net in nets.items()
                           if role not in ("encoder", "encoder_live", "generator_recon_live")}
            self.frozen.setdefault("generator_recon", self.frozen["generator"])   # older files: one generator
        if self.opts.stage == "decoder":            # G (and its average) become the reconstruction generator
            g_recon = self.frozen.pop("generator_recon")
            self.G.load_state_dict(nets.get("generator_recon_live", g_recon).state_dict())
            if self.G_ema is not None:
                self.G_ema.load_state_dict(g_recon.state_dict())

    def metadata(self, command: str) -> dict:
        cfg, data = self.cfg, self.data
        return {
            "kind": "voxel-model", "arch": cfg.arch, "config": self.arch_config, "name": None,
            "z_dim": self.z_dim, "voxel_shape": list(self.G.voxel_shape), "value_range": [0, 1],
            "image_shape": list(self.E.image_shape), "threshold": 0.5, "classes": list(data.classes),
            "axes": "grid[x, y, z], z up, as the ModelNet10 32³ training data",
            "views": {"renderer": "gan_studio.engine.data.views (splat)", "size": self.view_size,
                      "extent": views.EXTENT, "elevation": list(views.ELEVATION_RANGE), "background": 0.0,
                      "augment": None if self.opts.augment is None
                      else ViewAugment.from_dict(self.opts.augment).to_dict()},
            "dataset": {"name": data.name, "path": data.info.get("path", str(cfg.data)), "split": cfg.split,
                        "n": len(data), "skipped_empty": data.info.get("skipped_empty", 0)},
            "license": data.license,
            "training": {"command": command, "seed": cfg.seed, "recipe": "vae-iwgan", "batch": cfg.batch,
                         "n_critic": self.n_critic, "lr": self.lr, "options": self.opts.to_dict(),
                         "steps_planned": cfg.steps, "device": str(self.device), "torch": torch.__version__},
            "metrics": {},
        }


def _requires_grad(net: nn.Module, flag: bool) -> None:
    for p in net.parameters():
        p.requires_grad_(flag)

