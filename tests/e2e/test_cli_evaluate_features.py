"""`gan-studio evaluate` says which feature network it used and what data that was trained on, warns in one line
when that is not the evaluated data, and picks up a `train-classifier` network written beside the data."""
from __future__ import annotations

import json

import pytest

from tests.e2e.test_cli import run
from tests.engine.test_evaluate_features import make_idx_folder


def _lines(text: str, word: str) -> list[str]:
    return [ln for ln in text.splitlines() if word in ln]


def test_mnist_names_the_features_without_a_warning(shipped_model, mnist_dir):
    r = run("evaluate", "--model", shipped_model, "--data", mnist_dir, "--n", 50)
    (line,) = _lines(r.stdout, "features:")
    assert "lenet-mnist.safetensors" in line and "shipped default" in line and "trained on mnist/train" in line
    assert "warning" not in r.stdout + r.stderr


def test_foreign_data_warns_once_and_json_says_so(shipped_model, tmp_path):
    data = make_idx_folder(tmp_path / "fashion")
    r = run("evaluate", "--model", shipped_model, "--data", data, "--n", 20)
    (warn,) = _lines(r.stdout, "warning")
    assert "trained on mnist/train" in warn and "fashion/test" in warn and "gan-studio train-classifier" in warn
    assert "only with each other" in warn
    r = run("evaluate", "--model", shipped_model, "--data", data, "--n", 20, "--json")
    res = json.loads(r.stdout)
    assert res["features_trained_on"]["name"] == "mnist/train" and res["features_data_match"] is False
    assert res["features_note"] and _lines(r.stderr, "warning")


def test_train_classifier_beside_the_data_is_used_then_an_explicit_option_wins(shipped_model, tmp_path):
    data = make_idx_folder(tmp_path / "fashion")
    r = run("train-classifier", "--data", data, "--epochs", 1, "--threads", 1)
    assert (data / "features.safetensors").is_file() and str(data / "features.safetensors") in r.stdout
    r = run("evaluate", "--model", shipped_model, "--data", data, "--n", 20)
    (line,) = _lines(r.stdout, "features:")
    assert str(data / "features.safetensors") in line and "beside the data" in line and "fashion/train" in line
    assert "warning" not in r.stdout + r.stderr
    r = run("evaluate", "--model", shipped_model, "--data", data, "--n", 20, "--features", "lenet-mnist", "--json")
    res = json.loads(r.stdout)
    assert res["features_source"] == "given" and res["features_weights"].endswith("resources/lenet-mnist.safetensors")
    assert res["features_data_match"] is False


def test_write_stores_the_features_and_the_note(shipped_model, tmp_path):
    import shutil
    model = tmp_path / "m.safetensors"
    shutil.copy(shipped_model, model)
    data = make_idx_folder(tmp_path / "fashion")
    run("evaluate", "--model", model, "--data", data, "--n", 20, "--write")
    test = json.loads(run("info", "--model", model, "--json").stdout)["metrics"]["test"]
    assert test["features_trained_on"]["name"] == "mnist/train" and "only with each other" in test["features_note"]


def test_gui_info_panel_shows_the_features_and_the_note(shipped_model, tmp_path):
    pytest.importorskip("PySide6")
    from gan_studio.gui.panels.info import _metric_rows
    data = make_idx_folder(tmp_path / "fashion")
    res = json.loads(run("evaluate", "--model", shipped_model, "--data", data, "--n", 20, "--json").stdout)
    rows = dict(_metric_rows({"test": res}))
    assert rows["test features"].startswith("features: lenet-mnist (")
    assert "trained on mnist/train" in rows["test features"] and "only with each other" in rows["test features"]
    res.update(features_note=None)
    assert "warning" not in dict(_metric_rows({"test": res}))["test features"]
