"""Per-family training recipes. A recipe owns the networks, optimisers and one training step.

The loop (`loop.py`) calls: batches(generator) -> an endless iterator, train_step(batches) -> {name: float},
sample(z) -> tensor, save_samples(path, samples), networks(), load_networks(nets), metadata(command);
and reads `z_dim` and `arch_config`. New families (style generator with lazy R1 + mixing + EMA,
the 3D VAE-IWGAN with three networks) register their own recipe under their architecture's kind.

`GANRecipe` trains any registered loss (`losses.py`) with any regulariser, optional spectral normalisation of
the critic (`--sn`) and generator (`--sn-generator`), and an unrolled generator step (`unrolled.py`) when the
loss or `--options {"unroll_steps": K}` asks for it. Subclasses change only the data hooks (`_load_data`,
`_arch_defaults`, `batches`, `save_samples`, `metadata`): the 2-D point toy (`recipe_points.py`) is one.
Image models can be class-conditional (`--conditional`) and InfoGANs (`--info`): `conditioning.py`.
"""
from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Iterator

import torch
from torch import nn

from ..checks import DECAY, NON_NEGATIVE, Range, check_settings
from ..data import load_images
from ..errors import UserError
from ..imaging import save_grid
from ..models.base import build
from ..registry import ARCHITECTURES, LOSSES, REGULARIZERS, Registry
from . import conditioning, mdgan
from .batches import batches
from .losses import identity_score, training_spec
from .spectral import add_spectral_norm, load_plain_state_dict, plain_state_dict, sn_layers
from .unrolled import unrolled_critic

RECIPES: Registry = Registry("training recipe")
OPTIONS = {"ema_beta": 0.999, "unroll_steps": None,   # GANRecipe's --options (None: the loss's default)
           **conditioning.INFO_OPTIONS}
OPTION_TYPES = {"ema_beta": (float, DECAY, False),    # (type, bounds, None allowed): checked before training
                "unroll_steps": (int, Range(0, 100), True), "info_cat": (int, Range(0, 1000), False),
                "info_cont": (int, Range(0, 100), False), "info_lambda": (float, NON_NEGATIVE, False)}


@torch.no_grad()
def update_ema(ema: nn.Module, net: nn.Module, beta: float) -> None:
    """ema <- beta * ema + (1 - beta) * net for parameters; buffers are copied."""
    for pe, p in zip(ema.parameters(), net.parameters()):
        pe.lerp_(p.detach(), 1.0 - beta)
    for be, b in zip(ema.buffers(), net.buffers()):
        be.copy_(b)


@torch.no_grad()
def standing_batchnorm(net: nn.Module, inputs: Iterable[torch.Tensor]) -> None:
    """Replace net's batch-norm running statistics by their plain average over the batches `inputs`
    ("standing statistics"); leaves net in eval mode. No-op for a net without batch norm."""
    bns = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None                     # cumulative average over the calibration batches
        m.train()
    for x in inputs:
        net(x)
    for m, mom in zip(bns, momenta):
        m.momentum = mom
    net.eval()


def recalibrate_batchnorm(G: nn.Module, z_dim: int, device, batches: int = 16, batch: int = 128,
                          seed: int = 12345) -> None:
    """Recompute batch-norm running statistics for G's own (averaged) weights: the copied running stats
    belong to the live generator, not to the average. Deterministic (seeded z)."""
    gen = torch.Generator().manual_seed(seed)
    standing_batchnorm(G, (torch.randn(batch, z_dim, generator=gen).to(device) for _ in range(batches)))


def make_optimizer(name: str, params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(float(betas[0]), float(betas[1])))
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(f"unknown optimiser {name!r}")


def _options(cfg) -> dict:
    """--options over the defaults, each of the right type and range (ema_beta in [0, 1): a decay of 1 or more
    would make generator_ema non-finite while the losses stay finite)."""
    return dict(OPTIONS) | check_settings("training", dict(cfg.options), OPTION_TYPES)


@RECIPES.register("image-generator")
class GANRecipe:
    """Image GANs: n_critic critic steps then one generator step, any registered loss and regulariser."""

    supports_sn = True
    supports_codes = True          # --conditional and --info

    def __init__(self, cfg, device: torch.device):
        self.cfg, self.device = cfg, device
        self.data = self._load_data()
        opts = _options(cfg)
        self.code_entries = conditioning.arch_entries(cfg, self.data, opts)   # num_classes, info_cat, info_cont
        self.info_lambda = conditioning.info_lambda(cfg, opts)
        self.reg_name = cfg.reg or LOSSES.get(cfg.loss).reg
        self.loss = training_spec(cfg.loss, self.reg_name)       # --loss wgan --reg gp: wgan-gp's settings
        self.reg = REGULARIZERS.get(self.reg_name)
        self.reg_weight = cfg.reg_weight if cfg.reg_weight is not None else (self.loss.reg_weight or 10.0)
        self.n_critic = cfg.n_critic or self.loss.n_critic
        unroll = opts["unroll_steps"] if opts["unroll_steps"] is not None else self.loss.extra.get("unroll_steps", 0)
        self.unroll_steps = int(unroll)
        if self.unroll_steps < 0:
            raise UserError(f"unroll_steps must be 0 or more, not {self.unroll_steps}")
        self.arch_config = self._arch_config()
        self.G = self._network("generator", cfg.sn_generator)
        self.D = self._network("critic", cfg.sn)
        self.z_dim = self.G.z_dim
        self.layout = getattr(self.G, "code_layout", None)
        self._info_value: float | None = None      # L_I of the last generator step (InfoGAN), for the logs
        lr = cfg.lr or self.loss.lr
        self.opt_g = make_optimizer(self.loss.optimizer, self.G.parameters(), lr, self.loss.betas)
        self.opt_d = make_optimizer(self.loss.optimizer, self.D.parameters(), lr, self.loss.betas)
        # an exponential moving average of the generator's weights (Yazıcı et al. 2019); 0 turns it off
        self.ema_beta = float(opts["ema_beta"])
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if self.ema_beta > 0 else None
        self.ema_updates, self.resumed = 0, False

    # ------------------------------------------------------------ data hooks (overridden by other data kinds)

    def _load_data(self):
        return load_images(self.cfg.data, self.cfg.split)

    def _arch_defaults(self) -> dict:
        c, h = self.data.images.shape[1], self.data.images.shape[-1]
        return {"img_channels": c, "img_resolution": h if h in (28, 32, 64) else 32}

    def batches(self, gen: torch.Generator) -> Iterator[torch.Tensor]:
        """Endless random batches of training images in [-1, 1] at the model's shape, on the device."""
        real = self.data.as_float(self.G.img_resolution, self.G.img_channels).to(self.device)
        if self.cfg.conditional:          # (images, labels) pairs
            return conditioning.labelled_batches(real, self.data.labels.to(self.device), self.cfg.batch, gen)
        return batches(real, self.cfg.batch, gen)

    # ------------------------------------------------------------ networks

    def _arch_config(self) -> dict:
        """The architecture config: data-given defaults, the loss's critic output size, then --arch-config."""
        cfg, out = self.cfg, self.loss.critic_out
        fields = {f.name for f in dataclasses.fields(ARCHITECTURES.get(cfg.arch).config_class)}
        defaults = self._arch_defaults() | self.code_entries
        if out != 1:
            if "out_dim" not in fields:
                raise UserError(f"--loss {cfg.loss} needs a critic with an embedding output (out_dim); "
                                f"architecture {cfg.arch!r} has none")
            defaults["out_dim"] = out
        config = build(cfg.arch, "generator", defaults | cfg.arch_config).cfg.to_dict()
        if out == 1 and config.get("out_dim", 1) != 1:
            raise UserError(f"--loss {cfg.loss} needs a critic with one output, not out_dim "
                            f"{config['out_dim']} (an embedding critic is for --loss mdgan)")
        return config

    def _network(self, role: str, sn: bool) -> nn.Module:
        net = build(self.cfg.arch, role, self.arch_config).to(self.device)
        return add_spectral_norm(net) if sn else net

    def _z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.z_dim, device=self.device)

    # ------------------------------------------------------------ one training step

    def _scored(self, critic):
        """The critic as a per-sample score function, for the regulariser."""
        score = self.loss.score
        return critic if score is identity_score else (lambda x: score(critic(x)))

    def _critic_objective(self, critic, real: torch.Tensor, fake: torch.Tensor):
        """(loss, penalty, d_real, d_fake) of the critic (a module or any function x -> output)."""
        d_real, d_fake = critic(real), critic(fake)
        d_loss = self.loss.critic_loss(d_real, d_fake)
        penalty = self.reg(self._scored(critic), real, fake, self.reg_weight)
        return d_loss, penalty, d_real, d_fake

    @torch.no_grad()
    def _clip(self) -> None:
        """WGAN's weight clipping, after every critic step."""
        if self.loss.clip is not None:
            for name, p in self.D.named_parameters():
                if "q_head" not in name:              # InfoGAN's Q head is no part of the critic's score
                    p.clamp_(-self.loss.clip, self.loss.clip)

    def _info_loss(self, fake: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """λ·L_I of InfoGAN on G(z) (0 without --info)."""
        if not self.info_lambda:
            return fake.new_zeros(())
        return self.info_lambda * conditioning.info_loss(self.layout, self.D.q(fake), z)

    def _critic_step(self, batch):
        real, y = conditioning.split(batch)          # y: the labels (N,) with --conditional, else None
        z = self._z(real.shape[0])
        with torch.no_grad():
            fake = self.G(z) if y is None else self.G(z, y)
        d_loss, penalty, d_real, d_fake = self._critic_objective(conditioning.bind(self.D, y), real, fake)
        self.opt_d.zero_grad(set_to_none=True)
        (d_loss + penalty + self._info_loss(fake, z)).backward()
        self.opt_d.step()
        self._clip()
        return d_loss, penalty, d_real, d_fake

    def generator_loss(self, batches: Iterator[torch.Tensor], unroll_steps: int | None = None,
                       second_order: bool = True) -> torch.Tensor:
        """The generator's loss on a fresh batch; against the critic `unroll_steps` steps ahead if > 0.
        With --info, plus λ·L_I on the same fakes (its value is kept for the logs)."""
        k = self.unroll_steps if unroll_steps is None else unroll_steps
        z = self._z(self.cfg.batch)          # drawn first: the same z with and without unrolling
        y = conditioning.fake_classes(self.layout, z) if self.cfg.conditional else None
        if k == 0:
            fake = self.G(z)
            return self._with_info(self.loss.generator_loss(conditioning.bind(self.D, y)(fake)), fake, z)

        def draw():
            real, ry = conditioning.split(next(batches))
            zz = self._z(real.shape[0])
            return (real, ry), (self.G(zz) if ry is None else self.G(zz, ry))

        def objective(critic, real, fake):
            x, ry = real
            d_loss, penalty, _, _ = self._critic_objective(conditioning.bind(critic, ry), x, fake)
            return d_loss + penalty

        self.D.eval()                        # no power-iteration updates of --sn while unrolling
        try:
            ahead = unrolled_critic(self.D, self.opt_d, objective, draw, k, second_order)
            fake = self.G(z)
            return self._with_info(self.loss.generator_loss(conditioning.bind(ahead, y)(fake)), fake, z)
        finally:
            self.D.train()

    def _with_info(self, g_loss: torch.Tensor, fake: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        if not self.info_lambda:
            return g_loss
        info = self._info_loss(fake, z)
        self._info_value = info.detach().item() / self.info_lambda
        return g_loss + info

    def train_step(self, batches: Iterator[torch.Tensor]) -> dict[str, float]:
        self.G.train()
        self.D.train()
        for _ in range(self.n_critic):
            d_loss, penalty, d_real, d_fake = self._critic_step(next(batches))
        for p in self.D.parameters():
            p.requires_grad_(False)
        g_loss = self.generator_loss(batches)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        if self.G_ema is not None:
            update_ema(self.G_ema, self.G, self.current_ema_beta())
            self.ema_updates += 1
        for p in self.D.parameters():
            p.requires_grad_(True)
        with torch.no_grad():
            gap = self.loss.score(d_real).mean() - self.loss.score(d_fake).mean()
        logs = {"d_loss": d_loss.detach().item(), "g_loss": g_loss.detach().item(),
                "penalty": penalty.detach().item(), "wasserstein": gap.item()}
        if self._info_value is not None:
            logs["info"] = self._info_value           # L_I (without λ): falls as G and Q share the codes
        return logs

    # ------------------------------------------------------------ samples, files

    @torch.no_grad()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        if self.G_ema is not None:
            recalibrate_batchnorm(self.G_ema, self.z_dim, self.device)
            return self.G_ema(z).float().cpu()
        self.G.eval()
        return self.G(z).float().cpu()

    def save_samples(self, path, samples: torch.Tensor) -> None:
        save_grid(path, samples, ncols=8, scale=2)

    def _plain(self, role: str, net: nn.Module) -> nn.Module:
        """`net` as the plain architecture (spectral norm folded into the weights) for the model file."""
        if not sn_layers(net):
            return net
        with torch.random.fork_rng(devices=[]):          # building must not move the training's random stream
            plain = build(self.cfg.arch, "critic" if role == "critic" else "generator", self.arch_config)
        plain.load_state_dict(plain_state_dict(net))
        return plain.train(net.training)

    def networks(self) -> dict[str, nn.Module]:
        nets = {"generator": self.G, "critic": self.D}
        if self.G_ema is not None:
            recalibrate_batchnorm(self.G_ema, self.z_dim, self.device)
            nets["generator_ema"] = self.G_ema
        return {role: self._plain(role, net) for role, net in nets.items()}

    @staticmethod
    def _load(net: nn.Module, src: nn.Module) -> None:
        if sn_layers(net):
            load_plain_state_dict(net, src.state_dict())
        else:
            net.load_state_dict(src.state_dict())

    def current_ema_beta(self) -> float:
        """The EMA decay, warmed up on a fresh run as min(beta, (1 + t) / (10 + t)) after t updates (the
        num_updates rule of TensorFlow's ExponentialMovingAverage), so early sample grids show the generator
        of now rather than of its random start; a resumed run keeps the full beta."""
        if self.resumed:
            return self.ema_beta
        t = self.ema_updates
        return min(self.ema_beta, (1 + t) / (10 + t))

    def load_networks(self, nets: dict[str, nn.Module]) -> None:
        self.resumed = True
        self._load(self.G, nets["generator"])
        if "critic" in nets:
            self._load(self.D, nets["critic"])
        if self.G_ema is not None:          # a checkpoint without EMA weights starts the average here
            self._load(self.G_ema, nets.get("generator_ema", nets["generator"]))

    def training_metadata(self, command: str) -> dict:
        """How this run trains: loss, regulariser, optimiser, spectral norm, unrolling, MD-GAN mixture."""
        cfg, spec = self.cfg, self.loss
        meta = {"command": command, "seed": cfg.seed, "loss": cfg.loss, "reg": self.reg_name,
                "reg_weight": self.reg_weight if self.reg_name != "none" else 0.0,
                "n_critic": self.n_critic, "batch": cfg.batch, "lr": cfg.lr or spec.lr,
                "optimizer": spec.optimizer, "betas": list(spec.betas) if spec.optimizer == "adam" else None,
                "clip": spec.clip, "sn": bool(cfg.sn), "sn_generator": bool(cfg.sn_generator),
                "steps_planned": cfg.steps, "ema_beta": self.ema_beta,
                "device": str(self.device), "torch": torch.__version__}
        if self.unroll_steps:
            meta["unroll_steps"] = self.unroll_steps
        if cfg.conditional or cfg.info:
            meta |= {"conditional": bool(cfg.conditional), "info": bool(cfg.info)}
        if cfg.info:
            meta["info_lambda"] = self.info_lambda
        if spec.critic_out != 1:
            meta["mdgan"] = mdgan.describe(self.arch_config["out_dim"])
        return meta

    def metadata(self, command: str) -> dict:
        cfg, data = self.cfg, self.data
        return {
            "kind": "image-generator", "arch": cfg.arch, "config": self.arch_config,
            "name": None, "z_dim": self.G.z_dim, "w_dim": self.G.w_dim, "num_ws": self.G.num_ws,
            "image_shape": list(self.G.image_shape), "value_range": [-1, 1], **self.G.code_layout.describe(),
            "dataset": {"name": data.name, "path": str(cfg.data), "split": cfg.split, "n": len(data)},
            "license": data.license,
            "training": self.training_metadata(command),
            "metrics": {},
        }
