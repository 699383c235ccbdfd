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
