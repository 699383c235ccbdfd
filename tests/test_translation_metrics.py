"""The translation figures (metrics/translation.py): PSNR, SSIM and sharpness behave as defined, and
`evaluate_translator` measures each kind of model on held-out data made with the model's own transform."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gan_studio.engine.metrics.translation import evaluate_translator, psnr, sharpness, ssim
from gan_studio.engine.translation import Translator, save_random_translator


def test_psnr_ssim_and_sharpness_follow_their_definitions():
    torch.manual_seed(0)
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    y = (x + 0.2).clamp(-1, 1)                                   # 0.1 in [0, 1] units where not clipped
    mse = (((x + 1) / 2 - (y + 1) / 2) ** 2).flatten(1).mean(1)
    assert psnr(x, y) == pytest.approx(float((10 * torch.log10(1 / mse)).mean()), rel=1e-5)
    assert ssim(x, x) == pytest.approx(1.0, abs=1e-5)
    assert ssim(x, y) < ssim(x, (x + 0.02).clamp(-1, 1)) < 1.0
    blurred = F.avg_pool2d(x, 3, 1, 1)
    assert sharpness(blurred) < 0.6 * sharpness(x)
    assert math.isfinite(psnr(x, x))


@pytest.mark.parametrize("family", ["pix2pix", "cyclegan", "srresnet"])
def test_evaluate_translator_measures_each_kind(tmp_path, tiny_dataset, family):
    t = Translator.open(str(save_random_translator(tmp_path / f"{family}.safetensors", family,
                                                   transform={"cyclegan": "edges"}.get(family))))
    r = evaluate_translator(t, str(tiny_dataset), split="train", n=40)
    assert r["family"] == family and r["features"] == "lenet-mnist"
    if family == "pix2pix":
        assert r["n"] == 40 and 0 < r["l1"] < 1 and r["fid"] > r["fid_real_halves"] >= 0
    elif family == "cyclegan":
        assert r["n"] == 40 and r["fid_a2b"] > 0 and 0 < r["cycle_l1_a"] < 1
        assert r["class_accuracy_real_b"] is not None          # the discs' labels reach the classifier
    else:
        assert r["psnr_bicubic"] > r["psnr"] and r["ssim_bicubic"] > r["ssim"]   # random weights lose to bicubic
