"""The inference fast path of the NVlabs networks keeps their contract: one sample folded into the weights equals
its row of a batch, cached weight-derived constants follow load_state_dict, and with autograd recording (in-place
ops off) the same values come out and gradients flow to ws."""
from __future__ import annotations

import copy

import pytest
import torch

from gan_studio.engine.models.nvlabs.family import generator_from_record
from gan_studio.engine.models.nvlabs.unpickle import load_network_pickle
from tests.engine.test_nvlabs_sg3 import FIX

FILES = ["stylegan2-ada-32-rgb.pkl", "stylegan3-t-32-rgb.pkl"]
needs_fix = pytest.mark.skipif(not all((FIX / f).is_file() for f in FILES), reason=f"fixtures not found at {FIX}")


@pytest.fixture(scope="module", params=FILES)
def G(request):
    return generator_from_record(load_network_pickle(FIX / request.param)["G_ema"])


def _ws(G, n=3, seed=0):
    with torch.no_grad():
        return G.mapping(torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed)))


@needs_fix
def test_single_sample_equals_its_row_of_the_batch(G):
    ws = _ws(G)
    with torch.inference_mode():
        batch = G.synthesis(ws)
        singles = torch.cat([G.synthesis(ws[i:i + 1]) for i in range(3)])
    assert batch.is_contiguous() and (batch - singles).abs().max() <= 1e-5


@needs_fix
def test_cached_constants_follow_load_state_dict(G):
    ws = _ws(G, 2)
    other = copy.deepcopy(G)
    sd = {k: v * 1.5 if k.endswith("weight") and v.ndim == 4 else v for k, v in G.state_dict().items()}
    with torch.inference_mode():
        before = other.synthesis(ws)
    other.load_state_dict(sd)
    fresh = copy.deepcopy(G)
    fresh.__dict__.pop("_derived", None)
    for m in fresh.modules():
        m.__dict__.pop("_derived", None)
    fresh.load_state_dict(sd)
    with torch.inference_mode():
        after, want = other.synthesis(ws), fresh.synthesis(ws)
    assert torch.equal(after, want) and not torch.allclose(after, before)


@needs_fix
def test_autograd_gives_the_same_image_and_gradients(G):
    ws = _ws(G, 2).clone().requires_grad_(True)
    img = G.synthesis(ws)
    img.square().mean().backward()
    with torch.inference_mode():
        want = G.synthesis(ws.detach())
    assert (img.detach() - want).abs().max() <= 1e-5
    assert ws.grad is not None and torch.isfinite(ws.grad).all() and ws.grad.abs().max() > 0


@needs_fix
def test_the_benchs_reference_path_is_the_same_network(G):
    """bench/nvlabs_reference.py (NVIDIA's pure-PyTorch way of computing it) gives our fast path's images."""
    from bench.nvlabs_reference import reference_path
    ws = _ws(G, 2)
    with torch.inference_mode():
        fast = G.synthesis(ws)
        with reference_path():
            ref = G.synthesis(ws)
        again = G.synthesis(ws)
    assert torch.equal(again, fast) and (ref - fast).abs().max() <= 1e-4


@pytest.mark.parametrize("cfg", ["stylegan3-r", "stylegan3-t"])
def test_reference_path_on_built_configs(cfg):
    """The R config (1x1 convs, 2-D down filters) and a clamp that binds: fast path and reference agree."""
    from bench.nvlabs_records_sg3 import stylegan3_config, stylegan3_record
    from bench.nvlabs_reference import reference_path
    kw = stylegan3_config(cfg, img_resolution=64)
    kw.update(channel_base=kw["channel_base"] // 32, channel_max=32, z_dim=16, w_dim=16, conv_clamp=0.5)
    G = generator_from_record(stylegan3_record(**kw))
    ws = _ws(G, 2)
    with torch.inference_mode():
        fast, one = G.synthesis(ws), G.synthesis(ws[1:])
        with reference_path():
            ref = G.synthesis(ws)
    assert (ref - fast).abs().max() <= 1e-5 * max(1.0, float(ref.abs().max())) and (one - fast[1:]).abs().max() <= 1e-5


@needs_fix
def test_filtered_lrelu_blocks_do_not_change_the_image(G, monkeypatch):
    """The filtered lrelu in (sample, channel-group) blocks: any block size gives the same image."""
    from gan_studio.engine.models.nvlabs import stylegan3
    ws = _ws(G, 3)
    with torch.inference_mode():
        want = G.synthesis(ws)
        for size in (1, 200_000, 1 << 30):
            monkeypatch.setattr(stylegan3, "CHUNK_BYTES", size)
            assert (G.synthesis(ws) - want).abs().max() <= 1e-6, size
