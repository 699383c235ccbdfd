"""Issue 25 from the command line: `arithmetic` (its saved direction and latent round-trip through `sample`) and
`sample --guide-class` (a guided grid; one-line refusals). Run in this process (`cli`) to stay fast."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.latent.guide import class_log_probs, load_classifier
from tests.conftest import RESOURCES, make_tiny_bundle
from tests.e2e.test_cli_hardening import assert_one_line, cli

WGAN = RESOURCES / "mnist-wgan-gp.safetensors"


def test_arithmetic_direction_and_latent_round_trip_into_sample(tmp_path, capsys):
    d, lat, fig = tmp_path / "d.safetensors", tmp_path / "r.npy", tmp_path / "fig.png"
    code, out, err = cli(capsys, "arithmetic", "--model", WGAN, "--a", "1,2,3", "--b", "4-5", "--c", "6", "--out",
                         fig, "--save-direction", d, "--save-latent", lat)
    assert code == 0, err
    length = out.split("--shift 0:")[1].split(")")[0]
    assert Image.open(fig).size == (7 * 34 + 2, 4 * 34 + 2)            # 3 sample rows + the means row, 7 columns
    assert cli(capsys, "sample", "--model", WGAN, "--z", lat, "--out", tmp_path / "a.npy")[0] == 0
    assert cli(capsys, "sample", "--model", WGAN, "--seed", 6, "--directions", d, "--shift", f"0:{length}",
               "--out", tmp_path / "b.npy")[0] == 0
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert np.abs(a - b).max() < 1e-4                 # seed 6 (= mean C) shifted by A − B is the result
    assert cli(capsys, "arithmetic", "--model", WGAN, "--a", "1,2,3", "--b", "4-5", "--c", "6", "--out",
               tmp_path / "r.png", "--result-only")[0] == 0
    r = np.asarray(Image.open(tmp_path / "r.png").convert("L"))[2:-2, 2:-2].astype(int)
    assert np.abs(r - ((a[0, 0] + 1) * 127.5).round()).max() <= 1


def test_arithmetic_errors_are_one_line(tmp_path, capsys):
    base = ("arithmetic", "--model", WGAN, "--a", "1", "--b", "2", "--c", "3")
    assert_one_line(*cli(capsys, *base, "--space", "w", "--out", tmp_path / "x.png")[::2], "no w space")
    assert_one_line(*cli(capsys, *base, "--out", tmp_path / "x.jpg")[::2], ".png")
    bad = ("arithmetic", "--model", WGAN, "--a", "1,x", "--b", "2", "--c", "3", "--out", tmp_path / "x.png")
    assert_one_line(*cli(capsys, *bad)[::2], "bad seed list")


def test_sample_guide_class_grid_and_refusals(tmp_path, capsys):
    out = tmp_path / "g.npy"
    code, _, err = cli(capsys, "sample", "--model", WGAN, "--guide-class", 3, "--guide-steps", 30, "--seed", 0,
                       "--n", 4, "--out", out)
    assert code == 0 and "class 3 in 30 steps" in err, err
    G = load_bundle(WGAN).generator().eval()
    p = class_log_probs(load_classifier(G), torch.from_numpy(np.load(out)))[:, 3].exp()
    assert (p > 0.5).all(), p
    short = ("sample", "--model", WGAN, "--guide-class", 8, "--guide-steps", 10)      # a seed's chain: its own,
    assert cli(capsys, *short, "--seed", 2, "--n", 3, "--out", tmp_path / "three.npy")[0] == 0   # whatever the batch
    assert cli(capsys, *short, "--seed", 3, "--out", tmp_path / "one.npy")[0] == 0
    assert np.abs(np.load(tmp_path / "three.npy")[1] - np.load(tmp_path / "one.npy")[0]).max() < 1e-5
    common = ("sample", "--model", WGAN, "--seed", 0, "--out", tmp_path / "x.png")
    assert_one_line(*cli(capsys, *common, "--guide-class", 10)[::2], "class 10 is out of range")
    assert_one_line(*cli(capsys, *common, "--guide-class", 1, "--guide-classifier", WGAN)[::2],
                    "holds no LeNet classifier")
    assert_one_line(*cli(capsys, *common, "--guide-space", "z")[::2], "--guide-space needs --guide-class")
    assert_one_line(*cli(capsys, *common, "--guide-class", 1, "--drs")[::2], "--guide-class makes its own")
    rgb = make_tiny_bundle(tmp_path / "rgb.safetensors", channels=3, resolution=32)
    assert_one_line(*cli(capsys, "sample", "--model", rgb, "--seed", 0, "--guide-class", 1, "--out",
                         tmp_path / "x.png")[::2], "no classifier for this model's 3x32x32 images")

