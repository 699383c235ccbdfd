"""`gan-studio train --conditional --info` and `sample --class K --code NAME=VALUE`, end to end."""
from __future__ import annotations

import numpy as np
import pytest

from tests.e2e.test_cli import assert_user_error, run


@pytest.fixture(scope="module")
def coded_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("coded")
    rng = np.random.default_rng(0)
    np.savez(folder / "data.npz", images=rng.integers(0, 255, (64, 28, 28), dtype=np.uint8),
             labels=np.arange(64) % 10)
    out = folder / "coded.safetensors"
    run("train", "--loss", "hinge", "--data", folder / "data.npz", "--steps", 2, "--batch", 16, "--threads", 1,
        "--arch-config", '{"width": 8, "z_dim": 16}', "--conditional", "--info", "--options", '{"info_cont": 1}',
        "--device", "cpu", "--out", out, "--quiet")
    return out


def test_sample_class_and_codes_match_the_engine(coded_model, tmp_path):
    from gan_studio.engine.bundle import load_bundle
    from gan_studio.engine.latent.codes import apply_codes
    from gan_studio.engine.latent.sampling import seeds_latents, synthesize
    b = load_bundle(coded_model)
    assert b.meta["conditional"] and b.meta["num_classes"] == 10 and b.meta["info"] == {"cat": 10, "cont": 1}
    G = b.generator()
    run("sample", "--model", coded_model, "--seed", 5, "--n", 3, "--class", 3, "--code", "cat=7",
        "--code", "c0=-1.5", "--device", "cpu", "--out", tmp_path / "a.npy")
    run("sample", "--model", coded_model, "--seed", 5, "--n", 3, "--device", "cpu", "--out", tmp_path / "b.npy")
    a, per_seed = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    want = synthesize(G, apply_codes(G, G.mapping(seeds_latents([5, 6, 7], G.z_dim)),
                                     {"class": 3, "cat": 7, "c0": -1.5}))
    assert np.abs(a - want.numpy()).max() <= 1e-5
    assert np.abs(per_seed - synthesize(G, G.mapping(seeds_latents([5, 6, 7], G.z_dim))).numpy()).max() <= 1e-5
    assert np.abs(a - per_seed).max() > 1e-3


@pytest.mark.parametrize("args,words", [
    (["--class", 10], ["class must be a whole number from 0 to 9"]),
    (["--code", "cat"], ["bad --code", "NAME=VALUE"]),
    (["--code", "c3=1"], ["no code 'c3'", "class, cat, c0"]),
    (["--drs", "--class", 1], ["--drs", "--class"]),
])
def test_code_errors_are_one_line(coded_model, tmp_path, args, words):
    r = run("sample", "--model", coded_model, "--seed", 0, "--out", tmp_path / "x.png", *args, check=False)
    assert_user_error(r, *words)


def test_codes_on_a_plain_model_and_unlabelled_data_are_clear_errors(shipped_model, tmp_path):
    r = run("sample", "--model", shipped_model, "--seed", 0, "--class", 2, "--out", tmp_path / "x.png", check=False)
    assert_user_error(r, "--class", "neither conditional nor an InfoGAN")
    np.savez(tmp_path / "nolabels.npz", images=np.zeros((32, 28, 28), np.uint8))
    r = run("train", "--loss", "ns", "--data", tmp_path / "nolabels.npz", "--steps", 1, "--conditional",
            "--out", tmp_path / "m.safetensors", check=False)
    assert_user_error(r, "--conditional needs class labels")


def test_walk_holds_the_chosen_class_and_codes_on_every_frame(coded_model, tmp_path):
    from gan_studio.engine.bundle import load_bundle
    from gan_studio.engine.latent.codes import apply_codes
    from gan_studio.engine.latent.sampling import seeds_latents, synthesize
    from gan_studio.engine.latent.walks import interpolate
    G = load_bundle(coded_model).generator()
    run("walk", "--model", coded_model, "--seeds", "2,9", "--frames", 4, "--class", 6, "--code", "cat=1",
        "--device", "cpu", "--out", tmp_path / "w.npy")
    run("walk", "--model", coded_model, "--seeds", "2,9", "--frames", 4, "--device", "cpu", "--out", tmp_path / "p.npy")
    frames, plain = np.load(tmp_path / "w.npy"), np.load(tmp_path / "p.npy")
    z = interpolate(seeds_latents([2, 9], G.z_dim), 4, "slerp", False, "linear")
    want = synthesize(G, apply_codes(G, G.mapping(z), {"class": 6, "cat": 1}))
    assert frames.shape == plain.shape == (4, 1, 28, 28)
    assert np.abs(frames - want.numpy()).max() <= 1e-5
    assert np.abs(frames - plain).max() > 1e-3
    r = run("walk", "--model", coded_model, "--seeds", "2,9", "--frames", 4, "--class", 12,
            "--out", tmp_path / "x.npy", check=False)
    assert_user_error(r, "class must be a whole number from 0 to 9")
