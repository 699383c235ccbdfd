"""Issue 25, steering without text: latent arithmetic (means by hand, the figure, A − B as a direction) and the
PPGN-style class-guided chain (a toy whose answer is known, the shipped models for a few steps, refusals)."""
from __future__ import annotations

import functools
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.latent import arithmetic as ar
from gan_studio.engine.latent import guide as g
from gan_studio.engine.latent.directions import apply_shifts, load_directions, save_directions
from gan_studio.engine.latent.sampling import generate
from gan_studio.engine.models.base import ImageGenerator
from gan_studio.engine.seeds import seeds_latents
from tests.conftest import RESOURCES, make_tiny_bundle


@functools.lru_cache(maxsize=2)
def _shipped(name: str):          # loading the StyleGAN2 bundle takes ~6 s: once for this file
    return load_bundle(RESOURCES / f"{name}.safetensors").generator().eval()


# ------------------------------------------------------------------ arithmetic

def test_arithmetic_in_z_is_the_mean_by_hand(tmp_path):
    G = load_bundle(make_tiny_bundle(tmp_path / "t.safetensors")).generator().eval()
    res = ar.arithmetic(G, [1, 2, 3], [4, 5], [6])
    z = [seeds_latents(s, G.z_dim) for s in ([1, 2, 3], [4, 5], [6])]
    want = (z[0][0] + z[0][1] + z[0][2]) / 3 - (z[1][0] + z[1][1]) / 2 + z[2][0]
    assert res.space == "z" and torch.allclose(res.result, want, atol=1e-6)
    tiles, cols = ar.figure_tiles(G, res)
    assert cols == 7 and tiles.shape == (4 * 7, *G.image_shape)
    assert torch.allclose(tiles[3 * 7 + 6], generate(G, want[None])[0], atol=1e-5)       # the result, bottom right
    assert torch.equal(tiles[1 * 7 + 4], torch.full(G.image_shape, ar.BACKGROUND))      # C has one sample
    plus = tiles[3 * 7 + 3][0]
    assert plus.max() == 1.0 and plus[plus.shape[0] // 2].eq(1.0).sum() > plus.shape[1] // 3
    with pytest.raises(UserError, match="no w space"):
        ar.arithmetic(G, [1], [2], [3], space="w")
    with pytest.raises(UserError, match="group B is empty"):
        ar.arithmetic(G, [1], [], [3])


@pytest.mark.slow
def test_arithmetic_in_w_and_its_direction_round_trip(tmp_path):
    G = _shipped("mnist-stylegan2")
    res = ar.arithmetic(G, [1, 2], [3], [4, 5], psi=0.7)
    assert res.space == "w"                                   # a style generator's default
    with torch.no_grad():
        w = [G.mapping(seeds_latents(s, G.z_dim), truncation_psi=0.7)[:, 0] for s in ([1, 2], [3], [4, 5])]
    assert torch.allclose(res.result, w[0].mean(0) - w[1][0] + w[2].mean(0), atol=1e-5)
    path = save_directions(tmp_path / "d.safetensors", ar.as_direction(G, res))
    ds = load_directions(path, G)
    length = ds.extra["length"]
    assert ds.k == 1 and ds.space == "w" and ds.shift_scale == pytest.approx(length)
    assert length == pytest.approx((w[0].mean(0) - w[1][0]).norm().item(), rel=1e-5)
    c_ws = ar.to_ws(G, res.means[2][None], "w")
    _, ws = apply_shifts(G, ds, ws=c_ws, shifts={0: length})              # mean(C) + L · unit(A − B)
    assert torch.allclose(ws, ar.result_latent(G, res), atol=1e-5)


# ------------------------------------------------------------------ the guided chain

class ToyG(ImageGenerator):
    """Its image is uniformly tanh(z[0]): the class below is decided by the sign of z[0] alone."""
    z_dim = w_dim = 4
    num_ws, img_channels, img_resolution = 1, 1, 28

    def __init__(self):
        super().__init__()
        self.register_buffer("dummy", torch.zeros(1))

    def synthesis(self, ws, noise_mode="const"):
        return torch.tanh(ws[:, 0, :1])[..., None, None].expand(-1, 1, 28, 28)


class ToyNet(nn.Module):
    """Two classes: 1 for bright images, 0 for dark ones."""
    cfg = SimpleNamespace(num_classes=2, img_resolution=28)

    def forward(self, x):
        m = x.mean((1, 2, 3))
        return torch.stack([-4 * m, 4 * m], 1)


def test_the_chain_moves_the_toy_to_the_asked_class():
    G, net = ToyG().eval(), ToyNet()
    z = seeds_latents(range(40), 4)
    z[:, 0] = -z[:, 0].abs() - 0.3                           # every start is dark: class 0
    steps = list(g.guide_chain(G, net, 1, z, steps=30, every=10))
    assert [s.step for s in steps] == [0, 10, 20, 30] and steps[-1].done and not steps[-2].done
    first, last = steps[0], steps[-1]
    assert first.probs.max() < 0.5 and (last.probs > 0.9).all()
    assert (last.latents[:, 0] > 0).all()                   # the coordinate that decides moved across
    assert last.latents[:, 1:].abs().mean() < z[:, 1:].abs().mean()     # the others: only the prior's pull + noise
    back = g.guide(G, net, 0, last.latents, steps=30)
    assert (back.probs > 0.9).all() and (back.latents[:, 0] < 0).all()
    chain = g.guide_chain(G, net, 1, z, steps=1000)        # stoppable: closing the generator ends it
    next(chain)
    chain.close()


@pytest.mark.slow
def test_the_shipped_models_gain_class_probability_in_a_few_steps():
    for name, space in (("mnist-wgan-gp", "z"), ("mnist-stylegan2", "w")):
        G = _shipped(name)
        net = g.load_classifier(G)
        z = seeds_latents(range(6), G.z_dim)
        steps = list(g.guide_chain(G, net, 7, z, space=space, steps=8, every=8))
        before, after = steps[0].probs, steps[-1].probs
        assert after.mean() > before.mean() + 0.2, (name, before, after)
        assert steps[-1].latents.shape == (6, G.w_dim if space == "w" else G.z_dim)


def test_guide_refusals(tmp_path):
    G = load_bundle(make_tiny_bundle(tmp_path / "t.safetensors")).generator().eval()
    net = g.load_classifier(G)
    with pytest.raises(UserError, match="class 10 is out of range.*0..9"):
        list(g.guide_chain(G, net, 10, seeds_latents([0], G.z_dim)))
    with pytest.raises(UserError, match="no w space"):
        list(g.guide_chain(G, net, 1, seeds_latents([0], G.z_dim), space="w"))
    rgb = load_bundle(make_tiny_bundle(tmp_path / "rgb.safetensors", channels=3, resolution=32)).generator()
    with pytest.raises(UserError, match="no classifier for this model's 3x32x32 images"):
        g.load_classifier(rgb)
    with pytest.raises(UserError, match="holds no LeNet classifier"):
        g.load_classifier(G, str(tmp_path / "t.safetensors"))
