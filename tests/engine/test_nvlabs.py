"""NVlabs network pickles: read without running code, rendered like the original (fixtures with references)."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_studio.engine.errors import ModelFileError
from gan_studio.engine.models.nvlabs import stylegan2_ada
from gan_studio.engine.models.nvlabs.generator import NVLabsGenerator
from gan_studio.engine.models.nvlabs.unpickle import load_network_pickle

FIX = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "nvlabs"
needs_fix = pytest.mark.skipif(not FIX.is_dir(), reason=f"NVlabs fixtures not found at {FIX}")


@needs_fix
def test_stylegan2_ada_matches_reference():
    g = load_network_pickle(FIX / "stylegan2-ada-32-rgb.pkl")["G_ema"]
    G = NVLabsGenerator(g, stylegan2_ada.SynthesisNetwork(g.child("synthesis")), "stylegan2-ada").eval()
    ref = np.load(FIX / "stylegan2-ada-32-rgb.reference.npz")
    z = torch.from_numpy(ref["z"])
    with torch.no_grad():
        for psi in (1.0, 0.7):
            ws = G.mapping(z, None, truncation_psi=psi)
            assert np.abs(ws.numpy() - ref[f"ws_psi{psi}"]).max() <= 1e-4
            assert np.abs(G.synthesis(ws).numpy() - ref[f"img_psi{psi}"]).max() <= 1e-4
        img = G.synthesis(G.mapping(z, None, 0.7, 2))
        assert np.abs(img.numpy() - ref["img_psi0.7_cutoff2"]).max() <= 1e-4
        img = G.synthesis(G.mapping(z, None, 1.0), noise_mode="none")
        assert np.abs(img.numpy() - ref["img_psi1.0_noise_none"]).max() <= 1e-4


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_code_running_pickle_is_refused(tmp_path):
    marker = tmp_path / "ran"
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(pickle.dumps({"G_ema": _Payload(marker)}))
    with pytest.raises(ModelFileError, match="refused: (posix|os|nt).system"):
        load_network_pickle(bad)
    assert not marker.exists()


def test_truncated_and_garbage_files(tmp_path):
    p = tmp_path / "t.pkl"
    p.write_bytes(pickle.dumps({"a": [1, 2, 3] * 100})[:-20])
    with pytest.raises(ModelFileError, match="not a readable network pickle"):
        load_network_pickle(p)
    p.write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(ModelFileError, match="not an NVlabs network pickle"):
        load_network_pickle(p)
