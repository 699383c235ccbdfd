"""NVlabs network pickles as GAN Studio models: load_bundle, the converted file, the metadata it records, and
pickles that carry code (in the embedded module source, in a __reduce__) which must never run."""
from __future__ import annotations

import json
import pickle
import subprocess
import sys
import types

import numpy as np
import pytest
import torch

from gan_studio.engine.bundle import load_bundle, read_metadata, save_imported
from gan_studio.engine.errors import ModelFileError
from tests.engine.test_nvlabs import FIX, needs_fix

FILES = ["stylegan2-ada-32-rgb", "stylegan3-t-32-rgb"]


def _images(G, ref, psi=1.0, cutoff=None, noise="const"):
    with torch.no_grad():
        return G.synthesis(G.mapping(torch.from_numpy(ref["z"]), None, psi, cutoff), noise_mode=noise).numpy()


@needs_fix
@pytest.mark.parametrize("name", FILES)
def test_load_bundle_renders_the_reference(name):
    b = load_bundle(FIX / f"{name}.pkl")
    ref = np.load(FIX / f"{name}.reference.npz")
    G = b.generator()
    assert b.meta["arch"] == ("stylegan3" if "stylegan3" in name else "stylegan2-ada")
    assert list(G.image_shape) == list(ref["img_psi1.0"].shape[1:]) == b.meta["image_shape"]
    for psi in (1.0, 0.7):
        assert np.abs(_images(G, ref, psi) - ref[f"img_psi{psi}"]).max() <= 1e-3
    assert np.abs(_images(G, ref, 0.7, 2) - ref["img_psi0.7_cutoff2"]).max() <= 1e-3
    assert np.abs(_images(G, ref, noise="none") - ref["img_psi1.0_noise_none"]).max() <= 1e-3


@needs_fix
@pytest.mark.parametrize("name", FILES)
def test_metadata_records_the_source(name):
    index = {e["file"]: e for e in json.loads((FIX / "index.json").read_text())}[f"{name}.pkl"]
    b = load_bundle(FIX / f"{name}.pkl")
    src = b.meta["config"]["source"]
    assert src["sha256"] == index["sha256"] and src["bytes"] == index["bytes"]
    assert src["roles"]["generator_ema"] == "G_ema" and src["classes"]["G_ema"] == "Generator"
    assert src["init_kwargs"]["G_ema"]["z_dim"] == index["generator_kwargs"]["z_dim"]
    has_d = index["discriminator_kwargs"] is not None
    assert ("critic" in b.networks) == has_d == ("D" in src["roles"].values())
    assert b.meta["z_dim"] == index["generator_kwargs"]["z_dim"] and b.meta["c_dim"] == 0
    assert b.meta["num_ws"] == len(b.meta["ws_resolutions"]) == b.generator().num_ws
    assert b.meta["parameters"]["generator_ema"] == sum(
        t.numel() for t in b.generator().state_dict().values())


@needs_fix
@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("half", [False, True])
def test_converted_file_renders_the_same_images(name, half, tmp_path):
    src = load_bundle(FIX / f"{name}.pkl")
    out = save_imported(src, tmp_path / f"{name}.safetensors", half=half)
    meta = read_metadata(out)
    assert "source_format" not in meta and meta["imported"]["precision"] == ("float16" if half else "float32")
    assert meta["config"]["source"]["sha256"] == src.meta["config"]["source"]["sha256"]
    b = load_bundle(out)
    assert sorted(b.networks) == sorted(src.networks) and b.meta["arch"] == src.meta["arch"]
    ref = np.load(FIX / f"{name}.reference.npz")
    a, c = _images(src.generator(), ref, 0.7), _images(b.generator(), ref, 0.7)
    if half:       # float16 weights: close to the original, not equal
        assert 0 < np.abs(a - c).max() <= 0.05
    else:
        assert np.abs(a - c).max() == 0
    if "critic" in b.networks:
        x = torch.from_numpy(ref["img_psi1.0"])
        with torch.no_grad():
            d0, d1 = src.networks["critic"](x), b.networks["critic"](x)
        assert d1.shape == (4,) and torch.allclose(d0, d1, atol=0 if not half else 0.05)


@needs_fix
def test_imported_discriminator_matches_the_reference():
    b = load_bundle(FIX / "stylegan2-ada-32-rgb.pkl")
    ref = np.load(FIX / "stylegan2-ada-32-rgb.reference.npz")
    with torch.no_grad():
        logits = b.networks["critic"](torch.from_numpy(ref["img_psi1.0"]))
    assert np.abs(logits.numpy() - ref["d_logits_of_img_psi1.0"][:, 0]).max() <= 1e-3


# ---------------------------------------------------------------- pickles that carry code

PERSISTENCE_SRC = '''
import types
def _reconstruct_persistent_obj(meta):
    # what NVlabs' torch_utils.persistence does: run the module source the file carries
    module = types.ModuleType("_imported_module")
    exec(meta["module_src"], module.__dict__)
    return getattr(module, meta["class_name"])(meta["state"])
'''


def _persistent_pickle(module_src: str, state: dict) -> bytes:
    """A pickle in NVlabs' format: {"G_ema": _reconstruct_persistent_obj(meta)}, meta carrying module_src."""
    mod = types.ModuleType("torch_utils.persistence")
    pkg = types.ModuleType("torch_utils")
    exec(PERSISTENCE_SRC, mod.__dict__)
    pkg.persistence = mod

    class Persistent:
        def __reduce__(self):
            meta = {"type": "class", "version": 6, "module_src": module_src, "class_name": "Generator",
                    "state": state}
            return (mod._reconstruct_persistent_obj, (meta,))

    saved = {k: sys.modules.get(k) for k in ("torch_utils", "torch_utils.persistence")}
    sys.modules.update({"torch_utils": pkg, "torch_utils.persistence": mod})
    try:
        mod._reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
        return pickle.dumps({"G_ema": Persistent(), "G": None, "D": None, "augment_pipe": None,
                             "training_set_kwargs": None}, protocol=4)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def _plain_unpickle_in_subprocess(path, tmp_path):
    """What every other tool does: pickle.load with NVlabs' torch_utils importable."""
    (tmp_path / "torch_utils").mkdir(exist_ok=True)
    (tmp_path / "torch_utils" / "__init__.py").write_text("")
    (tmp_path / "torch_utils" / "persistence.py").write_text(PERSISTENCE_SRC)
    code = f"import pickle; pickle.load(open({str(path)!r}, 'rb'))"
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)


def test_payload_in_module_src_never_runs(tmp_path):
    marker = tmp_path / "module_src_ran"
    src = (f"open({str(marker)!r}, 'w').write('ran')\n"
           f"class Generator(dict):\n    pass\n")
    p = tmp_path / "network-snapshot.pkl"
    p.write_bytes(_persistent_pickle(src, {"z_dim": 4}))
    with pytest.raises(ModelFileError) as err:          # read safely, then found not to be a generator
        load_bundle(p)
    assert "\n" not in str(err.value) and "synthesis" in str(err.value)
    assert not marker.exists()
    r = _plain_unpickle_in_subprocess(p, tmp_path)      # the same file does run code under plain pickle
    assert r.returncode == 0, r.stderr
    assert marker.read_text() == "ran"


class _Reduce:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


def test_payload_in_a_reduce_is_refused_by_name(tmp_path):
    marker = tmp_path / "reduce_ran"
    p = tmp_path / "network-snapshot.pkl"
    p.write_bytes(_persistent_pickle("class Generator(dict):\n    pass\n", {"z_dim": 4, "x": _Reduce(marker)}))
    with pytest.raises(ModelFileError, match=r"refused: builtins\.exec"):
        load_bundle(p)
    assert not marker.exists()
    r = _plain_unpickle_in_subprocess(p, tmp_path)
    assert r.returncode == 0, r.stderr
    assert marker.read_text() == "ran"


# ---------------------------------------------------------------- a conditional generator (c_dim > 0)

def _conditional_record(c_dim=3):
    """The fixture's G_ema made conditional as stylegan2-ada's constructor would: an `embed` FC layer (c_dim ->
    w_dim), the first mapping layer taking [normalised z, normalised embedding] (z_dim + w_dim inputs)."""
    import copy

    from gan_studio.engine.models.nvlabs.unpickle import PersistentRecord
    g = copy.deepcopy(load_bundle_records()["G_ema"])
    m = g.child("mapping")
    w_dim = int(m.state["w_dim"])
    torch.manual_seed(0)
    g.state["c_dim"] = m.state["c_dim"] = c_dim
    m.state["_modules"]["embed"] = PersistentRecord("FullyConnectedLayer", {
        "in_features": c_dim, "out_features": w_dim, "activation": "linear", "lr_multiplier": 1.0,
        "weight_gain": 1 / np.sqrt(c_dim), "bias_gain": 1.0,
        "_parameters": {"weight": torch.randn(w_dim, c_dim), "bias": torch.randn(w_dim) * 0.1}, "_buffers": {},
        "_modules": {}})
    fc0 = m.child("fc0")
    w = fc0.params["weight"]
    fc0.state["_parameters"]["weight"] = torch.cat([w, torch.randn(w.shape[0], w_dim)], 1)
    fc0.state["in_features"] = w.shape[1] + w_dim
    fc0.state["weight_gain"] = fc0.state["weight_gain"] * np.sqrt(w.shape[1] / (w.shape[1] + w_dim))
    return g


def load_bundle_records():
    from gan_studio.engine.models.nvlabs.unpickle import load_network_pickle
    return load_network_pickle(FIX / "stylegan2-ada-32-rgb.pkl")


@needs_fix
def test_conditional_generator_takes_classes_and_round_trips(tmp_path):
    from gan_studio.engine.bundle import Bundle, save_bundle
    from gan_studio.engine.errors import UserError
    from gan_studio.engine.models.nvlabs.family import generator_from_record, record_to_tree
    g = _conditional_record(3)
    G = generator_from_record(g)
    z = torch.randn(4, G.z_dim)
    with torch.no_grad():
        default, by_id = G(z), G(z, torch.tensor([0, 0, 0, 0]))
        one_hot = G(z, torch.nn.functional.one_hot(torch.tensor([2, 1, 0, 2]), 3).float())
        ids = G(z, torch.tensor([2, 1, 0, 2]))
    assert torch.equal(default, by_id) and torch.equal(one_hot, ids)
    assert (ids[0] - default[0]).abs().max() > 1e-3 and torch.equal(ids[2], default[2])
    for bad in (torch.tensor([0, 1, 2, 3]), torch.zeros(4, 2)):
        with pytest.raises(UserError, match="class"):
            G.mapping(z, bad)
    meta = {"kind": "image-generator", "arch": "stylegan2-ada", "name": "cond", "z_dim": G.z_dim,
            "config": {"generator": record_to_tree(g), "critic": None, "source": {}}}
    out = save_bundle(tmp_path / "cond.safetensors", {"generator_ema": G}, meta)
    G2 = load_bundle(out).generator()
    assert G2.c_dim == 3
    with torch.no_grad():
        assert torch.equal(G2(z, torch.tensor([2, 1, 0, 2])), ids)
    assert isinstance(Bundle(meta, {"generator_ema": G}).generator(), type(G))


def test_a_tensorflow_stylegan_pickle_is_named(tmp_path):
    p = tmp_path / "karras2019stylegan-ffhq-1024x1024.pkl"
    # what a TF network pickle starts with: a global from dnnlib.tflib.network (never resolved here)
    p.write_bytes(b"\x80\x04\x95\x20\x00\x00\x00\x00\x00\x00\x00\x8c\x16dnnlib.tflib.network\x94\x8c\x07Network\x94"
                  b"\x93\x94)\x81\x94.")
    with pytest.raises(ModelFileError, match="TensorFlow StyleGAN pickle") as err:
        load_bundle(p)
    assert "\n" not in str(err.value)
