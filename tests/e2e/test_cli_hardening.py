"""Issue 22 from the command line: every bad argument value is exit 2 with exactly one stderr line and no traceback;
a model with NaN weights renders nothing; a resumed run never overwrites its good checkpoint with a broken model;
a batch larger than the dataset ends at once; pickle refusals are one line in our words.

Most cases run `cli.main.main` in this process (fast: a table of ~50); a few run the real `gan-studio` process
(`run`), where stray warning lines on stderr would show."""
from __future__ import annotations

import json
import math
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from gan_studio.cli.main import main
from gan_studio.engine.bundle import load_bundle, save_bundle
from gan_studio.engine.training.loop import TrainConfig, train
from tests.conftest import ROOT, make_tiny_bundle
from tests.e2e.test_cli import assert_user_error, run

ARCH = json.dumps({"width": 4, "z_dim": 8})


def cli(capsys, *args):
    """(exit code, stdout, stderr) of `gan-studio ARGS` run in this process."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:                  # argparse's errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(code, err, *words):
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, (code, err)
    for w in words:
        assert w in lines[0], lines[0]


@pytest.fixture
def tiny(tmp_path):
    return make_tiny_bundle(tmp_path / "tiny.safetensors")


SAMPLE_BAD = [
    (["--truncation", "nan"], "finite"), (["--truncation", "inf"], "finite"), (["--truncation=-inf"], "finite"),
    (["--truncation", "1e999"], "finite"), (["--n", "1000000000"], "--n"), (["--n", "0"], "--n"),
    (["--n", "abc"], "an integer"), (["--n", "2.5"], "an integer"), (["--scale", "100000"], "--scale"),
    (["--scale", "0"], "--scale"), (["--cols", "-1"], "--cols"), (["--cols", "0"], "--cols"),
    (["--n", "900000"], "pixels"), (["--n", "64", "--scale", "1000"], "pixels"),
    (["--drs-percentile", "nan"], "finite"),
]


@pytest.mark.parametrize("extra, words", SAMPLE_BAD, ids=[" ".join(a) for a, _ in SAMPLE_BAD])
def test_sample_refuses_bad_values_in_one_line(capsys, tiny, tmp_path, extra, words):
    out = tmp_path / "x.png"
    code, _, err = cli(capsys, "sample", "--model", tiny, "--seed", 0, "--out", out, *extra)
    assert_one_line(code, err, words)
    assert not out.exists()


WALK_BAD = [(["--truncation", "nan"], "finite"), (["--frames", "0"], "--frames"), (["--fps", "nan"], "finite"),
            (["--fps", "0"], "--fps"), (["--scale", "0"], "--scale"), (["--scale", "1000"], "pixels"),
            (["--frames", "5000000"], "--frames")]


@pytest.mark.parametrize("extra, words", WALK_BAD, ids=[" ".join(a) for a, _ in WALK_BAD])
def test_walk_and_mix_refuse_bad_values_in_one_line(capsys, tiny, tmp_path, extra, words):
    base = {"--frames": "4"} | dict(zip(extra[::2], extra[1::2]))
    args = [x for kv in base.items() for x in kv]
    code, _, err = cli(capsys, "walk", "--model", tiny, "--seeds", "1,2", "--out", tmp_path / "w.gif", *args)
    assert_one_line(code, err, words)
    if extra[0] in ("--truncation", "--scale") and extra[1] in ("nan", "0"):
        code, _, err = cli(capsys, "mix", "--model", tiny, "--rows", "1", "--cols", "2", "--layers", "all",
                           "--out", tmp_path / "m.png", *extra)
        assert_one_line(code, err, words)


TRAIN_BAD = [
    (["--checkpoint-every", "0"], "--checkpoint-every"), (["--sample-every", "0"], "--sample-every"),
    (["--lr", "-1"], "--lr"), (["--lr", "nan"], "finite"), (["--lr", "0"], "positive"),
    (["--n-critic", "-1"], "--n-critic"), (["--n-critic", "0"], "[1, 1000]"), (["--threads", "-1"], "--threads"),
    (["--threads", "0"], "--threads"), (["--steps", "1.5"], "an integer"), (["--steps", "0"], "--steps"),
    (["--batch", "0"], "--batch"), (["--seed", "x"], "an integer"), (["--max-minutes", "nan"], "finite"),
    (["--reg-weight", "-1"], "--reg-weight"), (["--options", '{"ema_beta": 1e10}'], "ema_beta must be in [0, 1)"),
    (["--options", '{"ema_beta": "x"}'], "ema_beta must be a number"),
    (["--options", '{"unroll_steps": -2}'], "unroll_steps"), (["--options", "[1]"], "JSON object"),
    (["--arch-config", '{"width": 100000}'], "the cap is"), (["--arch-config", '{"z_dim": 1000000000}'], "the cap"),
    (["--arch-config", '{"width": "8"}'], "width must be an integer"),
    (["--arch-config", '{"width": 1.5}'], "width must be an integer"),
    (["--batch", "300"], "larger than the dataset (256 examples)"), (["--resume"], "nothing to continue"),
]


@pytest.mark.parametrize("extra, words", TRAIN_BAD, ids=[" ".join(a) for a, _ in TRAIN_BAD])
def test_train_refuses_bad_values_in_one_line(capsys, tiny_dataset, tmp_path, extra, words):
    out = tmp_path / "m.safetensors"
    given = dict(zip(extra[::2], extra[1::2])) if extra != ["--resume"] else {}
    base = {"--data": tiny_dataset, "--loss": "ns", "--arch-config": ARCH, "--steps": 2, "--batch": 16,
            "--device": "cpu", "--threads": 1, "--out": out} | given
    args = [str(x) for kv in base.items() for x in kv] + (["--resume"] if extra == ["--resume"] else [])
    code, _, err = cli(capsys, "train", "--quiet", *args)
    assert_one_line(code, err, words)
    assert not out.exists()


@pytest.mark.parametrize("args, words", [
    (["evaluate", "--model", "m", "--data", "d", "--n", "0"], "--n"),
    (["evaluate", "--model", "m", "--data", "d", "--truncation", "nan"], "finite"),
    (["train-classifier", "--data", "d", "--out", "o", "--threads", "-1"], "--threads"),
    (["discover", "--model", "m", "--method", "sefa", "--out", "o", "--threads", "0"], "--threads"),
    (["sample", "--model", "m"], "required"),
    (["train3d", "--out", "o.safetensors", "--steps", "2", "--checkpoint-every", "0"], "checkpoint_every"),
    (["train3d", "--out", "o.safetensors", "--steps", "2", "--lr", "nan"], "finite"),
])
def test_other_commands_refuse_bad_values_in_one_line(capsys, args, words):
    code, _, err = cli(capsys, *args)
    assert_one_line(code, err, words)


# ---------------------------------------------------------------- the real process

def test_a_model_with_nan_weights_renders_nothing(tmp_path):
    path = make_tiny_bundle(tmp_path / "ok.safetensors")
    b = load_bundle(path)
    with torch.no_grad():
        next(b.networks["generator"].parameters()).view(-1)[0] = math.nan
    bad = save_bundle(tmp_path / "nan.safetensors", b.networks, b.meta)
    for out in (tmp_path / "x.npy", tmp_path / "x.png"):
        assert_user_error(run("sample", "--model", bad, "--seed", 0, "--out", out, check=False), "NaN")
        assert not out.exists()
    r = run("sample", "--model", path, "--seed", 0, "--out", tmp_path / "x.npy", "--truncation", "1e300",
            check=False)                      # finite weights, but psi so large the pixels overflow
    assert_user_error(r, "NaN or infinite pixels")
    assert_user_error(run("sample", "--model", path, "--seed", 0, "--out", tmp_path / "y.png", "--truncation", "nan",
                          check=False), "--truncation", "finite")


def test_a_resumed_run_with_a_bad_option_keeps_the_checkpoint_byte_identical(tiny_dataset, tmp_path):
    out = tmp_path / "m.safetensors"
    cfg = TrainConfig(data=str(tiny_dataset), arch_config=json.loads(ARCH), loss="ns", steps=2, batch=16,
                      checkpoint_every=2, sample_every=100, threads=1, device="cpu")
    list(train(cfg, out))
    good = out.read_bytes()
    r = run("train", "--data", tiny_dataset, "--loss", "ns", "--arch-config", ARCH, "--steps", 4, "--batch", 16,
            "--threads", 1, "--device", "cpu", "--out", out, "--resume", "--options", '{"ema_beta": 1e10}',
            "--quiet", check=False)
    assert_user_error(r, "ema_beta")
    assert out.read_bytes() == good


def test_a_batch_larger_than_the_dataset_ends_at_once(tmp_path):
    data = tmp_path / "few.npz"
    np.savez(data, images=np.zeros((10, 28, 28), np.uint8))
    r = run("train", "--data", data, "--loss", "ns", "--arch-config", ARCH, "--steps", 2, "--batch", 64,
            "--threads", 1, "--out", tmp_path / "m.safetensors", "--quiet", check=False, timeout=120)
    assert_user_error(r, "--batch 64 is larger than the dataset (10 examples)")


def test_a_protocol_5_pickle_is_refused_in_one_line_without_warnings(tmp_path):
    path = tmp_path / "weights.pt"
    with open(path, "wb") as fh:
        pickle.dump({"generator.fc.0.weight": [1.0, 2.0]}, fh, protocol=5)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}    # `run` hides warnings: not here
    r = subprocess.run([sys.executable, "-m", "gan_studio.cli.main", "info", "--model", str(path)],
                       capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert_user_error(r, "refused", "protocol")
    assert "weights_only" not in r.stderr
