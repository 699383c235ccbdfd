"""Property tests of issue 22 (classes 1 and 2): whatever JSON a model file's metadata holds for any key, whatever
config it declares, and whatever strided view a state_dict holds, loading ends in a bundle or in one
ModelFileError line, never another exception, and quickly (nothing is allocated for a declared giant)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

from gan_studio.engine.bundle import META_KEY, Bundle, load_bundle, read_metadata
from gan_studio.engine.catalog import _entry
from gan_studio.engine.errors import ModelFileError
from gan_studio.engine.model_meta import DIRECTIONS, SCHEMA
from gan_studio.engine.models.dcgan import DCGANConfig
from tests.conftest import make_tiny_bundle

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**70, max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                          max_size=4),
                    max_leaves=12)
KEYS = sorted(set(SCHEMA) | set(DIRECTIONS) | {"schema_version", "source"})
CONFIG_KEYS = sorted(DCGANConfig().to_dict()) + ["source", "w_dim"]
ARCHS = ["dcgan", "stylegan2", "mlp2d", "lenet", "voxel-iwgan", "stylegan2-ada", "stylegan3", "nope"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """(tensors, metadata, a scratch folder) of a tiny DCGAN file; each example overwrites one file there."""
    folder = tmp_path_factory.mktemp("fuzz-meta")
    path = make_tiny_bundle(folder / "tiny.safetensors")
    return load_file(str(path)), read_metadata(path), folder


def _load_is_a_bundle_or_one_line(path: Path) -> None:
    t0 = time.perf_counter()
    try:
        assert isinstance(load_bundle(path), Bundle)
    except ModelFileError as exc:
        assert "\n" not in str(exc) and str(exc), str(exc)
    assert time.perf_counter() - t0 < 10


def _write(base, meta) -> Path:
    tensors, _, folder = base
    path = folder / "fuzz.safetensors"
    save_file(tensors, str(path), metadata={META_KEY: json.dumps(meta)})
    return path


@FUZZ
@given(key=st.sampled_from(KEYS), value=JSON)
def test_any_value_for_any_key(base, key, value):
    path = _write(base, dict(base[1], **{key: value}))
    _load_is_a_bundle_or_one_line(path)
    try:                                          # the model list reads the same metadata
        _entry(path, shipped=False)
    except ModelFileError as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(KEYS), JSON, min_size=2, max_size=5))
def test_any_values_for_several_keys(base, changes):
    _load_is_a_bundle_or_one_line(_write(base, dict(base[1], **changes)))


CONFIG_VALUES = (st.integers(min_value=-4, max_value=80) | st.integers(min_value=10**3, max_value=10**30)
                 | st.sampled_from([28, 32, 64, 1, 3]) | SCALARS | JSON)


@FUZZ
@given(arch=st.sampled_from(ARCHS), config=st.dictionaries(st.sampled_from(CONFIG_KEYS) | st.text(max_size=6),
                                                           CONFIG_VALUES, max_size=5),
       merge=st.booleans())
def test_any_config_for_any_architecture(base, arch, config, merge):
    meta = base[1]
    cfg = dict(meta["config"], **config) if merge else config
    kind = {"lenet": "classifier", "mlp2d": "points", "voxel-iwgan": "voxel-model"}.get(arch, "image-generator")
    _load_is_a_bundle_or_one_line(_write(base, dict(meta, arch=arch, kind=kind, config=cfg)))


@FUZZ
@given(size=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=3),
       stride=st.lists(st.integers(min_value=0, max_value=3), min_size=3, max_size=3),
       key=st.sampled_from(["fc.0.weight", "fc.1.running_var", "net.0.weight", "extra"]))
def test_any_strided_view_in_a_state_dict(base, size, stride, key):
    tensors, _, folder = base
    sd = {k.split(".", 1)[1]: v for k, v in tensors.items() if k.startswith("generator.")}
    storage = torch.zeros(64)
    stride = stride[:len(size)]
    extent = sum((s - 1) * d for s, d in zip(size, stride) if s > 0)
    if extent >= storage.numel():                 # as_strided must stay inside its storage
        stride = [0] * len(size)
    sd[key] = storage.as_strided(size, stride)
    path = folder / "fuzz.pt"
    torch.save(sd, path)
    _load_is_a_bundle_or_one_line(path)
