"""What each architecture family trains with, for the front ends: the `--loss` names it accepts, the settings
(lr, n_critic, betas) those losses train with under it, and its `--options` with defaults, bounds and tooltips.

A recipe says so with class attributes: `LOSSES_ALLOWED` (the losses it trains with; absent: every loss of the zoo
that belongs to no family), `SPEC` (the family's own lr / n_critic / betas over the loss's, e.g. ProGAN's
Adam 1e-3 (0.0, 0.99) and one critic step with WGAN-GP) and `options_table(loss)` {name: (default, kind, bounds,
tip)}. A loss that only one family trains (BEGAN, EBGAN, MRGAN) names that family's architecture in its
LossSpec's `extra["arch"]`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..checks import Range
from ..registry import ARCHITECTURES, LOSSES
from .losses import LossSpec, training_spec
from .recipes import RECIPES


@dataclass(frozen=True)
class FamilyOption:
    name: str
    default: Any
    kind: type                  # int, float or bool
    bounds: Range | None
    tip: str


def recipe_class(arch: str):
    """The recipe that trains `arch`: its own, else its kind's (as the training loop picks it)."""
    return RECIPES.get(arch) if arch in RECIPES else RECIPES.get(ARCHITECTURES.get(arch).kind)


def family_of_loss(loss: str) -> str | None:
    """The architecture a family-only loss needs (e.g. 'dcgan-ae' for began), or None for a zoo loss."""
    return (LOSSES.get(loss).extra or {}).get("arch") if loss in LOSSES else None


def losses_for(arch: str) -> list[str]:
    """The `--loss` names `arch` trains with, in the registry's order."""
    allowed = getattr(recipe_class(arch), "LOSSES_ALLOWED", None)
    if allowed:
        return [name for name in LOSSES.names() if name in allowed]
    return [name for name in LOSSES.names() if family_of_loss(name) in (None, arch)]


def family_spec(arch: str, loss: str, reg: str | None = None) -> LossSpec:
    """The loss's training settings under `arch` (the family's own lr / n_critic / betas where it has them)."""
    spec = training_spec(loss, reg)
    own = getattr(recipe_class(arch), "SPEC", None) if arch in ARCHITECTURES else None
    return dataclasses.replace(spec, **own) if own else spec


def options_for(arch: str, loss: str) -> list[FamilyOption]:
    """The family's `--options` with `loss`, in their table's order (empty for the loss zoo's recipe)."""
    table = getattr(recipe_class(arch), "options_table", None)
    if table is None:
        return []
    return [FamilyOption(name, *row) for name, row in table(loss).items()]
