"""The 3D commands' style and refinement options: render3d --style, reconstruct --refine, eval3d --style /
--refine / --objects, and their one-line errors."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.e2e.test_cli import assert_user_error, run
from tests.e2e.test_cli3d import _main, toy_model  # noqa: F401  (the module's fixture)


def _grid(tmp_path):
    grid = np.zeros((32, 32, 32), bool)
    grid[6:26, 10:22, 0:14] = True
    np.save(tmp_path / "g.npy", grid)
    return tmp_path / "g.npy"


def test_render3d_draws_each_style(tmp_path, capsys):
    px = {}
    for style in ("shaded", "lines", "silhouette"):
        rc, out, _ = _main(capsys, "render3d", "--voxels", _grid(tmp_path), "--out", tmp_path / f"{style}.png",
                           "--style", style)
        assert rc == 0 and "wrote" in out
        px[style] = np.asarray(Image.open(tmp_path / f"{style}.png").convert("L"))
    sil, lines, shaded = px["silhouette"] > 0, px["lines"] > 0, px["shaded"] > 0
    assert set(np.unique(px["silhouette"])) == {0, 255} and np.array_equal(sil, shaded)
    assert lines.sum() < 0.4 * sil.sum() and not (lines & ~sil).any()


def test_reconstruct_refines_a_line_drawing(toy_model, tmp_path, capsys):  # noqa: F811
    model, _ = toy_model
    _main(capsys, "render3d", "--voxels", _grid(tmp_path), "--out", tmp_path / "l.png", "--style", "lines")
    rc, out, _ = _main(capsys, "reconstruct", "--model", model, "--image", tmp_path / "l.png", "--out",
                       tmp_path / "r.npy", "--refine", 2, "--probabilities", "--json")
    info = json.loads(out)
    assert rc == 0 and info["refine"] == 2 and np.load(tmp_path / "r.npy").shape == (32, 32, 32)
    rc, out, _ = _main(capsys, "reconstruct", "--model", model, "--image", tmp_path / "l.png", "--out",
                       tmp_path / "r0.npy", "--probabilities", "--json")
    assert json.loads(out)["refine"] == 0 and not np.array_equal(np.load(tmp_path / "r0.npy"),
                                                                 np.load(tmp_path / "r.npy"))


def test_eval3d_scores_a_style_refined_on_a_spread_subset_and_stores_it(toy_model, tmp_path, capsys):  # noqa: F811
    import shutil

    from gan_studio.engine.bundle import read_metadata
    model, data = toy_model
    mine = tmp_path / "m.safetensors"
    shutil.copy(model, mine)
    rc, out, _ = _main(capsys, "eval3d", "--model", mine, "--data", data, "--style", "silhouette", "--refine", 1,
                       "--objects", 4, "--n-random", 0, "--json", "--write")
    r = json.loads(out)
    assert rc == 0 and r["style"] == "silhouette" and r["refine_steps"] == 1 and r["n"] == 4
    assert r["threshold_source"] == "given" and r["ms_per_object"] > 0
    meta = read_metadata(mine)
    assert "iou_test_silhouette_refine1_n4" in meta["metrics"] and "iou_test" not in meta["metrics"]


@pytest.mark.parametrize("args, words", [
    (["eval3d", "--data", "{data}", "--refine", "-1", "--n-random", "0"], ["--refine"]),
    (["eval3d", "--data", "{data}", "--objects", "0", "--n-random", "0"], ["--objects"]),
    (["eval3d", "--data", "{data}", "--style", "pencil", "--n-random", "0"], ["--style", "pencil"]),
    (["reconstruct", "--image", "{tmp}/x.png", "--out", "{tmp}/r.npy", "--refine", "5000"], ["--refine", "1000"]),
])
def test_bad_option_values_are_one_line(toy_model, tmp_path, args, words):  # noqa: F811
    model, data = toy_model
    Image.new("L", (8, 8)).save(tmp_path / "x.png")
    argv = [a.replace("{data}", str(data)).replace("{tmp}", str(tmp_path)) for a in args]
    assert_user_error(run(argv[0], "--model", model, *argv[1:], check=False), *words)
