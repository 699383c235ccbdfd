"""The loss / regulariser zoo: every loss learns the 2-D ring, clipping, GP / R1 values, unrolling, SN, MD-GAN, CLI."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from gan_studio.engine.bundle import load_bundle, weights_hash
from gan_studio.engine.data.points import load_points, ring_modes
from gan_studio.engine.errors import DataError, UserError
from gan_studio.engine.models import build
from gan_studio.engine.registry import LOSSES, REGULARIZERS
from gan_studio.engine.training import mdgan
from gan_studio.engine.training.loop import TrainConfig, train
from gan_studio.engine.training.recipe_points import PointGANRecipe
from gan_studio.engine.training.recipes import GANRecipe
from gan_studio.engine.training.spectral import sn_layers, spectral_norms

ZOO = ["vanilla", "ns", "lsgan", "hinge", "wgan", "wgan-gp", "mdgan", "unrolled"]
TOY_ARCH = {"z_dim": 16, "width": 64}
# the paper settings of two losses move the toy too slowly for a test of a few hundred steps
FASTER = {"wgan": {"lr": 5e-4}, "unrolled": {"lr": 1e-3, "steps": 200}}
CPU = torch.device("cpu")


pytestmark = pytest.mark.usefixtures("one_thread")


def _toy_cfg(loss: str, **kw) -> TrainConfig:
    base = dict(data="toy:ring8", arch="mlp2d", arch_config=TOY_ARCH, loss=loss, steps=300, batch=128, seed=0,
                threads=1, device="cpu", checkpoint_every=1000, sample_every=1000, options={"ema_beta": 0})
    return TrainConfig.from_dict(base | kw)


def _image_cfg(data, **kw) -> TrainConfig:
    base = dict(data=str(data), arch_config={"width": 8, "z_dim": 16}, loss="hinge", steps=2, batch=16, seed=3,
                threads=1, device="cpu", checkpoint_every=2, sample_every=2, options={"ema_beta": 0})
    return TrainConfig.from_dict(base | kw)


def mode_distance(G: nn.Module) -> float:
    """Median distance of 1000 generated points (fixed z) to the nearest of the ring's 8 centres."""
    z = torch.randn(1000, G.z_dim, generator=torch.Generator().manual_seed(123))
    with torch.no_grad():
        x = G.eval()(z)
    return float(torch.cdist(x, ring_modes()).min(1).values.median())


# ------------------------------------------------------------------ registry and data

def test_every_loss_is_registered_with_meaningful_defaults():
    assert set(ZOO) <= set(LOSSES.names())
    for name in ZOO:
        spec = LOSSES.get(name)
        assert spec.name == name and spec.n_critic >= 1 and spec.lr > 0 and spec.description
        assert spec.optimizer in ("adam", "rmsprop") and spec.reg in REGULARIZERS
    lsgan, hinge, wgan = LOSSES.get("lsgan"), LOSSES.get("hinge"), LOSSES.get("wgan")
    assert (lsgan.lr, lsgan.betas) == (2e-4, (0.5, 0.999)) and (hinge.lr, hinge.betas) == (2e-4, (0.5, 0.999))
    assert (wgan.optimizer, wgan.lr, wgan.clip, wgan.n_critic, wgan.reg) == ("rmsprop", 5e-5, 0.01, 5, "none")
    assert LOSSES.get("unrolled").extra["unroll_steps"] == 5 and LOSSES.get("mdgan").critic_out == 9


def test_ring_toy_data():
    data = load_points("toy:ring8")
    assert data.points.shape == (20000, 2) and torch.equal(data.points, load_points("toy:ring8").points)
    d = torch.cdist(data.points, ring_modes()).min(1).values
    assert d.mean() == pytest.approx(0.02 * (torch.pi / 2) ** 0.5, rel=0.05)   # Rayleigh mean of std 0.02
    with pytest.raises(DataError, match="toy:ring8"):
        load_points("toy:ring9")


# ------------------------------------------------------------------ every loss learns the ring

def test_an_untrained_generator_is_far_from_the_modes():
    torch.manual_seed(0)
    assert mode_distance(build("mlp2d", "generator", TOY_ARCH)) > 1.5          # the ring has radius 2


@pytest.mark.parametrize("loss", ZOO)
def test_each_loss_moves_the_generator_to_the_ring(loss, tmp_path):
    kw = dict(FASTER.get(loss, {}))
    out = tmp_path / "toy.safetensors"
    progress = list(train(_toy_cfg(loss, **kw), out, command="test"))
    assert progress[-1].done and all(torch.isfinite(torch.tensor(list(p.losses.values()))).all() for p in progress)
    b = load_bundle(out)
    assert b.kind == "points" and b.meta["training"]["loss"] == loss
    torch.manual_seed(0)                                          # the loop's initialisation seed
    before = mode_distance(build("mlp2d", "generator", b.meta["config"]))
    after = mode_distance(b.generator())
    assert after < 0.6 * before, (before, after)
    assert out.with_name("toy.samples.png").is_file()


# ------------------------------------------------------------------ WGAN clipping and wgan + gp

def test_wgan_clipping_keeps_every_critic_weight_within_c():
    r = PointGANRecipe(_toy_cfg("wgan"), CPU)
    c = r.loss.clip
    assert c == 0.01 and max(p.abs().max() for p in r.D.parameters()) > c        # the initial weights are larger
    stream = r.batches(torch.Generator().manual_seed(0))
    for _ in range(3):
        r.train_step(stream)
        assert all(p.abs().max() <= c for p in r.D.parameters())
    assert any(p.abs().max() == c for p in r.D.parameters())                      # clipping is active


def test_wgan_with_gp_trains_exactly_as_wgan_gp():
    runs = {}
    for loss, reg in (("wgan", "gp"), ("wgan-gp", None)):
        torch.manual_seed(0)
        r = PointGANRecipe(_toy_cfg(loss, reg=reg), CPU)
        assert r.loss.clip is None and isinstance(r.opt_d, torch.optim.Adam)
        assert (r.n_critic, r.reg_weight, r.opt_d.param_groups[0]["betas"]) == (5, 10.0, (0.0, 0.9))
        torch.manual_seed(1)
        stream = r.batches(torch.Generator().manual_seed(1))
        r.train_step(stream)
        runs[loss] = (weights_hash(r.G), weights_hash(r.D), r.training_metadata("x"))
    assert runs["wgan"][:2] == runs["wgan-gp"][:2]
    assert runs["wgan"][2]["loss"] == "wgan" and runs["wgan"][2]["clip"] is None


# ------------------------------------------------------------------ GP and R1 on a linear critic

class LinearCritic(nn.Module):
    """D(x) = w . x: its gradient is w everywhere."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x):
        return x.flatten(1) @ self.w


def test_gradient_penalty_and_r1_equal_their_closed_forms():
    D = LinearCritic([3.0, -4.0])                                                  # |w| = 5
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    gp = REGULARIZERS.get("gp")(D, real, fake, 10.0)
    r1 = REGULARIZERS.get("r1")(D, real, fake, 2.0)
    assert gp.item() == pytest.approx(10.0 * (5 - 1) ** 2, rel=1e-6)
    assert r1.item() == pytest.approx(2.0 / 2 * 25, rel=1e-6)
    assert REGULARIZERS.get("none")(D, real, fake, 1.0).item() == 0.0
    gp.backward()                                                                  # differentiable in w
    assert torch.allclose(D.w.grad, 10.0 * 2 * (5 - 1) * D.w.detach() / 5)


# ------------------------------------------------------------------ unrolled GAN

def _generator_grad(r, k: int, second_order: bool = True) -> torch.Tensor:
    torch.manual_seed(7)
    stream = r.batches(torch.Generator().manual_seed(7))
    r.opt_g.zero_grad(set_to_none=True)
    for p in r.D.parameters():
        p.requires_grad_(False)
    r.generator_loss(stream, k, second_order).backward()
    for p in r.D.parameters():
        p.requires_grad_(True)
    return torch.cat([p.grad.flatten() for p in r.G.parameters()])


def test_unrolled_gradients_reach_through_the_critic_steps():
    torch.manual_seed(0)
    r = PointGANRecipe(_toy_cfg("unrolled"), CPU)
    assert r.unroll_steps == 5
    r.train_step(r.batches(torch.Generator().manual_seed(0)))            # the critic's Adam has moments now
    critic_before = weights_hash(r.D)
    plain, first, full = _generator_grad(r, 0), _generator_grad(r, 5, False), _generator_grad(r, 5)
    assert weights_hash(r.D) == critic_before                           # unrolling never changes the critic
    assert torch.isfinite(full).all()
    def rel(a, b):
        return float((a - b).norm() / b.norm())
    assert rel(full, plain) > 0.01                                      # the critic 5 steps ahead differs
    assert rel(full, first) > 0.01                                      # the second-order term is there
    assert rel(_generator_grad(r, 5), full) < 1e-5                      # and deterministic


def test_unroll_steps_option_and_metadata():
    r = PointGANRecipe(_toy_cfg("ns", options={"unroll_steps": 2, "ema_beta": 0}), CPU)
    assert r.unroll_steps == 2 and r.training_metadata("x")["unroll_steps"] == 2
    with pytest.raises(UserError, match="unroll_step"):
        PointGANRecipe(_toy_cfg("ns", options={"unroll_step": 2}), CPU)


# ------------------------------------------------------------------ MD-GAN

def test_mdgan_mixture_on_a_simplex():
    means, lam = mdgan.mixture(9)
    assert means.shape == (10, 9) and torch.allclose(means.norm(dim=1), torch.ones(10), atol=1e-6)
    dists = torch.cdist(means, means)[~torch.eye(10, dtype=bool)]
    assert torch.allclose(dists, dists[0].expand_as(dists), atol=1e-5)           # all vertices equally apart
    probe = torch.cat([means, 0.3 * torch.randn(500, 9) + means[torch.arange(500) % 10]])
    lk = mdgan.log_likelihood(probe, means).exp()
    assert lk.max() <= lam * (1 + 1e-5) and lk[:10].min() > 0.99 * lam            # peaks at the vertices
    e_real, e_far = means[:4] + 0.01, torch.full((4, 9), 5.0)
    assert mdgan.md_critic_loss(e_real, e_far) < mdgan.md_critic_loss(e_far, e_real)
    assert mdgan.md_generator_loss(e_real) < mdgan.md_generator_loss(e_far)


def test_mdgan_critic_has_an_embedding_head_and_the_file_loads(tiny_dataset, tmp_path):
    out = tmp_path / "md.safetensors"
    list(train(_image_cfg(tiny_dataset, loss="mdgan"), out))
    b = load_bundle(out)
    assert b.meta["config"]["out_dim"] == 9 and b.meta["training"]["mdgan"]["components"] == 10
    assert b.networks["critic"](torch.zeros(3, 1, 28, 28)).shape == (3, 9)
    with pytest.raises(UserError, match="one output"):
        GANRecipe(_image_cfg(tiny_dataset, loss="ns", arch_config={"width": 8, "z_dim": 16, "out_dim": 4}), CPU)


@pytest.mark.parametrize("reg", ["gp", "r1"])
def test_mdgan_trains_with_a_gradient_regulariser(tiny_dataset, tmp_path, reg):
    """GP and R1 differentiate the mixture log-likelihood twice (torch.cdist had no double backward)."""
    out = tmp_path / f"md-{reg}.safetensors"
    last = list(train(_image_cfg(tiny_dataset, loss="mdgan", reg=reg), out))[-1]
    assert last.losses["penalty"] > 0 and load_bundle(out).meta["training"]["reg"] == reg


# ------------------------------------------------------------------ spectral normalisation

def test_sn_critic_layers_have_unit_spectral_norm(tiny_dataset):
    r = GANRecipe(_image_cfg(tiny_dataset, sn=True), CPU)
    assert len(sn_layers(r.D)) == 3 and not sn_layers(r.G)                         # 2 convs + the linear head
    x = torch.randn(4, 1, 28, 28)
    for _ in range(5):
        r.D(x)
    assert all(abs(s - 1) < 0.02 for s in spectral_norms(r.D).values()), spectral_norms(r.D)


def test_sn_model_saves_loads_samples_and_resumes(tiny_dataset, tmp_path):
    out = tmp_path / "sn.safetensors"
    cfg = _image_cfg(tiny_dataset, sn=True, sn_generator=True, options={})
    list(train(cfg, out))
    b = load_bundle(out)
    assert not any("parametrizations" in k for net in b.networks.values() for k in net.state_dict())
    assert b.meta["training"]["sn"] is True and b.meta["training"]["sn_generator"] is True
    imgs = b.generator()(torch.randn(5, 16))
    assert imgs.shape == (5, 1, 28, 28) and torch.isfinite(imgs).all()
    r = GANRecipe(cfg, CPU)                               # the folded weights reproduce the trained networks
    r.load_networks(b.networks)
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(r.D.eval()(x), b.networks["critic"](x), atol=1e-4)
    steps = [p.step for p in train(_image_cfg(tiny_dataset, sn=True, sn_generator=True, options={}, steps=4),
                                   out, resume=True)]
    assert steps == [2, 3, 4] and load_bundle(out).meta["training"]["step"] == 4


def test_sn_is_refused_where_a_recipe_has_none(tiny_dataset, tmp_path):
    cfg = _image_cfg(tiny_dataset, arch="stylegan2", arch_config={}, loss="ns", options={}, sn=True)
    with pytest.raises(UserError, match="--sn"):
        list(train(cfg, tmp_path / "s.safetensors"))


# ------------------------------------------------------------------ the CLI

def test_cli_train_hinge_r1_sn_records_them(tiny_dataset, tmp_path):
    from tests.e2e.test_cli import run
    out = tmp_path / "h.safetensors"
    run("train", "--loss", "hinge", "--reg", "r1", "--sn", "--data", tiny_dataset, "--steps", 2, "--batch", 16,
        "--arch-config", json.dumps({"width": 8, "z_dim": 16}), "--out", out, "--threads", 1, "--device", "cpu",
        "--quiet")
    t = load_bundle(out).meta["training"]
    assert (t["loss"], t["reg"], t["reg_weight"], t["sn"], t["sn_generator"]) == ("hinge", "r1", 10.0, True, False)
    assert t["command"].startswith("gan-studio train --loss hinge --reg r1 --sn")


def test_a_model_file_from_before_out_dim_still_resumes(tiny_dataset, tmp_path):
    from gan_studio.engine.bundle import save_bundle
    out = tmp_path / "old.safetensors"
    list(train(_image_cfg(tiny_dataset, loss="ns"), out))
    b = load_bundle(out)
    meta = dict(b.meta, config={k: v for k, v in b.meta["config"].items() if k != "out_dim"})
    save_bundle(out, b.networks, meta)                    # as written before the critic had an out_dim
    steps = [p.step for p in train(_image_cfg(tiny_dataset, loss="ns", steps=3), out, resume=True)]
    assert steps == [2, 3]
