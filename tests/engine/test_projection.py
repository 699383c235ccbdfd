"""Projection (GAN inversion, engine/latent/projection.py) and fitting image files to a generator's shape."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.image_input import MAX_PIXELS, load_target
from gan_studio.engine.latent.perceptual import TapDistance, choose_taps
from gan_studio.engine.latent.projection import (
    Schedule,
    noise_regularisation,
    project,
    project_image,
)
from gan_studio.engine.latent.sampling import generate, synthesize
from gan_studio.engine.seeds import seed_latent
from tests.conftest import RESOURCES, make_tiny_bundle

STYLE = RESOURCES / "mnist-stylegan2.safetensors"


@pytest.fixture(scope="module")
def wgan():
    b = load_bundle(RESOURCES / "mnist-wgan-gp.safetensors")
    return b, b.generator().eval()


@pytest.fixture(scope="module")
def style():
    b = load_bundle(STYLE)
    return b, b.generator().eval()


def _mse(a, b):
    return (a - b).square().flatten(1).mean(1)


def test_projecting_a_generated_image_recovers_it(wgan):
    _, G = wgan
    target = generate(G, seed_latent(100_000, G.z_dim))                # not one of the start seeds 0..63
    random_start = _mse(generate(G, torch.cat([seed_latent(s, G.z_dim) for s in range(64)])), target).mean()
    last = project_image(G, target, space="z", steps=150, seed=0, info={"image": "t.png"})
    assert last.done and last.step == last.total == 150
    res = last.result
    assert res.source == "projection" and res.z.shape == (1, G.z_dim) and res.ws is None
    assert res.info["image"] == "t.png" and res.info["space"] == "z" and res.info["loss"] == pytest.approx(
        last.losses["total"], rel=1e-4)
    err = _mse(last.image, target).item()
    assert err < 0.05 * random_start.item(), (err, random_start.item())
    # the result renders as its reconstruction wherever a latent is rendered
    assert torch.equal(generate(G, res.z), last.image)
    assert torch.equal(synthesize(G, res.to_ws(G)), last.image)
    assert "projection" in res.label() and "t.png" in res.label()


def test_progress_can_be_stopped_and_leaves_the_model_alone(style):
    _, G = style
    before = {k: v.clone() for k, v in G.state_dict().items()}
    bufs = {n: m._buffers["noise_const"] for n, m in G.named_modules() if "noise_const" in m._buffers}
    target = generate(G, seed_latent(3, G.z_dim))
    gen = project(G, target, space="w+", steps=1000, optimize_noise=True)
    seen = [next(gen) for _ in range(4)]
    gen.close()
    assert [p.step for p in seen] == [1, 2, 3, 4] and all(p.total == 1000 and not p.done for p in seen)
    assert seen[-1].image.shape == (1, *G.image_shape) and set(seen[-1].losses) >= {"pixels", "features", "total"}
    assert seen[-1].losses["noise"] > 0
    assert all(m._buffers["noise_const"] is bufs[n] for n, m in G.named_modules() if n in bufs)
    assert all(torch.equal(before[k], v) for k, v in G.state_dict().items())
    lat = seen[-1].latents(G.num_ws)[0]                   # what was reached when stopped
    assert lat.source == "projection" and lat.ws.shape == (1, G.num_ws, G.w_dim)


def test_optimised_noise_maps_come_back_with_the_result(style):
    _, G = style
    target = generate(G, seed_latent(4, G.z_dim))
    last = project_image(G, target, space="w", steps=5, optimize_noise=True)
    assert last.noise_maps and all(torch.isfinite(v).all() for v in last.noise_maps.values())
    assert all(v.std().item() == pytest.approx(1.0, abs=1e-3) for v in last.noise_maps.values())
    with pytest.raises(UserError, match="one image at a time"):
        next(project(G, torch.cat([target, target]), optimize_noise=True))


def test_noise_regularisation_penalises_correlated_maps():
    g = torch.Generator().manual_seed(0)
    white = torch.randn(32, 32, generator=g)
    smooth = torch.nn.functional.avg_pool2d(torch.randn(1, 1, 35, 35, generator=g), 4, stride=1)[0, 0]
    smooth = (smooth - smooth.mean()) / smooth.std()
    assert noise_regularisation([white]) < 0.05 * noise_regularisation([smooth])


def test_w_plus_beats_w_beats_z_on_pixels(style, mnist_dir):
    from gan_studio.engine.data.images import load_images
    _, G = style
    x = load_images(mnist_dir, "test").as_float(G.img_resolution, G.img_channels, slice(0, 6))
    err = {s: _mse(project_image(G, x, space=s, steps=120).image, x).mean().item() for s in ("z", "w", "w+")}
    assert err["w+"] < err["w"] < err["z"], err
    assert err["w+"] < 0.02, err


def test_w_latents_broadcast_and_w_plus_are_per_layer(style):
    _, G = style
    target = generate(G, seed_latent(8, G.z_dim))
    w = project_image(G, target, space="w", steps=3).result
    wp = project_image(G, target, space="w+", steps=3).result
    assert w.ws.shape == wp.ws.shape == (1, G.num_ws, G.w_dim)
    assert torch.equal(w.ws, w.ws[:, :1].expand_as(w.ws))
    assert not torch.equal(wp.ws, wp.ws[:, :1].expand_as(wp.ws))
    assert torch.equal(w.to_ws(G), w.ws) and w.info["space"] == "w" and wp.info["space"] == "w+"
    z = project_image(G, target, space="z", steps=3).result
    assert z.z.shape == (1, G.z_dim) and z.to_ws(G).shape == (1, G.num_ws, G.w_dim)


def test_non_style_generators_project_in_z_only(wgan):
    _, G = wgan
    target = generate(G, seed_latent(1, G.z_dim))
    for space in ("w", "w+"):
        with pytest.raises(UserError, match="no style mapping"):
            next(project(G, target, space=space))
    assert project_image(G, target, steps=2).result.info["space"] == "z"      # the default space
    with pytest.raises(UserError, match="shape"):
        next(project(G, torch.zeros(1, 3, 32, 32)))
    with pytest.raises(UserError, match="unknown projection space"):
        next(project(G, target, space="q"))


def test_features_auto_lenet_critic_and_pixels(tmp_path, style):
    b, G = style
    assert choose_taps(G, "auto", b.networks["critic"])[0] == "lenet-mnist"
    assert choose_taps(G, "critic", b.networks["critic"])[0] == "critic"
    assert choose_taps(G, "pixels")[0] == "pixels"
    with pytest.raises(UserError, match="no critic"):
        choose_taps(G, "critic", None)
    rgb = load_bundle(make_tiny_bundle(tmp_path / "rgb.safetensors", resolution=32, channels=3))
    Grgb, critic = rgb.generator().eval(), rgb.networks["critic"]
    name, taps = choose_taps(Grgb, "auto", critic)
    assert name == "critic"
    target = generate(Grgb, seed_latent(5, Grgb.z_dim))
    d = TapDistance(taps, target)
    assert d(target).item() == pytest.approx(0.0, abs=1e-6) and d(-target).item() > 0.01
    last = project_image(Grgb, target, steps=30, critic=critic, schedule=Schedule(starts=4))
    assert last.losses["features"] > 0 and last.losses["total"] < 1.0
    assert choose_taps(Grgb, "auto", None)[0] == "pixels"
    sg_taps = choose_taps(G, "critic", b.networks["critic"])[1]
    d2 = TapDistance(sg_taps, torch.cat([generate(G, seed_latent(s, G.z_dim)) for s in (1, 2)]))
    pair = d2.pairwise(torch.cat([generate(G, seed_latent(s, G.z_dim)) for s in (1, 2, 3)]))
    assert pair.shape == (2, 3) and pair[0, 0] < 1e-5 and pair[1, 1] < 1e-5 and pair[0, 1] > 1e-3


# ------------------------------------------------------------------ fitting image files

def _save(path, arr, mode=None):
    from PIL import Image
    Image.fromarray(arr, mode).save(path)
    return path


def test_load_target_fits_any_mode_to_the_model_shape(tmp_path):
    from PIL import Image
    rgb = np.zeros((40, 80, 3), np.uint8)
    rgb[10:30, 30:50] = (255, 0, 0)
    x = load_target(_save(tmp_path / "wide.png", rgb), (1, 32, 32))
    assert x.shape == (1, 1, 32, 32) and x.min() >= -1 and x.max() <= 1
    assert x[0, 0, 0, 0].item() == pytest.approx(-1.0) and x[0, 0, 16, 16].item() > -0.5   # red -> gray ink
    x3 = load_target(_save(tmp_path / "gray.png", np.full((20, 20), 255, np.uint8)), (3, 16, 16))
    assert x3.shape == (1, 3, 16, 16) and torch.allclose(x3, torch.ones_like(x3))
    paper = np.full((50, 30), 255, np.uint8)
    paper[20:30, 10:20] = 0                                            # dark ink on white, a tall image
    y = load_target(_save(tmp_path / "paper.png", paper), (1, 28, 28), invert=True)
    assert y[0, 0, 0, 0].item() == pytest.approx(-1.0) and y[0, 0, 14, 14].item() > 0.5
    z = load_target(_save(tmp_path / "paper.png", paper), (1, 28, 28))
    assert z[0, 0, 0, 0].item() == pytest.approx(1.0)                  # padded with its own (white) background
    deep = np.full((24, 24), 65535, np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    assert load_target(tmp_path / "deep.png", (1, 8, 8)).min().item() == pytest.approx(1.0)
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., :3], rgba[2:8, 2:8, 3] = 255, 255                      # white square, the rest transparent
    t = load_target(_save(tmp_path / "a.png", rgba, "RGBA"), (3, 10, 10))
    assert t[0, :, 0, 0].tolist() == [-1.0] * 3 and t[0, :, 5, 5].tolist() == [1.0] * 3


def test_bad_image_files_give_one_user_error(tmp_path):
    from PIL import Image
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image\n")
    good = _save(tmp_path / "good.png", np.zeros((30, 30), np.uint8))
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[:40])
    side = int(MAX_PIXELS ** 0.5) + 100
    Image.new("1", (side, side)).save(tmp_path / "bomb.png")
    cases = {"missing.png": "no such file", "empty.png": "empty", "text.png": "not an image",
             "cut.png": "", "bomb.png": "too large"}
    for name, words in cases.items():
        with pytest.raises(UserError) as err:
            load_target(tmp_path / name, (1, 32, 32))
        msg = str(err.value)
        assert len(msg.splitlines()) == 1 and words in msg and name in msg, msg


def test_a_direction_edit_of_a_projection_moves_it_and_zero_shift_is_the_reconstruction(style):
    """The round trip the issue asks for: project, then edit the projection along discovered directions (w-space
    SeFa directions on a w+ projection, as the Directions tab does with the selected latent)."""
    from gan_studio.engine.latent.directions import apply_shifts, discover
    _, G = style
    target = generate(G, seed_latent(4242, G.z_dim))
    res = project_image(G, target, space="w+", steps=40, seed=0).result
    ds = next(p for p in discover(G, "sefa", 4) if "result" in p)["result"]
    assert ds.space == "w"
    kind, same = apply_shifts(G, ds, ws=res.ws, shifts={})
    assert kind == "ws" and torch.equal(synthesize(G, same), synthesize(G, res.ws))
    kind, edited = apply_shifts(G, ds, ws=res.ws, shifts={0: 3.0})
    moved = _mse(synthesize(G, edited), synthesize(G, res.ws)).item()
    assert moved > 1e-3                                                 # the edit changes the projected image
    back = apply_shifts(G, ds, ws=edited, shifts={0: -3.0})[1]
    assert torch.allclose(back, res.ws, atol=1e-5)                       # and is undone by the opposite shift
