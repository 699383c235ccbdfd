"""`gan-studio neighbours` and `gan-studio memorisation` end to end: a TorchScript "generator" that returns training
images with a little noise is flagged (loaded with --trust-code, like any user's scripted model), the shipped
generator is not, and bad inputs are one-line errors."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

from tests.conftest import SHIPPED_MNIST, make_tiny_bundle
from tests.e2e.test_cli import assert_user_error, run
from tests.engine.test_memorisation import blobs


class Copier(torch.nn.Module):
    """z -> training image (sum |z| * 1000) mod N, plus Gaussian noise: a model that memorised its data."""

    def __init__(self, images: torch.Tensor, noise: float = 0.05, z_dim: int = 8):
        super().__init__()
        self.register_buffer("images", images.float() / 127.5 - 1)
        self.noise = noise
        self.z_dim = z_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        idx = (z.abs().sum(1) * 1000).long() % self.images.shape[0]
        x = self.images[idx]
        return (x + self.noise * torch.randn_like(x)).clamp(-1, 1)


@pytest.fixture(scope="module")
def blob_files(tmp_path_factory):
    """train.npz (1500 blob images), test.npz (500 others) and copier.pt, a TorchScript copier of train.npz."""
    d = tmp_path_factory.mktemp("memo")
    train = blobs(1500, 0)
    np.savez(d / "train.npz", images=train[:, 0])
    np.savez(d / "test.npz", images=blobs(500, 1)[:, 0])
    with warnings.catch_warnings():               # torch.jit is deprecated; users' scripted models still exist
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(Copier(torch.from_numpy(train))).save(str(d / "copier.pt"))
    return d


def test_a_scripted_copier_is_memorised(blob_files):
    d = blob_files
    r = run("memorisation", "--model", d / "copier.pt", "--trust-code", "--data", d / "train.npz",
            "--test", d / "test.npz", "--n", 200, "--json")
    res = json.loads(r.stdout)
    assert res["verdict"] == "memorised" and res["memorised_fraction"] > 0.9 and res["n"] == 200
    assert set(res["spaces"]) == {"features", "pixels"} and res["n_train"] == 1500 and res["n_test"] == 500
    assert res["model"] == "copier" and r.stderr.strip() == ""
    text = run("memorisation", "--model", d / "copier.pt", "--trust-code", "--data", d / "train.npz",
               "--test", d / "test.npz", "--n", 100, "--space", "pixels").stdout
    assert "verdict: memorised" in text and "pixels" in text and "features " not in text


def test_neighbours_of_a_copier_are_the_copied_images(blob_files, tmp_path):
    d = blob_files
    z = torch.randn(3, 8, generator=torch.Generator().manual_seed(0))
    np.save(tmp_path / "z.npy", z.numpy())
    r = run("neighbours", "--model", d / "copier.pt", "--trust-code", "--z", tmp_path / "z.npy",
            "--data", d / "train.npz", "--k", 3, "--space", "pixels", "--json", "--out", tmp_path / "nb.png")
    res = json.loads(r.stdout)
    copied = ((z.abs().sum(1) * 1000).long() % 1500).tolist()
    assert [s["latent"] for s in res["samples"]] == [0, 1, 2] and res["k"] == 3 and res["space"] == "pixels"
    assert [s["neighbours"][0]["index"] for s in res["samples"]] == copied
    assert all(s["neighbours"][0]["distance"] < 0.06 < s["neighbours"][1]["distance"] for s in res["samples"])
    from PIL import Image
    im = Image.open(tmp_path / "nb.png")
    assert im.mode == "RGB" and im.width > 4 * 56 and im.height > 3 * 56


def test_neighbours_png_and_text_of_a_tiny_model(tiny_model, tiny_dataset, tmp_path):
    r = run("neighbours", "--model", tiny_model, "--seed", 5, "--n", 2, "--data", tiny_dataset, "--k", 2,
            "--out", tmp_path / "n.png")
    lines = r.stdout.splitlines()
    assert lines[0].startswith("2 nearest training images in features space") and lines[1].startswith("  seed 5: #")
    assert lines[2].startswith("  seed 6: #") and (tmp_path / "n.png").stat().st_size > 0


def test_the_shipped_generator_is_ok_on_mnist(mnist_dir, shipped_model):
    r = run("memorisation", "--model", shipped_model, "--data", mnist_dir, "--train-n", 3000, "--test-n", 1000,
            "--n", 300, "--json")
    res = json.loads(r.stdout)
    assert res["verdict"] == "ok" and res["memorised_fraction"] < 0.05 and res["n"] == 300
    assert res["n_test"] == 1000 and res["test"].endswith("t10k-images-idx3-ubyte.gz")
    assert 0 < res["mifid_distance"] and res["features"] == "lenet-mnist"
    seeds = [c["seed"] for c in res["spaces"]["features"]["closest"]]
    assert all(0 <= s < 300 for s in seeds)


def test_bad_inputs_are_one_line_errors(tmp_path, tiny_dataset, blob_files):
    rgb = make_tiny_bundle(tmp_path / "rgb.safetensors", channels=3)
    base = ("--model", SHIPPED_MNIST)
    assert_user_error(run("neighbours", *base, "--seed", 0, "--data", tmp_path / "missing", check=False),
                      "does not exist")
    assert_user_error(run("neighbours", "--model", rgb, "--seed", 0, "--data", tiny_dataset, check=False),
                      "1-channel", "3x28x28")
    assert_user_error(run("neighbours", *base, "--seed", 0, "--data", tiny_dataset, "--k", 0, check=False),
                      "--k must be at least 1")
    assert_user_error(run("neighbours", *base, "--seed", 0, "--data", tiny_dataset, "--out", tmp_path / "x.gif",
                          check=False), "--out must end in .png")
    assert_user_error(run("memorisation", *base, "--data", tiny_dataset, "--n", 50, check=False), "no test split")
    d = blob_files
    assert_user_error(run("memorisation", "--model", d / "copier.pt", "--data", d / "train.npz", check=False),
                      "--trust-code")


def test_neighbours_of_a_ws_latent_match_those_of_its_seed(tiny_model, tiny_dataset, tmp_path):
    """`--z` takes ws too (a w / w+ projection from `gan-studio project`): the neighbours of seed 5's ws are seed
    5's neighbours."""
    from gan_studio.engine.bundle import load_bundle
    from gan_studio.engine.latent.sampling import seeds_latents
    G = load_bundle(tiny_model).generator()
    ws = G.mapping(seeds_latents([5], G.z_dim)).detach().numpy()
    assert ws.ndim == 3
    np.save(tmp_path / "ws.npy", ws)
    by_seed = json.loads(run("neighbours", "--model", tiny_model, "--seed", 5, "--data", tiny_dataset, "--k", 3,
                             "--space", "pixels", "--json").stdout)
    by_ws = json.loads(run("neighbours", "--model", tiny_model, "--z", tmp_path / "ws.npy", "--data", tiny_dataset,
                           "--k", 3, "--space", "pixels", "--json").stdout)
    def idx(out):
        return [[n["index"] for n in s["neighbours"]] for s in out["samples"]]
    assert idx(by_seed) == idx(by_ws) and len(idx(by_ws)[0]) == 3
