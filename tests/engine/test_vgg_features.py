"""A user's own VGG (and LPIPS) weights as projection's perceptual term (engine/latent/vgg.py)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.latent.perceptual import TapDistance, choose_taps
from gan_studio.engine.latent.projection import Schedule, project_image
from gan_studio.engine.latent.sampling import generate
from gan_studio.engine.latent.vgg import load_vgg_taps, vgg_from_state_dict
from gan_studio.engine.seeds import seed_latent
from tests.conftest import RESOURCES


def torchvision_like(cfg) -> nn.Sequential:
    """The conv stack as torchvision's `make_layers` lays it out (conv, ReLU, ..., 'M' a max-pool): the reference
    for the index layout vgg.py reads."""
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=False)]
            c = v
    return nn.Sequential(*layers)


# vgg16's configuration "D" with the widths divided by 16 (same layout, small)
CFG = [4, 4, "M", 8, 8, "M", 16, 16, 16, "M", 32, 32, 32, "M", 32, 32, 32, "M"]


def _vgg_file(tmp_path, cfg=CFG, prefix="features."):
    torch.manual_seed(0)
    ref = torchvision_like(cfg).eval()
    sd = {f"{prefix}{k}": v for k, v in ref.state_dict().items()}
    sd["classifier.0.weight"] = torch.zeros(2, 2)            # a full model's head: ignored
    path = tmp_path / "vgg.pth"
    torch.save(sd, path)
    return ref, path


def test_the_layout_and_taps_match_torchvisions_vgg16(tmp_path):
    ref, path = _vgg_file(tmp_path)
    taps = load_vgg_taps(path)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    got = taps(x)
    # the reference: ReLU outputs right before each pool (relu1_2, relu2_2, relu3_3, relu4_3, relu5_3)
    h, want = (x - taps.shift) / taps.scale, []
    for i, layer in enumerate(ref):
        h = layer(h)
        if isinstance(layer, nn.ReLU) and i + 1 < len(ref) and isinstance(ref[i + 1], nn.MaxPool2d):
            want.append(h)
    assert [t.shape[1] for t in got] == [4, 8, 16, 32, 32] and len(got) == len(want)
    for a, b in zip(got, want):
        assert torch.allclose(a, b, atol=1e-5)
    # a features-only state_dict (keys N.weight) reads the same
    (tmp_path / "bare").mkdir()
    _, bare = _vgg_file(tmp_path / "bare", prefix="")
    assert all(torch.allclose(a, b) for a, b in zip(load_vgg_taps(bare)(x), got))


def test_distance_and_lpips_channel_weights(tmp_path):
    _, path = _vgg_file(tmp_path)
    lin = {f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1) for k, c in enumerate([4, 8, 16, 32, 32])}
    torch.save(lin, tmp_path / "lin.pth")
    x = torch.rand(3, 1, 32, 32) * 2 - 1                      # gray, small: repeated to RGB, resized to 64 px
    plain = TapDistance(load_vgg_taps(path), x[:1])
    lp = TapDistance(load_vgg_taps(path, tmp_path / "lin.pth"), x[:1])
    for d in (plain, lp):
        assert d(x[:1]).item() == pytest.approx(0.0, abs=1e-6)
        far = d(x)
        assert far[1] > 1e-3 and far[2] > 1e-3
        assert torch.allclose(d.pairwise(x)[0], far, atol=1e-5)
    assert not torch.allclose(plain(x), lp(x))                # the weights change the distance
    zero = {k: torch.zeros_like(v) for k, v in lin.items()}
    torch.save(zero, tmp_path / "zero.pth")
    assert TapDistance(load_vgg_taps(path, tmp_path / "zero.pth"), x[:1])(x).abs().max() == 0


def test_bad_vgg_and_lpips_files_are_one_user_error(tmp_path):
    _, path = _vgg_file(tmp_path)
    cases = {
        "bn.pth": {"features.0.weight": torch.zeros(4, 3, 3, 3), "features.1.running_mean": torch.zeros(4)},
        "empty.pth": {"fc.weight": torch.zeros(2, 2)},
        "chain.pth": {"features.0.weight": torch.zeros(4, 3, 3, 3), "features.2.weight": torch.zeros(4, 5, 3, 3)},
        "gap.pth": {"features.0.weight": torch.zeros(4, 3, 3, 3), "features.7.weight": torch.zeros(4, 4, 3, 3)},
    }
    for name, sd in cases.items():
        torch.save(sd, tmp_path / name)
        with pytest.raises(UserError) as e:
            load_vgg_taps(tmp_path / name)
        assert name in str(e.value) and "\n" not in str(e.value)
    torch.save({"lin0.model.1.weight": torch.ones(1, 4, 1, 1)}, tmp_path / "short.pth")
    with pytest.raises(UserError, match="lin1 must hold 8 channel weights"):
        load_vgg_taps(path, tmp_path / "short.pth")
    torch.save({f"lin{k}.model.1.weight": -torch.ones(1, c, 1, 1) for k, c in enumerate([4, 8, 16, 32, 32])},
               tmp_path / "neg.pth")
    with pytest.raises(UserError, match="non-negative"):
        load_vgg_taps(path, tmp_path / "neg.pth")

    class Evil:
        def __reduce__(self):
            return (print, ("ran",))
    torch.save({"features.0.weight": Evil()}, tmp_path / "evil.pth")
    with pytest.raises(UserError):
        load_vgg_taps(tmp_path / "evil.pth")
    with pytest.raises(UserError, match="no such file"):
        load_vgg_taps(tmp_path / "missing.pth")
    with pytest.raises(UserError):
        vgg_from_state_dict({"features.0.weight": torch.zeros(4, 3, 3)})


def test_projection_with_vgg_features(tmp_path):
    G = load_bundle(RESOURCES / "mnist-wgan-gp.safetensors").generator().eval()
    _, path = _vgg_file(tmp_path)
    name, taps = choose_taps(G, str(path))
    assert name == "vgg (vgg.pth)"
    with pytest.raises(UserError, match="LPIPS weights go with a VGG"):
        choose_taps(G, "pixels", lpips=tmp_path / "lin.pth")
    target = generate(G, seed_latent(321, G.z_dim))
    first = project_image(G, target, steps=1, features=str(path), schedule=Schedule(starts=2))
    last = project_image(G, target, steps=40, features=str(path), schedule=Schedule(starts=2))
    assert last.losses["features"] > 0 and last.losses["total"] < first.losses["total"]
