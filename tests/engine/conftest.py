"""Fixtures of the 3D tests: a tiny synthetic ModelNet-format .npz, and the real ModelNet10 32³ (skips if absent);
`one_thread` for quick deterministic training tests."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.conftest import SHARED_DATA
from tests.engine.voxel_toys import make_voxel_npz

MODELNET = SHARED_DATA / "modelnet10_vox32" / "modelnet10.npz"


@pytest.fixture(scope="session")
def voxel_npz(tmp_path_factory) -> Path:
    return make_voxel_npz(tmp_path_factory.mktemp("voxels") / "toy.npz")


@pytest.fixture(scope="session")
def modelnet_path() -> Path:
    if not MODELNET.is_file():
        pytest.skip(f"ModelNet10 32³ not found at {MODELNET} (set GAN_STUDIO_SHARED_DATA); this test needs it")
    return MODELNET


@pytest.fixture
def one_thread():
    """Run a test on one torch thread (training tests that must be quick and deterministic), then restore."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
