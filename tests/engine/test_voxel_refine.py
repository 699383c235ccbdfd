"""Latent refinement of 3D reconstructions (engine/latent/voxel_refine.py): the differentiable renderer agrees
with the splatting one, masks and pose search read pictures right, refinement leaves the generator alone,
works per object, and on the shipped model improves IoU over the encoder alone."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gan_studio.engine.data import views
from gan_studio.engine.latent import voxel_refine as vr
from tests.engine.test_views import _box, _table


def _logits(grid: torch.Tensor) -> torch.Tensor:
    """A hard grid as generator logits (N, 1, X, X, X): +-6."""
    return (grid.float() * 12 - 6)[:, None]


def _camera(az, el) -> vr.Camera:
    n = len(az)
    return vr.Camera(torch.tensor(az, dtype=torch.float32), torch.tensor(el, dtype=torch.float32), torch.ones(n),
                     torch.zeros(n, 2))


def test_soft_silhouette_matches_the_splatting_renderer():
    grids = torch.stack([_table(), _box((4, 12, 4), (28, 20, 12))])
    cam = _camera([30.0, 200.0], [20.0, 35.0])
    sil, normals = vr.soft_render(_logits(grids), vr._ray_grid(cam, 64, 48), 0.5, 4.0)
    p = views.fixed_params(2)
    p.azimuth, p.elevation = cam.azimuth, cam.elevation
    hard = views.render_views(grids, p, 64, style="silhouette")
    assert vr._overlap(F.max_pool2d(sil, 3, 1, 1), hard).min() > 0.85          # + the splats' 1-px footprint
    top = normals[1, :, :, :][:, sil[1, 0] > 0.5]                              # the low box's visible normals
    assert top.shape[1] > 50 and (top[2] > 0.3).float().mean() > 0.3          # its lid faces up (+z)


def test_masks_fill_line_drawings_and_know_shaded_pictures():
    grid = _box((6, 6, 6), (26, 26, 26))[None]
    p = views.fixed_params(1, 35, 20)
    pics = torch.cat([views.render_views(grid, p, 64, style=s) for s in views.STYLES])
    mask, shaded = vr.picture_masks(pics)
    sil = pics[2]
    for i in range(3):
        assert vr._overlap(mask[i:i + 1], sil[None]) > 0.97, views.STYLES[i]   # lines filled to the silhouette
    assert shaded.tolist() == [True, False, False]


def test_pose_search_finds_the_camera_of_an_asymmetric_shape():
    grid = torch.zeros(1, 32, 32, 32, dtype=torch.uint8)
    grid[0, 4:28, 12:20, 2:8] = 1                          # a long slab along x ...
    grid[0, 4:10, 12:20, 8:26] = 1                         # ... with a tall back at low x
    p = views.fixed_params(1, 60, 25)
    pic = views.render_views(grid, p, 64)
    mask, _ = vr.picture_masks(pic)
    cam = vr.search_pose(grid.float(), mask, 0.5, pic)
    assert abs((float(cam.azimuth[0]) - 60 + 180) % 360 - 180) <= 15 and float(cam.elevation[0]) == 25
    assert float(cam.scale[0]) == 1.0                      # framed as the renderer frames it: no box fitting
    moved = views.fixed_params(1, 60, 25)
    moved.scale, moved.shift = torch.tensor([0.7]), torch.tensor([[0.1, -0.05]])
    small, _ = vr.picture_masks(views.render_views(grid, moved, 64))
    cam = vr.search_pose(grid.float(), small, 0.5)
    assert float(cam.scale[0]) == pytest.approx(0.7, abs=0.1) and float(cam.shift[0, 0]) == pytest.approx(0.1, abs=0.04)


class _Toy(torch.nn.Module):
    """A tiny 'generator' with batch norm: z (N, 4) -> logits of a 32³ box whose size z sets."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 8)
        self.bn = torch.nn.BatchNorm1d(8)
        self.z_dim = 4

    def logits(self, z):
        h = self.bn(self.fc(z)).mean(1)                    # (N,)
        c = torch.linspace(-1, 1, 32)
        r = (c[:, None, None].abs().maximum(c[None, :, None].abs()).maximum(c[None, None, :].abs()))
        return ((0.5 + 0.2 * h)[:, None, None, None] - r[None]).mul(20)[:, None]

    def forward(self, z):
        return torch.sigmoid(self.logits(z))


def test_refinement_leaves_the_generator_alone_and_refines_each_object_alone():
    torch.manual_seed(0)
    G = _Toy().train()
    before = {k: v.clone() for k, v in G.state_dict().items()}
    pics = views.render_views(torch.stack([_box(), _box((10, 10, 10), (22, 22, 22))]), views.fixed_params(2), 64)
    mean, logvar = torch.randn(2, 4), torch.full((2, 4), -1.0)
    s = vr.RefineSettings(steps=3, size=16, depth=16)
    cam = _camera([45.0, 45.0], [25.0, 25.0])
    both, info = vr.refine_latents(G, mean, logvar, pics, s, 0.5, cam)
    second = vr.Camera(*(t[1:] for t in vars(cam).values()))
    one, _ = vr.refine_latents(G, mean[1:], logvar[1:], pics[1:], s, 0.5, second)
    assert torch.allclose(both[1:], one, atol=1e-5)                            # objects do not interact
    assert not torch.equal(both, mean) and len(info["loss"]) == 2
    assert G.training and all(p.requires_grad for p in G.parameters())
    assert all(torch.equal(before[k], v) for k, v in G.state_dict().items())  # batch-norm statistics too
    same, _ = vr.refine_latents(G, mean, logvar, pics, vr.RefineSettings(steps=0))
    assert torch.equal(same, mean)


@pytest.fixture(scope="module")
def shipped():
    from gan_studio.engine.reconstruction import VoxelModel
    from tests.conftest import RESOURCES
    return VoxelModel.open(str(RESOURCES / "modelnet10-iwgan.safetensors"))


def test_refinement_improves_the_shipped_models_reconstructions(shipped, modelnet_path):
    """Thin test objects (chairs, tables) seen from eval3d's views: 25 steps raise the mean IoU over the encoder's
    (0.353 -> 0.367 when written). The camera is eval3d's own here: with the camera searched from the picture the
    gain is not there yet (bench/refine3d.py measures both)."""
    from gan_studio.engine.data.voxels import load_voxels
    from gan_studio.engine.metrics.iou import iou
    test = load_voxels(modelnet_path, "test")
    pick = torch.linspace(0, len(test) - 1, 24).round().long()[[4, 5, 6, 19, 20]]
    params = views.random_params(len(test), torch.Generator().manual_seed(0))
    p = views.ViewParams(*(t[pick] for t in (params.azimuth, params.elevation, params.light, params.ambient)))
    vox = test.voxels[pick]
    pics = views.render_views(vox, p)
    G, th = shipped.reconstruction_generator, shipped.threshold
    with torch.no_grad():
        mean, logvar = shipped.encoder(pics)
    z, _ = vr.refine_latents(G, mean, logvar, pics, vr.RefineSettings(steps=25), th,
                             vr.Camera(p.azimuth, p.elevation, torch.ones(5), torch.zeros(5, 2)))
    with torch.no_grad():
        before, after = iou(G(mean)[:, 0] > th, vox), iou(G(z)[:, 0] > th, vox)
    assert after.mean() > before.mean() + 0.01 and (after > before).sum() >= 3, (before, after)
    assert np.isfinite(after.numpy()).all()


def test_voxel_model_refine_api_and_bad_step_counts(shipped):
    from gan_studio.engine.errors import UserError
    from gan_studio.engine.reconstruction import refine_settings
    view = views.render_views(_table()[None], views.fixed_params(1, 30, 20), shipped.image_size)
    probs = shipped.reconstruct(view, refine=2)
    assert probs.shape == (32, 32, 32) and not np.array_equal(probs, shipped.reconstruct(view))
    for bad in (-1, 10_001, 2.5, True):
        with pytest.raises(UserError, match="refinement steps") as e:
            refine_settings(bad)
        assert "\n" not in str(e.value)
