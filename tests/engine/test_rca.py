"""RCA: a fresh reconstructor scores distinguishable directions high and duplicated ones at chance."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_studio.engine.latent.directions.core import DirectionSet
from gan_studio.engine.metrics.rca import RCABudget, rca
from gan_studio.engine.models.base import ImageGenerator

K = 4


class BlockPainter(ImageGenerator):
    """z (N, 4) -> 28 px images where z_i sets the brightness of quadrant i: each coordinate direction
    changes a different place, so a reconstructor can always tell them apart."""

    def __init__(self):
        super().__init__()
        self.z_dim, self.w_dim, self.num_ws = K, K, 1
        self.img_channels, self.img_resolution = 1, 28
        masks = torch.zeros(K, 1, 28, 28)
        for i, (y, x) in enumerate([(0, 0), (0, 14), (14, 0), (14, 14)]):
            masks[i, :, y:y + 14, x:x + 14] = 1
        self.register_buffer("masks", masks)
        self.anchor = nn.Parameter(torch.zeros(()))          # so the generator has a device

    def _map(self, z, c=None):
        return z[:, None]

    def synthesis(self, ws, noise_mode="const"):
        z = ws[:, 0]
        return torch.tanh(0.3 * torch.einsum("nk,kchw->nchw", z, self.masks)) + self.anchor


BUDGET = dict(steps=150, batch=16, eval_pairs=256, width=1, train_pairs=4096)


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_distinguishable_directions_score_high(schedule):
    torch.manual_seed(0)
    ds = DirectionSet(torch.eye(K), "coordinate", "z")
    out = rca(BlockPainter(), ds, RCABudget(**BUDGET, schedule=schedule))
    assert out["rca"] > 0.9 and out["k"] == K
    assert ("cosine" in out["budget"]) == (schedule == "cosine")


def test_duplicated_directions_score_at_chance():
    torch.manual_seed(0)
    ds = DirectionSet(torch.eye(K)[[0, 0, 0, 0]], "coordinate", "z")      # four names for one direction
    out = rca(BlockPainter(), ds, RCABudget(**BUDGET))
    assert out["rca"] < 0.4                                           # chance is 0.25


def test_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="schedule"):
        RCABudget(schedule="linear")


@pytest.mark.parametrize("field", ["steps", "batch", "train_pairs", "eval_pairs"])
def test_an_empty_budget_is_refused_not_measured_as_chance(field):
    """`rca --steps 0` once printed "RCA 0.019" (chance for K = 64) from an untrained reconstructor."""
    from gan_studio.engine.errors import UserError
    with pytest.raises(UserError, match=f"RCA {field.replace('_', ' ')} must be at least 1, not 0"):
        RCABudget(**{field: 0})
