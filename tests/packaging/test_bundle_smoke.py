"""The PyInstaller bundle (`make package`) runs: packaging/smoke_test.sh against dist/gan-studio/gan-studio
(info, models, sample, walk GIF/MP4, sample3d meshes, render3d, and GUI screenshots of the Sampling and 3D tabs
under Xvfb). Skips when no bundle has been built."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import ROOT

BINARY = ROOT / "dist" / "gan-studio" / "gan-studio"
SCRIPT = ROOT / "packaging" / "smoke_test.sh"

pytestmark = [pytest.mark.slow, pytest.mark.package]


def test_bundle_smoke():
    if not BINARY.is_file():
        pytest.skip(f"no bundle at {BINARY.relative_to(ROOT)}: run `make package` first")
    if shutil.which("xvfb-run") is None:
        pytest.skip("xvfb-run is not installed (`make debs` as root): the smoke test screenshots the GUI under Xvfb")
    res = subprocess.run(["bash", str(SCRIPT), str(BINARY)], capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, f"smoke test failed:\n{res.stdout[-6000:]}\n{res.stderr[-2000:]}"
    assert "smoke: all passed" in res.stdout
