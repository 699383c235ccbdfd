"""The shipped translation models (resources/): small, with their provenance and measured figures, and still as good
as measured on a sample of held-out MNIST digits — and a pen drawing turns into the digit it shows."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from gan_studio.engine.data.pairs import TranslationData, load_translation_data
from gan_studio.engine.metrics.features import get_extractor
from gan_studio.engine.metrics.translation import psnr
from gan_studio.engine.translation import Translator
from tests.conftest import RESOURCES

SHIPPED = {"mnist-pix2pix-strokes": "pix2pix", "mnist-srresnet-x4": "srresnet", "mnist-srgan-x4": "srgan",
           "mnist-discogan-outlines": "discogan"}


def _open(name: str) -> Translator:
    path = RESOURCES / f"{name}.safetensors"
    if not path.is_file():
        pytest.fail(f"the shipped model {path} is missing")
    return Translator.open(str(path))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_translators_are_small_and_say_how_they_were_made(name):
    t = _open(name)
    assert t.family == SHIPPED[name] and t.path.stat().st_size < 5_000_000
    training = t.meta["training"]
    assert training["command"].startswith("gan-studio train-translation") and training["seed"] == 0
    assert training["step"] >= 2000 and t.meta["stored"]["precision"] == "float16"
    assert "bench_translation" in t.meta["metrics"]


def _labelled(mnist_dir, transform: str, n: int = 200):
    data = load_translation_data(mnist_dir, True, "test", transform, limit=n)
    return TranslationData.as_float(data.a), TranslationData.as_float(data.b), data.labels_b


def _classes(x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return get_extractor("lenet-mnist").net(x).argmax(1)


def test_pix2pix_turns_held_out_strokes_into_the_right_digits(mnist_dir):
    a, b, labels = _labelled(mnist_dir, "strokes")
    y = _open("mnist-pix2pix-strokes").translate(a)
    assert float((_classes(y) == labels).double().mean()) > 0.93          # measured 0.969 on 2,000
    assert float(((y - b).abs() / 2).mean()) < 0.05                       # L1 measured 0.037


def test_a_pen_drawing_becomes_its_digit():
    t = _open("mnist-pix2pix-strokes")
    strokes = {7: [(8, 6, 20, 6), (20, 6, 12, 23)], 1: [(14, 5, 14, 23)], 4: [(18, 5, 9, 16), (9, 16, 21, 16),
                                                                            (17, 10, 17, 24)]}
    drawings = []
    for lines in strokes.values():
        im = Image.new("L", (28, 28), 0)
        for line in lines:
            ImageDraw.Draw(im).line(line, fill=255, width=t.pen_width)
        drawings.append(torch.from_numpy(np.asarray(im, np.float32) / 127.5 - 1)[None])
    out = t.translate(torch.stack(drawings))
    assert _classes(out).tolist() == list(strokes)


def test_super_resolution_beats_bicubic_and_srgan_trades_psnr(mnist_dir):
    a, b, _ = _labelled(mnist_dir, "down4")
    srresnet, srgan = _open("mnist-srresnet-x4"), _open("mnist-srgan-x4")
    assert srresnet.upscale_factor == 4 and srgan.input_shape == (1, 7, 7)
    bicubic = psnr(srresnet.bicubic(a), b)
    assert psnr(srresnet.translate(a), b) > bicubic + 5                   # measured 21.2 against 14.7 dB
    assert psnr(srgan.translate(a), b) > bicubic + 5                      # 21.1


def test_discogan_fills_held_out_outlines_into_their_digits_and_back(mnist_dir):
    data = load_translation_data(mnist_dir, False, "test", "edges", limit=200)
    a = TranslationData.as_float(data.a)
    t = _open("mnist-discogan-outlines")
    assert t.kind == "cycle" and t.drawable and t.domains == ("outlines", "digits")
    digits = t.translate(a)
    assert float((_classes(digits) == data.labels_a).double().mean()) > 0.8     # measured 0.859 on 2,000
    assert float(((t.round_trip(a) - a).abs() / 2).mean()) < 0.16               # cycle L1 measured 0.120
