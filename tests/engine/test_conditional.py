"""Conditional GAN and InfoGAN: the latent layout, the projection critic, training with every loss, the Q head
learning the codes, model files, and chosen codes in rendering, walks and direction edits."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_studio.engine.bundle import load_bundle, save_bundle
from gan_studio.engine.errors import DataError, UserError
from gan_studio.engine.latent.codes import apply_codes, check_codes, parse_codes
from gan_studio.engine.latent.directions import DirectionSet, apply_shifts
from gan_studio.engine.latent.sampling import generate, seeds_latents, synthesize
from gan_studio.engine.latent.state import Latent
from gan_studio.engine.latent.walks import walk_ws
from gan_studio.engine.models import build
from gan_studio.engine.models.codes import layout_of
from gan_studio.engine.render import RenderRequest, render
from gan_studio.engine.training import conditioning
from gan_studio.engine.training.loop import TrainConfig, train

ZOO = ["vanilla", "ns", "lsgan", "hinge", "wgan", "wgan-gp", "mdgan", "unrolled"]
CODED = {"z_dim": 16, "width": 8, "num_classes": 10, "info_cat": 4, "info_cont": 2}


pytestmark = pytest.mark.usefixtures("one_thread")


def _nets(cfg=None, seed: int = 0):
    torch.manual_seed(seed)
    cfg = cfg or CODED
    return build("dcgan", "generator", cfg).eval(), build("dcgan", "critic", cfg).eval()


def _cfg(data, **kw) -> TrainConfig:
    base = dict(data=str(data), arch_config={"width": 8, "z_dim": 16}, loss="ns", steps=2, batch=16, seed=0,
                threads=1, device="cpu", checkpoint_every=10**6, sample_every=10**6, options={"ema_beta": 0})
    return TrainConfig.from_dict(base | kw)


def _run(cfg, out):
    return [p for p in train(cfg, out, command="test")]


# ------------------------------------------------------------------ the latent layout

def test_layout_sizes_and_plain_models_unchanged():
    G, _ = _nets()
    assert (G.z_dim, G.w_dim, G.c_dim, G.num_ws) == (16 + 1 + 1 + 2, 16 + 10 + 4 + 2, 10, 1)
    plain, _ = _nets({"z_dim": 16, "width": 8})
    assert (plain.z_dim, plain.w_dim, plain.c_dim) == (16, 16, 0) and layout_of(plain) is None
    z = torch.randn(3, 16)
    assert torch.equal(plain.mapping(z, truncation_psi=0.5)[:, 0], 0.5 * z)
    with pytest.raises(UserError, match="not conditional"):
        plain.mapping(z, torch.tensor([1, 2, 3]))


def test_same_z_different_classes_give_different_images():
    G, _ = _nets()
    z = seeds_latents([5] * 10, G.z_dim)
    with torch.no_grad():
        imgs = G(z, torch.arange(10))                                  # one image per class, same z
        onehot = G(z, torch.eye(10))
    assert torch.equal(imgs, onehot)
    flat = imgs.flatten(1)
    dists = torch.cdist(flat, flat) + torch.eye(10) * 1e9
    assert dists.min() > 1e-3, "two classes gave the same image"
    per_seed = G.code_layout.codes_from_z(z[:1])["class"]
    with torch.no_grad():
        assert torch.allclose(G(z[:1]), imgs[per_seed], atol=1e-5)       # c=None: the seed's own class


def test_per_seed_codes_are_uniform_and_deterministic():
    G, _ = _nets()
    z = seeds_latents(range(4000), G.z_dim)
    codes = G.code_layout.codes_from_z(z)
    counts = torch.bincount(codes["class"], minlength=10).float() / 4000
    assert (counts - 0.1).abs().max() < 0.025
    assert torch.bincount(codes["cat"], minlength=4).min() > 900
    cont = codes["cont"]
    assert cont.min() > -1 and cont.max() < 1 and cont.mean().abs() < 0.05 and abs(cont.var() - 1 / 3) < 0.03
    again = G.code_layout.codes_from_z(seeds_latents([7], G.z_dim))
    assert again["class"].item() == codes["class"][7].item()


def test_truncation_scales_the_noise_only():
    G, _ = _nets()
    z = torch.randn(4, G.z_dim)
    ws, ws0 = G.mapping(z), G.mapping(z, truncation_psi=0.0)
    assert torch.equal(ws0[..., :16], torch.zeros(4, 1, 16)) and torch.equal(ws0[..., 16:], ws[..., 16:])


def test_class_changes_the_critic_output():
    G, D = _nets()
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        a, b, none = D(x, torch.zeros(6, dtype=torch.long)), D(x, torch.ones(6, dtype=torch.long)), D(x)
        assert (a - b).abs().min() > 1e-4
        assert torch.allclose(none, D.fc(D.features(x)).squeeze(1))   # no class: psi(phi(x)) alone
        assert D.q(x).shape == (6, 4 + 2)
    with pytest.raises(UserError, match="between 0 and 9"):
        D(x, torch.full((6,), 10))


def test_chosen_codes_write_ws_and_change_the_image():
    G, _ = _nets()
    z = seeds_latents([3], G.z_dim)
    ws = G.mapping(z)
    lo, hi = apply_codes(G, ws, {"c0": -2.0}), apply_codes(G, ws, {"c0": 2.0})
    assert G.code_layout.read_codes(hi)[0]["c0"] == 2.0
    assert (synthesize(G, lo) - synthesize(G, hi)).abs().max() > 1e-3
    chosen = apply_codes(G, ws, {"class": 4, "cat": 1})
    assert G.code_layout.read_codes(chosen)[0] | {"c0": 0, "c1": 0} == {"class": 4, "cat": 1, "c0": 0, "c1": 0}
    assert torch.allclose(synthesize(G, apply_codes(G, ws, {"class": 4})), generate(G, z, c=torch.tensor([4])))
    assert parse_codes(["cat=3", "c1=-0.5"], 2) == {"class": 2, "cat": 3.0, "c1": -0.5}
    for bad, words in ((["cat"], "NAME=VALUE"), (["cat=x"], "NAME=VALUE")):
        with pytest.raises(UserError, match=words):
            parse_codes(bad)
    for codes, words in (({"cat": 4}, "0 to 3"), ({"class": 1.5}, "whole number"), ({"c2": 1}, "no code 'c2'")):
        with pytest.raises(UserError, match=words):
            check_codes(G, codes)
    plain, _ = _nets({"z_dim": 16, "width": 8})
    with pytest.raises(UserError, match="neither conditional nor an InfoGAN"):
        check_codes(plain, {"class": 1})


def test_latent_codes_render_walk_and_shift():
    G, _ = _nets()
    lat = Latent.from_seed(9, G.z_dim, {"class": 2, "c1": 1.5})
    want = synthesize(G, apply_codes(G, G.mapping(lat.z, truncation_psi=0.7), lat.codes))
    res = render(RenderRequest(generator=G, latents=[lat, Latent.from_seed(10, G.z_dim)], truncation_psi=0.7))
    assert res.ok and torch.allclose(res.images[0], want, atol=1e-6)
    assert torch.allclose(res.images[1], generate(G, seeds_latents([10], G.z_dim), truncation_psi=0.7)[0])
    assert "class 2" in lat.label() and "c1 +1.50" in lat.label()
    ws = walk_ws(G, [lat, lat.with_codes({"class": 7})], frames=3)
    rows = G.code_layout.read_codes(ws)
    assert rows[0]["class"] == 2 and rows[-1]["class"] == 7 and rows[0]["c1"] == 1.5
    ds = DirectionSet(torch.eye(G.z_dim)[:2], "coordinate")
    kind, shifted = apply_shifts(G, ds, ws=lat.to_ws(G), shifts={0: 1.0})
    assert kind == "ws" and torch.allclose(shifted[..., 0] - lat.to_ws(G)[..., 0], torch.ones(1, 1))
    assert torch.equal(shifted[..., 16:], lat.to_ws(G)[..., 16:])


# ------------------------------------------------------------------ training

def test_conditional_on_unlabelled_data_is_a_clear_error(tmp_path):
    np.savez(tmp_path / "nolabels.npz", images=np.zeros((32, 28, 28), np.uint8))
    with pytest.raises(DataError, match="needs class labels"):
        _run(_cfg(tmp_path / "nolabels.npz", conditional=True), tmp_path / "m.safetensors")
    with pytest.raises(UserError, match="only used with --info"):
        _run(_cfg(tmp_path / "nolabels.npz", options={"info_cat": 3}), tmp_path / "m.safetensors")
    with pytest.raises(UserError, match="not available for architecture 'mlp2d'"):
        _run(_cfg("toy:ring8", arch="mlp2d", info=True), tmp_path / "m.safetensors")


@pytest.mark.parametrize("loss", ZOO)
def test_every_loss_trains_conditional_infogan(tiny_dataset, tmp_path, loss):
    extra = {"sn": True} if loss == "hinge" else {"reg": "r1"} if loss == "ns" else {}
    progress = _run(_cfg(tiny_dataset, loss=loss, conditional=True, info=True, **extra), tmp_path / "m.safetensors")
    losses = progress[-1].losses
    assert "info" in losses and all(np.isfinite(v) for v in losses.values())


def test_save_load_round_trip_keeps_conditioning(tiny_dataset, tmp_path):
    out = tmp_path / "coded.safetensors"
    _run(_cfg(tiny_dataset, conditional=True, info=True, options={"info_cat": 3, "info_cont": 1}), out)
    b = load_bundle(out)
    meta, G = b.meta, b.generator()
    assert (meta["conditional"], meta["num_classes"], meta["info"]) == (True, 10, {"cat": 3, "cont": 1})
    assert meta["training"]["conditional"] and meta["training"]["info_lambda"] == 1.0
    assert meta["z_dim"] == G.z_dim == 16 + 3 and G.code_layout.names() == ["class", "cat", "c0"]
    z = seeds_latents([1, 2], G.z_dim)
    again = load_bundle(out).generator()
    assert torch.equal(generate(G, z, c=torch.tensor([3, 4])), generate(again, z, c=torch.tensor([3, 4])))
    assert b.networks["critic"].q(torch.zeros(1, 1, 28, 28)).shape == (1, 4)


def test_old_model_files_load_unchanged(shipped_model, tmp_path):
    """Files written before conditioning existed (no num_classes / info keys) load as the plain models they are."""
    assert layout_of(load_bundle(shipped_model).generator()) is None          # the shipped model is plain
    old_cfg = {"z_dim": 16, "img_resolution": 28, "img_channels": 1, "width": 8}
    G, D = _nets(old_cfg)
    save_bundle(tmp_path / "old.safetensors", {"generator": G, "critic": D},
                {"kind": "image-generator", "arch": "dcgan", "config": old_cfg, "z_dim": 16})
    b = load_bundle(tmp_path / "old.safetensors")
    assert "num_classes" not in b.meta["config"] and "conditional" not in b.meta
    again = b.generator()
    assert again.z_dim == again.w_dim == 16 and layout_of(again) is None
    z = seeds_latents([0, 1], 16)
    assert torch.equal(generate(again, z), generate(G, z))


def test_resume_of_a_conditional_run(tiny_dataset, tmp_path):
    out = tmp_path / "c.safetensors"
    _run(_cfg(tiny_dataset, conditional=True), out)
    progress = list(train(_cfg(tiny_dataset, conditional=True, steps=3), out, resume=True, command="test"))
    assert progress[-1].step == 3 and load_bundle(out).meta["num_classes"] == 10
    with pytest.raises(UserError, match="cannot resume"):
        list(train(_cfg(tiny_dataset, steps=4), out, resume=True, command="test"))


def test_q_head_learns_the_categorical_code(tiny_dataset, tmp_path):
    """After 120 short steps Q names G's category far above chance (0.1); the untrained pair is at chance.
    (lr 1e-3: the InfoGAN paper's generator rate, which learns the code in seconds at this tiny size.)"""
    cfg = _cfg(tiny_dataset, info=True, steps=120, batch=32, lr=1e-3, options={"ema_beta": 0, "info_cont": 1})
    torch.manual_seed(0)
    from gan_studio.engine.training.recipes import GANRecipe
    fresh = GANRecipe(cfg, torch.device("cpu"))
    untrained = conditioning.q_accuracy(fresh.G.eval(), fresh.D.eval())
    progress = _run(cfg, tmp_path / "info.safetensors")
    b = load_bundle(tmp_path / "info.safetensors")
    trained = conditioning.q_accuracy(b.networks["generator"].eval(), b.networks["critic"].eval())
    assert untrained < 0.3 and trained > 0.6, (untrained, trained)
    info = [p.losses["info"] for p in progress]
    assert np.mean(info[-20:]) < 0.5 * np.mean(info[:10]), (info[:10], info[-20:])   # L_I falls


def test_saved_models_with_codes_rebuild_from_metadata_alone(tmp_path):
    G, D = _nets()
    meta = {"kind": "image-generator", "arch": "dcgan", "config": G.cfg.to_dict(), "name": "coded"}
    save_bundle(tmp_path / "coded.safetensors", {"generator": G, "critic": D}, meta)
    b = load_bundle(tmp_path / "coded.safetensors")
    assert b.generator().code_layout == G.code_layout
    z = seeds_latents([4], G.z_dim)
    assert torch.equal(generate(b.generator(), z), generate(G, z))
