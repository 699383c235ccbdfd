"""The StyleGAN2-ADA discriminator of an NVlabs pickle, rebuilt from its record (fixture with NVIDIA's logits)."""
from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_studio.engine.errors import UserError
from gan_studio.engine.models.nvlabs.discriminator import NVLabsDiscriminator
from gan_studio.engine.models.nvlabs.unpickle import PersistentRecord, load_network_pickle

FIX = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "nvlabs"
needs_fix = pytest.mark.skipif(not FIX.is_dir(), reason=f"NVlabs fixtures not found at {FIX}")
REF_KEY = "d_logits_of_img_psi1.0"


def _d_record() -> PersistentRecord:
    return load_network_pickle(FIX / "stylegan2-ada-32-rgb.pkl")["D"]


def _ref():
    ref = np.load(FIX / "stylegan2-ada-32-rgb.reference.npz")
    return torch.from_numpy(ref["img_psi1.0"]), ref[REF_KEY][:, 0]


def _walk(rec: PersistentRecord):
    yield rec
    for m in rec.modules.values():
        if isinstance(m, PersistentRecord):
            yield from _walk(m)


def _run(D, img, c=None):
    with torch.no_grad():
        return D(img, c)


@needs_fix
def test_logits_match_reference_and_interface():
    img, want = _ref()
    D = NVLabsDiscriminator(_d_record()).eval()
    assert (D.img_resolution, D.img_channels, D.c_dim) == (32, 3, 0)
    out = _run(D, img)
    assert out.shape == (4,) and out.dtype == torch.float32
    assert np.abs(out.numpy() - want).max() <= 1e-4
    with torch.no_grad():
        assert D.features(img).shape == (4, 64)
        one = D(img[:1])
    assert one.shape == (1,) and torch.isfinite(one).all()
    with pytest.raises(UserError, match="not conditional"):
        D(img, torch.ones(4, 3))
    with pytest.raises(UserError, match="shape"):
        D(img[:, :, :16, :16])


@needs_fix
def test_minibatch_groups():
    """mbstd: with group size 4 a batch of 4 is one group, so a permuted batch permutes the logits; in a batch
    of 8 sample i is in group i mod 2, so each image repeated twice in a row gives each group all four."""
    img, want = _ref()
    D = NVLabsDiscriminator(_d_record()).eval()
    perm = torch.tensor([2, 0, 3, 1])
    assert np.abs(_run(D, img[perm]).numpy() - want[perm.numpy()]).max() <= 1e-5
    out8 = _run(D, img.repeat_interleave(2, 0))
    assert np.abs(out8.numpy() - np.repeat(want, 2)).max() <= 1e-4
    assert not torch.allclose(_run(D, img[:2]), torch.from_numpy(want[:2]), atol=1e-3)   # the group matters
    assert _run(D, torch.cat([img, img[:2]])).shape == (6,)        # 6 % 4 != 0: groups of 3 (the original fails)


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    return list(v) if isinstance(v, tuple) else v


def _skeleton(rec: PersistentRecord, attr_fn) -> PersistentRecord:
    """A copy with every tensor a NaN / zero placeholder of its shape, and plain attributes passed through attr_fn."""
    rec = copy.deepcopy(rec)
    for r in _walk(rec):
        for group in (r.params, r.buffers):
            for k, t in group.items():
                if isinstance(t, torch.Tensor):
                    group[k] = torch.full_like(t, math.nan) if t.is_floating_point() else torch.zeros_like(t)
        for k, v in list(r.state.items()):
            if not k.startswith("_"):
                r.state[k] = attr_fn(v)
    return rec


@needs_fix
@pytest.mark.parametrize("attr_fn", [_plain, lambda v: np.asarray(v) if isinstance(v, list) else v],
                         ids=["python-scalars", "numpy-lists"])
def test_rebuilt_from_a_skeleton_record(attr_fn):
    img, want = _ref()
    rec = _d_record()
    D = NVLabsDiscriminator(rec)
    skel = NVLabsDiscriminator(_skeleton(rec, attr_fn)).eval()
    skel.load_state_dict(D.state_dict())
    assert all(not p.requires_grad for p in skel.parameters())
    assert np.abs(_run(skel, img).numpy() - want).max() <= 1e-4


def _fc(n_out: int, n_in: int, activation: str, gen: torch.Generator) -> PersistentRecord:
    return PersistentRecord("FullyConnectedLayer", {
        "activation": activation, "weight_gain": 1 / math.sqrt(n_in), "bias_gain": 1,
        "_parameters": {"weight": torch.randn(n_out, n_in, generator=gen), "bias": torch.randn(n_out, generator=gen)}})


def _conditional(rec: PersistentRecord, c_dim: int = 3, cmap_dim: int = 8) -> PersistentRecord:
    """The fixture's D made conditional by hand: a z-less label mapping (2 layers) and an `out` of cmap_dim."""
    rec, gen = copy.deepcopy(rec), torch.Generator().manual_seed(0)
    rec.state["c_dim"] = c_dim
    mods = {"embed": _fc(cmap_dim, c_dim, "linear", gen), "fc0": _fc(cmap_dim, cmap_dim, "lrelu", gen),
            "fc1": _fc(cmap_dim, cmap_dim, "lrelu", gen)}
    rec.modules["mapping"] = PersistentRecord("MappingNetwork", {
        "z_dim": 0, "c_dim": c_dim, "w_dim": cmap_dim, "num_ws": None, "num_layers": 2, "w_avg_beta": None,
        "_modules": mods, "_buffers": {}})
    b4 = rec.child("b4")
    b4.state["cmap_dim"] = cmap_dim
    b4.modules["out"] = _fc(cmap_dim, b4.child("fc").params["weight"].shape[0], "linear", gen)
    return rec


@needs_fix
def test_conditional_discriminator():
    img, _ = _ref()
    D = NVLabsDiscriminator(_conditional(_d_record())).eval()
    assert D.c_dim == 3
    with pytest.raises(UserError, match="conditional"):
        D(img)
    with pytest.raises(UserError, match="shape"):
        D(img, torch.ones(4, 2))
    ids = torch.tensor([0, 1, 2, 0])
    out = _run(D, img, torch.eye(3)[ids])
    assert out.shape == (4,) and torch.isfinite(out).all()
    assert torch.equal(out, _run(D, img, ids))
    assert not torch.allclose(out, _run(D, img, torch.eye(3)[ids + 1 - 3 * (ids == 2).long()]))
    with torch.no_grad():
        assert D.features(img).shape == (4, 64)
        assert D.mapping(None, torch.eye(3)[ids]).shape == (4, 8)


def _rearch(rec: PersistentRecord, arch: str, zero_new: bool = False) -> PersistentRecord:
    """The fixture's D as 'orig' (no skip convs) or 'skip' (a fromRGB for every block and the epilogue)."""
    rec = copy.deepcopy(rec)
    rgb = rec.child("b32").child("fromrgb")
    for r in _walk(rec):
        if r.class_name in ("DiscriminatorBlock", "DiscriminatorEpilogue"):
            r.state["architecture"] = arch
            r.modules.pop("skip", None)
            if arch == "skip" and "fromrgb" not in r.modules:
                new = r.modules["fromrgb"] = copy.deepcopy(rgb)
                if zero_new:
                    for t in new.params.values():
                        t.data.zero_()
    return rec


@needs_fix
def test_orig_and_skip_architectures_run():
    """No reference for these: they run, and 'skip' with its added fromRGB layers zeroed equals 'orig'."""
    img, _ = _ref()
    rec = _d_record()
    orig = NVLabsDiscriminator(_rearch(rec, "orig")).eval()
    skip = NVLabsDiscriminator(_rearch(rec, "skip")).eval()
    assert skip.b4.fromrgb is not None and all(b.fromrgb is not None for b in skip.blocks.values())
    a, b = _run(orig, img), _run(skip, img)
    assert a.shape == b.shape == (4,) and torch.isfinite(b).all() and not torch.allclose(a, b)
    zeroed = NVLabsDiscriminator(_rearch(rec, "skip", zero_new=True)).eval()
    assert torch.allclose(_run(zeroed, img), a, atol=1e-6)
