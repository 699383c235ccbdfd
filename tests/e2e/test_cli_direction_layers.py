"""`gan-studio sample --shift INDEX:EPS@LAYERS` and `--preset NAME|FILE.json` on a tiny StyleGAN2, end to end."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.e2e.test_cli import assert_user_error, run


@pytest.fixture(scope="module")
def style(tmp_path_factory):
    """A tiny style generator and a SeFa directions file for it: direction 1 saved on the fine layers, and a
    preset 'smile' (direction 0 +2 on the coarse layers, direction 2 -1.5 on every layer)."""
    from gan_studio.engine.bundle import load_bundle
    from gan_studio.engine.latent.directions import discover, save_directions
    from gan_studio.engine.latent.directions.presets import Preset, add_preset, export_preset
    from tests.engine.test_stylegan import make_tiny_style_bundle
    d = tmp_path_factory.mktemp("style-dirs")
    model = make_tiny_style_bundle(d / "style.safetensors")
    G = load_bundle(model).generator()
    ds = next(p for p in discover(G, "sefa", 4) if "result" in p)["result"]
    ds.layers = {1: (5, 8)}
    preset = Preset("smile", {0: 2.0, 2: -1.5}, {0: (0, 3)}, {0: "smile"}, [0])
    add_preset(ds, preset)
    dirs = save_directions(d / "sefa.safetensors", ds)
    export_preset(d / "smile.json", ds, preset, str(dirs))
    return {"model": model, "G": G, "ds": ds, "dirs": dirs, "preset": d / "smile.json"}


def _sample(style, tmp_path, *args, name="x.npy"):
    run("sample", "--model", style["model"], "--seed", 3, "--n", 2, "--directions", style["dirs"], *args,
        "--out", tmp_path / name)
    return np.load(tmp_path / name)


def _engine(style, shifts, layers=None):
    from gan_studio.engine.latent.directions import apply_shifts
    from gan_studio.engine.latent.sampling import seeds_latents, synthesize
    G = style["G"]
    with torch.no_grad():
        _, ws = apply_shifts(G, style["ds"], z=seeds_latents([3, 4], G.z_dim), shifts=shifts, layers=layers)
        return synthesize(G, ws).numpy()


def test_at_layers_overrides_the_saved_range(style, tmp_path):
    coarse = _sample(style, tmp_path, "--shift", "1:3@coarse", name="c.npy")
    assert np.abs(coarse - _engine(style, {1: 3.0}, {1: (0, 3)})).max() <= 1e-5
    saved = _sample(style, tmp_path, "--shift", "1:3", name="s.npy")                # the file's range: fine
    assert np.abs(saved - _engine(style, {1: 3.0}, {1: (5, 8)})).max() <= 1e-5
    typed = _sample(style, tmp_path, "--shift", "1:3@0-2", name="t.npy")            # inclusive: ws 0, 1, 2
    assert np.abs(typed - coarse).max() <= 1e-6
    every = _sample(style, tmp_path, "--shift", "1:3@all", name="a.npy")
    assert np.abs(every - _engine(style, {1: 3.0}, {1: (0, 8)})).max() <= 1e-5
    assert min(np.abs(coarse - saved).max(), np.abs(every - saved).max(), np.abs(every - coarse).max()) > 1e-3


def test_presets_by_name_and_from_a_file(style, tmp_path):
    want = _engine(style, {0: 2.0, 2: -1.5}, {0: (0, 3), 2: (0, 8)})
    assert np.abs(_sample(style, tmp_path, "--preset", "smile", name="n.npy") - want).max() <= 1e-5
    assert np.abs(_sample(style, tmp_path, "--preset", style["preset"], name="f.npy") - want).max() <= 1e-5
    more = _sample(style, tmp_path, "--preset", "smile", "--shift", "2:1.5", "--shift", "0:1@fine", name="m.npy")
    assert np.abs(more - _engine(style, {0: 3.0, 2: 0.0}, {0: (5, 8)})).max() <= 1e-5


def test_a_preset_for_other_directions_is_refused(style, tmp_path):
    from gan_studio.engine.latent.directions import discover, save_directions
    other = next(p for p in discover(style["G"], "random", 4, seed=5) if "result" in p)["result"]
    other_file = save_directions(tmp_path / "other.safetensors", other)
    r = run("sample", "--model", style["model"], "--seed", 0, "--directions", other_file, "--preset",
            style["preset"], "--out", tmp_path / "x.png", check=False)
    assert_user_error(r, "smile.json is a preset for other directions", "sefa.safetensors")


@pytest.mark.parametrize("args,words", [
    (["--shift", "1:2@huge"], ["bad layer range 'huge'"]),
    (["--shift", "1:2@3-9"], ["layer 9 is out of range", "0-7"]),
    (["--shift", "1:2@"], ["nothing after @"]),
    (["--shift", "1:2@coarse", "--shift", "1:1@fine"], ["two layer ranges"]),
    (["--preset", "frown"], ["no preset named 'frown'", "'smile'"]),
])
def test_bad_ranges_and_presets_are_one_line_errors(style, tmp_path, args, words):
    r = run("sample", "--model", style["model"], "--seed", 0, "--directions", style["dirs"], *args,
            "--out", tmp_path / "x.png", check=False)
    assert_user_error(r, *words)


def test_a_corrupt_preset_file_is_one_line(style, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "direction-preset", "schema_version": 1, ')
    r = run("sample", "--model", style["model"], "--seed", 0, "--directions", style["dirs"], "--preset", bad,
            "--out", tmp_path / "x.png", check=False)
    assert_user_error(r, "bad.json: not a readable preset file")
    r = run("sample", "--model", style["model"], "--seed", 0, "--preset", "smile", "--out", tmp_path / "x.png",
            check=False)
    assert_user_error(r, "--preset needs --directions FILE")


def test_layer_ranges_on_z_directions_are_refused(shipped_model, tmp_path):
    out = tmp_path / "z.safetensors"
    run("discover", "--model", shipped_model, "--method", "random", "--k", 4, "--out", out)
    r = run("sample", "--model", shipped_model, "--seed", 0, "--directions", out, "--shift", "1:2@coarse",
            "--out", tmp_path / "x.png", check=False)
    assert_user_error(r, "layer ranges", "these directions live in z")


def test_walk_shifts_every_frame_on_its_layers(style, tmp_path):
    from gan_studio.engine.jobs.walks import WalkSpec, seed_keyframes, walk_frames_ws
    from gan_studio.engine.latent.directions import apply_shifts
    from gan_studio.engine.latent.sampling import synthesize
    G = style["G"]
    run("walk", "--model", style["model"], "--seeds", "1,2", "--frames", 4, "--directions", style["dirs"],
        "--shift", "1:3@coarse", "--out", tmp_path / "w.npy")
    got = np.load(tmp_path / "w.npy")
    ws = walk_frames_ws(G, WalkSpec(seed_keyframes([1, 2], G.z_dim), 4, space="z"))
    _, moved = apply_shifts(G, style["ds"], ws=ws, shifts={1: 3.0}, layers={1: (0, 3)})
    assert [i for i in range(8) if (moved[:, i] - ws[:, i]).abs().max() > 0] == [0, 1, 2]
    with torch.no_grad():
        assert np.abs(got - synthesize(G, moved).numpy()).max() <= 1e-5
        assert np.abs(got - synthesize(G, ws).numpy()).max() > 1e-3
