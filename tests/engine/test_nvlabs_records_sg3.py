"""The bench's StyleGAN3 record builder encodes the original constructors: the fixture's constructor arguments give
exactly the fixture pickle's record tree (classes, plain attributes with their types, tensor shapes) and the same
Kaiser filters; the 256 px T and R configs build networks our modules accept (their size checks pass) and render."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from bench.nvlabs_records_sg3 import bessel_j1, lowpass_filter, stylegan3_config, stylegan3_record
from gan_studio.engine.models.nvlabs.family import generator_from_record, record_to_tree, stylegan3_variant
from gan_studio.engine.models.nvlabs.unpickle import load_network_pickle
from tests.engine.test_nvlabs_sg3 import FIX, needs_fix


def _typed(v):
    """A skeleton with each leaf's JSON type kept beside it, so that 16 and 16.0 or 1 and True differ."""
    if isinstance(v, dict):
        return {k: _typed(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_typed(x) for x in v]
    return (type(v).__name__, v)


@pytest.fixture(scope="module")
def fixture_case():
    entry = next(e for e in json.loads((FIX / "index.json").read_text()) if e["file"] == "stylegan3-t-32-rgb.pkl")
    return entry["generator_kwargs"], load_network_pickle(FIX / entry["file"])["G_ema"]


@needs_fix
def test_builder_gives_the_fixture_tree(fixture_case):
    kwargs, rec = fixture_case
    built, want = record_to_tree(stylegan3_record(**kwargs)), record_to_tree(rec)
    assert list(built["modules"]["synthesis"]["modules"]) == list(want["modules"]["synthesis"]["modules"])
    assert _typed(built) == _typed(want)


@needs_fix
def test_builder_filters_equal_the_fixture_filters(fixture_case):
    kwargs, rec = fixture_case
    built = stylegan3_record(**kwargs).child("synthesis")
    synth = rec.child("synthesis")
    n = 0
    for name in synth.state["layer_names"]:
        for buf in ("up_filter", "down_filter"):
            a, b = built.child(name).buffers[buf], synth.child(name).buffers[buf]
            assert (a is None) == (b is None), (name, buf)
            if a is not None:
                assert torch.allclose(a, b, rtol=0, atol=1e-7), (name, buf, (a - b).abs().max())
                n += 1
    assert n == 28


def test_bessel_j1_and_the_radial_filter():
    z = np.array([0.0, 1.0, 5.0, 10.0, 30.0])
    want = np.array([0.0, 0.44005058574493355, -0.32757913759146523, 0.04347274616886144, -0.11875106261662294])
    assert np.abs(bessel_j1(z) - want).max() < 1e-12
    f = lowpass_filter(12, cutoff=10.0, width=2 * 6.0, fs=64, radial=True)
    assert f.shape == (12, 12) and abs(float(f.sum()) - 1) < 1e-6
    assert torch.equal(f, f.t()) and torch.allclose(f, f.flip(0), atol=1e-8) and f[5:7, 5:7].min() == f.max()


@pytest.mark.parametrize("cfg", ["stylegan3-t", "stylegan3-r"])
def test_official_256_configs(cfg):
    rec = stylegan3_record(**stylegan3_config(cfg), seed=1)
    synth = rec.child("synthesis")
    names = synth.state["layer_names"]
    widths = (512, 362, 256, 181, 128) if cfg == "stylegan3-t" else (1024, 724, 512, 362, 256)
    assert names[0] == f"L0_36_{widths[0]}" and names[9:] == [
        f"L9_148_{widths[1]}", f"L10_276_{widths[2]}", f"L11_276_{widths[3]}", f"L12_276_{widths[4]}",
        f"L13_256_{widths[4]}", "L14_256_3"]
    downs = [synth.child(n).buffers["down_filter"] for n in names]
    assert [None if d is None else d.ndim for d in downs] == [2 if cfg == "stylegan3-r" else 1] * 12 + [1, 1, None]
    kernels = {synth.child(n).state["conv_kernel"] for n in names[:-1]}
    assert kernels == ({1} if cfg == "stylegan3-r" else {3})
    assert stylegan3_variant(rec) == cfg[-1].upper()


@pytest.mark.parametrize("cfg", ["stylegan3-t", "stylegan3-r"])
def test_small_configs_build_and_render(cfg):
    kw = stylegan3_config(cfg, img_resolution=64)
    kw.update(channel_base=kw["channel_base"] // 32, channel_max=32, z_dim=16, w_dim=16)
    G = generator_from_record(stylegan3_record(**kw))
    with torch.inference_mode():
        img = G(torch.randn(2, 16))
        one = G(torch.randn(1, 16))
    assert img.shape == (2, 3, 64, 64) and one.shape == (1, 3, 64, 64) and torch.isfinite(img).all()
    assert img.is_contiguous() and G.num_ws == 16
