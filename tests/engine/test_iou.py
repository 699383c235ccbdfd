"""IoU of occupancy grids, threshold selection, per-class means, the class-mean-shape baseline, evaluation."""
from __future__ import annotations

import pytest
import torch

from gan_studio.engine.metrics import iou as M


def _grid(*slices) -> torch.Tensor:
    g = torch.zeros(32, 32, 32, dtype=torch.bool)
    g[slices] = True
    return g


def test_iou_of_known_grids():
    a = _grid(slice(0, 10), slice(0, 10), slice(0, 10))               # 1000 voxels
    b = _grid(slice(5, 15), slice(0, 10), slice(0, 10))               # overlaps a in 500
    empty = torch.zeros(32, 32, 32, dtype=torch.bool)
    got = M.iou(torch.stack([a, a, a, empty, empty]), torch.stack([a, b, ~a, empty, a]))
    assert got.tolist() == pytest.approx([1.0, 500 / 1500, 0.0, 1.0, 0.0])


def test_iou_at_thresholds_matches_thresholding_one_by_one():
    torch.manual_seed(0)
    probs, target = torch.rand(7, 32, 32, 32), torch.rand(7, 32, 32, 32) > 0.7
    got = M.iou_at_thresholds(probs, target, M.THRESHOLDS, chunk=3)
    for j, t in enumerate(M.THRESHOLDS):
        assert torch.allclose(got[:, j], M.iou(probs > t, target))
    assert M.choose_threshold(got) == M.THRESHOLDS[int(got.mean(0).argmax())]


def test_threshold_choice_finds_the_separating_level():
    target = torch.stack([_grid(slice(4, 20), slice(4, 20), slice(4, 20))] * 2)
    probs = torch.where(target, torch.tensor(0.42), torch.tensor(0.3))    # 0.35 and 0.4 separate exactly
    by_t = M.iou_at_thresholds(probs, target)
    assert M.choose_threshold(by_t) in (0.3, 0.35, 0.4)
    assert by_t[:, M.THRESHOLDS.index(0.35)].tolist() == [1.0, 1.0]
    assert by_t[:, M.THRESHOLDS.index(0.45)].tolist() == [0.0, 0.0]


def test_per_class_means_and_class_mean_shapes():
    ious = torch.tensor([1.0, 0.5, 0.0, 0.25], dtype=torch.float64)
    labels = torch.tensor([0, 0, 2, 2])
    classes, class_mean = M.per_class(ious, labels, ["a", "b", "c"])
    assert classes == {"a": 0.75, "c": 0.125} and class_mean == pytest.approx(0.4375)
    vox = torch.stack([_grid(slice(0, 4), slice(0, 4), slice(0, 4)), torch.zeros(32, 32, 32, dtype=torch.bool)])
    means = M.class_mean_shapes(vox.to(torch.uint8), torch.tensor([1, 1]), 3)
    assert means.shape == (3, 32, 32, 32) and means[1].max() == 0.5 and means[0].max() == 0


def test_baseline_on_toy_classes(voxel_npz):
    from gan_studio.engine.data.voxels import load_voxels
    train, test = load_voxels(voxel_npz, "train"), load_voxels(voxel_npz, "test")
    r = M.baseline_iou(train, test)
    assert 0.2 < r["mean_iou"] < 1 and r["n"] == len(test) and set(r["per_class"]) <= set(train.classes)


@pytest.mark.slow
def test_baseline_on_modelnet_is_about_0_34(modelnet_path):
    from gan_studio.engine.data.voxels import load_voxels
    r = M.baseline_iou(load_voxels(modelnet_path, "train"), load_voxels(modelnet_path, "test"))
    assert r["mean_iou"] == pytest.approx(0.34, abs=0.01) and len(r["per_class"]) == 10


def test_evaluate_reconstruction_yields_progress_then_a_result(voxel_npz):
    from gan_studio.engine.data.voxels import load_voxels
    from gan_studio.engine.models import build
    from tests.engine.voxel_toys import TINY_ARCH
    torch.manual_seed(0)
    G, E = build("voxel-iwgan", "generator", TINY_ARCH), build("voxel-iwgan", "encoder", TINY_ARCH)
    train, test = load_voxels(voxel_npz, "train"), load_voxels(voxel_npz, "test")
    steps = list(M.evaluate_reconstruction(E, G, test, train, seed=3, chunk=4))
    result = steps[-1]["result"]
    assert {p["stage"] for p in steps[:-1]} == {"threshold", "evaluate"}
    assert result["threshold"] in M.THRESHOLDS and result["n"] == len(test) and 0 <= result["mean_iou"] <= 1
    again = list(M.evaluate_reconstruction(E, G, test, threshold=result["threshold"], seed=3, chunk=5))[-1]
    assert again["result"]["mean_iou"] == pytest.approx(result["mean_iou"])     # chunk size does not matter
