"""`evaluate` names its feature network and the data it was trained on, warns when that is other data, and
uses a feature network beside the data (or the one named) instead of the shipped MNIST LeNet."""
from __future__ import annotations

import struct

import numpy as np
import pytest

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.data import load_images
from gan_studio.engine.metrics.evaluate import evaluate
from gan_studio.engine.metrics.feature_source import KNOWN_FINGERPRINTS, features_beside, fingerprint
from gan_studio.engine.metrics.features import get_extractor, save_lenet
from gan_studio.engine.models import build
from tests.conftest import make_tiny_bundle

N = 20


def _idx(arr: np.ndarray) -> bytes:
    return bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape) + arr.tobytes()


def make_idx_folder(folder, seed: int = 0, n: int = 32):
    """A tiny MNIST-format folder of 'clothes' (not digits): random blocks, train and test, with labels."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for stem in ("train", "t10k"):
        imgs = np.zeros((n, 28, 28), np.uint8)
        for i in range(n):
            y, x = rng.integers(2, 14, 2)
            imgs[i, y:y + 12, x:x + 12] = rng.integers(80, 256)
        (folder / f"{stem}-images-idx3-ubyte").write_bytes(_idx(imgs))
        (folder / f"{stem}-labels-idx1-ubyte").write_bytes(_idx((np.arange(n) % 10).astype(np.uint8)))
    return folder


def write_features(path, data_folder):
    """An (untrained) LeNet recorded as trained on `data_folder`, the way `train-classifier` records it."""
    train, test = load_images(data_folder, "train"), load_images(data_folder, "test")
    fps = {"train": fingerprint(train), "test": fingerprint(test)}
    meta = {"name": "lenet-mnist",
            "dataset": {"name": train.name, "path": str(data_folder), "n": len(train), "fingerprints": fps}}
    return save_lenet(path, build("lenet", "classifier", {}).eval(), meta)


@pytest.fixture
def G(tmp_path):
    return load_bundle(make_tiny_bundle(tmp_path / "g.safetensors")).networks["generator"]


@pytest.fixture
def fashion(tmp_path):
    return make_idx_folder(tmp_path / "fashion")


def test_shipped_features_on_foreign_data_warn(G, fashion):
    r = evaluate(G, str(fashion), n=N)
    assert r["features"] == "lenet-mnist" and r["features_source"] == "shipped default"
    assert r["features_weights"].endswith("lenet-mnist.safetensors")
    assert r["features_trained_on"]["name"] == "mnist/train" and r["features_data_match"] is False
    note = r["features_note"]
    assert "mnist/train" in note and "only with each other" in note and "gan-studio train-classifier" in note
    assert "\n" not in note


def test_shipped_features_on_mnist_do_not_warn(G, mnist_dir):
    r = evaluate(G, str(mnist_dir), n=N)
    assert r["features_data_match"] is True and r["features_note"] is None
    assert r["data_fingerprint"] == KNOWN_FINGERPRINTS["mnist"]["test"]


def test_foreign_data_in_a_folder_named_mnist_still_warns(G, tmp_path):
    fake = make_idx_folder(tmp_path / "mnist")                  # called mnist, but not MNIST's images
    assert evaluate(G, str(fake), n=N)["features_data_match"] is False


def test_features_beside_the_data_are_used_and_named(G, fashion):
    beside = write_features(features_beside(fashion), fashion)
    assert beside == fashion / "features.safetensors"
    r = evaluate(G, str(fashion), n=N)
    assert r["features_source"] == "beside the data" and r["features_weights"] == str(beside)
    assert r["features_trained_on"]["name"] == "fashion/train"
    assert r["features_data_match"] is True and r["features_note"] is None


def test_explicit_features_win_over_the_ones_beside_the_data(G, fashion, tmp_path):
    write_features(features_beside(fashion), fashion)
    r = evaluate(G, str(fashion), n=N, features="lenet-mnist")
    assert r["features_source"] == "given" and r["features_weights"].endswith("lenet-mnist.safetensors")
    assert r["features_note"]
    other = write_features(tmp_path / "other.safetensors", make_idx_folder(tmp_path / "shoes", seed=1))
    r = evaluate(G, str(fashion), n=N, features=str(other))          # a bare .safetensors path
    assert r["features_weights"] == str(other) and r["features_trained_on"]["name"] == "shoes/train"
    assert r["features_data_match"] is False and "shoes/train" in r["features_note"]


def test_bare_path_spec_is_a_lenet(tmp_path, fashion):
    p = write_features(tmp_path / "f.safetensors", fashion)
    assert get_extractor(str(p)).trained_on()["name"] == "fashion/train"
