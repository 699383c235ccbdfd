"""`gan-studio pack`: a compact float16 copy of a model with the networks you keep."""
from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors import safe_open

from tests.e2e.test_cli import assert_user_error, run


def test_pack_keeps_chosen_networks_in_float16_and_renders_the_same(shipped_model, tmp_path):
    from gan_studio.engine.bundle import load_bundle
    out = tmp_path / "small.safetensors"
    r = run("pack", "--model", shipped_model, "--networks", "generator_ema,critic", "--out", out)
    assert "float16" in r.stdout and out.stat().st_size < shipped_model.stat().st_size / 3
    with safe_open(str(out), framework="pt") as f:
        keys = list(f.keys())
        assert {k.split(".")[0] for k in keys} == {"generator_ema", "critic"}
        assert all(str(f.get_tensor(k).dtype) == "torch.float16" for k in keys if "num_batches" not in k)
    packed, original = load_bundle(out), load_bundle(shipped_model)
    assert packed.meta["stored"]["precision"] == "float16"
    assert packed.meta["stored"]["packed_from"]["networks"] == sorted(original.networks)
    assert packed.meta["metrics"] == original.meta["metrics"]
    assert packed.meta["training"]["command"] == original.meta["training"]["command"]
    run("sample", "--model", out, "--seed", 0, "--n", 4, "--out", tmp_path / "a.npy")
    run("sample", "--model", shipped_model, "--seed", 0, "--n", 4, "--out", tmp_path / "b.npy")
    diff = np.abs(np.load(tmp_path / "a.npy") - np.load(tmp_path / "b.npy"))
    assert 0 < diff.max() < 0.05                      # float16 weights: close, not bit-identical
    info = json.loads(run("info", "--model", out, "--json").stdout)
    assert info["stored"]["networks"] == ["generator_ema", "critic"]


@pytest.mark.parametrize("args,words", [
    (["--networks", "critic"], ["needs its generator_ema or generator network"]),
    (["--networks", "generator,mapping"], ["has no mapping network"]),
])
def test_pack_errors_are_one_line(shipped_model, tmp_path, args, words):
    r = run("pack", "--model", shipped_model, "--out", tmp_path / "x.safetensors", *args, check=False)
    assert_user_error(r, *words)
    r = run("pack", "--model", shipped_model, "--out", tmp_path / "x.pt", check=False)
    assert_user_error(r, "--out must end in .safetensors")


def test_evaluate_write_keeps_a_packed_file_float16(shipped_model, mnist_dir, tmp_path):
    out = tmp_path / "small.safetensors"
    run("pack", "--model", shipped_model, "--networks", "generator_ema", "--out", out)
    size = out.stat().st_size
    run("evaluate", "--model", out, "--data", mnist_dir, "--split", "test", "--n", 100, "--write")
    with safe_open(str(out), framework="pt") as f:
        assert str(f.get_tensor("generator_ema.fc.0.weight").dtype) == "torch.float16"
        meta = json.loads(f.metadata()["gan_studio"])
    assert meta["metrics"]["test"]["n"] == 100 and abs(out.stat().st_size - size) < 10_000
