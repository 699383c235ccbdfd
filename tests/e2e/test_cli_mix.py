"""`gan-studio mix` end to end: the PNG figure, the .npy of mixes, and one-line user errors."""
from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import make_tiny_bundle
from tests.e2e.test_cli import assert_user_error, run
from tests.engine.test_stylegan import make_tiny_style_bundle


@pytest.fixture(scope="module")
def style_model(tmp_path_factory):
    return make_tiny_style_bundle(tmp_path_factory.mktemp("mix") / "tiny-style.safetensors")


def test_mix_npy_none_all_and_a_preset(style_model, tmp_path):
    common = ("mix", "--model", style_model, "--rows", "1,2,3", "--cols", "4-5")
    r = run(*common, "--layers", "none", "--out", tmp_path / "none.npy")
    assert "3x2 mixes" in r.stdout
    run(*common, "--layers", "all", "--out", tmp_path / "all.npy")
    run(*common, "--layers", "coarse", "--truncation", "0.7", "--cutoff", "4", "--out", tmp_path / "c.npy")
    run("sample", "--model", style_model, "--seed", 1, "--n", 5, "--out", tmp_path / "s.npy")
    none, every, coarse, s = (np.load(tmp_path / f) for f in ("none.npy", "all.npy", "c.npy", "s.npy"))
    assert none.dtype == np.float32 and none.shape == (3, 2, 1, 32, 32)
    for j in range(2):
        assert np.abs(none[:, j] - s[:3]).max() <= 1e-5            # layers none: the row source's image
    for i in range(3):
        assert np.abs(every[i] - s[3:5]).max() <= 1e-5             # layers all: the column source's image
    assert coarse.min() >= -1 and coarse.max() <= 1 and np.abs(coarse - none).max() > 1e-3


def test_mix_png_has_the_source_row_and_column(style_model, tmp_path):
    from PIL import Image
    run("mix", "--model", style_model, "--rows", "1,2,3", "--cols", "4,5,6,7", "--layers", "0-2,6",
        "--noise", "none", "--scale", "2", "--out", tmp_path / "grid.png")
    im = Image.open(tmp_path / "grid.png")
    assert im.size == (2 * (5 * 34 + 2), 2 * (4 * 34 + 2))           # (cols + 1) x (rows + 1) tiles of 32 + 2 px
    assert np.asarray(im)[4:68, 4:68].min() == 255                    # the blank top-left tile


@pytest.mark.parametrize("extra, words", [
    (("--layers", "9"), ("layer 9", "0-7")),
    (("--layers", "medium"), ("bad --layers",)),
    (("--layers", "fine", "--cutoff", "12"), ("--cutoff",)),
    (("--layers", "all", "--rows", "x"), ("bad seed list",)),
    (("--layers", "all", "--out", "grid.gif"), ("--out must end in .png or .npy",)),
])
def test_mix_user_errors(style_model, tmp_path, extra, words):
    args = {"--rows": "1,2", "--cols": "3", "--out": str(tmp_path / "m.npy")}
    flags = list(extra)
    for k in [a for a in flags[::2]]:
        args.pop(k, None)
    argv = ["mix", "--model", style_model] + [x for kv in args.items() for x in kv] + flags
    assert_user_error(run(*argv, check=False), *words)


def test_mix_on_a_single_ws_generator(tmp_path):
    dc = make_tiny_bundle(tmp_path / "dc.safetensors")
    assert_user_error(run("mix", "--model", dc, "--rows", "1", "--cols", "2", "--layers", "coarse",
                          "--out", tmp_path / "m.npy", check=False), "all or nothing")
    run("mix", "--model", dc, "--rows", "1", "--cols", "2", "--layers", "all", "--out", tmp_path / "m.npy")
    assert np.load(tmp_path / "m.npy").shape == (1, 1, 1, 28, 28)
