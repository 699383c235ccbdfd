"""`--model file.pkl` (an NVlabs StyleGAN2-ADA / StyleGAN3 network pickle) in every command, and
`gan-studio import`: the same images as NVlabs' own code, from the pickle and from the converted file."""
from __future__ import annotations

import json

import numpy as np
import pytest

from gan_studio.engine.latent.directions import load_directions
from tests.e2e.test_cli import assert_user_error, run
from tests.engine.test_nvlabs import FIX, needs_fix

SG2, SG3 = FIX / "stylegan2-ada-32-rgb.pkl", FIX / "stylegan3-t-32-rgb.pkl"
pytestmark = needs_fix


def _z_file(tmp_path, name):
    ref = np.load(FIX / f"{name}.reference.npz")
    np.save(tmp_path / "z.npy", ref["z"])
    return tmp_path / "z.npy", ref


@pytest.mark.parametrize("pkl", [SG2, SG3], ids=["sg2", "sg3"])
def test_info_and_sample_match_the_reference(pkl, tmp_path):
    info = json.loads(run("info", "--model", pkl, "--json").stdout)
    assert info["arch"] in ("stylegan2-ada", "stylegan3") and info["image_shape"] == [3, 32, 32]
    zf, ref = _z_file(tmp_path, pkl.stem)
    run("sample", "--model", pkl, "--z", zf, "--truncation", 0.7, "--cutoff", 2, "--out", tmp_path / "a.npy")
    run("sample", "--model", pkl, "--z", zf, "--noise", "none", "--out", tmp_path / "b.npy")
    assert np.abs(np.load(tmp_path / "a.npy") - np.clip(ref["img_psi0.7_cutoff2"], -1, 1)).max() <= 1e-3
    assert np.abs(np.load(tmp_path / "b.npy") - np.clip(ref["img_psi1.0_noise_none"], -1, 1)).max() <= 1e-3
    run("sample", "--model", pkl, "--seed", 0, "--n", 4, "--out", tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 1000


@pytest.mark.parametrize("pkl", [SG2, SG3], ids=["sg2", "sg3"])
def test_import_then_open_by_name(pkl, tmp_path):
    home = tmp_path / "home"
    env_out = tmp_path / "conv.safetensors"
    r = run("import", pkl, "--out", env_out)
    assert "wrote" in r.stdout and "32×32" in r.stdout
    assert_user_error(run("import", pkl, "--out", env_out, check=False), "exists", "--force")
    zf, ref = _z_file(tmp_path, pkl.stem)
    run("sample", "--model", env_out, "--z", zf, "--truncation", 0.7, "--out", tmp_path / "c.npy")
    assert np.abs(np.load(tmp_path / "c.npy") - np.clip(ref["img_psi0.7"], -1, 1)).max() <= 1e-3
    assert not home.exists()


def test_walk_mix_and_directions_on_an_imported_model(tmp_path):
    run("walk", "--model", SG2, "--seeds", "1,2", "--frames", 4, "--space", "w", "--out", tmp_path / "w.npy")
    assert np.load(tmp_path / "w.npy").shape == (4, 3, 32, 32)
    r = run("mix", "--model", SG3, "--rows", "1,2", "--cols", "3", "--layers", "coarse", "--out", tmp_path / "m.npy")
    assert np.load(tmp_path / "m.npy").shape == (2, 1, 3, 32, 32) and "mixes" in r.stdout
    for method in ("sefa", "ganspace"):
        out = tmp_path / f"{method}.safetensors"
        run("discover", "--model", SG2, "--method", method, "--k", 3, "--out", out)
        run("sample", "--model", SG2, "--seed", 5, "--directions", out, "--shift", "0:3", "--out", tmp_path / "e.npy")
        run("sample", "--model", SG2, "--seed", 5, "--out", tmp_path / "p.npy")
        assert np.abs(np.load(tmp_path / "e.npy") - np.load(tmp_path / "p.npy")).mean() > 1e-3
    for space in ("z", "w"):                          # Voynov in z or in w
        out = tmp_path / f"voynov-{space}.safetensors"
        r = run("discover", "--model", SG3, "--method", "voynov", "--k", 2, "--steps", 3, "--batch", 4,
                "--threads", 1, "--space", space, "--out", out, "--json")        # batch 4: SG3 is slow on a CPU
        assert json.loads(r.stdout.strip().splitlines()[-1])["space"] == space
    assert load_directions(out).extra["preset"]["batch"] == 4
    assert_user_error(run("discover", "--model", SG3, "--method", "sefa", "--batch", 4, "--out", out, check=False),
                      "--batch", "voynov")
    assert_user_error(run("discover", "--model", SG3, "--method", "sefa", "--space", "z", "--out", out,
                          check=False), "voynov")
    r = run("rca", "--model", SG3, "--directions", out, "--steps", 3, "--eval-pairs", 8, "--train-pairs", 8,
            "--threads", 1, "--json")
    assert 0 <= json.loads(r.stdout.strip().splitlines()[-1])["rca"] <= 1


def test_drs_uses_the_imported_discriminator(tmp_path):
    r = run("sample", "--model", SG2, "--seed", 0, "--n", 3, "--drs", "--drs-burn-in", 64, "--out", tmp_path / "d.npy")
    assert np.load(tmp_path / "d.npy").shape == (3, 3, 32, 32)
    assert "accept" in r.stderr
    assert_user_error(run("sample", "--model", SG3, "--seed", 0, "--drs", "--out", tmp_path / "x.npy", check=False),
                      "critic")


def test_evaluate_an_imported_model(mnist_dir):
    r = run("evaluate", "--model", SG2, "--data", mnist_dir, "--n", 64, "--json")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["n"] == 64 and np.isfinite(out["fid"])


def test_bad_pickles_are_one_line_errors(tmp_path):
    p = tmp_path / "trunc.pkl"
    p.write_bytes(SG2.read_bytes()[: 200_000])
    assert_user_error(run("info", "--model", p, check=False), "trunc.pkl")
    assert_user_error(run("import", tmp_path / "nope.pkl", check=False), "no such file")
