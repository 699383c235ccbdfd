"""Discriminator rejection sampling: the formula, the calibration, the burn-in/γ, seeds and determinism."""
from __future__ import annotations

import math

import pytest
import torch

from gan_studio.engine.bundle import load_bundle, save_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.latent import drs
from gan_studio.engine.latent.drs import acceptance_probability, burn_in, drs_F, drs_sample, seeds_latents_uniforms
from gan_studio.engine.latent.drs_calibration import (Calibration, calibration_path, critic_of, critic_scores,
                                                      fit_logistic, resolve_calibration)
from gan_studio.engine.latent.sampling import generate, seed_latent, seeds_latents
from tests.conftest import make_tiny_bundle

CAL = Calibration(1.13, -0.87)     # close to the shipped critic's fitted calibration on MNIST


@pytest.fixture(scope="module")
def shipped(shipped_model):
    b = load_bundle(shipped_model)
    return b, b.generator(), critic_of(b)


@pytest.fixture(autouse=True)
def _own_home(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_HOME", str(tmp_path / "home"))   # stored calibrations go here


def test_F_matches_hand_computed_values():
    # F = d - log(1 - exp(d - eps)) - gamma, d = logit - max, eps = 1e-6
    logits = torch.tensor([2.0, 1.0, -1.0])
    f = drs_F(logits, 2.0, gamma=0.5)
    want = [-math.log(1 - math.exp(-1e-6)) - 0.5,                   # 13.8155 - 0.5 at the maximum
            -1.0 - math.log(1 - math.exp(-1.0 - 1e-6)) - 0.5,       # -1 + 0.458675 - 0.5
            -3.0 - math.log(1 - math.exp(-3.0 - 1e-6)) - 0.5]       # -3 + 0.051069 - 0.5
    assert torch.allclose(f, torch.tensor(want, dtype=torch.float64), atol=1e-9)
    assert abs(want[0] - 13.31551) < 1e-4 and abs(want[1] + 1.041325) < 1e-5
    # with gamma = 0 the acceptance probability is exp(D - D_M), the ideal rejection sampler
    p = acceptance_probability(torch.tensor([1.0, -1.0, -5.0]), 2.0)
    assert torch.allclose(p, torch.exp(torch.tensor([-1.0, -3.0, -7.0], dtype=torch.float64)), rtol=1e-5)


def test_calibration_recovers_a_known_logistic_relation():
    g = torch.Generator().manual_seed(0)
    s = torch.randn(20000, generator=g) * 2.0 + 0.5                       # critic scores
    real = torch.rand(20000, generator=g) < torch.sigmoid(1.7 * s - 0.4)  # P(real | s) = sigmoid(1.7 s - 0.4)
    a, b, acc = fit_logistic(s[real], s[~real])
    assert abs(a - 1.7) < 0.1 and abs(b + 0.4) < 0.1 and 0.7 < acc < 0.95


def test_acceptance_rate_rises_as_gamma_is_lowered(shipped):
    _, G, D = shipped
    rates, gammas = [], []
    for p in (99, 90, 50, 10):          # a lower percentile is a lower gamma
        burn = burn_in(G, D, CAL, n=400, percentile=p)
        gammas.append(burn.gamma)
        rates.append(drs_sample(G, D, CAL, seed=0, n=24, burn=burn).acceptance_rate)
    assert gammas == sorted(gammas, reverse=True)
    assert rates == sorted(rates) and rates[-1] > 2 * rates[0], rates
    g_lo, g_hi = burn_in(G, D, CAL, n=400, gamma=-5.0), burn_in(G, D, CAL, n=400, gamma=1.0)
    assert g_lo.expected_rate > g_hi.expected_rate and g_lo.percentile is None


def test_accepted_samples_have_higher_critic_scores_than_rejected(shipped):
    _, G, D = shipped
    r = drs_sample(G, D, CAL, seed=100, n=40, burn_in_n=400)
    assert r.accepted.sum() == 40 == len(r.seeds) == r.images.shape[0]
    assert r.logits[r.accepted].mean() > r.logits[~r.accepted].mean() + 0.3
    assert 0.03 < r.acceptance_rate < 0.6 and r.candidates == len(r.logits)
    raw = critic_scores(D, r.images)                                    # the images really are those seeds
    assert torch.allclose(CAL.logits(raw).double(), r.logits[r.accepted], atol=1e-4)


def test_seeds_are_deterministic_prefix_stable_and_batch_independent(shipped, monkeypatch):
    _, G, D = shipped
    burn = burn_in(G, D, CAL, n=300)
    a = drs_sample(G, D, CAL, seed=7, n=10, burn=burn)
    b = drs_sample(G, D, CAL, seed=7, n=16, burn=burn)
    assert a.seeds == b.seeds[:10] and all(s >= 7 for s in a.seeds) and a.seeds == sorted(set(a.seeds))
    monkeypatch.setattr(drs, "_batch_size", lambda need, rate: 5)    # other batches, same answer
    c = drs_sample(G, D, CAL, seed=7, n=10, burn=burn)
    assert c.seeds == a.seeds and torch.equal(c.accepted, a.accepted)
    want = generate(G, seeds_latents(a.seeds, G.z_dim))
    assert (a.images - want).abs().max() <= 1e-5                       # seed s gives the image of seed s


def test_candidate_latents_are_the_seed_latents():
    z, u = seeds_latents_uniforms([3, 99], 64)
    assert torch.equal(z[0:1], seed_latent(3, 64)) and torch.equal(z[1:2], seed_latent(99, 64))
    assert u.shape == (2,) and ((u >= 0) & (u < 1)).all() and u[0] != u[1]


def test_no_critic_is_one_clear_user_error(tmp_path):
    from gan_studio.engine.models import build
    cfg = {"z_dim": 8, "img_resolution": 28, "img_channels": 1, "width": 8}
    G = build("dcgan", "generator", cfg)
    path = save_bundle(tmp_path / "g.safetensors", {"generator": G},
                       {"kind": "image-generator", "arch": "dcgan", "config": cfg, "name": "g-only"})
    with pytest.raises(UserError, match="no critic: DRS needs one"):
        critic_of(load_bundle(path))


def test_wasserstein_critic_needs_data_once_and_ns_critic_does_not(shipped, tmp_path, tiny_dataset):
    b, G, D = shipped
    with pytest.raises(UserError, match="--data"):
        resolve_calibration(b, G, D)
    tiny = load_bundle(make_tiny_bundle(tmp_path / "tiny.safetensors"))
    tiny.meta["training"] = {"loss": "ns"}
    assert resolve_calibration(tiny, tiny.generator(), critic_of(tiny)).method == "identity"
    tiny.meta["training"] = {"loss": "wgan-gp"}
    Gt, Dt = tiny.generator(), critic_of(tiny)
    fitted = resolve_calibration(tiny, Gt, Dt, data_path=str(tiny_dataset), n=200)
    assert fitted.method == "logistic-fit" and fitted.n == 200 and calibration_path(fitted.key).is_file()
    again = resolve_calibration(tiny, Gt, Dt)                              # remembered: no data needed now
    assert (again.a, again.b, again.data) == (fitted.a, fitted.b, str(tiny_dataset))


def test_bad_percentile_and_hopeless_settings_are_user_errors(shipped):
    _, G, D = shipped
    with pytest.raises(UserError, match="between 0 and 100"):
        burn_in(G, D, CAL, n=50, percentile=120)
    burn = burn_in(G, D, CAL, n=100, gamma=40.0)                           # nothing is ever accepted
    with pytest.raises(UserError, match="accepted only 0 of 3"):
        drs_sample(G, D, CAL, seed=0, n=3, burn=burn, max_candidates=50)


def test_calibration_on_real_mnist_separates_real_from_generated(shipped, mnist_dir):
    from gan_studio.engine.latent.drs_calibration import calibrate
    _, G, D = shipped
    cal = calibrate(G, D, str(mnist_dir), n=300)
    assert cal.a > 0 and cal.accuracy > 0.6 and cal.n == 300 and cal.split == "train"


def test_a_critic_with_an_embedding_is_scored_by_its_loss_or_refused():
    from gan_studio.engine.latent.drs_calibration import ScalarCritic
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 9))    # an MD-GAN-like 9-D output
    x = torch.zeros(5, 1, 28, 28)
    with pytest.raises(UserError, match=r"gives \(9,\) values per image"):
        critic_scores(ScalarCritic(net), x)
    scored = ScalarCritic(net, lambda out: -(out ** 2).sum(1))                    # e.g. a log-likelihood
    assert critic_scores(scored, x).shape == (5,)
