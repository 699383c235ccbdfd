"""`gan-studio discover`, `sample --directions --shift` and `rca`, end to end on the shipped model."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.e2e.test_cli import assert_user_error, run


@pytest.fixture(scope="module")
def sefa_file(shipped_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("dirs") / "sefa.safetensors"
    r = run("discover", "--model", shipped_model, "--method", "sefa", "--k", 4, "--out", out, "--json")
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["method"] == "sefa" and summary["k"] == 4 and summary["space"] == "z"
    return out


def test_discovered_directions_edit_samples_as_the_engine_does(shipped_model, sefa_file, tmp_path):
    from gan_studio.engine.bundle import load_bundle
    from gan_studio.engine.latent.directions.core import apply_shifts, load_directions
    from gan_studio.engine.latent.sampling import generate, seeds_latents
    G = load_bundle(shipped_model).generator()
    ds = load_directions(sefa_file, G)                       # made for this generator: the hash matches
    assert ds.k == 4 and ds.extra["command"].startswith("gan-studio discover")
    run("sample", "--model", shipped_model, "--seed", 3, "--n", 2, "--directions", sefa_file,
        "--shift", "0:3", "--shift", "2:-2", "--out", tmp_path / "e.npy")
    run("sample", "--model", shipped_model, "--seed", 3, "--n", 2, "--out", tmp_path / "p.npy")
    edited, plain = np.load(tmp_path / "e.npy"), np.load(tmp_path / "p.npy")
    _, z = apply_shifts(G, ds, z=seeds_latents([3, 4], G.z_dim), shifts={0: 3.0, 2: -2.0})
    assert np.abs(edited - generate(G, z).numpy()).max() <= 1e-5
    assert np.abs(edited - plain).mean() > 0.01


def test_rca_scores_the_directions(shipped_model, sefa_file):
    r = run("rca", "--model", shipped_model, "--directions", sefa_file, "--steps", 60, "--train-pairs", 512,
            "--threads", 1, "--json")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["k"] == 4 and 0.0 <= out["rca"] <= 1.0 and out["seconds"] > 0
    assert out["protocol"] == "fast" and "512 pairs rendered once" in out["budget"]
    r = run("rca", "--model", shipped_model, "--directions", sefa_file, "--protocol", "full", "--steps", 5,
            "--eval-pairs", 32, "--threads", 1, "--json")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["protocol"] == "full" and "new pairs every step" in out["budget"] and "wide" in out["budget"]


def test_voynov_at_its_defaults_records_how_it_ended(shipped_model, tmp_path):
    from gan_studio.engine.bundle import load_bundle
    from gan_studio.engine.latent.directions.core import load_directions
    out = tmp_path / "v.safetensors"
    r = run("discover", "--model", shipped_model, "--method", "voynov", "--k", 4, "--steps", 4, "--threads", 1,
            "--out", out, "--json")
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["status"] == "not converged" and summary["steps"] == 4
    ds = load_directions(out, load_bundle(shipped_model).generator())
    assert ds.extra["convergence"]["max_steps"] == 4 and ds.extra["preset"]["init"] == "ganspace"
    r = run("discover", "--model", shipped_model, "--method", "voynov", "--preset", "quick", "--out", out,
            check=False)
    assert r.returncode != 0 and "invalid choice" in r.stderr


@pytest.mark.parametrize("args,words", [
    (["--shift", "9:1"], ["direction index 9 out of range 0..3"]),
    (["--shift", "0-1"], ["bad --shift", "INDEX:EPS"]),
])
def test_bad_shifts_are_one_line_errors(shipped_model, sefa_file, tmp_path, args, words):
    r = run("sample", "--model", shipped_model, "--seed", 0, "--directions", sefa_file, *args,
            "--out", tmp_path / "x.png", check=False)
    assert_user_error(r, *words)


def test_directions_from_another_file_kind_are_refused(shipped_model, tmp_path):
    r = run("rca", "--model", shipped_model, "--directions", shipped_model, "--steps", 5, check=False)
    assert_user_error(r, "not directions")
