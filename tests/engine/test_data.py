"""Datasets from user paths: IDX (.gz or raw), folders of images, .npy/.npz; bad input -> DataError."""
import gzip
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from gan_studio.engine.data import load_images
from gan_studio.engine.data.images import fit_images, read_idx
from gan_studio.engine.errors import DataError


def _idx_bytes(arr: np.ndarray) -> bytes:
    code = {np.uint8: 0x08}[arr.dtype.type]
    return bytes([0, 0, code, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape) + arr.tobytes()


@pytest.fixture
def digits():
    return np.random.default_rng(0).integers(0, 256, (12, 28, 28), dtype=np.uint8)


def test_idx_raw_and_gz_folder_with_labels(tmp_path, digits):
    labels = np.arange(12, dtype=np.uint8) % 10
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_bytes(digits))
    with gzip.open(tmp_path / "train-labels-idx1-ubyte.gz", "wb") as fh:
        fh.write(_idx_bytes(labels))
    ds = load_images(tmp_path)
    assert ds.images.shape == (12, 1, 28, 28) and ds.images.dtype == torch.uint8
    assert np.array_equal(ds.images[:, 0].numpy(), digits)
    assert ds.labels.tolist() == labels.tolist()
    with pytest.raises(DataError, match="t10k"):
        load_images(tmp_path, "test")


def test_bad_idx(tmp_path, digits):
    p = tmp_path / "x-idx3-ubyte"
    p.write_bytes(_idx_bytes(digits)[:500])
    with pytest.raises(DataError, match="truncated"):
        read_idx(p)
    p.write_bytes(b"\x01\x02\x03\x04" + bytes(100))
    with pytest.raises(DataError, match="magic"):
        read_idx(p)


def test_npy_npz_layouts_and_ranges(tmp_path, digits):
    np.save(tmp_path / "a.npy", digits)
    np.save(tmp_path / "b.npy", (digits[..., None] / 255.0).astype(np.float32))      # NHWC in [0, 1]
    np.savez(tmp_path / "c.npz", x=digits.astype(np.float32) / 127.5 - 1)            # [-1, 1]
    for name in ("a.npy", "b.npy", "c.npz"):
        ds = load_images(tmp_path / name)
        assert ds.images.shape == (12, 1, 28, 28)
        assert (ds.images[:, 0].int() - torch.from_numpy(digits).int()).abs().max() <= 1, name
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError):
        load_images(tmp_path / "obj.npy")
    np.save(tmp_path / "flat.npy", np.zeros((5, 7)))
    with pytest.raises(DataError, match="square"):
        load_images(tmp_path / "flat.npy")


def test_image_folder(tmp_path):
    for i in range(3):
        Image.fromarray(np.full((40, 30, 3), 60 * i, np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "broken.png").write_bytes(b"nope")
    ds = load_images(tmp_path)
    assert ds.images.shape == (3, 3, 30, 30) and ds.info["skipped"] == 1
    with pytest.raises(DataError, match="does not exist"):
        load_images(tmp_path / "missing")


def test_fit_images_pads_crops_and_resizes():
    x = torch.rand(2, 1, 28, 28) * 2 - 1
    p = fit_images(x, 32, 1)
    assert p.shape == (2, 1, 32, 32) and torch.equal(fit_images(p, 28, 1), x) and p[..., 0, 0].eq(-1).all()
    assert fit_images(x, 64, 3).shape == (2, 3, 64, 64)


def test_real_mnist(mnist_dir):
    train, test = load_images(mnist_dir, "train"), load_images(mnist_dir, "test")
    assert (len(train), len(test)) == (60000, 10000) and train.labels.max() == 9
    assert "CC BY-SA" in train.license
