"""`gan-studio paint` end to end: strokes file -> grid + latents that `sample --z` renders; one-line errors."""
from __future__ import annotations

import json

import numpy as np
import torch
from PIL import Image

from gan_studio.engine.imaging import to_uint8
from tests.conftest import RESOURCES
from tests.e2e.test_cli import assert_user_error, run

WGAN = RESOURCES / "mnist-wgan-gp.safetensors"


def _strokes(path, size=32):
    a = np.zeros((size, size, 4), np.uint8)
    a[8:24, 15:17] = (255, 255, 255, 255)                      # ink: a vertical bar
    a[8:24, 6:8] = a[8:24, 24:26] = (0, 0, 0, 255)             # no ink either side
    Image.fromarray(a, "RGBA").save(path)
    return path, a


def _tiles(png, n: int, size: int = 32) -> list[np.ndarray]:
    a = np.asarray(Image.open(png).convert("L"))
    assert a.shape == (size + 4, n * (size + 2) + 2)
    return [a[2:2 + size, 2 + i * (size + 2):2 + i * (size + 2) + size] for i in range(n)]


def test_paint_round_trip_through_sample(tmp_path):
    s, a = _strokes(tmp_path / "s.png")
    r = run("paint", "--model", WGAN, "--strokes", s, "--n", 2, "--starts", 4, "--steps", 30, "--out",
            tmp_path / "g.png", "--latents", tmp_path / "c.npy", "--scale", 1, "--json")
    summary = json.loads(r.stdout)
    assert summary["space"] == "z" and len(summary["losses"]) == 2 and r.stderr == ""
    lat = np.load(tmp_path / "c.npy")
    assert lat.dtype == np.float32 and lat.shape == (2, 64)
    strokes, *cands = _tiles(tmp_path / "g.png", 3)
    assert strokes[10, 15] == 255 and strokes[10, 6] == 0 and strokes[0, 0] in (127, 128)
    ink, dark = a[..., 3] > 0, (a[..., 3] > 0) & (a[..., 0] == 0)
    for c in cands:
        assert c[ink & ~dark].mean() > 150 and c[dark].mean() < 60     # the candidates obey the strokes
    run("sample", "--model", WGAN, "--z", tmp_path / "c.npy", "--out", tmp_path / "s.npy")
    img = to_uint8(torch.from_numpy(np.load(tmp_path / "s.npy")))[..., 0]
    for k in range(2):
        assert np.abs(img[k].astype(int) - cands[k].astype(int)).max() <= 1
    one = tmp_path / "one.npy"
    np.save(one, lat[:1])
    r = run("paint", "--model", WGAN, "--strokes", s, "--start", one, "--n", 1, "--starts", 2, "--steps", 5,
            "--out", tmp_path / "e.png", "--scale", 1)
    assert len(_tiles(tmp_path / "e.png", 3)) == 3 and "wrote" in r.stdout     # strokes, start, candidate


def test_paint_errors_are_one_line(tmp_path):
    s, a = _strokes(tmp_path / "s.png")
    Image.fromarray(a[..., :3], "RGB").save(tmp_path / "rgb.png")
    out = ("--out", tmp_path / "g.png")
    assert_user_error(run("paint", "--model", WGAN, "--strokes", tmp_path / "rgb.png", *out, check=False),
                      "transparency")
    assert_user_error(run("paint", "--model", WGAN, "--strokes", tmp_path / "nope.png", *out, check=False),
                      "no such file")
    assert_user_error(run("paint", "--model", WGAN, "--strokes", s, "--out", tmp_path / "g.jpg", check=False),
                      "--out")
    np.save(tmp_path / "two.npy", np.zeros((2, 64), np.float32))
    assert_user_error(run("paint", "--model", WGAN, "--strokes", s, "--start", tmp_path / "two.npy", *out,
                          check=False), "one latent")
    assert_user_error(run("paint", "--model", WGAN, "--strokes", s, "--n", 8, "--starts", 4, *out, check=False),
                      "--starts")
