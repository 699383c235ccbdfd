"""The training generator: progress, checkpoints, resume, stop keeps work, NaN guard, reproducibility."""
import pytest
import torch

from gan_studio.engine.bundle import load_bundle, weights_hash
from gan_studio.engine.errors import TrainingDiverged, UserError
from gan_studio.engine.registry import LOSSES, REGULARIZERS
from gan_studio.engine.training.loop import TrainConfig, sample_diversity, train

ARCH = {"width": 8, "z_dim": 16}


def _cfg(data, **kw):
    base = dict(data=str(data), arch_config=ARCH, loss="wgan-gp", steps=6, batch=16, seed=3,
                checkpoint_every=3, sample_every=3, threads=1, device="cpu")
    return TrainConfig.from_dict(base | kw)


def test_registries_hold_the_foundation_losses():
    assert {"ns", "wgan-gp"} <= set(LOSSES.names()) and {"none", "gp", "r1"} <= set(REGULARIZERS.names())
    spec = LOSSES.get("wgan-gp")
    assert (spec.n_critic, spec.lr, spec.betas, spec.reg, spec.reg_weight) == (5, 1e-4, (0.0, 0.9), "gp", 10.0)
    with pytest.raises(UserError, match="known"):
        LOSSES.get("nope")
    with pytest.raises(UserError, match="unknown key"):
        TrainConfig.from_dict({"data": "x", "stepz": 3})


@pytest.mark.parametrize("loss", ["ns", "wgan-gp"])
def test_training_yields_progress_checkpoints_and_samples(tiny_dataset, tmp_path, loss):
    out = tmp_path / "m.safetensors"
    progress = list(train(_cfg(tiny_dataset, loss=loss), out, command="gan-studio train (test)"))
    assert [p.step for p in progress] == list(range(1, 7)) and progress[-1].done
    assert [p.checkpoint is not None for p in progress] == [False, False, True, False, False, True]
    assert progress[2].samples.shape == (64, 1, 28, 28)
    assert progress[2].diversity == pytest.approx(sample_diversity(progress[2].samples))
    assert progress[1].diversity is None
    assert {"d_loss", "g_loss", "penalty"} <= set(progress[0].losses)
    meta = load_bundle(out).meta
    assert meta["training"]["step"] == 6 and meta["training"]["command"] == "gan-studio train (test)"
    assert meta["training"]["loss"] == loss and meta["dataset"]["n"] == 256
    assert out.with_name("m.samples.png").is_file()
    if loss == "wgan-gp":
        assert progress[0].losses["penalty"] > 0


def test_sample_diversity_is_zero_for_a_collapsed_grid_and_grows_with_spread():
    g = torch.Generator().manual_seed(0)
    one = torch.rand(1, 1, 8, 8, generator=g).expand(64, -1, -1, -1)
    assert sample_diversity(one) == 0.0 and sample_diversity(one[:1]) == 0.0
    noise = torch.randn(64, 1, 8, 8, generator=g)
    assert sample_diversity(one + 0.1 * noise) < sample_diversity(one + 0.5 * noise)
    assert sample_diversity(one + 0.5 * noise) == pytest.approx(0.5, rel=0.1)


def test_same_seed_same_weights(tiny_dataset, tmp_path):
    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    for out in (a, b):
        list(train(_cfg(tiny_dataset, steps=3, loss="ns"), out))
    ga, gb = load_bundle(a).generator(), load_bundle(b).generator()
    assert weights_hash(ga) == weights_hash(gb)


def test_resume_continues_and_refuses_overwrite(tiny_dataset, tmp_path):
    out = tmp_path / "m.safetensors"
    list(train(_cfg(tiny_dataset, steps=3), out))
    with pytest.raises(UserError, match="--resume"):
        list(train(_cfg(tiny_dataset, steps=6), out))
    steps = [p.step for p in train(_cfg(tiny_dataset, steps=6), out, resume=True)]
    assert steps == [3, 4, 5, 6]          # the first progress is the "resumed" message at step 3
    assert load_bundle(out).meta["training"]["step"] == 6
    with pytest.raises(UserError, match="architecture"):
        list(train(_cfg(tiny_dataset, steps=9, arch_config={"width": 4, "z_dim": 16}), out, resume=True))


def test_stopping_keeps_the_work_done(tiny_dataset, tmp_path):
    out = tmp_path / "m.safetensors"
    gen = train(_cfg(tiny_dataset, steps=100, checkpoint_every=50), out)
    for p in gen:
        if p.step == 4:
            break
    gen.close()
    assert load_bundle(out).meta["training"]["step"] == 4


def test_divergence_stops_and_keeps_last_good_checkpoint(tiny_dataset, tmp_path, monkeypatch):
    from gan_studio.engine.training import recipes
    out = tmp_path / "m.safetensors"
    real_step = recipes.GANRecipe.train_step

    def step(self, batches):
        losses = real_step(self, batches)
        if self._n == 4:
            losses["d_loss"] = float("nan")
        self._n += 1
        return losses

    monkeypatch.setattr(recipes.GANRecipe, "_n", 0, raising=False)
    monkeypatch.setattr(recipes.GANRecipe, "train_step", step)
    seen = []
    with pytest.raises(TrainingDiverged, match="diverged at step 5"):
        for p in train(_cfg(tiny_dataset, steps=10, checkpoint_every=2), out):
            seen.append(p.step)
    assert seen == [1, 2, 3, 4]
    b = load_bundle(out)
    assert b.meta["training"]["step"] == 4
    assert all(torch.isfinite(t).all() for t in b.generator().state_dict().values())


def test_generator_ema_is_saved_recalibrated_and_preferred(tiny_dataset, tmp_path):
    out = tmp_path / "m.safetensors"
    list(train(_cfg(tiny_dataset, loss="ns"), out))
    b = load_bundle(out)
    assert set(b.networks) == {"generator", "generator_ema", "critic"}
    assert b.generator() is b.networks["generator_ema"] and b.meta["training"]["ema_beta"] == 0.999
    live, ema = b.networks["generator"], b.networks["generator_ema"]
    assert weights_hash(live) != weights_hash(ema)
    bn_live = [m.running_mean for m in live.modules() if isinstance(m, torch.nn.BatchNorm2d)][0]
    bn_ema = [m.running_mean for m in ema.modules() if isinstance(m, torch.nn.BatchNorm2d)][0]
    assert not torch.equal(bn_live, bn_ema)            # statistics recomputed for the averaged weights
    off = tmp_path / "off.safetensors"
    list(train(_cfg(tiny_dataset, loss="ns", options={"ema_beta": 0}), off))
    assert "generator_ema" not in load_bundle(off).networks


def test_generator_ema_warms_up_on_a_fresh_run_only(tiny_dataset, tmp_path):
    """A fresh run's EMA follows the generator closely at first (decay (1+t)/(10+t), capped at beta), so early
    sample grids are not the random initial network; a resumed run averages with the full beta at once."""
    from gan_studio.engine.training.recipes import GANRecipe
    recipe = GANRecipe(_cfg(tiny_dataset, loss="ns"), torch.device("cpu"))
    initial = [p.detach().clone() for p in recipe.G_ema.parameters()]
    assert recipe.current_ema_beta() == pytest.approx(0.1)
    stream = recipe.batches(torch.Generator().manual_seed(0))
    for _ in range(30):
        recipe.train_step(stream)
    assert recipe.current_ema_beta() == pytest.approx(31 / 40)

    def dist(a, b):
        return sum((x - y).abs().sum().item() for x, y in zip(a, b))
    to_live = dist(recipe.G_ema.parameters(), recipe.G.parameters())
    to_start = dist(recipe.G_ema.parameters(), initial)
    assert to_live < 0.2 * to_start                   # with a fixed 0.999 it would still sit at the start
    recipe.load_networks({"generator": recipe.G, "critic": recipe.D})
    assert recipe.current_ema_beta() == 0.999
