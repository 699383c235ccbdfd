"""Training as a generator that yields progress — the CLI prints it, the GUI plots it, both can stop it.

    for p in train(cfg, out="mnist.safetensors"): ...

The loop owns what every model family shares: seeding, the data stream, timing and budgets, fixed-z
sample grids, atomic checkpoints (the output bundle itself, rewritten every N steps), resume, and the
NaN guard. A *recipe* owns one family's data, networks and step (`GANRecipe` here: n_critic critic steps, one generator
step, any registered loss and regulariser); the style generator, the 3D model and the zoo add recipes.
"""
from __future__ import annotations

import math
import shlex
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from ..bundle import load_bundle, save_bundle
from ..config import Config
from ..device import choose_device
from ..errors import TrainingDiverged, UserError
from ..registry import ARCHITECTURES, LOSSES
from ..seeds import seeds_latents
from . import distributed
from .batches import batches  # noqa: F401  (re-exported for callers of loop.batches)
from .recipes import RECIPES

SAMPLE_SEEDS = list(range(64))  # the fixed-z grid: seeds 0..63, so it matches the app's grid
RANK_SEED_STRIDE = 1_000_003    # data order and noise differ per rank: seed + start + stride * rank


@dataclass
class TrainConfig(Config):
    data: str = ""
    arch: str = "dcgan"
    arch_config: dict = field(default_factory=dict)
    loss: str = "wgan-gp"
    reg: str | None = None             # None: the loss's default
    reg_weight: float | None = None
    steps: int = 1000                  # generator steps
    batch: int = 64
    seed: int = 0
    lr: float | None = None
    n_critic: int | None = None
    split: str = "train"
    checkpoint_every: int = 500
    sample_every: int = 500
    max_minutes: float | None = None   # wall-clock budget; stops (and saves) when spent
    device: str = "auto"
    threads: int | None = None
    options: dict = field(default_factory=dict)   # recipe-specific settings (e.g. the 3D model's loss weights)
    sn: bool = False                   # spectral normalisation of the critic's conv / linear layers
    sn_generator: bool = False         # ... and of the generator's
    conditional: bool = False          # class-conditional on the dataset's labels (projection critic)
    info: bool = False                 # InfoGAN codes + Q head (options info_cat, info_cont, info_lambda)

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch < 1:
            raise ValueError("steps and batch must be positive")
        LOSSES.get(self.loss)
        ARCHITECTURES.get(self.arch)


@dataclass
class Progress:
    step: int
    total: int
    losses: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0
    samples: torch.Tensor | None = None     # (64, C, H, W) fixed-z grid, when one was made at this step
    checkpoint: str | None = None           # path written at this step
    message: str = ""
    done: bool = False
    start: int = 0                          # the step this run started from (after --resume)
    diversity: float | None = None          # sample_diversity(samples), when samples were made


    @property
    def eta(self) -> float:
        """Seconds left, at this run's pace."""
        done_steps = max(self.step - self.start, 1)
        return self.elapsed / done_steps * max(self.total - self.step, 0)


def sample_diversity(samples: torch.Tensor) -> float:
    """Mean over pixels of the std across samples (N, C, H, W) in [-1, 1]: 0 when every sample is the same
    image (mode collapse); MNIST itself scores about 0.27 at 32 px. A cheap early warning while training."""
    if samples.shape[0] < 2:
        return 0.0
    return float(samples.float().std(0).mean())


def _full_config(arch: str, config) -> dict | None:
    """A recorded architecture config with the defaults of fields added since (e.g. dcgan's out_dim)."""
    try:
        return ARCHITECTURES.get(arch).config_class.from_dict(config).to_dict()
    except (UserError, TypeError, AttributeError):
        return config


def _resume(out: Path, recipe, cfg: TrainConfig) -> tuple[int, float, list]:
    """Load the checkpoint's networks; return its step, the training seconds already spent, and the
    commands that trained it so far (each with the step it stopped at)."""
    b = load_bundle(out)
    meta = b.meta
    if meta.get("arch") != cfg.arch or _full_config(cfg.arch, meta.get("config")) != recipe.arch_config:
        raise UserError(f"cannot resume from {out}: it was trained with architecture {meta.get('arch')} "
                        f"{meta.get('config')}, not {cfg.arch} {recipe.arch_config}")
    recipe.load_networks(b.networks)
    done = meta.get("training", {})
    history = list(done.get("history", [])) + [{"command": done.get("command"), "until_step": done.get("step"),
                                                "seconds": done.get("seconds")}]
    return int(done.get("step", 0)), float(done.get("seconds", 0.0)), history


def train(cfg: TrainConfig, out: str | Path, resume: bool = False, command: str | None = None,
          extra_meta: dict[str, Any] | None = None, clock: Callable[[], float] = time.perf_counter,
          ) -> Iterator[Progress]:
    """Train, yielding a Progress after every generator step. Stop by breaking out of the loop
    (the caller then calls `.close()`: the last checkpoint on disk stays). `clock` times the run (elapsed,
    ETA, --max-minutes, the seconds recorded): the GUI passes one that stands still while it pauses training."""
    out = Path(out)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    world = distributed.world_from_env()             # a world of one unless started by torchrun
    choice = choose_device(cfg.device)
    device = distributed.rank_device(world, choice.device)
    if choice.message and world.is_main:
        yield Progress(0, cfg.steps, message=choice.message)
    rank_cfg = replace(cfg, batch=distributed.local_batch(cfg.batch, world)) if world.distributed else cfg
    torch.manual_seed(cfg.seed)                      # network initialisation (the same on every rank)
    recipe_class = RECIPES.get(cfg.arch) if cfg.arch in RECIPES else RECIPES.get(ARCHITECTURES.get(cfg.arch).kind)
    if (cfg.sn or cfg.sn_generator) and not getattr(recipe_class, "supports_sn", False):
        raise UserError(f"--sn / --sn-generator are not available for architecture {cfg.arch!r}")
    if (cfg.conditional or cfg.info) and not getattr(recipe_class, "supports_codes", False):
        raise UserError(f"--conditional / --info are not available for architecture {cfg.arch!r}")
    recipe = recipe_class(rank_cfg, device)
    distributed.init(world, device)                  # after the recipe's optimisers (see distributed.init)
    start, seconds_before, history = 0, 0.0, []
    if resume and out.exists():
        start, seconds_before, history = _resume(out, recipe, cfg)
        yield Progress(start, cfg.steps, message=f"resumed from {out} at step {start}")
    elif out.exists() and not resume:
        raise UserError(f"{out} exists: pass --resume to continue it, or choose another --out")
    distributed.make_data_parallel(recipe, world)
    torch.manual_seed(cfg.seed + start + RANK_SEED_STRIDE * world.rank)
    gen = torch.Generator().manual_seed(cfg.seed + start + RANK_SEED_STRIDE * world.rank)
    stream = recipe.batches(gen)
    z_fixed = seeds_latents(SAMPLE_SEEDS, recipe.z_dim).to(device)
    command = command or " ".join(shlex.quote(a) for a in ["gan-studio"] + sys.argv[1:])
    meta_base = recipe.metadata(command) | (extra_meta or {})
    if history:
        meta_base["training"] = dict(meta_base["training"], history=history)
    if world.distributed:
        meta_base["training"] = dict(meta_base["training"], batch=cfg.batch, processes=world.size,
                                     batch_per_process=rank_cfg.batch)
    t0, step, last_ckpt = clock(), start, None

    def checkpoint() -> str:               # reads the current `step` (closure)
        meta = dict(meta_base)
        meta["name"] = meta.get("name") or out.stem
        meta["training"] = dict(meta["training"], step=step,
                                seconds=round(seconds_before + clock() - t0, 1))
        save_bundle(out, recipe.networks(), meta)
        return str(out)

    try:
        while step < cfg.steps:
            losses = recipe.train_step(stream)
            elapsed = clock() - t0
            diverged, over_budget = distributed.agree(     # every rank stops at the same step
                world, not all(math.isfinite(v) for v in losses.values()),
                cfg.max_minutes is not None and elapsed >= cfg.max_minutes * 60)
            if diverged:
                raise TrainingDiverged(f"training diverged at step {step + 1} (losses {losses}); the last good "
                                       f"checkpoint is {last_ckpt or 'not written yet'}")
            step += 1
            p = Progress(step, cfg.steps, losses, elapsed, start=start)
            p.done = step == cfg.steps or over_budget
            if world.is_main and (step % cfg.sample_every == 0 or p.done):
                p.samples = recipe.sample(z_fixed)
                p.diversity = sample_diversity(p.samples)
                recipe.save_samples(out.with_name(out.stem + ".samples.png"), p.samples)
            if world.is_main and (step % cfg.checkpoint_every == 0 or p.done):
                last_ckpt = p.checkpoint = checkpoint()
            if over_budget:
                p.message = f"wall-clock budget of {cfg.max_minutes} min spent at step {step}"
            yield p
            if p.done:
                return
    except (GeneratorExit, KeyboardInterrupt):   # stopped (or Ctrl-C): keep the work since the last checkpoint
        if step > start and world.is_main:
            checkpoint()
        raise
    finally:
        distributed.shutdown(world, clean=sys.exc_info()[0] is None)
