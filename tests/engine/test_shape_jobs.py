"""The 3D panel's engine jobs (engine/jobs/shapes.py), Qt-free: each shape is what the VoxelModel gives for the
same input; the stats, the equivalent command line and the errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.jobs import shapes
from gan_studio.engine.reconstruction import VoxelModel
from tests.engine.voxel_toys import TINY_ARCH


@pytest.fixture(scope="module")
def model(voxel_npz, tmp_path_factory) -> VoxelModel:
    from gan_studio.engine.training.loop import TrainConfig, train
    out = tmp_path_factory.mktemp("shapes") / "v.safetensors"
    cfg = TrainConfig.from_dict(dict(data=str(voxel_npz), arch="voxel-iwgan", arch_config=TINY_ARCH, steps=1, batch=4,
                                     seed=0, checkpoint_every=1, sample_every=1, threads=1, device="cpu", n_critic=1,
                                     options={"probe_objects": 3}))
    list(train(cfg, out, command="gan-studio train3d (test)"))
    return VoxelModel.from_bundle(load_bundle(out))


def test_seed_and_image_shapes_are_the_models_own(model, tmp_path):
    a = shapes.make_shape(model, ("seed", 7))
    assert a.source == "seed" and a.seed == 7 and a.view is None and a.truth is None
    np.testing.assert_allclose(a.probs, model.sample(7), atol=1e-6)
    img = np.zeros((48, 48), np.uint8)
    img[10:30, 12:40] = 200
    path = tmp_path / "chair.png"
    Image.fromarray(img).save(path)
    b = shapes.make_shape(model, ("image", str(path)))
    from gan_studio.engine.image_input import load_view
    np.testing.assert_allclose(b.probs, model.reconstruct(load_view(path, model.image_size)), atol=1e-6)
    assert b.view.shape == (model.image_size, model.image_size) and b.title == "chair.png"


def test_a_test_object_is_seen_as_eval3d_sees_it(model, voxel_npz):
    tests = shapes.load_test_set_job(voxel_npz)                             # the npz itself, or its folder
    s = shapes.make_shape(model, ("object", 0), tests)
    assert s.truth is not None and s.truth.dtype == bool and s.extra["index"] == 0
    with pytest.raises(UserError, match="does not exist"):
        shapes.make_shape(model, ("object", len(tests)), tests)
    with pytest.raises(UserError, match="not loaded"):
        shapes.make_shape(model, ("object", 0), None)


def test_grids_need_no_model_and_the_rest_does(tmp_path):
    grid = np.zeros((32, 32, 32), np.float32)
    grid[4:9, 4:9, 4:9] = 0.8
    np.save(tmp_path / "g.npy", grid)
    s = shapes.make_shape(None, ("grid", str(tmp_path / "g.npy")))
    assert s.z is None and np.array_equal(s.probs > 0.5, grid > 0.5)
    with pytest.raises(UserError, match="open a 3D voxel model"):
        shapes.make_shape(None, ("seed", 1))


def test_interpolation_runs_from_a_to_b(model):
    out = shapes.interpolate_job(model, model.latent(3), ("seed", 4), 5, "slerp")
    assert out["frames"].shape == (5, 32, 32, 32) and out["b"] == "seed 4"
    np.testing.assert_allclose(out["frames"][0], model.sample(3), atol=1e-5)
    np.testing.assert_allclose(out["frames"][-1], model.sample(4), atol=1e-5)


def test_stats_count_voxels_and_score_against_the_truth():
    grid = np.zeros((32, 32, 32), np.float32)
    grid[:4, :4, :4] = 0.9                                   # 64 solid
    truth = np.zeros((32, 32, 32), bool)
    truth[:4, :4, :2] = True                                 # 32 true, all inside
    assert shapes.shape_stats(grid, 0.5) == (64, None)
    assert shapes.shape_stats(grid, 0.5, truth) == (64, 0.5)
    assert shapes.shape_stats(np.zeros_like(grid), 0.5, np.zeros_like(truth)) == (0, None)


def test_the_command_line_names_the_input(tmp_path):
    seed = shapes.Shape(np.zeros((32, 32, 32), np.float32), torch.zeros(1, 4), "seed", "Seed 5", "", seed=5)
    cmd = shapes.shape_command(seed, tmp_path / "my model.safetensors", 0.4, "smooth")
    assert cmd == (f"gan-studio sample3d --model '{tmp_path / 'my model.safetensors'}' --seed 5 --out shape.stl "
                   "--threshold 0.4 --mesh smooth")
    image = shapes.Shape(seed.probs, seed.z, "image", "a b.png", "", path="/x/a b.png")
    cmd = shapes.shape_command(image, None, 0.5, "cubes", "s.obj")
    assert "--image '/x/a b.png' --out s.obj --threshold 0.5" in cmd
    assert shapes.shape_command(shapes.Shape(seed.probs, None, "grid", "", ""), None, 0.5, "cubes") == ""
