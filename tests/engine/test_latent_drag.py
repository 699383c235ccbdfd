"""Fractional seeds (engine/latent/drag.py): exact at integer positions, continuous, on the typical shell."""
from __future__ import annotations

import math

import pytest
import torch

from gan_studio.engine.errors import UserError
from gan_studio.engine.latent.drag import STRIDE, SeedPos, frac_z, frac_zs, parse_seed
from gan_studio.engine.latent.sampling import seed_latent
from gan_studio.engine.latent.state import Latent

Z = 512


@pytest.mark.parametrize("seed", [0, 7, 123, 999, 1000, 2**31 - 1])
def test_integer_positions_give_exactly_the_seeds_z(seed):
    assert torch.equal(frac_z(SeedPos(float(seed)), Z), seed_latent(seed, Z))
    assert torch.equal(frac_z(parse_seed(f"{seed}.0"), Z), seed_latent(seed, Z))


def test_the_second_dimension_steps_by_stride():
    assert torch.equal(frac_z(SeedPos(7.0, 2.0), Z), seed_latent(7 + 2 * STRIDE, Z))
    assert SeedPos(7.0, 2.0).seed() == 2007 and SeedPos(7.5).seed() is None


def test_a_fraction_blends_the_neighbouring_seeds():
    z7, z8 = seed_latent(7, Z), seed_latent(8, Z)
    w = 7.25 - 7
    want = ((1 - w) * z7 + w * z8) / math.sqrt((1 - w) ** 2 + w ** 2)
    assert (frac_z(SeedPos(7.25), Z) - want).abs().max() <= 1e-6
    # on the edge between rows, only the two seeds along y count
    z1007 = seed_latent(7 + STRIDE, Z)
    want_y = (0.5 * z7 + 0.5 * z1007) / math.sqrt(0.5)
    assert (frac_z(SeedPos(7.0, 0.5), Z) - want_y).abs().max() <= 1e-6
    assert {s for s, _ in SeedPos(7.5, 0.5).corners()} == {7, 8, 7 + STRIDE, 8 + STRIDE}
    assert math.isclose(sum(w for _, w in SeedPos(7.3, 0.6).corners()), 1.0)


@pytest.mark.parametrize("y", [0.0, 3.37])
def test_small_moves_make_small_changes_even_across_integer_seeds(y):
    xs = [6.5 + 0.01 * i for i in range(201)]                       # 6.5 .. 8.5, through 7 and 8
    zs = torch.cat([frac_z(SeedPos.snapped(x, y), Z) for x in xs])
    steps = (zs[1:] - zs[:-1]).norm(dim=1)
    jump = (seed_latent(7, Z) - seed_latent(8, Z)).norm()
    assert steps.max() < 0.05 * jump, "a jump between neighbouring positions"
    assert (zs[-1] - zs[0]).norm() > 0.5 * jump, "the latent did not move"
    ys = torch.cat([frac_z(SeedPos.snapped(7.2, y + 0.01 * i), Z) for i in range(101)])
    assert (ys[1:] - ys[:-1]).norm(dim=1).max() < 0.05 * jump


def test_the_blend_stays_on_the_typical_shell():
    shell = math.sqrt(Z)
    mids = [SeedPos(s + 0.5, 0.5) for s in range(40)]               # the middle of each square: weights 1/4
    norms = torch.tensor([frac_z(p, Z).norm().item() for p in mids])
    plain = torch.tensor([frac_z(p, Z, normalise=False).norm().item() for p in mids])
    assert abs(norms.mean().item() / shell - 1) < 0.03
    assert abs(plain.mean().item() / shell - 0.5) < 0.03             # what the normalisation fixes
    anywhere = torch.cat([frac_z(SeedPos.snapped(0.37 * i, 0.11 * i), Z) for i in range(200)])
    assert abs(anywhere.std().item() - 1) < 0.02 and abs(anywhere.mean().item()) < 0.02


def test_parse_seed_keeps_integers_and_rounds_fractions():
    assert parse_seed("7") == 7 and isinstance(parse_seed("7"), int)
    assert parse_seed("7.35") == SeedPos(7.35) and parse_seed("7.35, 2.1") == SeedPos(7.35, 2.1)
    assert parse_seed("7.3456") == SeedPos(7.35)
    assert SeedPos(7.35).text() == "7.35" and SeedPos(7.5, 2.0).text() == "7.5,2"
    assert SeedPos(7.0).label() == "seed 7.00" and SeedPos(7.5, 2.0).label() == "seed (7.50, 2.00)"
    for bad in ("-1.5", "x", "1,2,3", "nan", "1.5,-2"):
        with pytest.raises(UserError):
            parse_seed(bad)
    assert SeedPos.snapped(-0.3, -2).x == 0.0 and SeedPos.snapped(-0.3, -2).y == 0.0   # a drag stops at 0


def test_frac_zs_steps_along_x():
    zs = frac_zs(SeedPos(7.35), 3, Z)
    assert torch.equal(zs[1:2], frac_z(SeedPos(8.35), Z)) and torch.equal(zs[2:3], frac_z(SeedPos(9.35), Z))


def test_latents_of_positions():
    whole = Latent.from_position(SeedPos(7.0), Z, {"class": 3})
    assert whole.source == "seed" and whole.seed == 7 and whole.codes == {"class": 3}
    frac = Latent.from_position(SeedPos(7.35, 1.0), Z, {"c0": 0.5})
    assert frac.source == "frac" and frac.seed is None and frac.position == SeedPos(7.35, 1.0)
    assert frac.seed_text == "7.35,1" and frac.label() == "seed (7.35, 1.00) · c0 +0.50"
    assert torch.equal(frac.z, frac_z(SeedPos(7.35, 1.0), Z))
    assert frac.with_codes({}).position == frac.position and whole.position == SeedPos(7.0)
    assert Latent.from_seed(5, Z).seed_text == "5" and Latent(z=whole.z, source="file").seed_text is None
