"""`gan-studio` end to end, as a user runs it: the shipped model, seeds, files, and clean user errors."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.conftest import ROOT, make_tiny_bundle, shipped_image_shape


def run(*args, check=True, timeout=300):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    r = subprocess.run([sys.executable, "-m", "gan_studio.cli.main", *map(str, args)], capture_output=True,
                       text=True, timeout=timeout, cwd=ROOT, env=env)
    if check and r.returncode != 0:
        raise AssertionError(f"gan-studio {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stderr}")
    return r


def assert_user_error(r, *words):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_models_lists_the_shipped_generator(shipped_model):
    entries = json.loads(run("models", "--json").stdout)
    mine = [e for e in entries if e["path"] == str(shipped_model)]
    assert mine and set(mine[0]) == {"name", "path", "arch", "kind", "z_dim", "image_shape"}
    assert mine[0]["kind"] == "image-generator" and mine[0]["image_shape"] == list(shipped_image_shape())
    assert all(e["kind"] != "classifier" for e in entries)


def test_sample_npy_seeds_match_across_n_and_z_file(shipped_model, tmp_path):
    run("sample", "--model", shipped_model, "--seed", 40, "--n", 5, "--out", tmp_path / "a.npy")
    run("sample", "--model", shipped_model, "--seed", 42, "--n", 1, "--out", tmp_path / "b.npy")
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.dtype == np.float32 and a.shape == (5, *shipped_image_shape()) and a.min() >= -1 and a.max() <= 1
    assert np.abs(a[2] - b[0]).max() <= 1e-5
    z = torch.cat([torch.randn(1, 64, generator=torch.Generator("cpu").manual_seed(s)) for s in (40, 44)])
    np.save(tmp_path / "z.npy", z.numpy())
    run("sample", "--model", shipped_model, "--z", tmp_path / "z.npy", "--out", tmp_path / "c.npy")
    c = np.load(tmp_path / "c.npy")
    assert np.abs(c[0] - a[0]).max() <= 1e-5 and np.abs(c[1] - a[4]).max() <= 1e-5
    assert np.abs(a[0] - a[1]).max() > 0.1


def test_sample_png_grid_and_truncation(shipped_model, tmp_path):
    from PIL import Image
    run("sample", "--model", shipped_model, "--seed", 0, "--n", 16, "--out", tmp_path / "g.png", "--scale", 2)
    im = Image.open(tmp_path / "g.png")
    size = shipped_image_shape()[1]
    assert im.size == (2 * (4 * (size + 2) + 2),) * 2           # 4 x 4 cells, 2 px gaps
    run("sample", "--model", "mnist-wgan-gp", "--seed", 0, "--n", 3, "--truncation", 0,
        "--out", tmp_path / "t.npy")
    t = np.load(tmp_path / "t.npy")
    assert np.abs(t - t[:1]).max() == 0


def test_info_shows_provenance_and_metrics(shipped_model):
    meta = json.loads(run("info", "--model", shipped_model, "--json").stdout)
    assert meta["arch"] == "dcgan" and meta["training"]["loss"] == "wgan-gp"
    assert meta["training"]["command"].startswith("gan-studio train")
    test = meta["metrics"]["test"]                 # measured by `gan-studio evaluate` on the MNIST test split
    assert test["n"] == 10000 and test["features"] == "lenet-mnist" and test["split"] == "test"
    assert 0 < test["precision"] <= 1 and 0 < test["recall"] <= 1 and test["fid"] > 0
    assert "MNIST" in meta["license"]


def test_evaluate_json(shipped_model, mnist_dir):
    r = run("evaluate", "--model", shipped_model, "--data", mnist_dir, "--n", 500, "--json")
    res = json.loads(r.stdout)
    assert {"fid", "precision", "recall", "features", "n"} <= set(res)
    assert res["n"] == 500 and res["features"] == "lenet-mnist" and 0 <= res["precision"] <= 1
    assert res["fid"] < 200


def test_train_then_resume(tiny_dataset, tmp_path):
    out = tmp_path / "m.safetensors"
    args = ["train", "--loss", "wgan-gp", "--data", tiny_dataset, "--batch", 16, "--out", out,
            "--arch-config", '{"width": 8, "z_dim": 16}', "--threads", 1, "--quiet"]
    run(*args, "--steps", 2)
    run(*args, "--steps", 4, "--resume")
    meta = json.loads(run("info", "--model", out, "--json").stdout)
    assert meta["training"]["step"] == 4 and "--resume" in meta["training"]["command"]
    assert_user_error(run(*args, "--steps", 6, check=False), "--resume")


@pytest.mark.parametrize("args,words", [
    (["sample", "--model", "no-such-model", "--seed", 1, "--out", "x.png"], ["no-such-model"]),
    (["sample", "--model", "{tiny}", "--out", "{tmp}/x.png"], ["--seed"]),
    (["sample", "--model", "{tiny}", "--seed", 1, "--out", "{tmp}/x.jpg"], [".png or .npy"]),
    (["sample", "--model", "{tiny}", "--seed", -4, "--out", "{tmp}/x.png"], ["seed"]),
    (["sample", "--model", "{tiny}", "--z", "{tmp}/bad_z.npy", "--out", "{tmp}/x.png"], ["(N, 16)"]),
    (["sample", "--model", "{evil}", "--seed", 1, "--out", "{tmp}/x.png"], ["evil.pt"]),
    (["sample", "--model", "{tiny}", "--seed", 1, "--out", "{tmp}/x.png", "--device", "tpu"], ["device"]),
    (["info", "--model", "{junk}"], ["junk.safetensors"]),
    (["train", "--loss", "nope", "--data", "{tmp}", "--steps", 1, "--out", "{tmp}/m.safetensors"], ["nope"]),
    (["train", "--loss", "ns", "--data", "{tmp}/missing", "--steps", 1, "--out", "{tmp}/m.safetensors"],
     ["does not exist"]),
    (["evaluate", "--model", "{tiny}", "--data", "{tmp}/missing"], ["does not exist"]),
    (["train", "--loss", "ns", "--data", "{tmp}", "--steps", 1, "--out", "{tmp}/m.safetensors", "--options", "{{x"],
     ["--options"]),
    (["train", "--loss", "ns", "--data", "{tmp}", "--steps", 1, "--out", "{tmp}/m.safetensors", "--options", "[1]"],
     ["JSON object"]),
])
def test_user_errors_are_one_line(tmp_path, args, words):
    tiny = make_tiny_bundle(tmp_path / "tiny.safetensors")
    np.save(tmp_path / "bad_z.npy", np.zeros((2, 3), np.float32))
    (tmp_path / "junk.safetensors").write_bytes(os.urandom(1000))
    marker = tmp_path / "PWNED"
    (tmp_path / "evil.pt").write_bytes(
        b"\x80\x02cbuiltins\nexec\nq\x00X" + len(f"open('{marker}','w')").to_bytes(4, "little")
        + f"open('{marker}','w')".encode() + b"q\x01\x85q\x02Rq\x03.")
    fmt = {"tiny": tiny, "tmp": tmp_path, "evil": tmp_path / "evil.pt", "junk": tmp_path / "junk.safetensors"}
    argv = [str(a).format(**fmt) if isinstance(a, str) else a for a in args]
    assert_user_error(run(*argv, check=False), *words)
    assert not marker.exists()


def test_walk_frames_match_sample_at_keyframes(shipped_model, tmp_path):
    run("walk", "--model", shipped_model, "--seeds", "3,9,4", "--frames", 12, "--out", tmp_path / "w.npy")
    run("sample", "--model", shipped_model, "--seed", 3, "--n", 1, "--out", tmp_path / "first.npy")
    run("sample", "--model", shipped_model, "--seed", 4, "--n", 1, "--out", tmp_path / "last.npy")
    w = np.load(tmp_path / "w.npy")
    assert w.shape == (12, *shipped_image_shape()) and w.dtype == np.float32
    assert np.abs(w[0] - np.load(tmp_path / "first.npy")[0]).max() <= 1e-5
    assert np.abs(w[-1] - np.load(tmp_path / "last.npy")[0]).max() <= 1e-5
    run("walk", "--model", shipped_model, "--seeds", "3,9,4", "--frames", 12, "--loop", "--out",
        tmp_path / "loop.npy")
    lp = np.load(tmp_path / "loop.npy")
    assert np.abs(lp[0] - w[0]).max() <= 1e-5 and np.abs(lp[-1] - w[-1]).max() > 1e-3


def test_walk_gif_and_mp4(shipped_model, tmp_path):
    import imageio.v3 as iio
    run("walk", "--model", shipped_model, "--seeds", "1,2", "--frames", 8, "--out", tmp_path / "w.gif",
        "--scale", 2, "--fps", 12)
    run("walk", "--model", shipped_model, "--seeds", "1", "--random-loop", "noise", "--frames", 8,
        "--out", tmp_path / "w.mp4", "--scale", 3)
    size = shipped_image_shape()[1]
    assert iio.imread(tmp_path / "w.gif").shape[:3] == (8, 2 * size, 2 * size)
    assert iio.imread(tmp_path / "w.mp4").shape[:3] == (8, 3 * size, 3 * size)
    assert_user_error(run("walk", "--model", shipped_model, "--seeds", "1", "--frames", 8,
                          "--out", tmp_path / "x.gif", check=False), "two keyframes")
