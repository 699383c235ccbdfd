"""Issue 24, LAPGAN (`--arch lapgan`): the Laplacian pyramid recomposes exactly (real images and samples), one latent
per level through mapping / ws (mixing levels mixes coarse structure and detail), a few training steps, the model
file samples, and one-line refusals."""
from __future__ import annotations

import math

import pytest
import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.models import build
from gan_studio.engine.models.lapgan import (
    LAPGANConfig,
    laplacian_pyramid,
    pyramid_figure,
    recompose,
    sample_pyramid,
    up,
)
from gan_studio.engine.training.loop import TrainConfig, train

ARCH = {"w_dim": 4, "width": 4, "mlp_width": 16, "kernel": 3}


def _cfg(data, loss="ns", steps=2):
    return TrainConfig(data=str(data), arch="lapgan", arch_config=dict(ARCH), loss=loss, steps=steps, batch=8,
                       checkpoint_every=100, sample_every=100, threads=1, device="cpu")


def test_levels_and_the_real_pyramid_recompose_exactly():
    assert LAPGANConfig().levels() == [7, 14, 28] and LAPGANConfig(img_resolution=64).levels() == [8, 16, 32, 64]
    x = torch.rand(2, 1, 28, 28) * 2 - 1
    coarse, bands = laplacian_pyramid(x, 3)
    assert coarse.shape[-1] == 7 and [h.shape[-1] for _, h in bands] == [14, 28]
    img = coarse
    for low, h in bands:
        assert torch.allclose(low, up(img), atol=1e-6)
        img = low + h
    assert torch.allclose(img, x, atol=1e-6)


def test_a_sample_s_pyramid_recomposes_to_the_sample_and_ws_are_its_levels():
    torch.manual_seed(0)
    G = build("lapgan", "generator", ARCH).eval()
    assert (G.num_ws, G.w_dim, G.z_dim, G.ws_resolutions) == (3, 4, 12, [7, 14, 28])
    assert G.sefa_weight().shape == (16 + 14 * 14 + 28 * 28, 4)               # every level's first map of w
    z = torch.randn(3, G.z_dim)
    ws = G.mapping(z)
    assert torch.equal(ws[:, 1], z[:, 4:8])                                  # level 1's noise is z's second chunk
    levels = sample_pyramid(G, z)
    assert [lv.resolution for lv in levels] == [7, 14, 28] and levels[0].residual is None
    for prev, lv in zip(levels, levels[1:]):
        assert torch.allclose(lv.image, up(prev.image) + lv.residual, atol=1e-6)
    with torch.no_grad():
        sample = G(z)
    assert torch.allclose(recompose(levels).clamp(-1, 1), sample, atol=1e-6)
    fig = pyramid_figure(levels)                                             # coarse, h14, I14, h28, I28 per sample
    assert fig.shape == (3 * 5, 1, 28, 28) and torch.allclose(fig[4::5], sample, atol=1e-6)
    assert torch.equal(fig[0, :, ::4, ::4], levels[0].image[0].clamp(-1, 1))
    assert float(fig[1::5].abs().amax()) == pytest.approx(1.0)                # residuals at full contrast
    # mixing: the coarse level of one sample with the finer levels of another keeps the first's coarse image
    mixed = torch.cat([ws[:1, :1], ws[1:2, 1:]], 1)
    with torch.no_grad():
        mixed_levels = G.pyramid(mixed)
    assert torch.allclose(mixed_levels[0].image, levels[0].image[:1], atol=1e-6)
    assert not torch.allclose(mixed_levels[1].residual, levels[1].residual[:1])


def test_trains_a_few_steps_and_the_file_samples(tiny_dataset, tmp_path):
    out = tmp_path / "lap.safetensors"
    logs = [p for p in train(_cfg(tiny_dataset), out) if p.losses][-1].losses
    assert {"d_loss", "g_loss", "d_7px", "g_14px", "d_28px"} <= set(logs)
    assert all(math.isfinite(v) for v in logs.values())
    b = load_bundle(out)
    assert b.meta["num_ws"] == 3 and b.meta["ws_resolutions"] == [7, 14, 28]
    G = b.generator()
    with torch.no_grad():
        img, score = G(torch.randn(2, G.z_dim)), b.networks["critic"](torch.zeros(2, 1, 28, 28))
    assert img.shape == (2, 1, 28, 28) and score.shape == (2,)


@pytest.mark.parametrize("loss,words", [("wgan-gp", "--arch lapgan trains with --loss ns"),
                                        ("began", "--arch lapgan trains with")])
def test_unknown_combinations_are_one_line(tiny_dataset, tmp_path, loss, words):
    with pytest.raises(UserError, match=words):
        list(train(_cfg(tiny_dataset, loss=loss), tmp_path / "x.safetensors"))
