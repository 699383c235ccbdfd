"""The optional standard FID Inception (pytorch-fid's layout), tested with random weights saved like its file."""
from __future__ import annotations

import json

import pytest
import torch

from gan_studio.engine.errors import UserError
from gan_studio.engine.metrics.features import get_extractor, parse_spec
from gan_studio.engine.metrics.inception import (
    ENV_VAR,
    WEIGHTS_FILE,
    FIDInceptionV3,
    InceptionFeatures,
    load_state,
    weights_path,
)

pytestmark = pytest.mark.slow      # a 299x299 Inception forward pass takes ~0.5 s per image on one CPU thread


def fid_style_state_dict(seed: int = 0) -> dict:
    """Random weights in the exact key layout of pt_inception-2015-12-05-6726825d.pth: torchvision's Inception3
    module names without AuxLogits, plus the 1008-way fc."""
    torch.manual_seed(seed)
    net = FIDInceptionV3()
    with torch.no_grad():               # non-trivial batch-norm statistics so eval mode is not the identity
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    sd = dict(net.state_dict())
    sd["fc.weight"], sd["fc.bias"] = torch.randn(1008, 2048) * 0.01, torch.zeros(1008)
    return sd


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("inception") / WEIGHTS_FILE
    torch.save(fid_style_state_dict(), path)
    return path


def test_layout_matches_torchvision_inception3_without_aux_and_fc():
    # torchvision's inception_v3 (aux_logits, 1000 classes) has 27,161,264 parameters; AuxLogits 3,326,696, fc 2,049,000
    assert sum(p.numel() for p in FIDInceptionV3().parameters()) == 27_161_264 - 3_326_696 - 2_049_000
    keys = FIDInceptionV3().state_dict()
    assert "Mixed_7c.branch3x3dbl_3b.conv.weight" in keys and "Mixed_6e.branch7x7dbl_5.bn.running_var" in keys


def test_loader_accepts_the_layout_and_gives_2048_features(weights):
    ex = get_extractor(f"inception:{weights}")
    assert isinstance(ex, InceptionFeatures) and ex.name == "inception" and ex.dim == 2048
    assert ex.standard is False and len(ex.sha256) == 8          # random weights: not pytorch-fid's file
    g = torch.Generator().manual_seed(0)
    imgs = torch.rand(3, 1, 28, 28, generator=g) * 2 - 1
    f = ex(imgs)
    assert f.shape == (3, 2048) and f.dtype == torch.float64 and torch.isfinite(f).all() and f.std() > 0
    one_by_one = torch.cat([ex(imgs[i:i + 1], batch_size=1) for i in range(3)])
    assert torch.allclose(f, one_by_one, atol=1e-4, rtol=1e-4)                  # no batch dependence
    assert torch.allclose(f, ex(imgs.expand(-1, 3, -1, -1)), atol=1e-6)       # grayscale = repeated to RGB
    x = ex.prepare(imgs)
    assert x.shape == (3, 3, 299, 299) and x.min() >= -1 - 1e-6 and x.max() <= 1 + 1e-6


def test_a_file_without_num_batches_tracked_loads_too(tmp_path):
    sd = {k: v for k, v in fid_style_state_dict(1).items() if not k.endswith("num_batches_tracked")}
    torch.save(sd, tmp_path / "w.pth")
    assert len(load_state(tmp_path / "w.pth")) == len(sd) - 2                  # fc is not part of the features


@pytest.mark.parametrize("make,words", [
    (lambda p: p.write_text("not weights"), "is not pytorch-fid's FID Inception weights"),
    (lambda p: torch.save({"a": torch.zeros(1)}, p), "tensors are missing"),
    (lambda p: torch.save([1, 2], p), "not a plain state_dict"),
    (lambda p: torch.save(dict(fid_style_state_dict(), **{"fc.weight": torch.zeros(1000, 2048)}), p),
     "torchvision"),
])
def test_a_wrong_file_is_one_clear_user_error(tmp_path, make, words):
    path = tmp_path / "wrong.pth"
    make(path)
    with pytest.raises(UserError) as info:
        InceptionFeatures(path)
    msg = str(info.value)
    assert words in msg and "\n" not in msg and str(path) in msg


def test_without_weights_the_message_says_where_to_get_them(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(UserError, match=r"pytorch-fid/releases/download/fid_weights/pt_inception"):
        weights_path(None)
    with pytest.raises(UserError, match="no such file"):
        weights_path(tmp_path / "missing.pth")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env.pth"))
    with pytest.raises(UserError, match="from-env.pth: no such file"):
        weights_path(None)
    assert parse_spec("inception:/a/b.pth") == ("inception", "/a/b.pth") and parse_spec("lenet-mnist")[1] is None


def test_cli_evaluate_with_inception_features(weights, tiny_model, tiny_dataset):
    from tests.e2e.test_cli import assert_user_error, run
    r = run("evaluate", "--model", tiny_model, "--data", tiny_dataset, "--split", "train", "--n", 10,
            "--features", f"inception:{weights}", "--json", "--device", "cpu")
    res = json.loads(r.stdout)
    assert res["features"] == "inception" and res["n"] == 10 and res["features_standard"] is False
    assert res["fid"] >= 0 and 0 <= res["precision"] <= 1
    bad = run("evaluate", "--model", tiny_model, "--data", tiny_dataset, "--split", "train", "--n", 10,
              "--features", f"inception:{tiny_dataset}", check=False)
    assert_user_error(bad, "is not pytorch-fid's FID Inception weights")
