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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from ..bundle import load_bundle, save_bundle
from ..checks import AT_LEAST_1, NON_NEGATIVE, POSITIVE, Range, describe_names, nonfinite_tensors
from ..config import Config, option
from ..device import choose_device
from ..errors import OutputError, TrainingDiverged, UserError
from ..files import check_output_path
from ..models.size import check_network_size
from ..registry import ARCHITECTURES, LOSSES
from ..seeds import seeds_latents
from . import distributed
from .batches import batches  # noqa: F401  (re-exported for callers of loop.batches)
from .recipes import RECIPES

SAMPLE_SEEDS = list(range(64))  # the fixed-z grid: seeds 0..63, so it matches the app's grid
RANK_SEED_STRIDE = 1_000_003    # data order and noise differ per rank: seed + start + stride * rank


@dataclass
class TrainConfig(Config):
    """The training settings, with their help: the one table from which `gan-studio train`'s arguments and the
    training form's starting values and tooltips are built (see `config.option`)."""
    data: str = option("", required=True,
                       help="MNIST folder or IDX file, image folder, .npy/.npz; for --arch mlp2d: toy:ring8 or an "
                            "(N, 2) .npy",
                       tip="An MNIST-format folder or IDX file, a folder of images, or a .npy/.npz array")
    arch: str = option("dcgan")
    arch_config: dict = option(default_factory=dict, help='JSON, e.g. \'{"width": 64, "z_dim": 64}\'')
    loss: str = option("wgan-gp", required=True,
                       help="vanilla, ns, lsgan, hinge, wgan (weight clipping), wgan-gp, mdgan, unrolled; each brings "
                            "its paper's optimiser, lr, n_critic and regulariser. --loss wgan --reg gp switches "
                            "clipping off and trains exactly as --loss wgan-gp (Adam 1e-4 (0, 0.9), lambda 10). A "
                            "family decides what its loss means: --arch dcgan-ae --loss began|ebgan, --arch dcgan-enc "
                            "--loss mrgan, --arch progan --loss wgan-gp, --arch lapgan --loss ns|vanilla|lsgan|hinge")
    reg: str | None = option(None, help="regulariser (default: the loss's own): none, gp, r1")   # None: the loss's
    reg_weight: float | None = option(None, help="regulariser weight (gp: lambda, r1: gamma; default: the recipe's)",
                                      tip="Regulariser weight (gp: λ, r1: γ)", bounds=NON_NEGATIVE)
    steps: int = option(1000, required=True, help="generator steps",
                        tip="Generator steps in all (resuming continues up to this)", bounds=Range(1, 10**9))
    batch: int = option(64, tip="Images per batch", bounds=Range(1, 65536))
    seed: int = option(0, tip="Seeds the networks' initialisation and the data order", bounds=Range(0, 2**62))
    lr: float | None = option(None, tip="Adam learning rate (default: the loss's)", bounds=POSITIVE)
    # at least 1 (0 is refused, not read as "the loss's default": leave the option out for that)
    n_critic: int | None = option(None, help="critic steps per generator step, 1 or more (default: the loss's)",
                                  tip="Critic steps per generator step (default: the loss's)", bounds=Range(1, 1000))
    split: str = option("train", flag=False)           # not on the command line
    checkpoint_every: int = option(500, tip="Write the output file every N steps (and at the end)",
                                   bounds=AT_LEAST_1)
    sample_every: int = option(500, tip="Refresh the fixed-seed sample grid every N steps", bounds=AT_LEAST_1)
    max_minutes: float | None = option(None, help="stop (and save) after this wall-clock time",   # wall-clock budget
                                       tip="Stop (and save) after this much training time; pauses do not count",
                                       bounds=POSITIVE)
    device: str = option("auto")
    threads: int | None = option(None, help="CPU threads for torch", bounds=Range(1, 1024))
    options: dict = option(default_factory=dict,    # recipe-specific settings (e.g. the 3D model's loss weights)
                           help='recipe options as JSON, e.g. \'{"unroll_steps": 5}\' (unrolled critic steps, any '
                                'loss), \'{"ema_beta": 0}\', or \'{"mixing_prob": 0.9}\' for --arch stylegan2')
    sn: bool = option(False,                       # spectral normalisation of the critic's conv / linear layers
                      help="spectral normalisation of every conv / linear layer of the critic (Miyato et al. 2018); "
                           "the model file holds the normalised weights")
    sn_generator: bool = option(False, help="spectral normalisation of the generator too")
    conditional: bool = option(False,              # class-conditional on the dataset's labels (projection critic)
                               help="class-conditional GAN on the dataset's labels (MNIST: 10 classes): the class "
                                    "one-hot joins the generator's input, the critic is a projection discriminator; "
                                    "sample --class K picks one",
                               tip="Class-conditional on the dataset's labels (MNIST: 10 digits): the sampling view "
                                   "can then choose the class. Needs a labelled dataset")
    info: bool = option(False,                     # InfoGAN codes + Q head (options info_cat, info_cont, info_lambda)
                        help="InfoGAN: a categorical and continuous codes in the generator's input, a Q head on the "
                             "critic recovering them; --options info_cat (10), info_cont (2), info_lambda (1); "
                             "sample --code",
                        tip="InfoGAN (Chen et al. 2016): a categorical code (10 values) and 2 continuous codes the "
                            "model learns to use; they become a chooser and sliders in the sampling view")

    def __post_init__(self) -> None:
        self.check_fields()          # types and bounds: one UserError line (the GUI builds TrainConfig directly)
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
    bad = nonfinite_tensors(b.networks)
    if bad:
        raise UserError(f"cannot resume from {out}: {describe_names(bad)} hold NaN or infinity (a file written "
                        f"before GAN Studio refused such checkpoints); train afresh into another --out")
    recipe.load_networks(b.networks)
    done = meta.get("training", {})
    if hasattr(recipe, "resume_at"):            # a recipe whose schedule follows the step (a learning-rate decay)
        recipe.resume_at(int(done.get("step", 0)))
    history = list(done.get("history", [])) + [{"command": done.get("command"), "until_step": done.get("step"),
                                                "seconds": done.get("seconds")}]
    return int(done.get("step", 0)), float(done.get("seconds", 0.0)), history


def _make_recipe(cfg: TrainConfig, rank_cfg: TrainConfig, device):
    """The recipe for cfg's architecture (its own, else its kind's), refusing options it does not support."""
    recipe_class = RECIPES.get(cfg.arch) if cfg.arch in RECIPES else RECIPES.get(ARCHITECTURES.get(cfg.arch).kind)
    if (cfg.sn or cfg.sn_generator) and not getattr(recipe_class, "supports_sn", False):
        raise UserError(f"--sn / --sn-generator are not available for architecture {cfg.arch!r}")
    if (cfg.conditional or cfg.info) and not getattr(recipe_class, "supports_codes", False):
        raise UserError(f"--conditional / --info are not available for architecture {cfg.arch!r}")
    return recipe_class(rank_cfg, device)


def _base_metadata(recipe, cfg: TrainConfig, rank_cfg: TrainConfig, world, command: str | None,
                   extra_meta: dict[str, Any] | None, history: list) -> dict:
    """The output bundle's metadata, less the step and seconds each checkpoint adds."""
    command = command or " ".join(shlex.quote(a) for a in ["gan-studio"] + sys.argv[1:])
    meta = recipe.metadata(command) | (extra_meta or {})
    if history:
        meta["training"] = dict(meta["training"], history=history)
    if world.distributed:
        meta["training"] = dict(meta["training"], batch=cfg.batch, processes=world.size,
                                batch_per_process=rank_cfg.batch)
    return meta


def _kept(last_ckpt: str | None) -> str:
    """Where the last good checkpoint is, for a divergence message."""
    return f"the last good checkpoint {last_ckpt} was kept" if last_ckpt else "no checkpoint was written yet"


def _check_step(world, cfg: TrainConfig, losses: dict, elapsed: float, step: int, last_ckpt: str | None) -> bool:
    """Raise TrainingDiverged on a non-finite loss; return whether the wall-clock budget is spent. Every rank
    agrees on both, so all stop at the same step."""
    diverged, over_budget = distributed.agree(
        world, not all(math.isfinite(v) for v in losses.values()),
        cfg.max_minutes is not None and elapsed >= cfg.max_minutes * 60)
    if diverged:
        raise TrainingDiverged(f"training diverged at step {step + 1} (losses {losses}); {_kept(last_ckpt)}")
    return over_budget


def _finite_networks(world, networks: dict, step: int, last_ckpt: str | None) -> dict:
    """The networks about to be written, or TrainingDiverged when any tensor of any of them (generator_ema
    included) holds NaN or infinity: a checkpoint never replaces a good file with a broken model. Every rank
    agrees (only the main rank has the networks' final form; the others stop with it)."""
    bad = nonfinite_tensors(networks) if world.is_main else []
    if distributed.agree(world, bool(bad))[0]:
        what = describe_names(bad) if bad else "a network"
        raise TrainingDiverged(f"training diverged by step {step}: {what} became NaN or infinite although the "
                               f"losses stayed finite; nothing was written, {_kept(last_ckpt)}")
    return networks


def _write_failed(exc: OutputError, step: int, last_ckpt: str | None) -> OutputError:
    """A failed write during training (a checkpoint, a sample grid), as the line that ends the run."""
    kept = f"the previous checkpoint {last_ckpt} is intact" if last_ckpt else "no checkpoint was written yet"
    return OutputError(f"{exc}; training stopped at step {step} ({kept})")


def _check_out(out: Path, resume: bool) -> None:
    """Refuse an --out that cannot be written (or, for --resume, continued) before any training."""
    check_output_path(out)
    check_output_path(out.with_name(out.stem + ".samples.png"))
    if resume and not out.exists():
        raise UserError(f"--resume: {out} does not exist, so there is nothing to continue (leave out --resume to "
                        f"start a new run)")
    if out.exists() and not resume:
        raise UserError(f"{out} exists: pass --resume to continue it, or choose another --out")


def _add_samples(p: Progress, recipe, z_fixed: torch.Tensor, out: Path, last_ckpt: str | None) -> None:
    """The fixed-z sample grid into p (with its diversity) and next to the output file."""
    p.samples = recipe.sample(z_fixed)
    p.diversity = sample_diversity(p.samples)
    try:
        recipe.save_samples(out.with_name(out.stem + ".samples.png"), p.samples)
    except OutputError as exc:
        raise _write_failed(exc, p.step, last_ckpt) from None


def _checkpointer(out: Path, meta_base: dict, seconds: Callable[[], float]):
    """checkpoint(networks, step, last_ckpt) -> path: write the output bundle; a failed write (a full disk, …)
    ends the run with one line saying the previous checkpoint is intact (atomic_write leaves it as it was)."""
    def checkpoint(networks: dict, step: int, last_ckpt: str | None) -> str:
        meta = dict(meta_base)
        meta["name"] = meta.get("name") or out.stem
        meta["training"] = dict(meta["training"], step=step, seconds=seconds())
        try:
            save_bundle(out, networks, meta)
        except OutputError as exc:
            raise _write_failed(exc, step, last_ckpt) from None
        return str(out)
    return checkpoint


def _placement(cfg: TrainConfig):
    """(world, this rank's device, the device choice's message for the main rank or None); sets the threads."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    world = distributed.world_from_env()             # a world of one unless started by torchrun
    choice = choose_device(cfg.device)
    return world, distributed.rank_device(world, choice.device), choice.message if world.is_main else None


def train(cfg: TrainConfig, out: str | Path, resume: bool = False, command: str | None = None,
          extra_meta: dict[str, Any] | None = None, clock: Callable[[], float] = time.perf_counter,
          ) -> Iterator[Progress]:
    """Train, yielding a Progress after every generator step; the sample grid comes with the first step of a run
    (so a user sees samples at once, not after `sample_every` steps), every `sample_every` steps and the last.
    Stop by breaking out of the loop (the caller then calls `.close()`: the last checkpoint on disk stays).
    `clock` times the run (elapsed, ETA, --max-minutes, the seconds recorded): the GUI passes one that stands
    still while it pauses training."""
    out = Path(out)
    _check_out(out, resume)
    check_network_size(cfg.arch, cfg.arch_config)
    world, device, device_note = _placement(cfg)
    if device_note:
        yield Progress(0, cfg.steps, message=device_note)
    rank_cfg = replace(cfg, batch=distributed.local_batch(cfg.batch, world)) if world.distributed else cfg
    torch.manual_seed(cfg.seed)                      # network initialisation (the same on every rank)
    recipe = _make_recipe(cfg, rank_cfg, device)
    distributed.init(world, device)                  # after the recipe's optimisers (see distributed.init)
    start, seconds_before, history, last_ckpt = 0, 0.0, [], None
    if resume:
        start, seconds_before, history = _resume(out, recipe, cfg)
        last_ckpt = str(out)                         # the file resumed from is the last good checkpoint
        yield Progress(start, cfg.steps, message=f"resumed from {out} at step {start}")
    distributed.make_data_parallel(recipe, world)
    step_seed = cfg.seed + start + RANK_SEED_STRIDE * world.rank
    torch.manual_seed(step_seed)
    stream = recipe.batches(torch.Generator().manual_seed(step_seed))
    z_fixed = seeds_latents(SAMPLE_SEEDS, recipe.z_dim).to(device)
    meta_base = _base_metadata(recipe, cfg, rank_cfg, world, command, extra_meta, history)
    t0, step = clock(), start
    checkpoint = _checkpointer(out, meta_base, lambda: round(seconds_before + clock() - t0, 1))

    try:
        while step < cfg.steps:
            losses = recipe.train_step(stream)
            elapsed = clock() - t0
            over_budget = _check_step(world, cfg, losses, elapsed, step, last_ckpt)
            step += 1
            p = Progress(step, cfg.steps, losses, elapsed, start=start, done=step == cfg.steps or over_budget)
            if world.is_main and (step % cfg.sample_every == 0 or p.done or step == start + 1):   # + at once
                _add_samples(p, recipe, z_fixed, out, last_ckpt)
            if step % cfg.checkpoint_every == 0 or p.done:
                nets = _finite_networks(world, recipe.networks() if world.is_main else {}, step, last_ckpt)
                if world.is_main:
                    last_ckpt = p.checkpoint = checkpoint(nets, step, last_ckpt)
            if over_budget:
                p.message = f"wall-clock budget of {cfg.max_minutes} min spent at step {step}"
            yield p
            if p.done:
                return
    except (GeneratorExit, KeyboardInterrupt):   # stopped (or Ctrl-C): keep the work since the last checkpoint
        if step > start and world.is_main:
            nets = recipe.networks()
            if not nonfinite_tensors(nets):      # a broken model is never written; the last good file stays
                checkpoint(nets, step, last_ckpt)
        raise
    finally:
        distributed.shutdown(world, clean=sys.exc_info()[0] is None)
