"""The translation API the Translate tab uses (engine/translation): random-weight files of every family open as
Translators with the right shapes, translate, round-trip, and refuse bad input in one line."""
from __future__ import annotations

import pytest
import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.translation import FAMILIES, Translator, save_random_translator


@pytest.mark.parametrize("family", FAMILIES)
def test_random_translator_of_every_family_opens_and_translates(tmp_path, family):
    path = save_random_translator(tmp_path / f"{family}.safetensors", family, seed=1)
    t = Translator.open(str(path))
    assert t.family == family and t.kind in ("paired", "cycle", "sr")
    x = torch.rand(3, *t.input_shape) * 2 - 1
    y = t.translate(x)
    assert y.shape == (3, *t.output_shape) and y.dtype == torch.float32
    assert float(y.abs().max()) <= 1.0
    assert torch.equal(y, t.translate(x))                      # deterministic (eval mode)
    assert t.translate(x[0]).shape == t.output_shape           # a single (C, H, W) image
    if t.kind == "sr":
        assert t.upscale_factor == 4 and t.input_shape == (1, 7, 7) and t.output_shape == (1, 28, 28)
        assert t.bicubic(x).shape == y.shape
    if t.kind == "cycle":
        assert t.directions == ("a2b", "b2a")
        assert t.translate(y, "b2a").shape == x.shape
        assert t.round_trip(x, "a2b").shape == x.shape
    else:
        with pytest.raises(UserError, match="only cycle models"):
            t.round_trip(x)
        with pytest.raises(UserError, match="not 'b2a'"):
            t.translate(x, "b2a")


def test_pix2pix_random_file_is_drawable_from_strokes(tmp_path):
    t = Translator.open(str(save_random_translator(tmp_path / "p.safetensors", "pix2pix")))
    assert t.drawable and t.transform == "strokes" and t.pen_width == 3 and t.domains[0] == "strokes"
    digit = -torch.ones(1, 28, 28)
    digit[:, 6:22, 12:16] = 1.0                                 # a bar: its skeleton drawn with the pen
    strokes = t.derive_input(digit)
    assert strokes.shape == digit.shape and 0 < int((strokes > 0).sum()) < int((digit > 0).sum())


def test_wrong_shapes_are_one_line(tmp_path):
    t = Translator.open(str(save_random_translator(tmp_path / "p.safetensors", "pix2pix")))
    for bad in (torch.zeros(1, 3, 28, 28), torch.zeros(1, 1, 32, 32), torch.zeros(28, 28)):
        with pytest.raises(UserError) as info:
            t.translate(bad)
        assert "\n" not in str(info.value) and "1-channel 28x28" in str(info.value)
    with pytest.raises(UserError, match="NaN"):
        t.translate(torch.full((1, 1, 28, 28), float("nan")))


def test_a_latent_model_is_not_a_translator(shipped_model):
    with pytest.raises(UserError, match="not a translation model"):
        Translator.open(str(shipped_model))


def test_half_precision_file_loads(tmp_path):
    path = save_random_translator(tmp_path / "c.safetensors", "cyclegan", half=True)
    b = load_bundle(path)
    assert b.kind == "translation-model" and set(b.networks) == {"generator", "generator_ba", "critic", "critic_a"}
    assert Translator(b).translate(torch.zeros(1, 1, 28, 28)).shape == (1, 1, 28, 28)
