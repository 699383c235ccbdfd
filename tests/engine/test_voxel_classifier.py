"""The 3D feature network (voxnet-modelnet10) and the random-shape figures of eval3d: the classifier trains and
round-trips through its file, the label figures and the Fréchet distance behave, and — on real ModelNet10 with
the shipped classifier — real objects are recognised where a random-weight generator's shapes are not."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_studio.engine.data.voxels import load_voxels
from gan_studio.engine.errors import UserError
from gan_studio.engine.metrics.features import get_extractor
from gan_studio.engine.metrics.shapes3d import label_figures, random_shape_figures, random_shapes
from gan_studio.engine.metrics.voxel_features import (
    NAME,
    VoxNetFeatures,
    classifier_report,
    save_voxnet,
    shift_grids,
    train_voxnet,
)
from gan_studio.engine.models import build
from tests.conftest import RESOURCES
from tests.engine.voxel_toys import TINY_ARCH, make_voxel_npz

SHIPPED = RESOURCES / "voxnet-modelnet10.safetensors"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """Toy voxels (boxes, balls, tables) and a width-4 classifier trained 3 epochs on them, saved: (train, test,
    path, final progress dict)."""
    torch.set_num_threads(1)
    d = tmp_path_factory.mktemp("voxnet")
    data = make_voxel_npz(d / "toy.npz", n_train=48, n_test=12)
    train, test = load_voxels(data, "train"), load_voxels(data, "test")
    steps = list(train_voxnet(train, test, epochs=3, batch=8, seed=0, width=4))
    final = steps[-1]
    path = save_voxnet(d / "toy-voxnet.safetensors", final["net"],
                       {"name": NAME, "classes": list(train.classes), "metrics": {"test_accuracy": final["accuracy"]},
                        "license": "test"})
    return train, test, path, final, steps


def test_the_classifier_trains_saves_and_loads(toy):
    train, test, path, final, steps = toy
    epochs = [s for s in steps if s.get("epoch_done")]
    assert len(epochs) == 3 and all(0 <= e["test_accuracy"] <= 1 for e in epochs)
    assert epochs[-1]["loss"] < epochs[0]["loss"]                         # it learns
    assert final["done"] and set(final["per_class"]) == {"bathtub", "bed", "chair"}
    net = VoxNetFeatures(path)                                            # float16 on disk, float32 here
    assert net.meta["kind"] == "classifier" and net.meta["arch"] == "voxnet" and net.dim == 128
    assert net.meta["stored"]["precision"] == "float16"
    feats, probs = net.features_and_probs(test.voxels)
    with torch.no_grad():
        ref = torch.softmax(final["net"].eval()(test.voxels), 1).double()
    assert feats.shape == (len(test), 128) and feats.dtype == torch.float64
    torch.testing.assert_close(probs, ref, atol=5e-3, rtol=0)             # only float16 rounding apart
    assert classifier_report(net.net, test)["accuracy"] == pytest.approx(final["accuracy"], abs=1 / len(test) + 1e-9)
    top = net.guess(test.voxels[0].numpy().astype(np.float32), 0.5)
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1] and top[0][0] in net.classes


def test_the_extractor_is_found_by_name_and_refuses_images_and_other_files(toy, tmp_path):
    from gan_studio.engine.metrics.features import save_lenet
    _, test, path, _, _ = toy
    net = get_extractor(f"{NAME}:{path}")
    assert isinstance(net, VoxNetFeatures) and net(test.voxels[:2]).shape == (2, 128)
    with pytest.raises(UserError, match="32³ voxel grids"):
        net(torch.zeros(2, 1, 28, 28))
    lenet = save_lenet(tmp_path / "lenet.safetensors", build("lenet", "classifier", {}), {"name": "x"})
    with pytest.raises(UserError, match="not a voxel classifier"):
        VoxNetFeatures(lenet)
    with pytest.raises(UserError, match="train-voxel-classifier"):
        VoxNetFeatures(tmp_path / "none.safetensors")


def test_shifts_move_objects_without_wrapping():
    x = torch.zeros(64, 32, 32, 32)
    x[:, 10:20, 12:18, 0:5] = 1                                           # touches the floor (z = 0)
    out = shift_grids(x, torch.Generator().manual_seed(0), 2)
    kept = out.flatten(1).sum(1)
    assert kept.max() == x[0].sum()                                        # some not cut at all
    assert (kept < x[0].sum()).any()                                      # shifted down: the floor layers go
    assert (out[:, :, :, 31] == 0).all() and (out[:, 0] == 0).all()        # nothing wraps to the far sides
    assert len({tuple(torch.nonzero(g).min(0).values.tolist()) for g in out}) > 5   # offsets differ per grid


def test_label_figures_on_known_probabilities():
    classes = ("a", "b", "c", "d")
    one_class = torch.tensor([[0.9, 0.1, 0, 0]] * 100, dtype=torch.float64)
    f = label_figures(one_class, classes)
    assert f["confidence"] == pytest.approx(0.9) and f["classes_covered"] == 1 and f["entropy_bits"] == 0
    even = torch.eye(4, dtype=torch.float64).repeat(25, 1)
    f = label_figures(even, classes)
    assert f["classes_covered"] == 4 and f["entropy_bits"] == pytest.approx(2.0) and f["confidence"] == 1
    rare = torch.cat([torch.eye(4, dtype=torch.float64)[[0]].repeat(995, 1), torch.eye(4)[[1]].repeat(5, 1)])
    assert label_figures(rare, classes)["classes_covered"] == 1            # 0.5 % is not covered
    assert sum(label_figures(rare, classes)["shares"].values()) == pytest.approx(1.0)


def test_random_shape_figures_on_toys(toy):
    train, test, path, _, _ = toy
    torch.manual_seed(0)
    G = build("voxel-iwgan", "generator", TINY_ARCH).eval()
    grids = random_shapes(G, [0, 1, 2], 0.5)
    assert grids.shape == (3, 32, 32, 32) and grids.dtype == torch.bool
    again = random_shapes(G, [2], 0.5)
    assert torch.equal(grids[2], again[0])                                 # seed i's shape whatever the batch
    result = None
    for p in random_shape_figures(VoxNetFeatures(path), G, 0.5, test, train, n=20, batch=8):
        result = p.get("result", result)
    assert result["n"] == 20 and result["seeds"] == "0-19" and result["n_floor"] == 20 and result["n_real"] == 11
    assert result["fid"] >= 0 and result["fid_floor"] >= 0 and result["real_split"] == "test"
    assert result["vs_other"] is None                                     # 23 training objects: none left over
    assert sum(result["random"]["shares"].values()) == pytest.approx(1.0)
    assert 0 <= result["random"]["entropy_bits"] <= math.log2(10) + 1e-9


class _ScaleGenerator(torch.nn.Module):
    """Seed i's shape is training object i % N, with probability 0.5·|z|/√d inside (≈ 0.5 ψ) and 0.1 outside: at
    threshold t the seeds give the training objects exactly when t < 0.5 ψ, and nothing otherwise."""

    def __init__(self, objects: torch.Tensor, z_dim: int = 4096):     # |z|/√d within ~1 % of ψ
        super().__init__()
        self.objects, self.z_dim = objects.float(), z_dim
        self.w = torch.nn.Parameter(torch.zeros(1))              # a parameter: random_probs asks for its device

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        idx = (z[:, 0] * 1e4).abs().long() % len(self.objects)   # the seed's object, whatever ψ (a sign-free hash)
        scale = z.norm(dim=1) / math.sqrt(self.z_dim) * 0.5
        return (0.1 + self.objects[idx] * (scale[:, None, None, None] - 0.1))[:, None]


def test_choose_sampling_finds_the_pairs_that_give_the_training_objects(toy):
    from gan_studio.engine.metrics.sampling3d import choose_sampling
    train, _, path, _, _ = toy
    G = _ScaleGenerator(train.voxels)
    out = list(choose_sampling(VoxNetFeatures(path), G, train, n=40, truncations=(0.5, 1.0),
                               thresholds=(0.2, 0.3, 0.4, 0.6)))
    assert [p["done"] for p in out[:-1]] == list(range(1, 9))
    r = out[-1]["result"]
    assert r["threshold"] < 0.5 * r["truncation"]                 # only there are the shapes the objects
    assert (r["truncation"], r["threshold"]) == (1.0, 0.4)         # of the ties, the threshold nearest 0.5
    empty = [g["fid"] for g in r["grid"] if g["threshold"] >= 0.5 * g["truncation"]]
    assert min(empty) > 10 * r["fid"] + 1.0 and r["n_ref"] == len(train) and r["split"] == "train"
    assert [g["occupancy"] == 0 for g in r["grid"]] == [g["threshold"] >= 0.5 * g["truncation"] for g in r["grid"]]
    with pytest.raises(UserError, match="in \\(0, 2\\]"):
        next(choose_sampling(VoxNetFeatures(path), G, train, truncations=(0.0,)))
    with pytest.raises(UserError, match="at least 2 shapes"):
        next(choose_sampling(VoxNetFeatures(path), G, train, n=1))


def test_a_tie_within_the_tolerance_goes_to_the_threshold_nearest_a_half():
    from gan_studio.engine.metrics.sampling3d import pick
    grid = [{"truncation": 1.0, "threshold": t, "fid": f} for t, f in ((0.2, 100.0), (0.45, 101.9), (0.5, 102.5))]
    assert pick(grid)["threshold"] == 0.45                        # 0.5 is 2.5 % above the lowest: no tie
    assert pick(grid, tolerance=0.03)["threshold"] == 0.5
    assert pick(grid, tolerance=0.0)["threshold"] == 0.2


# ---------------------------------------------------------------- real ModelNet10 and the shipped classifier

@pytest.fixture(scope="module")
def shipped():
    if not SHIPPED.is_file():
        pytest.fail(f"the shipped voxel classifier {SHIPPED} is missing")
    return VoxNetFeatures(SHIPPED)


def test_the_shipped_classifier_records_how_it_was_made(shipped):
    meta = shipped.meta
    assert meta["name"] == NAME and "research use" in meta["license"]
    assert meta["training"]["command"].startswith("gan-studio train-voxel-classifier")
    assert meta["training"]["seed"] == 0 and meta["dataset"]["n"] == 3964
    assert meta["metrics"]["test_accuracy"] >= 0.85 and len(meta["metrics"]["test"]["per_class"]) == 10
    assert SHIPPED.stat().st_size < 2_000_000


@pytest.fixture(scope="module")
def real_test():
    from tests.engine.conftest import MODELNET
    if not MODELNET.is_file():
        pytest.skip(f"ModelNet10 32³ not found at {MODELNET} (set GAN_STUDIO_SHARED_DATA); this test needs it")
    return load_voxels(MODELNET, "test")


def test_the_shipped_accuracy_is_measured_again_now(shipped, real_test):
    rec = shipped.meta["metrics"]["test"]
    got = classifier_report(shipped.net, real_test)
    assert got["n"] == rec["n"] == 901                                    # 908 less the 7 empty grids
    assert got["accuracy"] == pytest.approx(rec["accuracy"], abs=2e-3)
    assert got["per_class"]["chair"] == pytest.approx(rec["per_class"]["chair"], abs=0.011)


def test_real_objects_are_recognised_and_random_weight_shapes_are_not(shipped, real_test):
    """The Fréchet distance of a set to itself is ~0, of one half of the test split to the other small (the
    floor), of a random-weight generator's shapes to the test split large; real objects get confident guesses,
    those shapes do not."""
    from gan_studio.engine.metrics.fid import fid_from_features
    half_a, half_b = real_test.subset(range(0, len(real_test), 2)), real_test.subset(range(1, len(real_test), 2))
    torch.manual_seed(0)
    G = build("voxel-iwgan", "generator", {"g_width": 4}).eval()
    result = None
    for p in random_shape_figures(shipped, G, 0.5, half_a, half_b, n=100, batch=50):
        result = p.get("result", result)
    f_a = shipped(half_a.voxels)
    assert fid_from_features(f_a, f_a) == pytest.approx(0.0, abs=1e-6)
    assert result["fid"] > 5 * result["fid_floor"] > 0, result
    other = result["vs_other"]                                            # the 350 of half b not in the floor sample
    assert other["n_ref"] == len(half_b) - 100 and other["fid"] > 5 * other["floor"] > 0, other
    assert result["real"]["confidence"] > result["random"]["confidence"] + 0.1, result
    assert result["real"]["accuracy"] >= 0.85 and result["real"]["classes_covered"] == 10
