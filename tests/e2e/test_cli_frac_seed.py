"""`gan-studio sample --seed X[,Y]`: a fractional seed renders the engine's blend (what the app's large view shows
while dragged), and integer seeds render exactly as before."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.latent.drag import SeedPos, frac_z
from gan_studio.engine.latent.sampling import generate, images_for_seeds
from tests.conftest import RESOURCES
from tests.e2e.test_cli import assert_user_error, run

MODELS = ["mnist-wgan-gp", "mnist-stylegan2"]


def _model(name: str):
    path = RESOURCES / f"{name}.safetensors"
    if not path.is_file():
        pytest.fail(f"the shipped model {path} is missing")
    return path, load_bundle(path).generator().eval()


@pytest.mark.parametrize("name", MODELS)
def test_fractional_seeds_render_the_engine_blend(name, tmp_path):
    path, G = _model(name)
    run("sample", "--model", path, "--seed", "7.35", "--n", 3, "--truncation", 0.7, "--out", tmp_path / "a.npy")
    run("sample", "--model", path, "--seed", "7.35,2.1", "--out", tmp_path / "b.npy")
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    z = torch.cat([frac_z(SeedPos(x), G.z_dim) for x in (7.35, 8.35, 9.35)])
    assert np.abs(a - generate(G, z, truncation_psi=0.7).numpy()).max() <= 1e-5
    assert np.abs(b[0] - generate(G, frac_z(SeedPos(7.35, 2.1), G.z_dim))[0].numpy()).max() <= 1e-5
    seven = images_for_seeds(G, [7, 8], truncation_psi=0.7).numpy()
    assert np.abs(a[0] - seven[0]).max() > 1e-3 and np.abs(a[0] - seven[1]).max() > 1e-3   # a blend: neither


def test_integer_seeds_are_unchanged(tmp_path):
    path, G = _model("mnist-wgan-gp")
    run("sample", "--model", path, "--seed", 7, "--n", 4, "--out", tmp_path / "int.npy")
    run("sample", "--model", path, "--seed", "9.0", "--out", tmp_path / "whole.npy")
    ints, whole = np.load(tmp_path / "int.npy"), np.load(tmp_path / "whole.npy")
    assert np.abs(ints - images_for_seeds(G, [7, 8, 9, 10]).numpy()).max() <= 1e-5
    assert np.abs(whole[0] - ints[2]).max() <= 1e-5       # seed 9.0 is seed 9 (batch 1 vs 4: float noise only)


def test_bad_fractional_seeds_are_one_line_errors(tmp_path):
    path = RESOURCES / "mnist-wgan-gp.safetensors"
    assert_user_error(run("sample", "--model", path, "--seed", "-1.5", "--out", tmp_path / "x.png", check=False),
                      ">= 0")
    assert_user_error(run("sample", "--model", path, "--seed", "7.5", "--drs", "--out", tmp_path / "x.png",
                          check=False), "--drs", "integer")
