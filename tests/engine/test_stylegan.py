"""The compact StyleGAN2: generator interface, truncation, noise modes, w_avg, critic, bundles, the recipe."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_studio.engine.bundle import load_bundle, save_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.latent.sampling import generate, seeds_latents, synthesize
from gan_studio.engine.models import build
from gan_studio.engine.registry import ARCHITECTURES
from gan_studio.engine.training.loop import TrainConfig, train

TINY = {"z_dim": 16, "w_dim": 16, "mapping_layers": 2, "channel_base": 64, "channel_max": 16}


def tiny_style_generator(seed: int = 0, **cfg):
    """An untrained tiny StyleGAN2 made less trivial: noise strengths and w_avg away from zero."""
    torch.manual_seed(seed)
    G = build("stylegan2", "generator", TINY | cfg)
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.3)
        G._w_avg.copy_(G.mapping_net(torch.randn(256, G.z_dim)).mean(0))
    return G.eval()


def make_tiny_style_bundle(path: Path, seed: int = 0) -> Path:
    G = tiny_style_generator(seed)
    D = build("stylegan2", "critic", G.cfg.to_dict()).eval()
    meta = {"kind": "image-generator", "arch": "stylegan2", "config": G.cfg.to_dict(), "name": path.stem,
            "z_dim": G.z_dim, "image_shape": list(G.image_shape), "value_range": [-1, 1],
            "training": {"command": "fixture", "seed": seed, "step": 0}, "metrics": {}, "license": "test"}
    return save_bundle(path, {"generator": G, "generator_ema": G, "critic": D}, meta)


def maxdiff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


def test_registered_and_the_interface_shapes():
    fam = ARCHITECTURES.get("stylegan2")
    assert fam.kind == "image-generator" and set(fam.roles) == {"generator", "critic"}
    G = build("stylegan2", "generator", {}).eval()              # the shipped defaults
    assert (G.z_dim, G.w_dim, G.num_ws, G.img_channels, G.img_resolution) == (128, 128, 8, 1, 32)
    assert G.ws_resolutions == [4, 8, 8, 16, 16, 32, 32, 32]
    assert max(G.cfg.channels(r) for r in G.cfg.resolutions()) <= 128
    ws = G.mapping(seeds_latents([1, 2], G.z_dim))
    assert ws.shape == (2, 8, 128) and torch.equal(ws[:, 0], ws[:, 7])
    img = G.synthesis(ws)
    assert img.shape == (2, 1, 32, 32) and img.min() >= -1 and img.max() <= 1
    D = build("stylegan2", "critic", {})
    assert D(img).shape == (2,) and D(torch.randn(5, 1, 32, 32)).shape == (5,)   # mbstd with odd batches
    g64 = build("stylegan2", "generator", TINY | {"img_resolution": 64, "img_channels": 3})
    assert g64.num_ws == 10 and g64.ws_resolutions[-3:] == [64, 64, 64]
    assert g64.eval()(torch.randn(1, 16)).shape == (1, 3, 64, 64)


def test_config_rejects_bad_values():
    with pytest.raises(UserError, match="unknown key"):
        build("stylegan2", "generator", {"widht": 3})
    with pytest.raises(UserError, match="power of two"):
        build("stylegan2", "generator", {"img_resolution": 28})


def test_eval_output_is_clamped_and_training_output_is_not():
    G = tiny_style_generator()
    with torch.no_grad():
        G.blocks[-1].torgb.bias.fill_(5.0)
        assert G(torch.randn(2, 16)).max() <= 1.0
        assert G.train()(torch.randn(2, 16)).max() > 1.0


def test_tanh_output_squashes_the_same_image_in_training_and_eval(tmp_path):
    plain, squashed = tiny_style_generator(), tiny_style_generator(tanh_output=True)
    assert squashed.cfg.tanh_output and not plain.cfg.tanh_output
    ws = plain.mapping(torch.randn(3, 16))
    with torch.no_grad():
        for net in (plain, squashed):
            net.blocks[-1].torgb.bias.fill_(2.0)                      # push the raw image past 1
        raw = plain.train().synthesis(ws, noise_mode="const")
        assert raw.max() > 1.0
        # eval mode renders row by row, so its reference is the raw image row by row too
        raw_rows = torch.cat([plain.synthesis(ws[i:i + 1], noise_mode="const") for i in range(ws.shape[0])])
        for mode, ref in ((squashed.train(), raw), (squashed.eval(), raw_rows)):
            # float32 summation order differs between the batched and per-row paths (~1e-6 on some CPUs)
            assert maxdiff(mode.synthesis(ws, noise_mode="const"), torch.tanh(ref)) <= 1e-5
        squashed.eval()
        D = build("stylegan2", "critic", squashed.cfg.to_dict())
        meta = {"kind": "image-generator", "arch": "stylegan2", "config": squashed.cfg.to_dict(), "name": "t",
                "z_dim": 16, "image_shape": list(squashed.image_shape), "value_range": [-1, 1], "metrics": {},
                "training": {"command": "fixture", "seed": 0, "step": 0}, "license": "test"}
        G = load_bundle(save_bundle(tmp_path / "t.safetensors", {"generator": squashed, "critic": D}, meta)).generator()
        assert G.cfg.tanh_output and maxdiff(G.synthesis(ws), squashed.synthesis(ws)) <= 1e-6


def test_batch_independent_rendering():
    G = tiny_style_generator()
    z = seeds_latents(range(5), G.z_dim)
    batch = generate(G, z)
    one = torch.cat([generate(G, z[i:i + 1]) for i in range(5)])
    assert maxdiff(batch, one) <= 1e-5


def test_truncation_towards_w_avg_with_cutoff():
    G = tiny_style_generator()
    z = seeds_latents(range(6), G.z_dim)
    ws, ws0 = G.mapping(z), G.mapping(z, truncation_psi=0.0)
    assert maxdiff(ws0, G.w_avg.expand_as(ws0)) <= 1e-6
    imgs = synthesize(G, ws0)
    assert maxdiff(imgs, imgs[:1].expand_as(imgs)) <= 1e-5          # psi = 0: one image for every seed
    ws_half = G.mapping(z, truncation_psi=0.5, truncation_cutoff=3)
    assert maxdiff(ws_half[:, :3], G.w_avg + 0.5 * (ws[:, :3] - G.w_avg)) <= 1e-6
    assert torch.equal(ws_half[:, 3:], ws[:, 3:])


def test_noise_modes():
    G = tiny_style_generator()
    ws = G.mapping(seeds_latents([3, 4], G.z_dim))
    const_a, const_b = G.synthesis(ws, "const"), G.synthesis(ws, "const")
    assert maxdiff(const_a, const_b) == 0.0
    assert maxdiff(G.synthesis(ws, "random"), G.synthesis(ws, "random")) > 1e-3
    assert maxdiff(G.synthesis(ws, "none"), const_a) > 1e-3
    with pytest.raises(UserError, match="noise mode"):
        G.synthesis(ws, "loud")
    with pytest.raises(UserError, match="ws must have shape"):
        G.synthesis(ws[:, :3])


def test_w_avg_tracks_in_training_only():
    G = tiny_style_generator()
    before = G.w_avg.clone()
    G.mapping(torch.randn(8, 16))
    assert torch.equal(G.w_avg, before)                              # eval: frozen
    G.train().mapping(torch.randn(8, 16) + 3)
    assert not torch.equal(G.w_avg, before)


def test_bundle_round_trip_prefers_the_ema(tmp_path):
    path = make_tiny_style_bundle(tmp_path / "s.safetensors")
    b = load_bundle(path)
    assert set(b.networks) == {"generator", "generator_ema", "critic"}
    assert b.generator() is b.networks["generator_ema"]
    G = tiny_style_generator()
    z = seeds_latents([7], 16)
    assert maxdiff(generate(b.generator(), z), generate(G, z)) <= 1e-6
    assert torch.equal(b.generator().w_avg, G.w_avg)


def test_sefa_weight_maps_w():
    G = tiny_style_generator()
    assert G.sefa_weight().shape[1] == G.w_dim


# ------------------------------------------------------------------ the recipe

def _cfg(data, **kw):
    base = dict(data=str(data), arch="stylegan2", arch_config=TINY, loss="ns", steps=4, batch=8, seed=1,
                checkpoint_every=2, sample_every=2, threads=1, device="cpu")
    return TrainConfig.from_dict(base | kw)


def test_recipe_trains_and_writes_a_bundle_with_ema(tiny_dataset, tmp_path):
    out = tmp_path / "style.safetensors"
    progress = list(train(_cfg(tiny_dataset), out, command="gan-studio train (test)"))
    assert [p.step for p in progress] == [1, 2, 3, 4] and progress[-1].done
    assert {"d_loss", "g_loss", "r1"} <= set(progress[0].losses)
    assert progress[0].losses["r1"] > 0 and progress[1].losses["r1"] == 0     # lazy: every 16 steps
    assert progress[1].samples.shape == (64, 1, 32, 32)                       # 28 px data padded to 32
    b = load_bundle(out)
    assert set(b.networks) == {"generator", "generator_ema", "critic"}
    meta = b.meta
    assert meta["arch"] == "stylegan2" and meta["config"]["img_resolution"] == 32 and meta["num_ws"] == 8
    t = meta["training"]
    assert (t["step"], t["loss"], t["reg"], t["mixing_prob"], t["r1_interval"]) == (4, "ns", "r1", 0.9, 16)
    g, ema = b.networks["generator"], b.networks["generator_ema"]
    assert b.generator() is ema and g.w_avg.abs().sum() > 0 and torch.equal(g.w_avg, ema.w_avg)
    assert any(not torch.equal(a, c) for a, c in zip(g.parameters(), ema.parameters()))
    assert out.with_name("style.samples.png").is_file()


def test_recipe_resumes_with_its_ema(tiny_dataset, tmp_path):
    from gan_studio.engine.training.recipe_style import StyleGANRecipe
    out = tmp_path / "style.safetensors"
    list(train(_cfg(tiny_dataset, steps=2), out))
    saved = load_bundle(out).networks
    recipe = StyleGANRecipe(_cfg(tiny_dataset, steps=3), torch.device("cpu"))
    recipe.load_networks(saved)
    for role, net in (("generator", recipe.G), ("generator_ema", recipe.G_ema), ("critic", recipe.D)):
        assert all(torch.equal(v, saved[role].state_dict()[k]) for k, v in net.state_dict().items()), role
    steps = [p.step for p in train(_cfg(tiny_dataset, steps=3), out, resume=True)]
    assert steps == [2, 3] and load_bundle(out).meta["training"]["step"] == 3
    with pytest.raises(UserError, match="architecture"):
        list(train(_cfg(tiny_dataset, steps=4, arch_config=TINY | {"channel_max": 8}), out, resume=True))


@pytest.mark.parametrize("kw, words", [({"loss": "wgan-gp"}, "--loss ns"), ({"reg": "gp"}, "lazy R1"),
                                       ({"options": {"gama": 1}}, "unknown option"),
                                       ({"options": {"betas": [0.5]}}, "betas"),
                                       ({"options": {"betas": [1.5, 0.9]}}, "betas"),
                                      ({"options": {"g_lr": -1}}, "g_lr must be a positive number"),
                                      ({"options": {"d_lr": "fast"}}, "d_lr must be a number")])
def test_recipe_rejects_settings_it_does_not_train_with(tiny_dataset, tmp_path, kw, words):
    with pytest.raises(UserError, match=words):
        list(train(_cfg(tiny_dataset, **kw), tmp_path / "x.safetensors"))


def test_recipe_betas_option_reaches_both_optimisers(tiny_dataset, tmp_path):
    from gan_studio.engine.training.recipe_style import StyleGANRecipe
    r = StyleGANRecipe(_cfg(tiny_dataset, options={"betas": [0.5, 0.9]}), torch.device("cpu"))
    k = 16 / 17                                                   # lazy-R1 correction of the critic's betas
    assert r.opt_g.param_groups[0]["betas"] == (0.5, 0.9)
    assert r.opt_d.param_groups[0]["betas"] == pytest.approx((0.5 ** k, 0.9 ** k))
    assert r.metadata("x")["training"]["betas"] == [0.5, 0.9]
    assert StyleGANRecipe(_cfg(tiny_dataset), torch.device("cpu")).opt_g.param_groups[0]["betas"] == (0.0, 0.99)


def test_dcgan_still_gets_the_generic_recipe(tiny_dataset, tmp_path):
    out = tmp_path / "d.safetensors"
    list(train(TrainConfig.from_dict(dict(data=str(tiny_dataset), arch_config={"width": 8, "z_dim": 16},
                                          loss="ns", steps=1, batch=8, threads=1, device="cpu")), out))
    meta = load_bundle(out).meta
    assert meta["arch"] == "dcgan" and "recipe" not in meta["training"] and "r1_interval" not in meta["training"]


def test_recipe_g_lr_and_d_lr_options_set_each_optimiser(tiny_dataset, tmp_path):
    from gan_studio.engine.training.recipe_style import LR, StyleGANRecipe
    r = StyleGANRecipe(_cfg(tiny_dataset, options={"g_lr": 0.00025}), torch.device("cpu"))
    k = 16 / 17
    assert r.opt_g.param_groups[0]["lr"] == 0.00025
    assert r.opt_d.param_groups[0]["lr"] == pytest.approx(LR * k)       # the critic keeps --lr
    assert r.metadata("x")["training"]["g_lr"] == 0.00025 and r.metadata("x")["training"]["d_lr"] == LR
    r = StyleGANRecipe(_cfg(tiny_dataset, options={"d_lr": 0.001}), torch.device("cpu"))
    assert r.opt_g.param_groups[0]["lr"] == LR and r.opt_d.param_groups[0]["lr"] == pytest.approx(0.001 * k)
