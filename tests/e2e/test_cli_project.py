"""`gan-studio project` end to end: project an image, then `sample --z` / `walk --z` render the reconstruction."""
from __future__ import annotations

import json

import numpy as np
import torch
from PIL import Image

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.imaging import to_uint8
from gan_studio.engine.latent.sampling import generate
from gan_studio.engine.seeds import seed_latent
from tests.conftest import RESOURCES
from tests.e2e.test_cli import assert_user_error, run

WGAN = RESOURCES / "mnist-wgan-gp.safetensors"
STYLE = RESOURCES / "mnist-stylegan2.safetensors"


def _generated_png(model, seed: int, path):
    G = load_bundle(model).generator().eval()
    px = to_uint8(generate(G, seed_latent(seed, G.z_dim)))[0, :, :, 0]
    Image.fromarray(px).save(path)
    return path, px


def _panels(png, size: int) -> list[np.ndarray]:
    """The three panels (target, reconstruction, difference) of a --scale 1 comparison PNG (2 px gaps)."""
    a = np.asarray(Image.open(png).convert("L"))
    assert a.shape == (size + 4, 3 * (size + 2) + 2)
    return [a[2:2 + size, 2 + i * (size + 2):2 + i * (size + 2) + size] for i in range(3)]


def test_project_then_sample_gives_the_reconstruction(tmp_path):
    img, px = _generated_png(WGAN, 100_000, tmp_path / "digit.png")
    r = run("project", "--model", WGAN, "--image", img, "--steps", 80, "--out", tmp_path / "l.npy",
            "--scale", 1, "--video", tmp_path / "steps.gif", "--json")
    summary = json.loads(r.stdout)
    assert summary["space"] == "z" and summary["shape"] == [1, 64] and summary["psnr"] > 20
    assert r.stderr == ""                                               # --json: no progress lines
    lat = np.load(tmp_path / "l.npy")
    assert lat.dtype == np.float32 and lat.shape == (1, 64)
    target, recon, diff = _panels(tmp_path / "l.png", 32)
    assert np.array_equal(target, px)
    assert np.abs(diff.astype(int) - np.abs(recon.astype(int) - target.astype(int))).max() <= 1
    run("sample", "--model", WGAN, "--z", tmp_path / "l.npy", "--out", tmp_path / "s.npy")
    s = to_uint8(torch.from_numpy(np.load(tmp_path / "s.npy")))[0, :, :, 0]
    assert np.abs(s.astype(int) - recon.astype(int)).max() <= 1
    frames = Image.open(tmp_path / "steps.gif")
    assert frames.n_frames == 81 and frames.size == (64, 32)             # target | each step, then the result


def test_w_plus_projections_sample_and_walk(tmp_path):
    lats, recons = [], []
    for k, seed in enumerate((11, 12)):
        img, _ = _generated_png(STYLE, seed, tmp_path / f"d{k}.png")
        out = tmp_path / f"l{k}.npy"
        r = run("project", "--model", STYLE, "--image", img, "--space", "w+", "--steps", 40, "--out", out,
                "--scale", 1)
        assert "step 40/40 loss" in r.stderr and "wrote" in r.stdout and "space w+" in r.stdout
        lats.append(np.load(out))
        recons.append(_panels(out.with_suffix(".png"), 32)[1])
    assert lats[0].shape == (1, 8, 128) and not np.array_equal(lats[0], lats[1])
    run("sample", "--model", STYLE, "--z", tmp_path / "l0.npy", "--out", tmp_path / "s.npy")
    s = to_uint8(torch.from_numpy(np.load(tmp_path / "s.npy")))[0, :, :, 0]
    assert np.abs(s.astype(int) - recons[0].astype(int)).max() <= 1
    np.save(tmp_path / "keys.npy", np.concatenate(lats))
    run("walk", "--model", STYLE, "--z", tmp_path / "keys.npy", "--frames", 5, "--out", tmp_path / "w.npy")
    w = to_uint8(torch.from_numpy(np.load(tmp_path / "w.npy")))[..., 0]
    assert w.shape == (5, 32, 32)
    assert np.abs(w[0].astype(int) - recons[0]).max() <= 1 and np.abs(w[-1].astype(int) - recons[1]).max() <= 1
    # the projections as mixing sources: with no layers taken from the column seeds each cell is its row's
    # reconstruction; with all of them, the column seed's image
    run("mix", "--model", STYLE, "--rows", tmp_path / "keys.npy", "--cols", "5,6", "--layers", "none",
        "--out", tmp_path / "none.npy")
    cells = to_uint8(torch.from_numpy(np.load(tmp_path / "none.npy")).flatten(0, 1))[..., 0].reshape(2, 2, 32, 32)
    for i in range(2):
        assert all(np.abs(cells[i, j].astype(int) - recons[i]).max() <= 1 for j in range(2))
    run("mix", "--model", STYLE, "--rows", tmp_path / "keys.npy", "--cols", "5,6", "--layers", "all",
        "--out", tmp_path / "all.npy")
    cells = np.load(tmp_path / "all.npy")
    G = load_bundle(STYLE).generator().eval()
    seeds = generate(G, torch.cat([seed_latent(s, G.z_dim) for s in (5, 6)]))
    assert np.abs(cells - seeds.numpy()[None]).max() < 1e-4


def test_project_errors_are_one_line(tmp_path):
    img, _ = _generated_png(WGAN, 1, tmp_path / "d.png")
    (tmp_path / "text.png").write_text("hello")
    out = tmp_path / "l.npy"
    assert_user_error(run("project", "--model", WGAN, "--image", tmp_path / "nope.png", "--out", out, check=False),
                      "no such file")
    assert_user_error(run("project", "--model", WGAN, "--image", tmp_path / "text.png", "--out", out, check=False),
                      "not an image")
    assert_user_error(run("project", "--model", WGAN, "--image", img, "--space", "w+", "--out", out, check=False),
                      "space z")
    assert_user_error(run("project", "--model", WGAN, "--image", img, "--out", tmp_path / "l.txt", check=False),
                      ".npy")
    np.save(tmp_path / "bad.npy", np.zeros((1, 3, 128), np.float32))
    assert_user_error(run("sample", "--model", STYLE, "--z", tmp_path / "bad.npy", "--out", tmp_path / "s.png",
                          check=False), "(N, 8, 128)")
    assert not out.exists()
    assert_user_error(run("project", "--model", WGAN, "--image", img, "--features", "vgg", "--out", out,
                          check=False), "VGG weights file")
    assert_user_error(run("project", "--model", WGAN, "--image", img, "--lpips", tmp_path / "lin.pth", "--out", out,
                          check=False), "--lpips goes with a VGG")
    assert_user_error(run("project", "--model", WGAN, "--image", img, "--features", tmp_path / "vgg.pth",
                          "--out", out, check=False), "no such file")
    np.save(tmp_path / "rows.npy", np.zeros((2, 7), np.float32))
    assert_user_error(run("mix", "--model", STYLE, "--rows", tmp_path / "rows.npy", "--cols", "1", "--layers", "all",
                          "--out", tmp_path / "m.png", check=False), "latents must be")


def test_project_with_your_own_vgg_and_lpips_weights(tmp_path):
    from tests.engine.test_vgg_features import _vgg_file
    _, vgg = _vgg_file(tmp_path)
    torch.save({f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1) for k, c in enumerate([4, 8, 16, 32, 32])},
               tmp_path / "lin.pth")
    img, _ = _generated_png(WGAN, 5, tmp_path / "d.png")
    r = run("project", "--model", WGAN, "--image", img, "--features", vgg, "--lpips", tmp_path / "lin.pth",
            "--steps", 20, "--out", tmp_path / "l.npy", "--json")
    summary = json.loads(r.stdout)
    assert summary["shape"] == [1, 64] and summary["psnr"] > 10 and (tmp_path / "l.png").is_file()
