"""Issue 22's engine promises: typed, ranged settings (one UserError line), no checkpoint with non-finite tensors,
no hang when the batch outgrows the dataset, size caps before allocating, pickle refusals in our words."""
from __future__ import annotations

import math
import os
import pickle
import re
import warnings

import numpy as np
import pytest
import torch

from gan_studio.engine.checks import DECAY, Range, check_value, nonfinite_tensors
from gan_studio.engine.errors import DataError, ModelFileError, TrainingDiverged, UserError
from gan_studio.engine.imaging import upscale
from gan_studio.engine.models.dcgan import DCGANConfig
from gan_studio.engine.models.size import check_network_size
from gan_studio.engine.torchload import load_weights
from gan_studio.engine.training import recipes
from gan_studio.engine.training.batches import batches
from gan_studio.engine.training.loop import TrainConfig, train

ARCH = {"width": 4, "z_dim": 8}


def _cfg(data, **kw):
    base = dict(data=str(data), arch_config=ARCH, loss="ns", steps=2, batch=16, seed=0, checkpoint_every=2,
                sample_every=100, threads=1, device="cpu")
    return TrainConfig(**(base | kw))


# ---------------------------------------------------------------- typed, ranged values

def test_check_value_types_ranges_and_finiteness():
    assert check_value("x", 3, float, Range(0, 10)) == 3.0 and isinstance(check_value("x", 3, float), float)
    assert check_value("x", None, int, optional=True) is None
    for bad, words in [(math.nan, "finite"), (math.inf, "finite"), (True, "a number"), ("1", "a number"),
                       (1.5, "in [0, 1)")]:
        with pytest.raises(UserError, match=re.escape(words)):
            check_value("ema_beta", bad, float, DECAY)
    with pytest.raises(UserError, match="an integer"):
        check_value("n", 1.0, int)
    assert Range(1, None).describe(True) == "at least 1" and Range(0, 5, lo_open=True).describe(True) == "in [1, 5]"


@pytest.mark.parametrize("kw, words", [
    ({"lr": -1.0}, "lr must be a positive number"), ({"lr": math.nan}, "lr must be a finite number"),
    ({"n_critic": 0}, "n_critic must be in [1, 1000]"), ({"n_critic": -1}, "n_critic"),
    ({"checkpoint_every": 0}, "checkpoint_every must be at least 1"), ({"sample_every": 0}, "sample_every"),
    ({"threads": -1}, "threads"), ({"steps": "5"}, "steps must be an integer"), ({"batch": True}, "batch"),
    ({"max_minutes": math.inf}, "max_minutes"), ({"reg_weight": -1.0}, "reg_weight"),
    ({"options": "ema_beta=0"}, "options must be a JSON object"), ({"sn": 1}, "sn must be true or false"),
])
def test_trainconfig_refuses_bad_values_as_the_gui_builds_it(tiny_dataset, kw, words):
    """TrainConfig(...) itself (the GUI's path, no command line) refuses with one UserError naming the field."""
    with pytest.raises(UserError) as info:
        _cfg(tiny_dataset, **kw)
    assert words in str(info.value) and "\n" not in str(info.value)
    assert _cfg(tiny_dataset, lr=1).lr == 1.0          # an int is a number: made a float


@pytest.mark.parametrize("options, words", [({"ema_beta": 1e10}, "ema_beta must be in [0, 1)"),
                                            ({"ema_beta": -0.5}, "ema_beta"), ({"ema_beta": "x"}, "ema_beta"),
                                            ({"unroll_steps": 1.5}, "unroll_steps must be an integer"),
                                            ({"info_lambda": math.nan}, "finite")])
def test_recipe_options_are_checked_before_training(tiny_dataset, tmp_path, options, words):
    out = tmp_path / "m.safetensors"
    with pytest.raises(UserError) as info:
        next(train(_cfg(tiny_dataset, options=options), out))
    assert words in str(info.value) and not out.exists()


def test_arch_configs_are_typed_and_capped_before_allocating():
    for bad in ({"width": "8"}, {"width": 1.5}, {"z_dim": True}):
        with pytest.raises(UserError, match="must be an integer"):
            DCGANConfig.from_dict(bad)
    assert DCGANConfig.from_dict({"width": np.int64(8)}).width == 8
    for huge in ({"width": 100_000}, {"z_dim": 10**9}):
        with pytest.raises(UserError, match="the cap is"):
            check_network_size("dcgan", huge)
    check_network_size("dcgan", {"width": 64})


def test_resume_without_a_file_is_an_error(tiny_dataset, tmp_path):
    with pytest.raises(UserError, match="nothing to continue"):
        next(train(_cfg(tiny_dataset), tmp_path / "none.safetensors", resume=True))


# ---------------------------------------------------------------- batch larger than the dataset

def test_a_batch_larger_than_the_data_is_refused_at_once_not_a_hang():
    with pytest.raises(DataError, match="--batch 9 is larger than the dataset"):
        batches(torch.zeros(8, 2), 9, torch.Generator())          # eager: before any batch is asked for
    assert next(batches(torch.zeros(8, 2), 8, torch.Generator())).shape == (8, 2)


def test_training_with_a_batch_larger_than_the_data_stops_with_one_line(tiny_dataset, tmp_path):
    with pytest.raises(DataError, match="256 examples"):
        list(train(_cfg(tiny_dataset, batch=300), tmp_path / "m.safetensors"))


# ---------------------------------------------------------------- the non-finite checkpoint guard

def _poison_ema_after(monkeypatch, step_calls: int = 1):
    """Make GANRecipe.train_step turn generator_ema's first weight NaN (the losses stay finite)."""
    real = recipes.GANRecipe.train_step

    def step(self, stream):
        logs = real(self, stream)
        with torch.no_grad():
            next(self.G_ema.parameters()).view(-1)[0] = math.nan
        return logs
    monkeypatch.setattr(recipes.GANRecipe, "train_step", step)


def test_a_non_finite_ema_never_replaces_the_good_checkpoint(tiny_dataset, tmp_path, monkeypatch, one_thread):
    out = tmp_path / "m.safetensors"
    list(train(_cfg(tiny_dataset), out))
    good = out.read_bytes()
    _poison_ema_after(monkeypatch)
    with pytest.raises(TrainingDiverged) as info:
        list(train(_cfg(tiny_dataset, steps=4), out, resume=True))
    msg = str(info.value)
    assert "generator_ema." in msg and f"the last good checkpoint {out} was kept" in msg, msg
    assert out.read_bytes() == good


def test_a_fresh_run_that_breaks_writes_nothing_and_says_so(tiny_dataset, tmp_path, monkeypatch, one_thread):
    out = tmp_path / "m.safetensors"
    _poison_ema_after(monkeypatch)
    with pytest.raises(TrainingDiverged, match="no checkpoint was written yet"):
        list(train(_cfg(tiny_dataset), out))
    assert not out.exists()


def test_divergence_on_a_resumed_run_names_the_kept_file(tiny_dataset, tmp_path, monkeypatch, one_thread):
    out = tmp_path / "m.safetensors"
    list(train(_cfg(tiny_dataset), out))
    good = out.read_bytes()
    monkeypatch.setattr(recipes.GANRecipe, "train_step", lambda self, stream: {"d_loss": math.nan})
    with pytest.raises(TrainingDiverged, match=f"the last good checkpoint {out} was kept"):
        list(train(_cfg(tiny_dataset, steps=4), out, resume=True))
    assert out.read_bytes() == good


def test_stopping_with_broken_weights_keeps_the_last_good_file(tiny_dataset, tmp_path, monkeypatch, one_thread):
    out = tmp_path / "m.safetensors"
    list(train(_cfg(tiny_dataset), out))
    good = out.read_bytes()
    _poison_ema_after(monkeypatch)
    run = train(_cfg(tiny_dataset, steps=10, checkpoint_every=5), out, resume=True)
    next(run), next(run)            # the resume message, then one (poisoned) step
    run.close()                     # a stop checkpoints... except a broken model
    assert out.read_bytes() == good


def test_a_checkpoint_with_nan_weights_is_not_resumed(tiny_dataset, tmp_path, one_thread):
    from gan_studio.engine.bundle import load_bundle, save_bundle
    out = tmp_path / "m.safetensors"
    list(train(_cfg(tiny_dataset), out))
    b = load_bundle(out)
    with torch.no_grad():
        next(b.networks["critic"].parameters()).view(-1)[0] = math.inf
    save_bundle(out, b.networks, b.meta)
    assert nonfinite_tensors(b.networks)[0].startswith("critic.")
    with pytest.raises(UserError, match="cannot resume"):
        list(train(_cfg(tiny_dataset, steps=4), out, resume=True))


# ---------------------------------------------------------------- outputs and pickles

def test_upscale_refuses_a_picture_over_the_pixel_cap():
    with pytest.raises(UserError, match="pixels"):
        upscale(np.zeros((32, 32, 1), np.uint8), 100_000)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize("protocol", [2, 5])
def test_pickle_refusals_are_in_our_words_without_warnings(tmp_path, protocol):
    path = tmp_path / f"evil{protocol}.pt"
    with open(path, "wb") as fh:
        pickle.dump({"w": _Evil()}, fh, protocol=protocol)
    with warnings.catch_warnings(record=True) as caught, pytest.raises(ModelFileError) as info:
        warnings.simplefilter("always")
        load_weights(str(path), path.name)
    msg = str(info.value)
    assert "weights_only" not in msg and "Weights only" not in msg and "\n" not in msg, msg
    assert "refused" in msg and "nothing in it was run" in msg
    assert ("posix.system" in msg or "os.system" in msg) if protocol == 2 else "protocol" in msg
    assert not [w for w in caught if "protocol" in str(w.message)]


def test_images_with_a_huge_side_or_padding_are_refused_before_allocating(tmp_path):
    from PIL import Image

    from gan_studio.engine.image_input import fit_pixels, prepare_view, read_grayscale
    strip = tmp_path / "strip.png"
    Image.new("L", (20_000, 2)).save(strip)              # 40,000 pixels: under the pixel cap, over the side cap
    with pytest.raises(UserError, match="a side"):
        read_grayscale(strip)
    thin = np.zeros((10, 16_000), np.float32)           # pads to 16000 x 16000 (1 GB): refused
    with pytest.raises(UserError, match="padded"):
        prepare_view(thin)
    with pytest.raises(UserError, match="padded"):
        fit_pixels(thin[..., None], (1, 28, 28))
    wide = np.zeros((10, 300), np.float32)
    wide[4:6, 100:200] = 1.0
    assert prepare_view(wide).shape == (1, 1, 64, 64)


@pytest.mark.parametrize("level", [0.0, 0.5, 1.0])
def test_a_blank_picture_is_refused_by_name_not_turned_into_a_shape(tmp_path, level):
    """One flat colour (black, grey, white paper; a fully transparent PNG) once gave the shape of nothing."""
    from PIL import Image

    from gan_studio.engine.image_input import load_view, prepare_view
    flat = np.full((40, 60), level, np.float32)
    with pytest.raises(UserError, match="the picture is blank: nothing in it stands out from its background"):
        prepare_view(flat)
    path = tmp_path / "empty.png"
    Image.new("RGBA", (60, 40), (int(255 * level),) * 3 + (0,)).save(path)
    with pytest.raises(UserError, match="empty.png is blank"):
        load_view(path)
    flat[20, 30] = 1.0 - level if level != 0.5 else 0.0                # one pixel that stands out: a view
    assert float(prepare_view(flat).max()) > 0.02
    if level == 0.0:
        with pytest.raises(UserError, match="must be light on a black background"):
            prepare_view(np.zeros((8, 8), np.float32), background="keep")
