"""Qt-free jobs of the Training tab for the image-to-image recipes (issue 23: pix2pix, CycleGAN, DiscoGAN, DualGAN,
SRResNet, SRGAN): the data check run in a worker, the `gan-studio train-translation` line that runs the same training
(shown in the tab and recorded in the model file) and the titles of the live preview's rows.

A translation run is a `TrainConfig` whose `arch` is the recipe (translation/train.py: translation_config); its data
settings (transform, data_b, domains, limit) live in `options`, and the command line gives them back as
train-translation's own flags.
"""
from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

from ..data import load_images
from ..data.images import image_files
from ..data.pairs import has_ab_folders, load_translation_data
from ..errors import UserError
from ..models.translators import TRANSLATION_KINDS
from ..training.loop import TrainConfig
from ..translation import default_loss, recipe_class
from ..translation.meta import full_config
from ..translation.recipe_base import domain_names

DATA_FLAGS = ("data_b", "transform", "domains", "limit")      # options the CLI takes as flags of their own
CHECK_IMAGES = 16                                            # images the check derives (a transform can be slow)


def is_translation(arch: str) -> bool:
    return arch in TRANSLATION_KINDS


@dataclass
class TranslationDataInfo:
    recipe: str
    paired: bool
    n_a: int
    n_b: int
    shape_a: tuple[int, int, int]
    shape_b: tuple[int, int, int]
    domains: tuple[str, str]
    fid_ok = False                        # the Training tab's periodic FID is for latent generators

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.shape_b

    def describe(self) -> str:
        a, b = ("×".join(map(str, s)) for s in (self.shape_a, self.shape_b))
        count = f"{self.n_a:,} pairs" if self.paired else f"{self.n_a:,} A · {self.n_b:,} B images (unpaired)"
        return f"{count} · {self.domains[0]} {a} → {self.domains[1]} {b}"


def transform_of(cfg: TrainConfig) -> str:
    """The transform the recipe will use (its default unless two domains are given, as recipe_base decides)."""
    opts = cfg.options
    if "transform" in opts:
        return opts["transform"] or ""
    if opts.get("data_b") or has_ab_folders(cfg.data):
        return ""
    return recipe_class(cfg.arch).DEFAULT_TRANSFORM


def _exists(path: str, what: str) -> None:
    if not path:
        raise UserError(f"choose {what} first")
    if not Path(path).expanduser().exists():
        raise UserError(f"{what} {path} does not exist")


def _counts(cfg: TrainConfig, paired: bool, transform: str) -> tuple[int, int]:
    """Images in each domain (pairs: both the same), without deriving any: the transform of 60,000 digits takes
    seconds; the training does it once."""
    data, data_b, split = cfg.data, cfg.options.get("data_b", ""), cfg.split
    if data_b:
        return len(load_images(data, split)), len(load_images(data_b, split))
    if has_ab_folders(data) and not transform:
        p = Path(data).expanduser()
        sa, sb = ({f.relative_to(d).with_suffix("").as_posix() for f in image_files(d)} for d in (p / "A", p / "B"))
        return (len(sa & sb),) * 2 if paired else (len(sa), len(sb))
    n = len(load_images(data, split))
    return (n, n) if paired else ((n + 1) // 2, n // 2)


def check_translation_data(cfg: TrainConfig, seq: int) -> tuple[int, TranslationDataInfo | None, str]:
    """Worker thread: the two domains as the recipe will read them, a few derived, and whether the model's config
    fits them -> (seq, info, '') or (seq, None, the problem in one line)."""
    try:
        return seq, _check(cfg), ""
    except UserError as exc:
        return seq, None, str(exc)


def _check(cfg: TrainConfig) -> TranslationDataInfo:
    cls, opts = recipe_class(cfg.arch), cfg.options
    _exists(cfg.data, "the dataset" if not opts.get("data_b") else "domain A")
    if opts.get("data_b"):
        _exists(opts["data_b"], "domain B")
    transform = transform_of(cfg)
    sample = load_translation_data(cfg.data, cls.PAIRED, cfg.split, transform or None, opts.get("data_b") or None,
                                   CHECK_IMAGES)
    if len(sample.a) == 0 or len(sample.b) == 0:
        raise UserError(f"{cfg.data}: domain {'A' if len(sample.a) == 0 else 'B'} holds no images")
    a, b = tuple(sample.a.shape[1:]), tuple(sample.b.shape[1:])
    up = b[-1] // a[-1] if a[-1] else 1
    full_config(cfg.arch, {"in_channels": a[0], "out_channels": b[0], "resolution": a[-1]}
                | ({"upscale": up} if up > 1 else {}) | cfg.arch_config)
    n_a, n_b = _counts(cfg, cls.PAIRED, transform)
    if opts.get("limit"):
        n_a, n_b = min(n_a, opts["limit"]), min(n_b, opts["limit"])
    return TranslationDataInfo(cfg.arch, cls.PAIRED, n_a, n_b, a, b,
                               domain_names(opts.get("domains", ""), transform))


def translation_command_line(cfg: TrainConfig, out: str | Path, resume: bool = False) -> str:
    """The `gan-studio train-translation` call that runs the same training (recorded in the model's metadata)."""
    q, opts = shlex.quote, dict(cfg.options)
    parts = [f"gan-studio train-translation --recipe {cfg.arch} --data {q(cfg.data)}"]
    for key in DATA_FLAGS:
        if key in opts:
            parts.append(f"--{key.replace('_', '-')} {q(str(opts.pop(key)))}")
    if cfg.loss != default_loss(cfg.arch):
        parts.append(f"--loss {cfg.loss}")
    if cfg.arch_config:
        parts.append(f"--arch-config {q(json.dumps(cfg.arch_config, separators=(', ', ': ')))}")
    if opts:
        parts.append(f"--options {q(json.dumps(opts))}")
    for flag, value in (("--lr", cfg.lr), ("--n-critic", cfg.n_critic), ("--max-minutes", cfg.max_minutes)):
        if value is not None:
            parts.append(f"{flag} {value:g}" if isinstance(value, float) else f"{flag} {value}")
    parts.append(f"--steps {cfg.steps} --batch {cfg.batch} --seed {cfg.seed} --checkpoint-every "
                 f"{cfg.checkpoint_every} --sample-every {cfg.sample_every} --out {q(str(out))}")
    return " ".join(parts) + (" --resume" if resume else "")


def preview_titles(cfg: TrainConfig) -> list[list[str]]:
    """The titles of the recipe's sample rows, in its groups: e.g. [['strokes (input)', '→ digits',
    'digits (target)'], ...] for pix2pix, [['A', '→ B', '→ A (round trip)'], ['B', '→ A', '→ B (round trip)']]."""
    cls = recipe_class(cfg.arch)
    a, b = domain_names(cfg.options.get("domains", ""), transform_of(cfg))
    sr = TRANSLATION_KINDS[cfg.arch] == "sr"
    names = {"a": f"{a} (input{', enlarged' if sr else ''})" if cls.PAIRED else a,
             "b": f"{b} (target)" if cls.PAIRED else b,
             "a2b": f"→ {b}", "b2a": f"→ {a}", "a2b2a": f"→ {a} (round trip)", "b2a2b": f"→ {b} (round trip)",
             "bicubic": "bicubic (baseline)"}
    return [[names[role] for role in group] for group in cls.SAMPLE_ROWS]
