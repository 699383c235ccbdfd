"""Unsupervised discovery of interpretable directions (Voynov & Babenko 2020, "Unsupervised Discovery of
Interpretable Directions in the GAN Latent Space"): a matrix A of K directions and a reconstructor R are
trained together so that R can tell, from G(z) and G(z + ε·A e_k), which direction k moved the image and
by how much (ε). G stays frozen.

`VoynovTrainer.run()` is a generator yielding progress; stop it at any step, call `run()` again to resume.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from ...device import channels_last_copy, device_of
from ...errors import UserError
from .convergence import Plateau
from .core import DirectionSet, latent_dim, latent_space
from .deformator import DEFORMATORS, Deformator, estimate_shift_scale, orthonormal_basis  # noqa: F401
from .reconstructors import Reconstructor, input_channels, pair_input  # noqa: F401


@dataclass(frozen=True)
class VoynovPreset:
    k: int = 32
    deformator: str = "ortho"
    lr_deformator: float = 1e-4
    lr_reconstructor: float = 1e-4
    batch: int = 32
    shift_max: float = 6.0          # ε = shift_max · U(-1, 1)
    shift_min: float = 0.5          # |ε| pushed up to at least this
    label_weight: float = 1.0
    shift_weight: float = 0.25
    width: int = 1                  # reconstructor width multiplier
    arch: str = "wide"              # the reconstructor: "lenet" or "wide" (see reconstructors.py)
    init: str = "axes"              # ortho A starts at: "axes" (coordinate directions), "ganspace" or "sefa"
    stop: str = "steps"             # "steps": train the given steps; "plateau": until converged (convergence.py)
    pair_input: str = "concat"      # "concat": [G(z), G(z')]; "concat+diff": also G(z') - G(z)
    shifts_per_base: int = 1        # each G(z) of a batch is shared by this many shifted images (rendered once)
    max_steps: int = 3000           # the step limit when none is given (with stop "plateau": a safety cap)
    patience: int = 4               # stop "plateau": windows without gain before the learning rate drops


PRESETS = {
    # the default: LeNet reconstructor at width 8, each base image shared by 4 shifts (rendered once), A starts at
    # GANSpace's directions, trains until converged with a quicker plateau (3 windows). On mnist-wgan-gp, K 32:
    # see bench/directions.py and the README for its figures
    "fast": VoynovPreset(lr_deformator=1e-3, lr_reconstructor=1e-3, width=8, arch="lenet", init="ganspace", batch=64,
                         shifts_per_base=4, stop="plateau", pair_input="concat+diff", max_steps=20000, patience=3),
    # the previous default: LeNet width 4, one shift per base image, patience 4 (converged at 11,750 steps in 357 s
    # on an idle 2-core machine, running accuracy 0.885, RCA 0.843 with the width-4 protocol)
    "lenet4": VoynovPreset(lr_deformator=1e-3, lr_reconstructor=1e-3, width=4, arch="lenet", init="ganspace",
                           batch=64, stop="plateau", pair_input="concat+diff", max_steps=20000),
    # a stride-2 LeNet reconstructor (width 8), each base image shared by 4 shifts: about 21 steps/s on 2 threads,
    # converged at 8,000 steps in 393 s (running accuracy 0.896, RCA 0.867 with the strided-8 protocol)
    "strided": VoynovPreset(lr_deformator=1e-3, lr_reconstructor=1e-3, width=8, arch="strided", init="ganspace",
                            batch=64, shifts_per_base=4, stop="plateau", pair_input="concat+diff", max_steps=20000),
    # the first release's "fast": the wide reconstructor, 3,000 steps
    "wide": VoynovPreset(lr_deformator=1e-3, lr_reconstructor=1e-3, width=2, pair_input="concat+diff"),
    # the authors' settings (Voynov & Babenko 2020)
    "paper": VoynovPreset(),
}
PRESET_TIPS = {"fast": "LeNet reconstructor (width 8), 4 shifts per image, A from GANSpace, trains until converged",
               "lenet4": "the previous default: LeNet width 4, A from GANSpace, until converged (slower to stop)",
               "strided": "strided reconstructor (width 8), 4 shifts per image, A from GANSpace, until converged",
               "wide": "the first release's defaults: wide reconstructor, lr 1e-3, a fixed number of steps",
               "paper": "the authors' settings: lr 1e-4, a fixed number of steps"}


def sample_shifts(n: int, k: int, preset: VoynovPreset, gen: torch.Generator | None = None,
                  device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Direction indices uniform in 0..K-1 and shifts ε = shift_max·U(-1,1) with |ε| >= shift_min."""
    idx = torch.randint(0, k, (n,), generator=gen)
    eps = preset.shift_max * (2 * torch.rand(n, generator=gen) - 1)
    eps = torch.sign(eps) * eps.abs().clamp_min(preset.shift_min)
    eps = torch.where(eps == 0, torch.full_like(eps, preset.shift_min), eps)
    return idx.to(device), eps.to(device)


class PairRenderer:
    """Renders G(z) and G(z + shift) in the direction space (z, or w broadcast over all layers)."""

    def __init__(self, G, space: str, shift_scale: float):
        self.G, self.space, self.shift_scale = channels_last_copy(G), space, shift_scale
        self.device = device_of(G)

    def base(self, z: torch.Tensor) -> torch.Tensor:                # (B, dim) point in the direction space
        return z if self.space == "z" else self.G.mapping(z)[:, 0]

    @torch.no_grad()
    def shared_bases(self, z: torch.Tensor, per: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Points and images of the bases z (no gradient), each repeated `per` times (n rows in all): every base
        image is rendered once and shared by `per` shifted images."""
        base = self.base(z)
        img = self.render(base)
        if per > 1:
            base, img = base.repeat_interleave(per, 0)[:n], img.repeat_interleave(per, 0)[:n]
        return base, img

    def render(self, base: torch.Tensor, shift: torch.Tensor | None = None) -> torch.Tensor:
        p = base if shift is None else base + shift * self.shift_scale
        ws = self.G.mapping(p) if self.space == "z" else p[:, None].expand(-1, self.G.num_ws, -1)
        return self.G.synthesis(ws)


class VoynovTrainer:
    def __init__(self, G, preset: VoynovPreset | str = "fast", steps: int | None = None, seed: int = 0,
                 space: str | None = None, **overrides):
        if isinstance(preset, str) and preset not in PRESETS:
            raise UserError(f"unknown preset {preset!r} (choose from {', '.join(PRESETS)})")
        preset = PRESETS[preset] if isinstance(preset, str) else preset
        self.preset = replace(preset, **overrides) if overrides else preset
        self.G = G.eval().requires_grad_(False)
        self.device = device_of(G)
        if space not in (None, "z", "w"):
            raise UserError(f"directions live in z or w, not {space!r}")
        self.space = space or latent_space(G)           # default: w for style generators, z otherwise
        self.dim = latent_dim(G, self.space)
        self.steps, self.step, self.seed = steps or self.preset.max_steps, 0, seed
        torch.manual_seed(seed)
        self.deformator = Deformator(self.dim, self.preset.k, self.preset.deformator, seed,
                                     start=self._start()).to(self.device)
        c = input_channels(G.img_channels, self.preset.pair_input)
        self.reconstructor = channels_last_copy(Reconstructor(c, self.preset.k, self.preset.width,
                                                              self.preset.arch).to(self.device), copy=False)
        self.pairs = PairRenderer(G, self.space, estimate_shift_scale(G, self.space, seed=seed))
        params = [{"params": self.reconstructor.parameters(), "lr": self.preset.lr_reconstructor}]
        if any(p.requires_grad for p in self.deformator.parameters()):
            params.append({"params": self.deformator.parameters(), "lr": self.preset.lr_deformator})
        self.opt = torch.optim.Adam(params)
        self.gen = torch.Generator().manual_seed(seed)
        self.history: list[tuple[int, float, float]] = []     # (step, loss, accuracy)
        self.seconds = 0.0
        if self.preset.stop not in ("steps", "plateau"):
            raise UserError(f"stop must be 'steps' or 'plateau', not {self.preset.stop!r}")
        self.plateau = Plateau(patience=self.preset.patience) if self.preset.stop == "plateau" else None
        self.status = "running"

    def _start(self) -> torch.Tensor | None:
        """A's starting directions (None: the coordinate axes); `init_used` says which were used."""
        self.init_used = "axes"
        if self.preset.init == "axes" or self.preset.deformator != "ortho":
            return None
        from .closed_form import ganspace, sefa
        if self.preset.init not in ("ganspace", "sefa"):
            raise UserError(f"init must be axes, ganspace or sefa, not {self.preset.init!r}")
        if self.space != latent_space(self.G):  # GANSpace / SeFa find directions in the model's own space only
            return None
        try:
            found = ganspace(self.G, self.preset.k, seed=self.seed) if self.preset.init == "ganspace" \
                else sefa(self.G, self.preset.k)
        except UserError:                       # this model does not expose what the method needs
            return None
        self.init_used = self.preset.init
        return found.directions

    def train_step(self) -> tuple[float, float]:
        p, b = self.preset, self.preset.batch
        per = max(1, min(p.shifts_per_base, b))
        z = torch.randn(-(-b // per), self.G.z_dim, generator=self.gen).to(self.device)
        k, eps = sample_shifts(b, p.k, p, self.gen, self.device)
        self.reconstructor.train()
        base, img0 = self.pairs.shared_bases(z, per, b)
        img1 = self.pairs.render(base, self.deformator(k, eps))
        logits, eps_pred = self.reconstructor(pair_input(img0, img1, p.pair_input))
        loss = p.label_weight * F.cross_entropy(logits, k) + p.shift_weight * (eps_pred - eps).abs().mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        acc = (logits.argmax(1) == k).float().mean().item()
        return loss.detach().item(), acc

    def run(self) -> Iterator[dict]:
        """Train up to `steps` (with stop "plateau": until converged, at most `steps`), yielding {"step", "total",
        "loss", "accuracy", "chance", "elapsed", "eta", "status"} each step. Accuracy is the mean over the last
        100 steps. Closing the generator (Stop) marks the run "stopped early"; run() again resumes it."""
        self.status = "running"
        try:
            while self.step < self.steps and self.status == "running":
                t = time.perf_counter()
                loss, acc = self.train_step()
                self._after_step(acc)
                self.seconds += time.perf_counter() - t
                self.step += 1
                self.history.append((self.step, loss, acc))
                recent = self.history[-100:]
                mean_acc = sum(a for _, _, a in recent) / len(recent)
                p = {"step": self.step, "total": self.steps, "loss": loss, "accuracy": mean_acc,
                     "chance": 1.0 / self.preset.k, "elapsed": self.seconds, "status": self.status,
                     "eta": self.seconds / self.step * (self.steps - self.step), "lr": self.lr()}
                if self.plateau is not None:
                    p |= {"lr_drops": self.plateau.drops_done, "max_drops": self.plateau.drops}
                yield p
        except GeneratorExit:
            self.status = "stopped early"
            raise
        if self.status == "running":
            self.status = "not converged" if self.plateau is not None else "finished"

    def _after_step(self, acc: float) -> None:
        if self.plateau is None:
            return
        verdict = self.plateau.update(acc)
        if verdict == "drop":
            for g in self.opt.param_groups:
                g["lr"] *= self.plateau.factor
        elif verdict == "converged":
            self.status = "converged"

    def lr(self) -> float:
        return self.opt.param_groups[0]["lr"]

    def convergence(self) -> dict:
        """What the directions file records about how the run ended."""
        out = {"status": self.status, "steps": self.step, "max_steps": self.steps, "stop": self.preset.stop,
               "seconds": round(self.seconds, 1), "init": self.init_used}
        return out | (self.plateau.state() if self.plateau is not None else {})

    def result(self, generator_hash: str = "") -> DirectionSet:
        return DirectionSet(self.deformator.directions().cpu(), method="voynov", space=self.space,
                            generator_hash=generator_hash, steps=self.step, shift_scale=self.pairs.shift_scale,
                            extra={"preset": self.preset.__dict__, "seconds": round(self.seconds, 1),
                                   "train_accuracy": self._recent_accuracy(),
                                   "convergence": self.convergence()})

    def _recent_accuracy(self) -> float | None:
        recent = self.history[-100:]
        return round(sum(a for _, _, a in recent) / len(recent), 4) if recent else None
