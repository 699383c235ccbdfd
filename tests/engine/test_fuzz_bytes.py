"""Property-based byte damage to a real model file: every truncation and every flipped byte gives either a
loaded model or one ModelFileError line, nothing else (hypothesis draws the positions)."""
from __future__ import annotations

import struct

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import ModelFileError
from tests.conftest import make_tiny_bundle


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    return make_tiny_bundle(tmp_path_factory.mktemp("fuzz") / "good.safetensors").read_bytes()


def _outcome(tmp_path, data: bytes, name: str = "f.safetensors") -> str:
    p = tmp_path / name
    p.write_bytes(data)
    try:
        b = load_bundle(p)
    except ModelFileError as exc:
        assert "\n" not in str(exc) and str(exc).strip(), repr(str(exc))
        return "refused"
    G = b.generator()
    assert all(isinstance(t, torch.Tensor) for t in G.state_dict().values())
    return "loaded"


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(frac=st.floats(0, 1, exclude_max=True))
def test_every_truncation_is_refused_in_one_line(tmp_path, good, frac):
    assert _outcome(tmp_path, good[:int(frac * len(good))]) == "refused"


@FAST
@given(data=st.data())
def test_flipped_bytes_load_or_are_refused(tmp_path, good, data):
    n = struct.unpack("<Q", good[:8])[0]
    where = data.draw(st.sampled_from(["length", "header", "weights"]))
    lo, hi = {"length": (0, 8), "header": (8, 8 + n), "weights": (8 + n, len(good))}[where]
    b = bytearray(good)
    for pos in data.draw(st.lists(st.integers(lo, hi - 1), min_size=1, max_size=4)):
        b[pos] = data.draw(st.integers(0, 255))
    outcome = _outcome(tmp_path, bytes(b))
    if where == "weights":
        assert outcome == "loaded"          # the header is intact: the same shapes, other numbers


@FAST
@given(junk=st.binary(min_size=0, max_size=256), suffix=st.sampled_from([".safetensors", ".pt", ".pkl", ".bin"]))
def test_arbitrary_bytes_are_refused(tmp_path, junk, suffix):
    assert _outcome(tmp_path, junk, "junk" + suffix) == "refused"
