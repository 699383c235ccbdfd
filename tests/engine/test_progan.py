"""Issue 24, ProGAN (`--arch progan --loss wgan-gp`): the growth schedule, a few real steps across a phase change,
resolution and alpha logged each step, a resume across a phase change that continues α and the resolution, and the
model file sampling at the one output size whatever resolution it had reached."""
from __future__ import annotations

import pytest
import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.models.progan import ProGANConfig
from gan_studio.engine.training.loop import TrainConfig, train
from gan_studio.engine.training.recipe_progan import growth_at, real_at

ARCH = {"z_dim": 8, "channel_base": 64, "channel_max": 8}


def _cfg(data, steps, **kw):
    return TrainConfig(data=str(data), arch="progan", arch_config=dict(ARCH), loss="wgan-gp", steps=steps, batch=8,
                       checkpoint_every=100, sample_every=100, threads=1, device="cpu",
                       options={"fade_steps": 2, "stable_steps": 1}, **kw)


def test_pyramids_and_the_schedule():
    assert ProGANConfig(img_resolution=28).resolutions() == [4, 7, 14, 28]
    assert ProGANConfig(img_resolution=32).resolutions() == [4, 8, 16, 32]
    with pytest.raises(ValueError):
        ProGANConfig(img_resolution=30)                                     # 30 -> 15: no 8 px or less
    got = [growth_at(t, 3, fade=4, stable=2) for t in range(14)]
    assert got[:2] == [(0, 1.0), (0, 1.0)]
    assert got[2:6] == [(1, 0.25), (1, 0.5), (1, 0.75), (1, 1.0)] and got[6:8] == [(1, 1.0)] * 2
    assert got[8] == (2, 0.25) and got[13] == (2, 1.0) and growth_at(10**6, 3, 4, 2) == (2, 1.0)


def test_fading_real_images_blend_the_coarser_level():
    x = torch.rand(2, 1, 28, 28)
    full, half = real_at(x, [4, 7, 14, 28], 3, 1.0), real_at(x, [4, 7, 14, 28], 3, 0.0)
    assert torch.equal(full, x)
    assert torch.allclose(half[..., ::2, ::2], torch.nn.functional.avg_pool2d(x, 2))   # the 14 px image, blown up
    mid = real_at(x, [4, 7, 14, 28], 3, 0.25)
    assert torch.allclose(mid, 0.25 * full + 0.75 * half)


@pytest.mark.slow
def test_phase_change_and_resume_across_it(tiny_dataset, tmp_path):
    out = tmp_path / "pg.safetensors"
    steps = [p for p in train(_cfg(tiny_dataset, 4), out) if p.losses]
    growth = [(p.losses["resolution"], p.losses["alpha"]) for p in steps]
    assert growth == [(4, 1.0), (7, 0.5), (7, 1.0), (7, 1.0)]               # stabilise 4, fade 7 in, stabilise
    assert all(torch.isfinite(torch.tensor(list(p.losses.values()))).all() for p in steps)
    assert {"penalty", "drift", "wasserstein"} <= set(steps[-1].losses)
    b = load_bundle(out)
    assert set(b.networks) == {"generator", "generator_ema", "critic"}
    G = b.generator()
    assert G.growth() == (1, 1.0) and int(b.networks["generator"].steps_done) == 4
    with torch.no_grad():
        img = G(torch.randn(3, G.z_dim))
    assert img.shape == (3, 1, 28, 28)                                       # 7 px up-sampled to the output size
    assert torch.equal(img[..., ::4, ::4], img[..., 3::4, 3::4])              # ... in 4 x 4 blocks
    # resume: steps 5-6 fade 14 px in where the file left off, alpha 0.5 then 1
    resumed = [p for p in train(_cfg(tiny_dataset, 7), out, resume=True) if p.losses]
    assert [(p.step, p.losses["resolution"], p.losses["alpha"]) for p in resumed] == [
        (5, 14, 0.5), (6, 14, 1.0), (7, 14, 1.0)]
    G = load_bundle(out).generator()
    assert G.growth() == (2, 1.0) and G.current_resolution == 14


def test_other_losses_and_regularisers_are_one_line(tiny_dataset, tmp_path):
    with pytest.raises(UserError, match="--arch progan trains with --loss wgan-gp"):
        list(train(TrainConfig(data=str(tiny_dataset), arch="progan", arch_config=dict(ARCH), loss="ns", steps=1,
                               batch=8, threads=1, device="cpu"), tmp_path / "a.safetensors"))
    with pytest.raises(UserError, match="unknown option"):
        list(train(TrainConfig(data=str(tiny_dataset), arch="progan", arch_config=dict(ARCH), loss="wgan-gp",
                               steps=1, batch=8, threads=1, device="cpu", options={"fade": 3}),
                   tmp_path / "b.safetensors"))


def test_the_directions_hooks():
    from gan_studio.engine.models import build
    G = build("progan", "generator", ARCH)
    assert G.sefa_weight().shape == (8 * 16, 8) and G.first_layer(torch.randn(3, 8)).shape == (3, 8 * 16)


def test_a_new_resolution_restarts_adam_s_moments(tiny_dataset):
    from gan_studio.engine.training.recipe_progan import ProGANRecipe
    recipe = ProGANRecipe(_cfg(tiny_dataset, 3), torch.device("cpu"))
    stream = recipe.batches(torch.Generator().manual_seed(0))
    opt = recipe.opt_d
    recipe.train_step(stream)                                                # 4 px
    assert opt.state and recipe.G.steps_done == 1
    recipe.train_step(stream)                                                # 7 px fades in: fresh moments
    assert recipe.opt_d is opt and all(int(s["step"]) == 1 for s in opt.state.values())
