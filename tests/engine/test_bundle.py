"""Model files: our safetensors bundle round trip, the other loaders, and every bad file -> one clear error
that executes nothing."""
from __future__ import annotations

import json
import pickle
import zipfile

import pytest
import torch
from safetensors.torch import save_file

from gan_studio.engine.bundle import META_KEY, Bundle, load_bundle, read_metadata, save_bundle, weights_hash
from gan_studio.engine.errors import ModelFileError
from gan_studio.engine.latent.sampling import generate, seeds_latents
from gan_studio.engine.models import build
from tests.conftest import make_tiny_bundle


def _images(bundle: Bundle, n: int = 4) -> torch.Tensor:
    G = bundle.generator()
    return generate(G, seeds_latents(range(n), G.z_dim))


def test_round_trip_keeps_weights_metadata_and_images(tiny_model, tmp_path):
    b = load_bundle(tiny_model)
    assert b.kind == "image-generator" and set(b.networks) == {"generator", "critic"}
    assert b.meta["schema_version"] == 1 and b.meta["training"]["command"] == "fixture"
    out = save_bundle(tmp_path / "copy.safetensors", b.networks, b.meta)
    b2 = load_bundle(out)
    assert b2.meta == b.meta
    assert weights_hash(b2.generator()) == weights_hash(b.generator())
    assert torch.equal(_images(b), _images(b2))


def test_metadata_sits_under_one_key(tiny_model):
    from safetensors import safe_open
    with safe_open(str(tiny_model), "pt") as f:
        assert set(f.metadata()) == {META_KEY}
    assert read_metadata(tiny_model)["arch"] == "dcgan"


def test_half_precision_storage_loads_close(tiny_model, tmp_path):
    b = load_bundle(tiny_model)
    half = save_bundle(tmp_path / "half.safetensors", b.networks, b.meta, half=True)
    assert half.stat().st_size < 0.6 * tiny_model.stat().st_size
    assert (_images(load_bundle(half)) - _images(b)).abs().max() < 0.05


def test_plain_state_dict_loads_with_inferred_config(tiny_model, tmp_path):
    G = load_bundle(tiny_model).generator()
    torch.save(G.state_dict(), tmp_path / "g.pt")
    b = load_bundle(tmp_path / "g.pt")
    assert b.meta["config"] == G.cfg.to_dict() and b.meta["source_format"] == "state_dict"
    assert torch.equal(_images(b), generate(G, seeds_latents(range(4), G.z_dim)))


def test_torchscript_needs_trust_then_wraps_the_interface(tiny_model, tmp_path):
    G = load_bundle(tiny_model).generator()

    class ZToImage(torch.nn.Module):
        def __init__(self, g):
            super().__init__()
            self.g = g

        def forward(self, z):
            return self.g.synthesis(z.unsqueeze(1))

    path = tmp_path / "g.ts.pt"
    with torch.no_grad():
        torch.jit.trace(ZToImage(G), torch.randn(2, G.z_dim)).save(str(path))
    with pytest.raises(ModelFileError, match="trust"):
        load_bundle(path)
    with pytest.raises(ModelFileError, match="--z-dim"):     # a traced module does not say its latent size
        load_bundle(path, trust_code=True)
    b = load_bundle(path, trust_code=True, z_dim=G.z_dim)
    g = b.generator()
    assert (g.z_dim, g.num_ws, g.image_shape) == (G.z_dim, 1, G.image_shape)
    assert g.mapping(torch.zeros(2, G.z_dim)).shape == (2, 1, G.z_dim)
    assert (_images(b) - generate(G, seeds_latents(range(4), G.z_dim))).abs().max() < 1e-5


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


@pytest.mark.parametrize("how", ["torch.save", "raw pickle"])
def test_hostile_pickle_is_refused_and_its_payload_never_runs(tmp_path, how):
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.pt"
    obj = {"generator.fc.0.weight": torch.zeros(1), "x": _Payload(marker)}
    if how == "torch.save":
        torch.save(obj, path)
    else:
        path.write_bytes(pickle.dumps(obj, protocol=2))
    with pytest.raises(ModelFileError) as err:
        load_bundle(path)
    assert not marker.exists(), "the pickle's payload ran"
    assert "\n" not in str(err.value)


def test_sanity_the_payload_is_live(tmp_path):
    """The hostile file above would really run code under a plain unpickler: the test can fail."""
    marker = tmp_path / "PWNED"
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert marker.exists()


def _bad_files(tiny_model, tmp_path):
    good = tiny_model.read_bytes()
    yield "truncated", tmp_path / "trunc.safetensors", good[: len(good) // 2]
    yield "random bytes", tmp_path / "random.safetensors", torch.randint(0, 256, (4096,), dtype=torch.uint8,
                                                                         generator=torch.Generator().manual_seed(1)).numpy().tobytes()
    yield "random .pt", tmp_path / "random.pt", bytes(range(256)) * 16
    yield "empty", tmp_path / "empty.safetensors", b""
    yield "text", tmp_path / "notes.pt", b"hello, this is not a model\n"
    yield "zip of junk", tmp_path / "junk.pt", _zip_bytes(tmp_path)


def _zip_bytes(tmp_path):
    p = tmp_path / "z.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("a/data.pkl", b"not a pickle")
    return p.read_bytes()


def test_every_bad_file_gives_one_clear_error(tiny_model, tmp_path):
    cases = list(_bad_files(tiny_model, tmp_path))
    for label, path, data in cases:
        path.write_bytes(data)
        with pytest.raises(ModelFileError) as err:
            load_bundle(path)
        msg = str(err.value)
        assert path.name in msg and "\n" not in msg, (label, msg)


def test_wrong_shapes_are_reported(tiny_model, tmp_path):
    b = load_bundle(tiny_model)
    meta = dict(b.meta, config=dict(b.meta["config"], width=16))
    tensors = {f"{r}.{k}": v for r, n in b.networks.items() for k, v in n.state_dict().items()}
    path = tmp_path / "lying.safetensors"
    save_file(tensors, str(path), metadata={META_KEY: json.dumps(meta)})
    with pytest.raises(ModelFileError, match="do not fit"):
        load_bundle(path)


def test_missing_metadata_unknown_arch_and_future_schema(tiny_model, tmp_path):
    tensors = {"generator.w": torch.zeros(2)}
    save_file(tensors, str(tmp_path / "plain.safetensors"))
    with pytest.raises(ModelFileError, match="without GAN Studio metadata"):
        load_bundle(tmp_path / "plain.safetensors")
    for meta, pattern in [({"schema_version": 99, "kind": "image-generator", "arch": "dcgan", "config": {}},
                           "schema version"),
                          ({"schema_version": 1, "kind": "image-generator", "arch": "nope", "config": {}},
                           "unknown architecture")]:
        save_file(tensors, str(tmp_path / "m.safetensors"), metadata={META_KEY: json.dumps(meta)})
        with pytest.raises(ModelFileError, match=pattern):
            load_bundle(tmp_path / "m.safetensors")


def test_state_dict_of_wrong_network_is_refused(tmp_path):
    torch.save(build("lenet", "classifier", {}).state_dict(), tmp_path / "lenet.pt")
    with pytest.raises(ModelFileError, match="dcgan"):
        load_bundle(tmp_path / "lenet.pt")


def test_atomic_save_leaves_old_file_when_writing_fails(tiny_model, tmp_path):
    b = load_bundle(tiny_model)
    before = tiny_model.read_bytes()
    with pytest.raises(ValueError):
        save_bundle(tiny_model, b.networks, {"kind": "image-generator"})   # missing arch/config
    assert tiny_model.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_weights_hash_identifies_a_generator(tmp_path):
    a = load_bundle(make_tiny_bundle(tmp_path / "a.safetensors", seed=0)).generator()
    b = load_bundle(make_tiny_bundle(tmp_path / "b.safetensors", seed=1)).generator()
    assert weights_hash(a) != weights_hash(b) and weights_hash(a) == weights_hash(a)
