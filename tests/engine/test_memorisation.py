"""Nearest training images and the memorisation check (engine/metrics/memorisation.py, neighbours.py).

The check must be able to fail: a "generator" that returns training images with a little noise is flagged,
new draws from the data's distribution are not — on synthetic blob images (always) and on MNIST with the shipped
generator (when the real data is there)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_studio.engine.data import ImageDataset, load_images
from gan_studio.engine.errors import UserError
from gan_studio.engine.metrics import neighbours as nbm
from gan_studio.engine.metrics.memorisation import (
    MEMORISED_ABOVE,
    memorisation,
    memorisation_summary,
    nearest_training_images,
)
from gan_studio.engine.models.base import ImageGenerator
from tests.conftest import SHIPPED_MNIST


def blobs(n: int, seed: int, res: int = 28, channels: int = 1) -> np.ndarray:
    """(n, C, res, res) uint8: three soft blobs of random place, size and brightness (no two alike)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:res, :res].astype(np.float32)
    out = np.zeros((n, channels, res, res), np.float32)
    for _ in range(3):
        cy, cx = rng.uniform(4, res - 4, (2, n, 1, 1))
        r, a = rng.uniform(1.5, 4.5, (n, 1, 1)), rng.uniform(0.4, 1.0, (n, channels, 1, 1))
        out += a * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))[:, None]
    return (255 * np.clip(out, 0, 1)).round().astype(np.uint8)


def dataset(images: np.ndarray, name: str = "blobs") -> ImageDataset:
    return ImageDataset(torch.from_numpy(images), None, name, "test", {"path": name})


@pytest.fixture(scope="module")
def blob_data():
    return dataset(blobs(1500, 0), "train"), dataset(blobs(500, 1), "test")


class ImagesGenerator(ImageGenerator):
    """A 'generator' that returns image (sum |z| * 1000) mod N of a fixed stack, plus Gaussian noise of std
    `noise`: a model that memorised its training set."""

    def __init__(self, images: torch.Tensor, noise: float = 0.05, z_dim: int = 8):
        super().__init__()
        self.register_buffer("images", images.float() / 127.5 - 1)
        self.noise = noise
        self.z_dim = self.w_dim = z_dim
        self.num_ws = 1
        self.img_channels, self.img_resolution = images.shape[1], images.shape[-1]

    def synthesis(self, ws, noise_mode="const"):
        idx = (ws[:, 0].abs().sum(1) * 1000).long() % self.images.shape[0]
        x = self.images[idx]
        g = torch.Generator().manual_seed(int(idx.sum()))
        return (x + self.noise * torch.randn(x.shape, generator=g)).clamp(-1, 1)


def test_copies_with_noise_are_memorised_new_draws_are_not(blob_data):
    train, test = blob_data
    r = memorisation(ImagesGenerator(train.images), train, test=test, n=300)
    assert r["verdict"] == "memorised" and r["memorised_fraction"] > 0.9, memorisation_summary(r)
    assert set(r["spaces"]) == {"features", "pixels"} and r["n"] == 300 and r["n_train"] == 1500
    assert all(s["verdict"] == "memorised" for s in r["spaces"].values())
    assert r["mifid_distance"] < r["mifid_distance_test"]
    best = r["spaces"]["pixels"]["closest"][0]
    assert set(best) == {"seed", "ratio", "distance"} and best["distance"] < 0.06
    def fresh(seeds):                                           # new draws from the same distribution
        return dataset(blobs(len(seeds), 100 + seeds[0])).as_float()
    ok = memorisation(fresh, train, test=test, n=300, seed=10)
    assert ok["verdict"] == "ok" and ok["memorised_fraction"] < MEMORISED_ABOVE, memorisation_summary(ok)
    assert ok["seed"] == 10 and ok["spaces"]["pixels"]["closest"][0]["seed"] >= 10


def test_the_fraction_measures_how_much_is_copied(blob_data):
    train, test = blob_data
    fresh = dataset(blobs(200, 3)).as_float()
    noisy = (train.as_float(index=torch.arange(200) * 3) + 0.05 * torch.randn(200, 1, 28, 28)).clamp(-1, 1)
    half = torch.cat([fresh[:100], noisy[:100]])
    r = memorisation(half, train, test=test, n=200, spaces=("pixels",))
    assert r["verdict"] == "memorised" and 0.4 <= r["memorised_fraction"] <= 0.6
    assert r["seed"] is None and "sample" in r["spaces"]["pixels"]["closest"][0]
    assert set(r["spaces"]) == {"pixels"} and "mifid_distance" not in r


def test_nearest_training_images_finds_the_copies(blob_data):
    train, _ = blob_data
    idx = torch.tensor([5, 700, 1499])
    q = train.as_float(index=idx)
    for space in ("pixels", "features"):
        nb = nearest_training_images(q, train, k=4, space=space)
        assert nb.indices.shape == (3, 4) and nb.distances.shape == (3, 4)
        assert torch.equal(nb.indices[:, 0], idx) and nb.distances[:, 0].max() < 1e-2
        assert (nb.distances.diff(dim=1) >= 0).all() and nb.space == space
    assert nb.features == "lenet-mnist" and nb.images(q.shape[1:]).shape == (3, 4, 1, 28, 28)
    nb = nearest_training_images(q[:1] * 0 + 1, train, k=1, space="pixels", n_train=100)   # all white
    brute = ((train.as_float(index=slice(0, 100)) - 1) ** 2).mean((1, 2, 3)).sqrt()
    assert nb.indices[0, 0] < 100 and abs(nb.distances[0, 0].item() - brute.min().item()) < 1e-4


def test_streaming_top_k_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    q, ref = torch.randn(300, 20, generator=g), torch.randn(2000, 20, generator=g)
    top = nbm.TopK(q, 7)
    for a in range(0, 2000, 300):                          # uneven chunks
        top.update(ref[a:a + 300], a)
    d, i = top.result()
    bd, bi = torch.cdist(q.double(), ref.double()).topk(7, largest=False)
    assert torch.equal(i, bi) and torch.allclose(d, bd, atol=1e-4)


def test_rgb_and_large_images_in_pixel_space(monkeypatch):
    train = dataset(blobs(300, 4, res=96, channels=3))
    q = train.as_float(index=torch.tensor([3]))
    nb = nearest_training_images(q, train, k=2, space="pixels")
    assert nb.indices[0, 0] == 3 and "64x64" in nb.metric
    assert nbm.pixel_space((3, 96, 96)).embed(q).shape == (1, 3 * 64 * 64)
    monkeypatch.delenv(nbm.ENV_VAR, raising=False)
    with pytest.raises(UserError, match="no feature network for 3-channel"):
        nearest_training_images(q, train, k=2, space="features")
    r = memorisation(train.as_float(index=slice(0, 40)), train, test=dataset(blobs(120, 5, 96, 3)), n=40)
    assert set(r["spaces"]) == {"pixels"} and r["verdict"] == "memorised" and "notes" in r


def test_bad_inputs_are_one_line_user_errors(blob_data, tmp_path):
    train, test = blob_data
    q, q30 = train.as_float(index=slice(0, 2)), train.as_float(index=slice(0, 30))
    for k in (0, -1, 1.5):
        with pytest.raises(UserError, match="k must be"):
            nearest_training_images(q, train, k=k)
    with pytest.raises(UserError, match="3x28x28 images"):
        nearest_training_images(q.expand(-1, 3, -1, -1), train, k=1)
    with pytest.raises(UserError, match="has 10 images"):
        nearest_training_images(q, train, k=11, n_train=10)
    with pytest.raises(UserError, match="does not exist"):
        nearest_training_images(q, tmp_path / "nowhere", k=1)
    with pytest.raises(UserError, match="no test split"):
        memorisation(q30, train, n=30)
    np.savez(tmp_path / "t.npz", images=blobs(100, 0)[:, 0])
    with pytest.raises(UserError, match="is the training data"):
        memorisation(q30, tmp_path / "t.npz", test=tmp_path / "t.npz", n=30)
    with pytest.raises(UserError, match="at least 100 held-out"):
        memorisation(q30, train, test=test, n=30, n_test=50)
    with pytest.raises(UserError, match="at least 20"):
        memorisation(q, train, test=test, n=2)
    with pytest.raises(UserError, match="spaces must be"):
        memorisation(q30, train, test=test, n=30, spaces=("latent",))


@pytest.fixture(scope="module")
def mnist_subset(request):
    mnist = request.getfixturevalue("mnist_dir")
    tr, te = load_images(mnist, "train"), load_images(mnist, "test")
    return (ImageDataset(tr.images[:3000], tr.labels[:3000], "mnist3000", tr.license, {"path": "mnist/train[:3000]"}),
            ImageDataset(te.images[:1000], te.labels[:1000], "mnist1000", te.license, {"path": "mnist/test[:1000]"}))


def test_the_held_out_split_comes_with_mnist_paths(mnist_dir):
    from gan_studio.engine.metrics.memorisation import held_out
    for data in (mnist_dir, mnist_dir / "train-images-idx3-ubyte.gz"):
        test = held_out(data)
        assert len(test) == 10000 and "t10k-images" in test.info["path"]


def test_shipped_generator_is_ok_and_a_copier_is_memorised_on_mnist(mnist_subset):
    from gan_studio.engine.bundle import load_bundle
    train, test = mnist_subset
    G = load_bundle(SHIPPED_MNIST).generator().eval()
    ok = memorisation(G, train, test=test, n=400)
    assert ok["verdict"] == "ok" and ok["memorised_fraction"] < MEMORISED_ABOVE, memorisation_summary(ok)
    assert ok["seed"] == 0 and ok["features"] == "lenet-mnist"
    padded = torch.nn.functional.pad(train.images, (2, 2, 2, 2))      # copies at the model's 32 px
    bad = memorisation(ImagesGenerator(padded), train, test=test, n=400)
    assert bad["verdict"] == "memorised" and bad["memorised_fraction"] > 0.9, memorisation_summary(bad)
