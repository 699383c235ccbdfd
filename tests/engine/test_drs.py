"""Discriminator rejection sampling: the formula, the calibration, the burn-in/γ, seeds and determinism."""
from __future__ import annotations

import math

import pytest
import torch

from gan_studio.engine.bundle import load_bundle, save_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.latent import drs
from gan_studio.engine.latent.drs import acceptance_probability, burn_in, drs_F, drs_sample, seeds_latents_uniforms
from gan_studio.engine.latent.drs_calibration import (
    AFFINE,
    FINETUNE,
    Calibration,
    calibration_key,
    calibration_path,
    critic_of,
    critic_scores,
    finetuned_path,
    fit_logistic,
    load_calibration,
    resolve_calibration,
    stored_or_default,
)
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
    fitted = resolve_calibration(tiny, Gt, Dt, data_path=str(tiny_dataset), n=200, method="affine")
    assert fitted.method == AFFINE and fitted.n == 200 and calibration_path(fitted.key).is_file()
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


# ---------------------------------------------------------------- the fine-tuned calibration (the default)

def _tiny_wgan(tmp_path):
    b = load_bundle(make_tiny_bundle(tmp_path / "tiny.safetensors"))
    b.meta["training"] = {"loss": "wgan-gp"}
    return b, b.generator(), critic_of(b)


def test_finetune_beats_the_affine_fit_on_held_out_images_and_is_stored_beside_it(tmp_path, tiny_dataset):
    from gan_studio.engine.bundle import weights_hash
    b, G, D = _tiny_wgan(tmp_path)
    model_bytes, critic_hash = b.path.read_bytes(), weights_hash(D)
    cal = resolve_calibration(b, G, D, data_path=str(tiny_dataset), n=100, steps=150)      # the default: finetune
    assert cal.method == FINETUNE and cal.steps == 150 and cal.n == 100 and cal.finetuned is not None
    assert cal.accuracy > cal.affine_accuracy + 0.02, (cal.accuracy, cal.affine_accuracy)   # both held out
    assert calibration_path(cal.key, FINETUNE).is_file() and finetuned_path(cal.key).is_file()
    assert b.path.read_bytes() == model_bytes and weights_hash(D) == critic_hash        # nothing else changed
    assert cal.scorer(D) is cal.finetuned and Calibration(1.0, 0.0, AFFINE).scorer(D) is D
    assert "fine-tuned for 150 steps" in cal.describe() and "held-out" in cal.describe()


def test_a_stored_finetune_is_reused_and_gives_the_same_seeds(tmp_path, tiny_dataset):
    b, G, D = _tiny_wgan(tmp_path)
    cal = resolve_calibration(b, G, D, data_path=str(tiny_dataset), n=100, steps=40)
    again = resolve_calibration(b, G, D)                                   # no data: the sidecar is loaded
    assert again.method == FINETUNE and (again.a, again.b, again.steps) == (cal.a, cal.b, 40)
    for k, v in cal.finetuned.state_dict().items():
        assert torch.equal(v, again.finetuned.state_dict()[k]), k
    r1 = drs_sample(G, D, cal, seed=3, n=8, burn_in_n=200, percentile=50)
    r2 = drs_sample(G, D, again, seed=3, n=8, burn_in_n=200, percentile=50)
    assert r1.seeds == r2.seeds and torch.equal(r1.logits, r2.logits)
    finetuned_path(cal.key).write_bytes(b"broken")                           # an unusable sidecar: fit again
    assert load_calibration(cal.key, FINETUNE, D) is None
    with pytest.raises(UserError, match="--data"):
        resolve_calibration(b, G, D)


def test_finetune_is_deterministic(tmp_path, tiny_dataset):
    b, G, D = _tiny_wgan(tmp_path)
    one = resolve_calibration(b, G, D, data_path=str(tiny_dataset), n=60, steps=20)
    two = resolve_calibration(b, G, D, data_path=str(tiny_dataset), n=60, steps=20)
    assert (one.a, one.b, one.accuracy) == (two.a, two.b, two.accuracy)
    assert all(torch.equal(v, two.finetuned.state_dict()[k]) for k, v in one.finetuned.state_dict().items())


def test_which_stored_calibration_is_used(tmp_path, tiny_dataset):
    b, G, D = _tiny_wgan(tmp_path)
    aff = resolve_calibration(b, G, D, data_path=str(tiny_dataset), n=60, method="affine")
    assert stored_or_default(b, G, D).method == AFFINE                    # only an affine fit so far
    resolve_calibration(b, G, D, data_path=str(tiny_dataset), n=60, steps=10)
    assert stored_or_default(b, G, D).method == FINETUNE                  # the fine-tuned one is preferred
    assert resolve_calibration(b, G, D, method="affine").a == aff.a      # unless the affine one is asked for
    assert load_calibration(calibration_key(G, D)).method == AFFINE       # both files live side by side
    ns = load_bundle(make_tiny_bundle(tmp_path / "ns.safetensors", seed=1))
    ns.meta["training"] = {"loss": "ns"}
    Gn, Dn = ns.generator(), critic_of(ns)
    assert resolve_calibration(ns, Gn, Dn).method == "identity"           # an NS critic needs no fit...
    with pytest.raises(UserError, match="fine-tunes a copy"):             # ...unless one is asked for
        resolve_calibration(ns, Gn, Dn, method="finetune")
    with pytest.raises(UserError, match="unknown DRS calibration"):
        resolve_calibration(ns, Gn, Dn, method="platt")
    with pytest.raises(UserError, match="at least 1 step"):
        resolve_calibration(b, G, D, data_path=str(tiny_dataset), steps=0)


@pytest.mark.slow
def test_finetune_on_real_mnist_separates_better_than_the_affine_fit(shipped, mnist_dir):
    from gan_studio.engine.latent.drs_finetune import finetune_iter
    _, G, D = shipped
    cal = drs._last_result(finetune_iter(G, D, str(mnist_dir), steps=150, n=300))
    assert cal.affine_accuracy > 0.6 and cal.accuracy > cal.affine_accuracy + 0.03, cal.describe()
