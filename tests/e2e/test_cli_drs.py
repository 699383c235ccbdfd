"""`gan-studio sample --drs` end to end: accepted seeds, remembered calibrations, and one-line user errors."""
from __future__ import annotations

import numpy as np
import pytest

from gan_studio.engine.bundle import load_bundle, save_bundle
from gan_studio.engine.latent.drs_calibration import Calibration, calibration_key, critic_of, save_calibration
from tests.conftest import make_tiny_bundle, shipped_image_shape
from tests.e2e.test_cli import assert_user_error, run


@pytest.fixture(autouse=True)
def _own_home(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_HOME", str(tmp_path / "home"))   # run() passes os.environ on


def _accepted_seeds(stderr: str) -> list[int]:
    from gan_studio.engine.latent.sampling import parse_seeds
    line = next(ln for ln in stderr.splitlines() if ln.startswith("accepted seeds: "))
    return parse_seeds(line.split(": ", 1)[1])


def test_sample_drs_on_the_shipped_model_writes_n_accepted_seeds(shipped_model, tmp_path):
    b = load_bundle(shipped_model)
    save_calibration(Calibration(1.13, -0.87, "logistic-fit", "test", "train", 2000, 0.75,
                                 calibration_key(b.generator(), critic_of(b))), b.name)
    r = run("sample", "--model", shipped_model, "--drs", "--seed", 5, "--n", 6, "--drs-burn-in", 300,
            "--out", tmp_path / "d.npy")
    imgs = np.load(tmp_path / "d.npy")
    assert imgs.shape == (6, *shipped_image_shape())
    assert "DRS: accepted 6 of " in r.stderr and "affine logistic fit a=1.13" in r.stderr
    seeds = _accepted_seeds(r.stderr)
    assert len(seeds) == 6 and seeds == sorted(seeds) and seeds[0] >= 5
    run("sample", "--model", shipped_model, "--seed", seeds[2], "--out", tmp_path / "one.npy")
    assert np.abs(np.load(tmp_path / "one.npy")[0] - imgs[2]).max() <= 1e-5   # seed s is still seed s


def test_sample_drs_calibrates_with_data_then_remembers(tmp_path, tiny_dataset):
    model = make_tiny_bundle(tmp_path / "tiny.safetensors")
    common = ["sample", "--model", model, "--drs", "--seed", 0, "--n", 4, "--drs-burn-in", 200,
              "--drs-percentile", 50]
    r = run(*common, "--data", tiny_dataset, "--drs-finetune-steps", 30, "--out", tmp_path / "a.png")
    assert "critic fine-tuned for 30 steps" in r.stderr and "remembered in" in r.stderr
    assert (tmp_path / "a.png").is_file()
    home = tmp_path / "home" / "drs"
    assert len(list(home.glob("*.finetune.json"))) == 1 and len(list(home.glob("*.finetune.safetensors"))) == 1
    r2 = run(*common, "--out", tmp_path / "b.png")                      # remembered: no --data
    assert _accepted_seeds(r2.stderr) == _accepted_seeds(r.stderr) and "fine-tuned" in r2.stderr
    r3 = run(*common, "--data", tiny_dataset, "--drs-calibration", "affine", "--out", tmp_path / "c.png")
    assert "affine logistic fit" in r3.stderr
    r4 = run(*common, "--drs-calibration", "affine", "--out", tmp_path / "d.png")
    assert _accepted_seeds(r4.stderr) == _accepted_seeds(r3.stderr)


def test_a_model_without_critic_is_one_clear_error(tmp_path):
    from gan_studio.engine.models import build
    cfg = {"z_dim": 8, "img_resolution": 28, "img_channels": 1, "width": 8}
    path = save_bundle(tmp_path / "gonly.safetensors", {"generator": build("dcgan", "generator", cfg)},
                       {"kind": "image-generator", "arch": "dcgan", "config": cfg, "name": "gonly"})
    r = run("sample", "--model", path, "--drs", "--seed", 0, "--n", 4, "--out", tmp_path / "x.png", check=False)
    assert_user_error(r, "has no critic", "DRS needs one")


def test_drs_user_errors_are_one_line(shipped_model, tmp_path):
    out = tmp_path / "x.png"
    r = run("sample", "--model", shipped_model, "--drs", "--seed", 0, "--out", out, check=False)
    assert_user_error(r, "not probabilities", "--data")                  # a WGAN critic, never calibrated here
    r = run("sample", "--model", shipped_model, "--seed", 0, "--data", "x", "--out", out, check=False)
    assert_user_error(r, "--data", "only used with --drs")
    r = run("sample", "--model", shipped_model, "--drs", "--seed", 0, "--drs-finetune-steps", 5, "--out", out,
            check=False)
    assert_user_error(r, "--drs-finetune-steps", "only used when --data")
    np.save(tmp_path / "z.npy", np.zeros((2, 64), np.float32))
    r = run("sample", "--model", shipped_model, "--drs", "--z", tmp_path / "z.npy", "--out", out, check=False)
    assert_user_error(r, "--drs picks its own seeds")
    r = run("sample", "--model", shipped_model, "--drs", "--seed", 0, "--drs-percentile", 101, "--out", out,
            check=False)
    assert_user_error(r, "percentile must be between 0 and 100")
