"""Render styles (shaded, line drawing, silhouette) and the augmented training views of the 3D encoder."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_studio.engine.data import view_aug, views
from gan_studio.engine.errors import UserError
from tests.engine.test_views import _box, _table


def _render(style: str, vox=None, **kw) -> torch.Tensor:
    vox = _table()[None] if vox is None else vox
    return views.render_views(vox, views.fixed_params(len(vox), 35, 20), 64, style=style, **kw)


def test_silhouette_is_the_binary_footprint_of_the_shaded_view():
    shaded, sil = _render("shaded")[0, 0], _render("silhouette")[0, 0]
    assert set(sil.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(sil > 0, shaded > 0)                          # exactly the pixels the object covers


def test_line_drawing_is_thin_outlines_inside_the_silhouette():
    box = _box((6, 6, 6), (26, 26, 26))[None]
    lines, sil = _render("lines", box)[0, 0], _render("silhouette", box)[0, 0]
    assert set(lines.unique().tolist()) == {0.0, 1.0}
    assert bool(((lines > 0) <= (sil > 0)).all())                    # drawn on the object only
    inner = sil.bool()
    for dim in (0, 1):                                               # one pixel of the outline on each side
        inner &= sil.roll(1, dim).bool() & sil.roll(-1, dim).bool()
    outline = sil.bool() & ~inner
    assert bool(lines[outline].bool().all())                         # the whole outline is drawn
    assert lines.sum() < 0.4 * sil.sum()                             # lines, not a filled shape
    assert (lines.bool() & inner).sum() >= 20        # the three visible faces of a box meet in creases
    for grid in (box[0], _table()):                                  # 1 px wide: hardly any filled 2x2 block
        ln = _render("lines", grid[None])[0, 0].bool()
        blocks = ln & ln.roll(1, 0) & ln.roll(1, 1) & ln.roll((1, 1), (0, 1))
        assert blocks.sum() <= 0.05 * ln.sum(), int(blocks.sum())


def test_thin_legs_are_drawn_in_every_style():
    for style in views.STYLES:
        img = _render(style)[0, 0]
        assert (img[40:] > 0).sum() >= 8, style                      # below the table top


def test_scale_and_shift_move_and_resize_the_object():
    vox = _box()[None]
    p = views.fixed_params(1, 35, 20)
    base = views.render_views(vox, p, 64, style="silhouette")[0, 0]
    p.scale, p.shift = torch.tensor([0.5]), torch.tensor([[0.2, 0.0]])
    moved = views.render_views(vox, p, 64, style="silhouette")[0, 0]
    assert 0.15 < moved.sum() / base.sum() < 0.4                      # half the size: a quarter of the area
    cols = lambda im: im.nonzero()[:, 1].float().mean()              # noqa: E731
    assert cols(moved) - cols(base) == pytest.approx(0.2 * 64, abs=1.5)


def test_a_bad_style_is_refused():
    with pytest.raises(ValueError, match="style"):
        _render("sketchy")


def test_augmented_views_are_seeded_varied_and_in_range():
    vox = torch.stack([_box(), _table(), _box((2, 10, 4), (30, 20, 12)), _table()] * 4)
    a = view_aug.augmented_views(vox, torch.Generator().manual_seed(3), 64)
    b = view_aug.augmented_views(vox, torch.Generator().manual_seed(3), 64)
    c = view_aug.augmented_views(vox, torch.Generator().manual_seed(4), 64)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == (16, 1, 64, 64) and a.min() >= 0 and a.max() <= 1
    _, style = view_aug.augmented_params(400, torch.Generator().manual_seed(0), view_aug.ViewAugment())
    counts = torch.bincount(style, minlength=3).float() / 400
    assert counts.tolist() == pytest.approx([0.5, 0.25, 0.25], abs=0.07)
    only_sil = view_aug.ViewAugment.from_dict({"shaded": 0, "lines": 0, "noise": 0, "blur": 0, "background": 0,
                                               "invert": 0, "gain": [1, 1], "clean": 0})
    sil = view_aug.augmented_views(vox, torch.Generator().manual_seed(5), 64, only_sil)
    assert set(sil.unique().tolist()) == {0.0, 1.0}
    clean = view_aug.augmented_views(vox, torch.Generator().manual_seed(5), 64, view_aug.ViewAugment(clean=1.0))
    assert clean[..., 0, :].max() == 0 and clean[clean > 0].min() >= 0.15 - 1e-6     # black, lit >= ambient


def test_auto_background_matches_the_image_input_of_reconstruct():
    from gan_studio.engine.image_input import prepare_view
    rng = np.random.default_rng(0)
    img = rng.uniform(0.6, 0.9, (64, 64)).astype(np.float32)
    img[20:40, 20:40] = 0.1                                          # a dark object on a light background
    mine = view_aug.auto_background(torch.from_numpy(img)[None, None])
    theirs = prepare_view(img, 64, "auto")
    assert torch.allclose(mine, theirs, atol=1e-6)


@pytest.mark.parametrize("bad, words", [({"shaded": -1}, "style weights"), ({"scale": [2, 1]}, "scale"),
                                        ({"blur": 1.5}, "blur"), ({"colour": 1}, "unknown key")])
def test_bad_augment_options_are_one_clear_line(bad, words):
    with pytest.raises(UserError, match=words) as e:
        view_aug.ViewAugment.from_dict(bad)
    assert "\n" not in str(e.value)


def test_encoder_stage_trains_on_augmented_views_and_records_them(voxel_npz, tmp_path):
    from gan_studio.engine.bundle import load_bundle
    from gan_studio.engine.training.loop import train
    from tests.engine.test_voxels import _cfg
    out = tmp_path / "v.safetensors"
    list(train(_cfg(voxel_npz, steps=1), out))
    opts = {"probe_objects": 3, "stage": "encoder", "recon": "iou", "augment": {"lines": 1.0}}
    progress = list(train(_cfg(voxel_npz, steps=2, options=opts), out, resume=True))
    assert progress[-1].step == 2 and set(progress[-1].losses) == {"recon", "kl"}
    meta = load_bundle(out).meta
    assert meta["views"]["augment"]["lines"] == 1.0 and meta["views"]["augment"]["shaded"] == 0.5
    with pytest.raises(UserError, match="scale"):
        list(train(_cfg(voxel_npz, options={"augment": {"scale": [1, 0]}}), tmp_path / "w.safetensors"))


def test_empty_grids_are_black_in_every_style():
    empty = torch.zeros(2, 32, 32, 32, dtype=torch.uint8)
    for style in views.STYLES:
        assert views.render_views(empty, views.fixed_params(2), 32, style=style).max() == 0
    sil, normals = views.render_normals(empty, views.fixed_params(2), 32)
    assert sil.max() == 0 and normals.shape == (2, 3, 32, 32) and normals.abs().max() == 0


def test_widening_the_encoder_keeps_its_output_and_the_run_resumes_wider(voxel_npz, tmp_path):
    from gan_studio.engine.bundle import load_bundle
    from gan_studio.engine.models.voxel_iwgan import widen_encoder
    from gan_studio.engine.training.loop import train
    from gan_studio.engine.training.widen3d import widen_checkpoint
    from tests.engine.test_voxels import _cfg
    out, wide = tmp_path / "v.safetensors", tmp_path / "wide.safetensors"
    list(train(_cfg(voxel_npz, steps=1), out))
    before = load_bundle(out)
    E = before.networks["encoder"].eval()
    W = widen_encoder(E, 5).eval()
    x = torch.rand(3, 1, 32, 32)
    assert torch.equal(E(x)[0], W(x)[0]) and W.fc.in_features > E.fc.in_features
    widen_checkpoint(out, wide, 5)
    opts = {"probe_objects": 3, "stage": "encoder", "recon": "iou"}
    cfg = _cfg(voxel_npz, steps=2, options=opts, arch_config=dict(_cfg(voxel_npz).arch_config, e_width=5))
    list(train(cfg, wide, resume=True))
    after = load_bundle(wide)
    assert after.meta["config"]["e_width"] == 5 and after.meta["training"]["step"] == 2
    assert "widen_checkpoint" in after.meta["training"]["history"][-1]["command"]
    g0, g1 = before.networks["generator_recon"].state_dict(), after.networks["generator_recon"].state_dict()
    assert all(torch.equal(g0[k], g1[k]) for k in g0)
    with pytest.raises(UserError, match="not wider"):
        widen_checkpoint(out, tmp_path / "x.safetensors", 2)


def test_a_large_line_drawing_keeps_its_strokes_at_the_encoders_size(tmp_path):
    """256-px dark strokes on white, read as reconstruct reads them: full-brightness strokes at 64 px, as the
    encoder's training line drawings; a picture already at 64 px is not stretched."""
    from PIL import Image

    from gan_studio.engine.image_input import load_view
    big = views.render_voxels(_table().numpy(), 35, 20, 256, style="lines")
    Image.fromarray((255 - big * 255).astype(np.uint8)).save(tmp_path / "d.png")
    x = load_view(tmp_path / "d.png", 64)[0, 0]
    assert x.max() == pytest.approx(1.0) and x[0].max() == 0                 # strokes bright, paper black
    small = views.render_voxels(_table().numpy(), 35, 20, 64) * 0.8
    Image.fromarray((small * 255).astype(np.uint8)).save(tmp_path / "s.png")
    assert load_view(tmp_path / "s.png", 64).max() == pytest.approx(float(small.max()), abs=0.01)   # as it was
