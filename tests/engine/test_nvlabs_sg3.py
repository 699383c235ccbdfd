"""StyleGAN3 synthesis rebuilt from an unpickled record: the T fixture against NVIDIA's own outputs, and the R
config's code paths (2-D filters, 1x1 convs) against equivalent T records, plus the skeleton rebuild contract."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_studio.engine.latent.mixing import preset_bands
from gan_studio.engine.models.nvlabs import stylegan3
from gan_studio.engine.models.nvlabs.generator import NVLabsGenerator
from gan_studio.engine.models.nvlabs.ops import upfirdn2d
from gan_studio.engine.models.nvlabs.unpickle import PersistentRecord, load_network_pickle

FIX = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "nvlabs"
needs_fix = pytest.mark.skipif(not (FIX / "stylegan3-t-32-rgb.pkl").is_file(),
                               reason=f"NVlabs StyleGAN3 fixture not found at {FIX}")
REF_TOL = 1e-4          # the issue asks for 1e-3; float32 CPU gets ~1e-6


@pytest.fixture(scope="module")
def g_rec() -> PersistentRecord:
    return load_network_pickle(FIX / "stylegan3-t-32-rgb.pkl")["G_ema"]


@pytest.fixture(scope="module")
def ws() -> torch.Tensor:
    return torch.from_numpy(np.load(FIX / "stylegan3-t-32-rgb.reference.npz")["ws_psi0.7"])


def _synth(rec: PersistentRecord) -> stylegan3.SynthesisNetwork:
    return stylegan3.SynthesisNetwork(rec).eval()


def _run(net: torch.nn.Module, ws: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return net(ws)


def _layers(synth: PersistentRecord) -> list[PersistentRecord]:
    return [synth.child(n) for n in synth.state["layer_names"]]


@needs_fix
def test_stylegan3_t_matches_reference(g_rec):
    G = NVLabsGenerator(g_rec, stylegan3.SynthesisNetwork(g_rec.child("synthesis")), "stylegan3").eval()
    ref = np.load(FIX / "stylegan3-t-32-rgb.reference.npz")
    z = torch.from_numpy(ref["z"])
    err = {}
    with torch.no_grad():
        for psi in (1.0, 0.7):
            ws = G.mapping(z, None, truncation_psi=psi)
            err[f"ws_psi{psi}"] = np.abs(ws.numpy() - ref[f"ws_psi{psi}"]).max()
            err[f"img_psi{psi}"] = np.abs(G.synthesis(ws).numpy() - ref[f"img_psi{psi}"]).max()
        img = G.synthesis(G.mapping(z, None, 0.7, 2))
        err["img_psi0.7_cutoff2"] = np.abs(img.numpy() - ref["img_psi0.7_cutoff2"]).max()
        ws1 = G.mapping(z, None, 1.0)
        img = G.synthesis(ws1, noise_mode="none")
        err["img_psi1.0_noise_none"] = np.abs(img.numpy() - ref["img_psi1.0_noise_none"]).max()
        assert torch.equal(G.synthesis(ws1, noise_mode="random"), img)        # no noise inputs in StyleGAN3
        one = G.synthesis(ws1[1:2])                                           # batch-independent
    assert img.dtype == torch.float32 and img.shape == (4, 3, 32, 32)
    assert set(err) == {k for k in ref.files if k != "z"}
    assert max(err.values()) <= REF_TOL, err
    assert torch.allclose(one[0], img[1], atol=1e-6)


@needs_fix
def test_ws_resolutions_and_affines(g_rec):
    S = _synth(g_rec.child("synthesis"))
    assert S.num_ws == 16 and S.w_dim == 64 and S.img_resolution == 32 and S.img_channels == 3
    assert len(S.ws_resolutions) == S.num_ws
    assert S.ws_resolutions == [4, 4, 5, 6, 7, 8, 10, 11, 13, 16, 19, 23, 27, 32, 32, 32]   # 2 x cutoff
    bands = preset_bands(S.ws_resolutions)
    assert bands == {"coarse": list(range(6)), "middle": list(range(6, 13)), "fine": [13, 14, 15]}
    affines = S.style_affines()
    assert len(affines) == S.num_ws and affines[0].weight.shape == (4, 64)
    assert sum(a.weight.shape[0] for a in affines) == 4 + 14 * 64 + 64


@needs_fix
def test_2d_filters_equal_their_separable_1d_filters(g_rec, ws):
    """The R config's radial filters are 2-D: the outer product of each 1-D filter must give the same image."""
    synth = g_rec.child("synthesis")
    r_like = copy.deepcopy(synth)
    n2d = 0
    for layer in _layers(r_like):
        for name in ("up_filter", "down_filter"):
            f = layer.buffers[name]
            if f is not None:
                layer.buffers[name] = torch.outer(f, f)
                n2d += 1
    assert n2d == 28
    net = _synth(r_like)
    assert net.L5_52_64.up_filter.shape == (24, 24)
    assert (_run(net, ws) - _run(_synth(synth), ws)).abs().max() <= 1e-5


def _conv_kernel_pair(synth: PersistentRecord) -> tuple[PersistentRecord, PersistentRecord]:
    """Two records that must render the same image: (a) zero biases and 3x3 weights with only the centre tap,
    (b) the same as 1x1 convs (conv_kernel 1, padding grown by up_factor: the conv no longer adds a border),
    with 2-D filters — every code path of the R config."""
    a, b = copy.deepcopy(synth), copy.deepcopy(synth)
    for la, lb in zip(_layers(a), _layers(b)):
        if la.state["is_torgb"]:
            continue
        w = la.params["weight"].detach()
        la.params["bias"] = torch.zeros_like(la.params["bias"])
        lb.params["bias"] = torch.zeros_like(lb.params["bias"])
        la.params["weight"] = torch.zeros_like(w)
        la.params["weight"][:, :, 1, 1] = w[:, :, 1, 1]
        lb.params["weight"] = w[:, :, 1:2, 1:2].clone()
        lb.state["conv_kernel"] = 1
        lb.state["padding"] = [p + int(lb.state["up_factor"]) for p in lb.state["padding"]]
        for name in ("up_filter", "down_filter"):
            f = lb.buffers[name]
            lb.buffers[name] = None if f is None else torch.outer(f, f)
    return a, b


@needs_fix
def test_1x1_convs_with_2d_filters(g_rec, ws):
    a, b = _conv_kernel_pair(g_rec.child("synthesis"))
    net_b = _synth(b)
    assert net_b.L0_36_64.weight.shape == (64, 64, 1, 1) and net_b.L0_36_64.down_filter.ndim == 2
    img_a, img_b = _run(_synth(a), ws), _run(net_b, ws)
    assert img_b.shape == (4, 3, 32, 32) and torch.isfinite(img_b).all() and img_b.abs().max() > 1e-3
    assert (img_a - img_b).abs().max() <= 1e-5


def _json_plain(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(type(v).__name__)


def _skeleton(rec: PersistentRecord) -> PersistentRecord:
    """What a converted file rebuilds from: plain attributes through JSON (lists, floats), zero placeholder
    tensors of the right shapes."""
    state = {k: json.loads(json.dumps(v, default=_json_plain)) for k, v in rec.state.items() if not k.startswith("_")}
    state["_parameters"] = {k: None if t is None else torch.zeros(t.shape) for k, t in rec.params.items()}
    state["_buffers"] = {k: None if t is None else torch.zeros(t.shape) for k, t in rec.buffers.items()}
    state["_modules"] = {k: None if c is None else _skeleton(c) for k, c in rec.modules.items()}
    return PersistentRecord(rec.class_name, state)


@needs_fix
def test_rebuilt_from_skeleton_and_state_dict(g_rec, ws):
    for synth in (g_rec.child("synthesis"), _conv_kernel_pair(g_rec.child("synthesis"))[1]):
        net = _synth(synth)
        sd = net.state_dict()
        assert {"input.transform", "input.freqs", "input.phases", "L0_36_64.magnitude_ema",
                "L0_36_64.up_filter", "L13_32_64.down_filter"} <= set(sd)
        again = _synth(_skeleton(synth))
        again.load_state_dict(sd)
        assert again.ws_resolutions == net.ws_resolutions and again.L5_52_64.padding == net.L5_52_64.padding
        assert torch.equal(_run(again, ws), _run(net, ws))


def _upfirdn2d_naive(x, f, up, down, pad, gain, flip):
    """upfirdn2d spelled out in 2-D: zeros inserted, padded / cropped, convolved with the full 2-D filter."""
    n, c, h, w = x.shape
    u = torch.zeros(n, c, h * up, w * up, dtype=x.dtype)
    u[:, :, ::up, ::up] = x
    px0, px1, py0, py1 = pad
    u = torch.nn.functional.pad(u, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    u = u[:, :, max(-py0, 0): u.shape[2] - max(-py1, 0), max(-px0, 0): u.shape[3] - max(-px1, 0)]
    f2 = torch.ones(1, 1, dtype=x.dtype) if f is None else (torch.outer(f, f) if f.ndim == 1 else f)
    f2 = f2 if flip else f2.flip([0, 1])
    y = torch.nn.functional.conv2d(u.reshape(n * c, 1, *u.shape[2:]), f2[None, None] * gain)
    return y.reshape(n, c, *y.shape[2:])[:, :, ::down, ::down]


@pytest.mark.parametrize("taps", [None, (5,), (4,), (5, 5), (6, 4)])
def test_upfirdn2d_against_naive_2d(taps):
    """ops.upfirdn2d (per-axis passes, transposed convs for upsampling, strided convs for downsampling) equals
    the plain 2-D definition, with asymmetric filters (so a flipped filter shows), crops and odd factors."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 9, 11, generator=gen, dtype=torch.float64)
    f = None if taps is None else torch.randn(*taps, generator=gen, dtype=torch.float64)
    cases = [(1, 1, [2, 1, 0, 3], False), (2, 1, [9, 8, 9, 8], False), (4, 2, [-6, -9, -6, -5], True),
             (1, 2, [1, 2, 2, 1], False), (3, 3, [4, -1, 0, 2], True)]
    for up, down, pad, flip in cases:
        got = upfirdn2d(x, f, up=up, down=down, padding=pad, gain=up * up, flip_filter=flip)
        want = _upfirdn2d_naive(x, f, up, down, pad, up * up, flip)
        assert got.shape == want.shape and (got - want).abs().max() <= 1e-10, (up, down, pad, flip)
