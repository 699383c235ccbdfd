"""What every translation recipe shares, on the training loop's interface (training/loop.py: batches, train_step,
sample, save_samples, networks, load_networks, metadata; checkpoints, resume, budgets and the NaN guard are the
loop's): the two domains (data/pairs.py), the architecture config from the data and `--arch-config`, the family's
`--options` table, the learning-rate schedule, the sample grid and the metadata (translation/meta.py).

A subclass sets FAMILY, PAIRED, LOSSES_ALLOWED (its first is the default), SPEC (the paper's optimiser settings over
the loss's), OPTIONS {name: (default, kind, bounds, tip)} beyond the common ones, and writes `_build` (optimisers)
and `train_step`. The loop's sample grid does not use z: it shows fixed training inputs and their translations.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from ..checks import FRACTION, Range, check_settings
from ..data.pairs import TranslationData, has_ab_folders, load_translation_data
from ..errors import UserError
from ..imaging import save_grid
from ..models.base import build
from ..registry import ARCHITECTURES, LOSSES
from ..training.batches import batch_indices
from .meta import full_config, translation_meta

COMMON_OPTIONS = {
    "transform": ("", str, None, "the named transform that derives domain A (strokes, edges, silhouette, thin, thick, "
                                 "grayscale, invert, down2, down4); empty: A/ and B/ folders or --data-b"),
    "data_b": ("", str, None, "unpaired: the source of domain B (else A/ and B/ folders or one source + transform)"),
    "domains": ("", str, None, "names of the two domains, 'A,B' (default: the transform's name and 'images')"),
    "limit": (0, int, Range(0, 10**8), "use the first N images of each domain (0: all)"),
    "decay_from": (1.0, float, FRACTION, "the learning rate decays linearly to 0 from this fraction of the steps "
                                         "(1: constant)"),
}
SAMPLE_COLUMNS = 8


def _defaults(table: dict) -> dict:
    return {k: v[0] for k, v in table.items()}


def domain_names(domains: str = "", transform: str = "") -> tuple[str, str]:
    """The names of A and B: the `domains` option 'A,B', else the transform's name (or 'A') and 'images'."""
    if domains:
        names = [n.strip() for n in domains.split(",")]
        if len(names) != 2 or not all(names):
            raise UserError(f"domains must be two names 'A,B', not {domains!r}")
        return names[0], names[1]
    return (transform or "A", "images")


class TranslationRecipe:
    FAMILY = ""
    PAIRED = True
    DEFAULT_TRANSFORM = ""
    LOSSES_ALLOWED: tuple[str, ...] = ()
    SPEC: dict = {}                         # lr, betas, optimizer, n_critic: the paper's, over the loss's
    OPTIONS: dict[str, tuple] = {}
    # what each row of the sample grid shows, in groups (`sample_rows`' order): a (A's inputs), b (B's images),
    # a2b / b2a (their translations), a2b2a / b2a2b (the round trips), bicubic (the up-scaling baseline)
    SAMPLE_ROWS: tuple[tuple[str, ...], ...] = ()
    supports_sn = False
    supports_codes = False
    z_dim = 1                               # the loop draws fixed z for its sample grid; translators ignore them

    @classmethod
    def options_table(cls, loss: str | None = None) -> dict[str, tuple]:
        common = dict(COMMON_OPTIONS, transform=(cls.DEFAULT_TRANSFORM,) + COMMON_OPTIONS["transform"][1:])
        return common | cls.OPTIONS

    def __init__(self, cfg, device: torch.device):
        if cfg.loss not in self.LOSSES_ALLOWED:
            raise UserError(f"{self.FAMILY} trains with --loss {' or '.join(self.LOSSES_ALLOWED)}, not {cfg.loss!r}")
        self.cfg, self.device = cfg, device
        table = self.options_table(cfg.loss)
        self.s = _defaults(table) | check_settings(f"{self.FAMILY} training", dict(cfg.options),
                                                   {k: (v[1], v[2], False) for k, v in table.items()})
        if "transform" not in cfg.options and (self.s["data_b"] or has_ab_folders(cfg.data)):
            self.s["transform"] = ""            # two domains given: the recipe's default transform is not wanted
        self.data = load_translation_data(cfg.data, self.PAIRED, cfg.split, self.s["transform"] or None,
                                          self.s["data_b"] or None, self.s["limit"] or None)
        self.arch_config = full_config(self.FAMILY, self._data_config() | cfg.arch_config)
        self._check_fits()
        self.nets = {role: build(self.FAMILY, role, self.arch_config).to(self.device)
                     for role in ARCHITECTURES.get(self.FAMILY).roles}
        self.spec = LOSSES.get(cfg.loss)
        self.lr = cfg.lr or self.SPEC.get("lr", self.spec.lr)
        self.betas = tuple(float(b) for b in self.SPEC.get("betas", self.spec.betas))
        self.n_critic = cfg.n_critic or self.SPEC.get("n_critic", self.spec.n_critic)
        self.step, self.resumed = 0, False
        self.optimizers: list[torch.optim.Optimizer] = []
        self._build()

    # ------------------------------------------------------------ data and config

    def _data_config(self) -> dict:
        a, b = self.data.a, self.data.b
        up = b.shape[-1] // a.shape[-1] if a.shape[-1] else 1
        cfg = {"in_channels": a.shape[1], "out_channels": b.shape[1], "resolution": a.shape[-1]}
        return cfg | ({"upscale": up} if up > 1 else {})

    def _check_fits(self) -> None:
        c = self.arch_config
        want_a = (c["in_channels"], c["resolution"], c["resolution"])
        out = c["resolution"] * c.get("upscale", 1)
        want_b = (c["out_channels"], out, out)
        for name, x, want in (("A", self.data.a, want_a), ("B", self.data.b, want_b)):
            if tuple(x.shape[1:]) != want:
                raise UserError(f"the data's domain {name} images are {'x'.join(map(str, x.shape[1:]))} but this "
                                f"{self.FAMILY} model takes {'x'.join(map(str, want))} (channels x height x width)")
            if len(x) < self.cfg.batch:
                raise UserError(f"--batch {self.cfg.batch} is larger than domain {name} ({len(x)} images)")

    def domain_names(self) -> tuple[str, str]:
        return domain_names(self.s["domains"], self.s["transform"])

    def batches(self, gen: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Endless (a, b) batches in [-1, 1] on the device: pairs, or two independent draws when unpaired."""
        a, b, n, f = self.data.a, self.data.b, self.cfg.batch, TranslationData.as_float
        if self.PAIRED:
            return ((f(a[i]).to(self.device), f(b[i]).to(self.device)) for i in batch_indices(len(a), n, gen))
        pairs = zip(batch_indices(len(a), n, gen), batch_indices(len(b), n, gen))
        return ((f(a[i]).to(self.device), f(b[j]).to(self.device)) for i, j in pairs)

    # ------------------------------------------------------------ optimisers and their schedule

    def optimizer(self, *nets: nn.Module, lr: float | None = None) -> torch.optim.Optimizer:
        params = [p for net in nets for p in net.parameters()]
        lr = lr or self.lr
        if self.SPEC.get("optimizer", self.spec.optimizer) == "rmsprop":
            opt = torch.optim.RMSprop(params, lr=lr)
        else:
            opt = torch.optim.Adam(params, lr=lr, betas=self.betas)
        for g in opt.param_groups:
            g["initial_lr"] = lr
        self.optimizers.append(opt)
        return opt

    def lr_factor(self, step: int) -> float:
        """1 until decay_from of the steps, then linearly down to 0 at the last step (CycleGAN's schedule)."""
        total, start = self.cfg.steps, self.s["decay_from"] * self.cfg.steps
        if step < start or total <= start:
            return 1.0
        return max(0.0, (total - step) / (total - start))

    def _schedule(self) -> None:
        factor = self.lr_factor(self.step)
        for opt in self.optimizers:
            for g in opt.param_groups:
                g["lr"] = g["initial_lr"] * factor

    def resume_at(self, step: int) -> None:
        self.step = step

    def _build(self) -> None:
        raise NotImplementedError

    def train_step(self, batches) -> dict[str, float]:
        raise NotImplementedError

    # ------------------------------------------------------------ samples

    def _fixed(self, x: torch.Tensor, start: int = 0) -> torch.Tensor:
        """SAMPLE_COLUMNS images of a domain from `start` on, wrapping around: every row of the grid is full (a
        domain of fewer images repeats them)."""
        idx = [(start + i) % len(x) for i in range(SAMPLE_COLUMNS)]
        return TranslationData.as_float(x[idx]).to(self.device)

    def sample_rows(self) -> list[torch.Tensor]:
        """Rows of SAMPLE_COLUMNS images each, for the sample grid (the subclass's generators in eval mode), in the
        order of SAMPLE_ROWS' groups."""
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, z: torch.Tensor | None = None) -> torch.Tensor:
        for net in self.nets.values():
            net.eval()
        try:
            rows = self.sample_rows()
        finally:
            for net in self.nets.values():
                net.train()
        side = max(r.shape[-1] for r in rows)
        chans = max(r.shape[1] for r in rows)
        fit = [nn.functional.interpolate(r, size=(side, side), mode="nearest") if r.shape[-1] != side else r
               for r in rows]
        return torch.cat([r.expand(-1, chans, -1, -1) for r in fit]).float().cpu()

    def save_samples(self, path, samples: torch.Tensor) -> None:
        save_grid(path, samples, ncols=SAMPLE_COLUMNS, scale=2)

    # ------------------------------------------------------------ networks and metadata

    def networks(self) -> dict[str, nn.Module]:
        return dict(self.nets)

    def load_networks(self, nets: dict[str, nn.Module]) -> None:
        self.resumed = True
        for role, net in self.nets.items():
            if role in nets:
                net.load_state_dict(nets[role].state_dict())

    def _training_meta(self) -> dict:
        return {}

    def metadata(self, command: str) -> dict:
        cfg, data = self.cfg, self.data
        training = {"command": command, "seed": cfg.seed, "recipe": self.FAMILY, "loss": cfg.loss,
                    "options": dict(self.s), "batch": cfg.batch, "steps_planned": cfg.steps, "lr": self.lr,
                    "betas": list(self.betas), "optimizer": self.SPEC.get("optimizer", self.spec.optimizer),
                    "n_critic": self.n_critic, "device": str(self.device), "torch": torch.__version__,
                    **self._training_meta()}
        return translation_meta(self.FAMILY, self.arch_config, domains=self.domain_names(),
                                transform=self.s["transform"] or None, name=None,
                                dataset={"path": str(cfg.data), "split": cfg.split, **data.describe()},
                                license=data.license, training=training)
