"""Training the translation recipes (engine/translation) on tiny data: every recipe trains a few steps, writes its
one-file checkpoint, loads as a Translator and resumes; pix2pix and SRResNet actually learn; the data layouts
(one source + transform, A/ and B/ folders, two sources) and their errors; the CycleGAN pool and schedule."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gan_studio.engine.bundle import read_metadata
from gan_studio.engine.data.pairs import load_translation_data
from gan_studio.engine.data.transforms import apply_transform
from gan_studio.engine.errors import UserError
from gan_studio.engine.translation import RECIPE_NAMES, Translator, train_translation, translation_config
from gan_studio.engine.translation.recipe_cycle import ImagePool

TINY = {"width": 4, "critic_width": 4, "blocks": 1}


@pytest.fixture(scope="module")
def strokes_data(tmp_path_factory):
    """48 labelled 28 px 'digits': bars and rings at random places (bright on black)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:28, :28]
    imgs = np.zeros((48, 28, 28), np.uint8)
    for i in range(48):
        cy, cx = rng.uniform(10, 18, 2)
        if i % 2:
            imgs[i][(np.abs(yy - cy) < 8) & (np.abs(xx - cx) < 2)] = 255
        else:
            r = np.hypot(yy - cy, xx - cx)
            imgs[i][(r > 4) & (r < 7)] = 255
    path = tmp_path_factory.mktemp("data") / "shapes.npz"
    np.savez(path, images=imgs, labels=np.arange(48) % 2)
    return path


def _train(recipe, data, out, steps=3, resume=False, arch_config=TINY, **kw):
    cfg = translation_config(recipe, str(data), steps=steps, batch=4, seed=0, arch_config=arch_config,
                             checkpoint_every=2, sample_every=100, **kw)
    return list(train_translation(cfg, out, resume=resume))


@pytest.mark.parametrize("recipe", RECIPE_NAMES)
def test_every_recipe_trains_saves_loads_and_resumes(tmp_path, strokes_data, recipe):
    out = tmp_path / f"{recipe}.safetensors"
    progress = _train(recipe, strokes_data, out)
    assert progress[-1].step == 3 and all(np.isfinite(v) for v in progress[-1].losses.values())
    assert progress[0].samples is not None and progress[0].samples.shape[1:] == (1, 28, 28)
    meta = read_metadata(out)
    assert meta["kind"] == "translation-model" and meta["training"]["step"] == 3
    assert meta["training"]["seed"] == 0 and meta["translation"]["family"] == recipe
    t = Translator.open(str(out))
    x = torch.rand(2, *t.input_shape) * 2 - 1
    before = t.translate(x)
    resumed = _train(recipe, strokes_data, out, steps=5, resume=True)
    assert resumed[0].message.startswith("resumed") and resumed[-1].step == 5
    meta = read_metadata(out)
    assert meta["training"]["step"] == 5 and meta["training"]["history"][0]["until_step"] == 3
    assert not torch.equal(Translator.open(str(out)).translate(x), before)       # it trained on


def test_pix2pix_learns_and_the_l1_baseline_has_no_critic_updates(tmp_path, strokes_data):
    data = load_translation_data(strokes_data, paired=True, transform="strokes")
    a, b = data.as_float(data.a), data.as_float(data.b)
    out = tmp_path / "p.safetensors"
    _train("pix2pix", strokes_data, out, steps=1)
    start = (Translator.open(str(out)).translate(a) - b).abs().mean()
    _train("pix2pix", strokes_data, out, steps=40, resume=True)
    assert (Translator.open(str(out)).translate(a) - b).abs().mean() < 0.7 * start
    l1 = _train("pix2pix", strokes_data, tmp_path / "l1.safetensors", options={"gan_weight": 0})
    assert "d_loss" not in l1[-1].losses and read_metadata(tmp_path / "l1.safetensors")["training"]["objective"] \
        == "L1 only"


def test_srresnet_beats_its_start_and_srgan_starts_from_it(tmp_path, strokes_data):
    sr = tmp_path / "sr.safetensors"
    first = _train("srresnet", strokes_data, sr, steps=40)
    assert first[-1].losses["mse"] < first[0].losses["mse"]
    t = Translator.open(str(sr))
    assert (t.input_shape, t.output_shape, t.upscale_factor) == ((1, 7, 7), (1, 28, 28), 4)
    gan = tmp_path / "gan.safetensors"
    _train("srgan", strokes_data, gan, steps=1, options={"init": str(sr), "content": "pixel"})
    assert read_metadata(gan)["training"]["init"] == str(sr)
    with pytest.raises(UserError, match="not a super-resolution generator"):
        _train("srgan", strokes_data, tmp_path / "x.safetensors", options={"init": str(gan)},
               arch_config=TINY | {"width": 8})


def test_paired_folders_pair_by_name_and_unpaired_sources_sample_independently(tmp_path):
    for side, size in (("A", 7), ("B", 28)):
        (tmp_path / "pairs" / side).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(np.full((size, size), 40 * i, np.uint8)).save(tmp_path / "pairs" / side / f"{i}.png")
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "pairs" / "B" / "lonely.png")
    data = load_translation_data(tmp_path / "pairs", paired=True)
    assert data.paired and data.a.shape == (6, 1, 7, 7) and data.b.shape == (6, 1, 28, 28)
    assert torch.equal(data.a[:, 0, 0, 0], data.b[:, 0, 0, 0])          # i.png with i.png
    out = tmp_path / "sr.safetensors"
    _train("srresnet", tmp_path / "pairs", out, steps=2)
    assert read_metadata(out)["translation"]["input_shape"] == [1, 7, 7]
    two = load_translation_data(tmp_path / "pairs" / "A", paired=False, source_b=tmp_path / "pairs" / "B")
    assert not two.paired and len(two.a) == 6 and len(two.b) == 7


def test_one_source_unpaired_splits_into_disjoint_halves(strokes_data):
    data = load_translation_data(strokes_data, paired=False, transform="edges")
    assert len(data.a) == len(data.b) == 24
    assert torch.equal(data.labels_a, torch.zeros(24, dtype=torch.long))       # even positions -> A
    assert torch.equal(data.labels_b, torch.ones(24, dtype=torch.long))


def test_bad_data_and_settings_are_one_line(tmp_path, strokes_data):
    cases = [(dict(options={"transform": ""}), "needs a transform"),
             (dict(options={"transform": "sparkles"}), "unknown transform"),
             (dict(options={"lambda": 3}), "unknown option"),
             (dict(loss="wgan"), "trains with --loss"),
             (dict(arch_config=TINY | {"resolution": 32}), "takes 1x32x32")]
    for kw, words in cases:
        with pytest.raises(UserError, match=words) as info:
            _train("pix2pix", strokes_data, tmp_path / "bad.safetensors", **kw)
        assert "\n" not in str(info.value)
    with pytest.raises(UserError, match="unknown translation recipe"):
        translation_config("dcgan", str(strokes_data))


def test_strokes_are_pen_wide_skeletons_and_edges_are_hollow():
    bar = -torch.ones(1, 1, 28, 28)
    bar[..., 4:24, 10:18] = 1.0                     # an 8 px wide bar
    s = apply_transform("strokes", bar)[0, 0] > 0
    assert s[14].sum() == 3                           # a 1 px skeleton drawn with the 3 px pen
    e = apply_transform("edges", bar)[0, 0] > 0
    assert not e[14, 12:16].any() and e[14, 9] and e[14, 18]     # the outline, not the inside


def test_image_pool_stores_then_mixes_history():
    torch.manual_seed(0)
    pool = ImagePool(4)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first)
    fresh = torch.arange(100.0, 164.0).view(64, 1, 1, 1)
    later = pool.query(fresh)
    swapped = (later != fresh).sum().item()              # an older fake served in its place
    assert 16 < swapped < 48 and len(pool.images) == 4
    assert set(later.flatten().tolist()) <= set(range(4)) | set(range(100, 164))


def test_cyclegan_learning_rate_is_constant_then_decays_linearly(tmp_path, strokes_data):
    cfg = translation_config("cyclegan", str(strokes_data), steps=100, batch=4, arch_config=TINY)
    from gan_studio.engine.translation.recipe_cycle import CycleGANRecipe
    r = CycleGANRecipe(cfg, torch.device("cpu"))
    assert [r.lr_factor(s) for s in (0, 49, 50, 75, 100)] == [1.0, 1.0, 1.0, 0.5, 0.0]
    r.resume_at(75)
    r._schedule()
    assert r.opt_g.param_groups[0]["lr"] == pytest.approx(1e-4)


def test_srgan_content_loss_in_a_users_vgg_file(tmp_path, strokes_data):
    torch.manual_seed(0)
    vgg = {"features.0.weight": torch.randn(4, 3, 3, 3), "features.0.bias": torch.zeros(4),
           "features.2.weight": torch.randn(8, 4, 3, 3), "features.2.bias": torch.zeros(8)}   # conv-ReLU-conv-ReLU
    torch.save(vgg, tmp_path / "vgg.pth")
    out = tmp_path / "gan.safetensors"
    progress = _train("srgan", strokes_data, out, steps=2, options={"content": f"vgg:{tmp_path / 'vgg.pth'}"})
    assert np.isfinite(progress[-1].losses["content"]) and progress[-1].losses["content"] > 0
    assert read_metadata(out)["training"]["objective"].startswith("content (VGG last tap (vgg.pth))")
    with pytest.raises(UserError, match="content must be"):
        _train("srgan", strokes_data, tmp_path / "x.safetensors", options={"content": "inception"})
