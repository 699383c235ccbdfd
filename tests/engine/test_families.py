"""Issue 24: what each family trains with, as the front ends read it (training/families.py)."""
from __future__ import annotations

import pytest

from gan_studio.engine.training.families import family_spec, losses_for, options_for


def test_each_family_lists_its_own_losses_and_the_zoo_none_of_theirs():
    assert losses_for("progan") == ["wgan-gp"] and losses_for("dcgan-ae") == ["began", "ebgan"]
    assert losses_for("dcgan-enc") == ["mrgan"] and losses_for("stylegan2") == ["ns"]
    assert set(losses_for("lapgan")) == {"ns", "vanilla", "lsgan", "hinge"}
    zoo = losses_for("dcgan")
    assert {"wgan-gp", "ns", "mdgan"} <= set(zoo) and not {"began", "ebgan", "mrgan"} & set(zoo)


def test_the_family_s_own_settings_and_options():
    pg = family_spec("progan", "wgan-gp")
    assert (pg.lr, pg.n_critic, pg.betas, pg.reg_weight) == (1e-3, 1, (0.0, 0.99), 10.0)
    assert family_spec("dcgan", "wgan-gp").lr == pytest.approx(1e-4)
    assert [o.name for o in options_for("progan", "wgan-gp")] == ["fade_steps", "stable_steps", "drift", "ema_beta"]
    began = {o.name: o for o in options_for("dcgan-ae", "began")}
    assert began["gamma"].default == 1.0 and began["gamma"].tip and began["lambda_k"].kind is float
    assert [o.name for o in options_for("dcgan-ae", "ebgan")] == ["margin", "pull_away"]
    assert options_for("dcgan-enc", "mrgan")[2].kind is bool and options_for("dcgan", "ns") == []
