"""The 3D commands end to end: train3d on toy voxels, then render3d, reconstruct, sample3d, eval3d; user errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from gan_studio.cli.main import main
from tests.e2e.test_cli import assert_user_error, run
from tests.engine.voxel_toys import TINY_ARCH, make_voxel_npz


@pytest.fixture(scope="module")
def toy_model(tmp_path_factory):
    """A 2-step VAE-IWGAN trained through the CLI on a toy .npz: (model path, data path)."""
    d = tmp_path_factory.mktemp("cli3d")
    data = make_voxel_npz(d / "toy.npz", n_train=24, n_test=9)
    out = d / "toy3d.safetensors"
    rc = main(["train3d", "--data", str(data), "--out", str(out), "--steps", "2", "--batch", "4",
               "--arch-config", json.dumps(TINY_ARCH), "--n-critic", "2", "--threads", "1", "--device", "cpu",
               "--options", '{"probe_objects": 2}', "--quiet"])
    assert rc == 0 and out.is_file()
    return out, data


def _main(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_render3d_writes_the_training_view(tmp_path, capsys):
    from PIL import Image
    grid = np.zeros((32, 32, 32), bool)
    grid[8:24, 8:24, 0:10] = True
    np.save(tmp_path / "g.npy", grid)
    rc, out, _ = _main(capsys, "render3d", "--voxels", tmp_path / "g.npy", "--out", tmp_path / "g.png",
                       "--azimuth", 30, "--elevation", 20, "--size", 96)
    im = Image.open(tmp_path / "g.png")
    assert rc == 0 and im.size == (96, 96) and np.asarray(im).max() > 100 and "wrote" in out


def test_reconstruct_and_sample3d_write_grids_and_meshes(toy_model, tmp_path, capsys):
    import pyvista as pv
    model, _ = toy_model
    grid = np.zeros((32, 32, 32), bool)
    grid[4:28, 10:20, 2:12] = True
    np.save(tmp_path / "g.npy", grid)
    assert _main(capsys, "render3d", "--voxels", tmp_path / "g.npy", "--out", tmp_path / "view.png")[0] == 0
    rc, out, _ = _main(capsys, "reconstruct", "--model", model, "--image", tmp_path / "view.png",
                       "--out", tmp_path / "r.npy", "--probabilities", "--json")
    info = json.loads(out)
    probs = np.load(tmp_path / "r.npy")
    assert rc == 0 and probs.dtype == np.float32 and probs.shape == (32, 32, 32) and info["shape"] == [32, 32, 32]
    rc, out, _ = _main(capsys, "reconstruct", "--model", model, "--image", tmp_path / "view.png",
                       "--out", tmp_path / "r_bool.npy", "--threshold", 0.5, "--json")
    assert np.array_equal(np.load(tmp_path / "r_bool.npy"), probs > 0.5)
    assert json.loads(out)["occupied"] == int((probs > 0.5).sum())
    rc, out, _ = _main(capsys, "sample3d", "--model", model, "--seed", 4, "--out", tmp_path / "s.npy",
                       "--probabilities")
    again = _main(capsys, "sample3d", "--model", model, "--seed", 4, "--out", tmp_path / "s2.npy", "--probabilities")
    assert rc == 0 and again[0] == 0 and np.array_equal(np.load(tmp_path / "s.npy"), np.load(tmp_path / "s2.npy"))
    s = np.load(tmp_path / "s.npy")
    th = float(np.median(s))                                    # an untrained model: pick a level that has voxels
    rc, _, _ = _main(capsys, "sample3d", "--model", model, "--seed", 4, "--out", tmp_path / "s.ply",
                     "--threshold", th, "--mesh", "smooth")
    assert rc == 0 and pv.read(tmp_path / "s.ply").n_points > 0


def test_eval3d_json_reports_iou_per_class(toy_model, capsys):
    model, data = toy_model
    rc, out, _ = _main(capsys, "eval3d", "--model", model, "--data", data, "--json", "--baseline", "--n-random", 0)
    r = json.loads(out)
    assert rc == 0 and {"mean_iou", "per_class", "threshold", "n"} <= set(r) and r["n"] == 8
    assert set(r["per_class"]) == {"bathtub", "bed", "chair"} and 0 <= r["mean_iou"] <= 1
    assert 0 < r["baseline"]["mean_iou"] <= 1


def test_eval3d_write_stores_threshold_and_metrics(toy_model, tmp_path, capsys):
    import shutil

    from gan_studio.engine.bundle import read_metadata
    model, data = toy_model
    copy = tmp_path / "copy.safetensors"
    shutil.copy(model, copy)
    rc, out, _ = _main(capsys, "eval3d", "--model", copy, "--data", data, "--threshold", 0.3, "--write", "--json",
                       "--n-random", 0)             # the random-shape figures: test_cli3d_shapes.py
    meta = read_metadata(copy)
    assert rc == 0 and meta["threshold"] == 0.3 and meta["metrics"]["iou_test"]["n"] == 8


@pytest.mark.parametrize("args, words", [
    (["reconstruct", "--image", "{bad}", "--out", "{tmp}/r.npy"], ["not an image"]),
    (["reconstruct", "--image", "{empty}", "--out", "{tmp}/r.npy"], ["empty"]),
    (["reconstruct", "--image", "{tmp}/none.png", "--out", "{tmp}/r.npy"], ["no such file"]),
    (["reconstruct", "--image", "{bad}", "--out", "{tmp}/r.txt"], ["--out must end in"]),
    (["sample3d", "--seed", "1", "--out", "{tmp}/r.npy", "--threshold", "1.5"], ["--threshold"]),
])
def test_user_errors_are_one_line_in_process(toy_model, tmp_path, capsys, args, words):
    model, _ = toy_model
    (tmp_path / "bad.png").write_text("not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    subst = {"{bad}": str(tmp_path / "bad.png"), "{empty}": str(tmp_path / "empty.png"), "{tmp}": str(tmp_path)}
    argv = [a for a in args]
    for k, v in subst.items():
        argv = [a.replace(k, v) for a in argv]
    rc, _, err = _main(capsys, *argv[:1], "--model", model, *argv[1:])
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and all(w in lines[0] for w in words), err


def test_user_errors_are_one_line_as_a_process(tiny_model, tmp_path):
    (tmp_path / "g.npy").write_text("hello")
    assert_user_error(run("render3d", "--voxels", tmp_path / "g.npy", "--out", tmp_path / "x.png", check=False),
                      "not a .npy")
    assert_user_error(run("sample3d", "--model", tiny_model, "--seed", 1, "--out", tmp_path / "x.npy", check=False),
                      "not a 3D voxel model")
    assert_user_error(run("train3d", "--out", tmp_path / "m.safetensors", "--steps", 1, "--arch-config", "{x",
                          check=False), "--arch-config")
