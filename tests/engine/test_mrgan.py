"""Issue 24, MRGAN (`--arch dcgan-enc --loss mrgan`): the two regularisers against hand values, a few steps of the
regularised GAN and of the manifold-diffusion variant, the encoder in the model file, and one-line refusals."""
from __future__ import annotations

import math

import pytest
import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.training.loop import TrainConfig, train
from gan_studio.engine.training.recipe_mrgan import mode_regularisers

ARCH = {"width": 8, "z_dim": 8}


def _cfg(data, loss="mrgan", arch="dcgan-enc", steps=2, **kw):
    return TrainConfig(data=str(data), arch=arch, arch_config=dict(ARCH), loss=loss, steps=steps, batch=8,
                       checkpoint_every=100, sample_every=100, threads=1, device="cpu", **kw)


def test_regularisers_against_hand_values():
    x = torch.zeros(2, 1, 2, 2)
    recon = torch.tensor([[[[1.0, 1.0], [1.0, 1.0]]], [[[2.0, 0.0], [0.0, 2.0]]]])   # MSE 1 and (4 + 4) / 4 = 2
    logits = torch.tensor([0.0, math.log(3.0)])          # D = 1/2 and 3/4: -log D = log 2 and log 4/3
    geometric, mode, total = mode_regularisers(x, recon, logits, 0.2, 0.4)
    assert float(geometric) == pytest.approx((1.0 + 2.0) / 2)
    assert float(mode) == pytest.approx((math.log(2.0) + math.log(4.0 / 3.0)) / 2)
    assert float(total) == pytest.approx(0.2 * 1.5 + 0.4 * float(mode))
    # the mode term falls as the critic finds the reconstructions real (the sign the paper's text means)
    assert float(mode_regularisers(x, recon, torch.full((2,), 5.0), 0, 1)[1]) < float(mode)


@pytest.mark.parametrize("variant,keys", [(False, {"geometric", "mode"}),
                                          (True, {"geometric", "mode", "d_diffusion", "manifold"})])
def test_trains_and_the_file_holds_the_encoder(tiny_dataset, tmp_path, variant, keys):
    out = tmp_path / "mr.safetensors"
    steps = [p for p in train(_cfg(tiny_dataset, options={"manifold_diffusion": variant}), out) if p.losses]
    logs = steps[-1].losses
    assert keys <= set(logs) and all(math.isfinite(v) for v in logs.values()), logs
    b = load_bundle(out)
    want = {"generator", "critic", "encoder"} | ({"diffusion_critic"} if variant else set())
    assert set(b.networks) == want and b.meta["training"]["dcgan-enc"]["manifold_diffusion"] is variant
    G, E = b.generator(), b.networks["encoder"]
    with torch.no_grad():
        img = G(torch.randn(2, G.z_dim))
        z = E(img)
    assert img.shape == (2, 1, 28, 28) and z.shape == (2, G.z_dim) and torch.isfinite(z).all()


@pytest.mark.parametrize("arch,loss,words", [("dcgan", "mrgan", "use --arch dcgan-enc"),
                                              ("dcgan-enc", "wgan-gp", "--arch dcgan-enc trains with --loss mrgan")])
def test_unknown_combinations_are_one_line(tiny_dataset, tmp_path, arch, loss, words):
    with pytest.raises(UserError, match=words):
        list(train(_cfg(tiny_dataset, loss=loss, arch=arch), tmp_path / "x.safetensors"))
