"""`train-voxel-classifier` and eval3d's random-shape figures end to end on toy voxels: the classifier file and its
metadata, the figures in --json and stored by --write, and one-line errors."""
from __future__ import annotations

import json
import shutil

import pytest

from gan_studio.cli.main import main
from gan_studio.engine.metrics.sampling3d import THRESHOLDS, TRUNCATIONS
from tests.e2e import test_cli3d

toy_model = test_cli3d.toy_model        # a 2-step VAE-IWGAN trained through the CLI on toy voxels


@pytest.fixture(scope="module")
def classifier(toy_model, tmp_path_factory):
    _, data = toy_model
    out = tmp_path_factory.mktemp("voxnet") / "toy-voxnet.safetensors"
    rc = main(["train-voxel-classifier", "--data", str(data), "--out", str(out), "--epochs", "1", "--batch", "8",
               "--width", "2", "--threads", "1"])
    assert rc == 0 and out.is_file()
    return out


def _main(capsys, *args):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_train_voxel_classifier_writes_a_classifier_with_its_story(classifier):
    from gan_studio.engine.bundle import read_metadata
    meta = read_metadata(classifier)
    assert meta["kind"] == "classifier" and meta["arch"] == "voxnet" and meta["name"] == "voxnet-modelnet10"
    assert meta["training"]["command"].startswith("gan-studio train-voxel-classifier --data")
    assert meta["training"]["seed"] == 0 and meta["dataset"]["n"] == 23 and "academic research" in meta["license"]
    assert 0 <= meta["metrics"]["test_accuracy"] <= 1 and set(meta["metrics"]["test"]["per_class"]) == \
        {"bathtub", "bed", "chair"}
    assert meta["stored"]["precision"] == "float16"


def test_eval3d_reports_and_stores_the_random_shape_figures(toy_model, classifier, tmp_path, capsys):
    from gan_studio.engine.bundle import read_metadata
    model, data = toy_model
    copy = tmp_path / "copy.safetensors"
    shutil.copy(model, copy)
    rc, out, _ = _main(capsys, "eval3d", "--model", copy, "--data", data, "--threshold", 0.3, "--n-random", 30,
                       "--classifier", classifier, "--json", "--write")
    r = json.loads(out)["random_shapes"]
    assert rc == 0 and r["n"] == 30 and r["seeds"] == "0-29" and r["classifier_weights"] == classifier.name
    assert r["threshold"] == pytest.approx(read_metadata(model).get("threshold", 0.5))   # the model's, not --threshold
    assert r["fid"] >= 0 and r["fid_floor"] >= 0 and r["n_floor"] == 23 and r["real"]["accuracy"] >= 0
    assert 1 <= r["random"]["classes_covered"] <= 10 and 0 <= r["random"]["confidence"] <= 1
    stored = read_metadata(copy)["metrics"]["iou_test"]["random_shapes"]
    assert stored["fid"] == pytest.approx(r["fid"]) and stored["random"] == r["random"]
    rc, out, _ = _main(capsys, "eval3d", "--model", copy, "--data", data, "--threshold", 0.3, "--n-random", 30,
                       "--classifier", classifier)
    assert rc == 0 and "3D FID" in out and "confidence" in out and "classes covered" in out


def test_eval3d_without_random_shapes_and_its_errors(toy_model, tmp_path, capsys):
    model, data = toy_model
    rc, out, _ = _main(capsys, "eval3d", "--model", model, "--data", data, "--threshold", 0.3, "--n-random", 0,
                       "--json")
    assert rc == 0 and "random_shapes" not in json.loads(out)
    rc, _, err = _main(capsys, "eval3d", "--model", model, "--data", data, "--n-random", 1)
    assert rc == 2 and "--n-random must be 0" in err and len(err.strip().splitlines()) == 1
    rc, _, err = _main(capsys, "eval3d", "--model", model, "--data", data, "--classifier", model)
    assert rc == 2 and "not a voxel classifier" in err and len(err.strip().splitlines()) == 1
    rc, _, err = _main(capsys, "train-voxel-classifier", "--data", data, "--out", tmp_path / "x.pt")
    assert rc == 2 and "--out must end in .safetensors" in err


def test_choose_sampling_picks_the_grids_best_pair_and_the_model_keeps_it(toy_model, classifier, tmp_path, capsys):
    """eval3d --choose-sampling: every (ψ, threshold) pair of the grid scored on the training objects, the lowest 3D
    FID wins, the random-shape figures are at that pair, --write stores it; sample3d and VoxelModel then draw seeds
    that way."""
    import numpy as np

    from gan_studio.engine.bundle import read_metadata
    from gan_studio.engine.reconstruction import VoxelModel
    model, data = toy_model
    copy = tmp_path / "copy.safetensors"
    shutil.copy(model, copy)
    before = VoxelModel.open(copy)
    assert before.truncation == 1.0 and before.sample_threshold == before.threshold     # files without the keys
    rc, out, _ = _main(capsys, "eval3d", "--model", copy, "--data", data, "--threshold", 0.3, "--n-random", 30,
                       "--classifier", classifier, "--choose-sampling", "--json", "--write")
    r = json.loads(out)["random_shapes"]
    c = r["choice"]
    assert rc == 0 and len(c["grid"]) == len(TRUNCATIONS) * len(THRESHOLDS) and c["split"] == "train"
    assert c["n_ref"] == 23
    low = min(g["fid"] for g in c["grid"])
    ties = [g for g in c["grid"] if g["fid"] <= low * (1 + c["tolerance"]) + 1e-12]
    best = min(ties, key=lambda g: (abs(g["threshold"] - 0.5), g["fid"]))
    assert (c["truncation"], c["threshold"], c["fid"]) == (best["truncation"], best["threshold"], best["fid"])
    assert c["lowest_fid"] == low
    assert len({g["fid"] for g in c["grid"]}) > 1                                       # the pairs differ
    assert (r["truncation"], r["threshold"]) == (c["truncation"], c["threshold"])
    meta = read_metadata(copy)
    assert (meta["truncation"], meta["sample_threshold"]) == (c["truncation"], c["threshold"])
    after = VoxelModel.open(copy)
    assert after.threshold_for("seed") == c["threshold"] and after.threshold_for("image") == after.threshold
    rc, out, _ = _main(capsys, "sample3d", "--model", copy, "--seed", 3, "--out", tmp_path / "s.npy", "--json")
    s = json.loads(out)
    probs = after.sample(3)
    assert rc == 0 and s["truncation"] == c["truncation"] and s["threshold"] == c["threshold"]
    assert np.array_equal(np.load(tmp_path / "s.npy"), probs > c["threshold"])
    np.testing.assert_allclose(probs, after.decode(before.latent(3) * c["truncation"])[0], atol=1e-6)
    rc, out, _ = _main(capsys, "sample3d", "--model", copy, "--seed", 3, "--out", tmp_path / "t.npy", "--json",
                       "--truncation", 1, "--threshold", 0.5)
    assert rc == 0 and np.array_equal(np.load(tmp_path / "t.npy"), after.sample(3, truncation=1.0) > 0.5)
    rc, out, _ = _main(capsys, "eval3d", "--model", copy, "--data", data, "--threshold", 0.3, "--n-random", 30,
                       "--classifier", classifier, "--truncation", 0.5, "--sample-threshold", 0.2, "--json")
    r = json.loads(out)["random_shapes"]
    assert rc == 0 and (r["truncation"], r["threshold"]) == (0.5, 0.2) and "choice" not in r


@pytest.mark.parametrize("args, message", [
    (["--truncation", "0"], "--truncation must be in (0, 2]"),
    (["--truncation", "2.5"], "--truncation must be in (0, 2]"),
    (["--sample-threshold", "1"], "--sample-threshold must be in [0, 1)"),
    (["--choose-sampling", "--truncation", "0.8"], "give neither with it"),
    (["--choose-sampling", "--n-random", "0"], "--choose-sampling needs random shapes"),
])
def test_sampling_options_fail_in_one_line_before_any_work(toy_model, capsys, args, message):
    model, data = toy_model
    rc, _, err = _main(capsys, "eval3d", "--model", model, "--data", data, *args)
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1


def test_sample3d_rejects_a_bad_truncation(toy_model, tmp_path, capsys):
    model, _ = toy_model
    rc, _, err = _main(capsys, "sample3d", "--model", model, "--seed", 1, "--out", tmp_path / "x.npy",
                       "--truncation", "-1")
    assert rc == 2 and "--truncation must be in (0, 2]" in err and not (tmp_path / "x.npy").exists()


def test_prior3d_fits_a_prior_and_seeds_then_come_from_it_by_class(toy_model, classifier, tmp_path, capsys):
    """prior3d: a Gaussian per class present in the training split over the encoder's latents; the file keeps its
    networks, says how the prior was fitted, and drops the old sampler's ψ / threshold; eval3d chooses them again
    for the prior's seeds, and sample3d draws a seed from a named class."""
    import numpy as np

    from gan_studio.engine.bundle import read_metadata
    from gan_studio.engine.data.voxels import load_voxels
    from gan_studio.engine.reconstruction import VoxelModel
    model, data = toy_model
    copy = tmp_path / "copy.safetensors"
    shutil.copy(model, copy)
    rc, out, _ = _main(capsys, "eval3d", "--model", copy, "--data", data, "--threshold", 0.3, "--n-random", 30,
                       "--classifier", classifier, "--choose-sampling", "--json", "--write")
    assert rc == 0 and "truncation" in read_metadata(copy)
    out_path = tmp_path / "prior.safetensors"
    rc, out, _ = _main(capsys, "prior3d", "--model", copy, "--data", data, "--out", out_path, "--views", 2)
    train = load_voxels(data, "train")
    counts = {c: int((train.labels == i).sum()) for i, c in enumerate(train.classes) if (train.labels == i).sum()}
    assert rc == 0 and "a prior of 3 components" in out
    meta = read_metadata(out_path)
    assert meta["prior"]["components"] == list(counts) and meta["prior"]["counts"] == list(counts.values())
    assert meta["prior"]["views"] == 2 and meta["prior"]["command"].startswith("gan-studio prior3d")
    assert meta["stored"]["precision"] == "float32" and "latent_prior" in meta["stored"]["networks"]
    assert "truncation" not in meta and "sample_threshold" not in meta and meta["config"]["prior_components"] == 3
    before, after = VoxelModel.open(copy), VoxelModel.open(out_path)
    for role in ("encoder", "generator", "generator_recon"):
        a, b = before.bundle.networks[role].state_dict(), after.bundle.networks[role].state_dict()
        assert all(torch_equal(a[k], b[k]) for k in a)
    w = after.prior.weights.numpy()
    np.testing.assert_allclose(w, np.array(list(counts.values())) / sum(counts.values()), rtol=1e-6)
    rc, out, _ = _main(capsys, "eval3d", "--model", out_path, "--data", data, "--threshold", 0.3, "--n-random", 30,
                       "--classifier", classifier, "--choose-sampling", "--json")
    r = json.loads(out)["random_shapes"]
    assert rc == 0 and r["sampler"] == "prior" and r["choice"]["truncation"] > 0
    cls = list(counts)[1]
    rc, out, _ = _main(capsys, "sample3d", "--model", out_path, "--seed", 5, "--class", cls, "--out",
                       tmp_path / "c.npy", "--json", "--threshold", 0.5)
    s = json.loads(out)
    assert rc == 0 and s["class"] == cls
    assert np.array_equal(np.load(tmp_path / "c.npy"), after.sample(5, component=cls) > 0.5)
    rc, out, _ = _main(capsys, "sample3d", "--model", out_path, "--seed", 5, "--out", tmp_path / "d.npy", "--json")
    assert rc == 0 and json.loads(out)["class"] == after.seed_component(5) and json.loads(out)["sampler"] == "prior"
    # the GAN's own generator stays one option away, at ψ 1 unless asked, with no class; --write keeps its figures out
    rc, out, _ = _main(capsys, "sample3d", "--model", out_path, "--seed", 5, "--out", tmp_path / "g.npy", "--json",
                       "--sampler", "gan", "--probabilities")
    s = json.loads(out)
    assert rc == 0 and s["sampler"] == "gan" and s["truncation"] == 1.0 and "class" not in s
    np.testing.assert_allclose(np.load(tmp_path / "g.npy"), after.sample(5, 1.0, source="gan"), atol=1e-6)
    rc, out, _ = _main(capsys, "eval3d", "--model", out_path, "--data", data, "--threshold", 0.3, "--n-random", 30,
                       "--classifier", classifier, "--sampler", "gan")
    assert rc == 0 and "random shapes from the GAN's generator" in out and "truncation ψ 1;" in out
    rc, _, err = _main(capsys, "eval3d", "--model", out_path, "--data", data, "--n-random", 30, "--write",
                       "--classifier", classifier, "--sampler", "gan")
    assert rc == 2 and "--write stores the figures of the model's own sampler (prior)" in err
    rc, _, err = _main(capsys, "sample3d", "--model", out_path, "--seed", 5, "--out", tmp_path / "h.npy",
                       "--sampler", "gan", "--class", cls)
    assert rc == 2 and "no classes" in err and not (tmp_path / "h.npy").exists()


def torch_equal(a, b) -> bool:
    import torch
    return bool(torch.equal(a, b))


@pytest.mark.parametrize("args, message", [
    (["--views", "0"], "--views"),
    (["--shrink", "1.5"], "--shrink"),
    (["--out", "x.npy"], "--out must end in .safetensors"),
])
def test_prior3d_options_fail_in_one_line(toy_model, tmp_path, capsys, args, message):
    model, data = toy_model
    base = ["prior3d", "--model", model, "--data", data, "--out", tmp_path / "p.safetensors"]
    try:
        rc = main([str(a) for a in base + args])
    except SystemExit as exc:                     # argparse's own checks exit
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1


def test_sample3d_class_needs_a_prior_and_a_class_it_has(toy_model, tmp_path, capsys):
    model, _ = toy_model
    rc, _, err = _main(capsys, "sample3d", "--model", model, "--seed", 1, "--class", "chair", "--out",
                       tmp_path / "x.npy")
    assert rc == 2 and "no fitted latent prior" in err and not (tmp_path / "x.npy").exists()
    rc, _, err = _main(capsys, "sample3d", "--model", model, "--seed", 1, "--sampler", "prior", "--out",
                       tmp_path / "x.npy")
    assert rc == 2 and "no fitted latent prior" in err and len(err.strip().splitlines()) == 1
    rc, out, _ = _main(capsys, "sample3d", "--model", model, "--seed", 1, "--sampler", "gan", "--out",
                       tmp_path / "y.npy", "--json")
    assert rc == 0 and json.loads(out)["sampler"] == "gan"
