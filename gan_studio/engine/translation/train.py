"""Training a translation model on the training loop (training/loop.py): the same progress generator, atomic
checkpoints (the output file, rewritten every N steps), resume, wall-clock budget and NaN guard as `gan-studio
train`. A recipe name is the family's architecture name; its paper's loss is the default `--loss`.

    cfg = translation_config("pix2pix", "../shared/data/mnist", steps=3000, options={"domains": "strokes,digits"})
    for p in train_translation(cfg, "p2p.safetensors"): ...
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..training.loop import Progress, TrainConfig, train
from . import recipe_cycle, recipe_paired  # noqa: F401  (registers the recipes)
from .meta import FAMILIES
from .recipe_base import TranslationRecipe

RECIPE_NAMES = FAMILIES      # pix2pix, cyclegan, discogan, dualgan, srresnet, srgan


def recipe_class(recipe: str) -> type[TranslationRecipe]:
    from ..training.recipes import RECIPES
    if recipe not in RECIPE_NAMES:
        raise UserError(f"unknown translation recipe {recipe!r} (known: {', '.join(RECIPE_NAMES)})")
    return RECIPES.get(recipe)


def default_loss(recipe: str) -> str:
    return recipe_class(recipe).LOSSES_ALLOWED[0]


def translation_config(recipe: str, data: str, *, loss: str | None = None, options: dict[str, Any] | None = None,
                       **settings: Any) -> TrainConfig:
    """The TrainConfig of a translation run: `settings` are TrainConfig fields (steps, batch, seed, lr, n_critic,
    arch_config, checkpoint_every, sample_every, max_minutes, threads, device, split)."""
    recipe_class(recipe)
    return TrainConfig.from_dict({"arch": recipe, "data": str(data), "loss": loss or default_loss(recipe),
                                  "options": dict(options or {})} | settings)


def train_translation(cfg: TrainConfig, out: str | Path, resume: bool = False,
                      command: str | None = None) -> Iterator[Progress]:
    """`loop.train` for a translation recipe (one UserError line for an architecture that is not one)."""
    recipe_class(cfg.arch)
    return train(cfg, out, resume=resume, command=command)
