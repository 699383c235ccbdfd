"""Shared fixtures: tiny seeded models and datasets generated on the fly, the shipped models, real MNIST."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GAN_STUDIO_SHARED_DATA", ROOT.parent / "shared" / "data"))
MNIST = SHARED_DATA / "mnist"
RESOURCES = ROOT / "resources"
SHIPPED_MNIST = RESOURCES / "mnist-wgan-gp.safetensors"

# One torch thread per pytest-xdist worker (`make test` runs two on two cores: four threads would fight);
# otherwise at most two.
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else min(2, torch.get_num_threads()))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    if not (MNIST / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST not found at {MNIST} (set GAN_STUDIO_SHARED_DATA); this test needs it")
    return MNIST


def shipped_image_shape() -> tuple[int, int, int]:
    """(C, H, W) of the shipped MNIST generator, from its metadata (tests follow the model, not a constant)."""
    from gan_studio.engine.bundle import read_metadata
    return tuple(read_metadata(SHIPPED_MNIST)["image_shape"])


@pytest.fixture(scope="session")
def shipped_model() -> Path:
    if not SHIPPED_MNIST.is_file():
        pytest.fail(f"the shipped model {SHIPPED_MNIST} is missing")
    return SHIPPED_MNIST


def save_random_model(path: Path, arch: str, cfg: dict, seed: int, name: str, extra_meta=None) -> Path:
    """A generator + critic of `arch` with random weights (seeded) saved as a bundle. The generator's batch norms
    get non-trivial statistics so eval mode is not the identity. `extra_meta(G)`: metadata beyond the kind,
    arch, config, name, z_dim and image shape."""
    from gan_studio.engine.bundle import save_bundle
    from gan_studio.engine.models import build
    torch.manual_seed(seed)
    G, D = build(arch, "generator", cfg).eval(), build(arch, "critic", cfg).eval()
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    meta = {"kind": "image-generator", "arch": arch, "config": G.cfg.to_dict(), "name": name, "z_dim": G.z_dim,
            "image_shape": list(G.image_shape), **(extra_meta(G) if extra_meta else {})}
    return save_bundle(path, {"generator": G, "critic": D}, meta)


def make_tiny_bundle(path: Path, seed: int = 0, resolution: int = 28, channels: int = 1, width: int = 8,
                     z_dim: int = 16) -> Path:
    cfg = {"z_dim": z_dim, "img_resolution": resolution, "img_channels": channels, "width": width}
    return save_random_model(path, "dcgan", cfg, seed, path.stem, lambda G: {
        "value_range": [-1, 1], "training": {"command": "fixture", "seed": seed, "step": 0}, "metrics": {},
        "license": "test"})


@pytest.fixture
def tiny_model(tmp_path) -> Path:
    return make_tiny_bundle(tmp_path / "tiny.safetensors")


@pytest.fixture
def tiny_dataset(tmp_path) -> Path:
    """A .npz of 256 28x28 'digits': bright discs of random size and position on black."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:28, :28]
    imgs = np.zeros((256, 28, 28), np.uint8)
    for i in range(256):
        cy, cx, r = rng.uniform(8, 20), rng.uniform(8, 20), rng.uniform(3, 7)
        imgs[i][(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = 255
    path = tmp_path / "discs.npz"
    np.savez(path, images=imgs, labels=np.arange(256) % 10)
    return path
