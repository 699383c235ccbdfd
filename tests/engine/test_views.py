"""The training-view renderer and the image input of the 3D model."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_studio.engine.data import views
from gan_studio.engine.errors import UserError


def _box(lo=(8, 8, 8), hi=(24, 24, 24)) -> torch.Tensor:
    g = torch.zeros(32, 32, 32, dtype=torch.uint8)
    g[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = 1
    return g


def _table() -> torch.Tensor:
    g = torch.zeros(32, 32, 32, dtype=torch.uint8)
    g[4:28, 4:28, 20:22] = 1                            # top, z up
    for x, y in ((4, 4), (27, 4), (4, 27), (27, 27)):
        g[x, y, 0:20] = 1                               # 1-voxel-thin legs
    return g


def test_renders_are_deterministic_from_a_seed():
    vox = torch.stack([_box(), _table(), _box((2, 10, 4), (30, 20, 12))])
    a, pa = views.render_random(vox, torch.Generator().manual_seed(7))
    b, pb = views.render_random(vox, torch.Generator().manual_seed(7))
    c, _ = views.render_random(vox, torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and torch.equal(pa.azimuth, pb.azimuth)
    assert not torch.equal(a, c)
    assert a.shape == (3, 1, 64, 64) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(views.seeded_views(vox, 7), a)
    assert torch.equal(views.render_params(vox, pa, chunk=1), a)       # chunking does not change pixels


def test_empty_grid_is_black_and_objects_are_lit():
    img = views.render_views(torch.stack([torch.zeros(32, 32, 32, dtype=torch.uint8), _box()]),
                             views.fixed_params(2))
    assert img[0].max() == 0
    lit = img[1][img[1] > 0]
    assert lit.numel() > 200 and lit.min() >= 0.24 and lit.max() > 0.6   # ambient 0.25 + diffuse


def test_view_geometry_top_and_side():
    vox = _box((4, 12, 4), (28, 20, 12))[None]           # long in x, low in z
    top = views.render_views(vox, views.fixed_params(1, azimuth=0, elevation=90), 64)[0, 0] > 0
    side = views.render_views(vox, views.fixed_params(1, azimuth=90, elevation=0), 64)[0, 0] > 0
    rows, cols = top.any(1).sum().item(), top.any(0).sum().item()
    assert rows > 1.5 * cols or cols > 1.5 * rows                   # a 24 x 8 footprint from above
    side_rows = side.nonzero()[:, 0]
    assert side_rows.float().mean() > 32                             # low object: lower half of the image
    assert side.any(1).sum() < side.any(0).sum()                     # wider (x) than high (z) from the side


def test_thin_legs_stay_visible():
    img = views.render_views(_table()[None], views.fixed_params(1, azimuth=30, elevation=10), 64)[0, 0]
    lower = img[40:, :]                                              # below the table top
    assert (lower > 0).sum() >= 20


def test_render_voxels_accepts_numpy_probabilities_and_checks_shape():
    probs = _box().numpy().astype(np.float32) * 0.8
    img = views.render_voxels(probs, 30, 20, size=96)
    assert img.shape == (96, 96) and img.dtype == np.float32 and img.max() > 0
    assert views.render_voxels(probs, 30, 20, size=96, threshold=0.9).max() == 0
    with pytest.raises(ValueError):
        views.render_voxels(np.zeros((4, 4)))


# ------------------------------------------------------------------ image input

def _save(tmp_path, name, img):
    p = tmp_path / name
    img.save(p)
    return p


def test_image_modes_are_converted(tmp_path):
    from PIL import Image

    from gan_studio.engine.image_input import load_view
    rng = np.random.default_rng(0)
    arr16 = np.zeros((40, 60), np.uint16)
    arr16[10:30, 20:40] = 60000
    def boxed(mode, colour, box_colour):                # a flat picture is refused as blank: draw a box on it
        im = Image.new(mode, (30, 20), colour)
        im.paste(box_colour, (8, 5, 22, 15))
        return im
    files = [_save(tmp_path, "g16.png", Image.fromarray(arr16)),
             _save(tmp_path, "cmyk.jpg", boxed("CMYK", (0, 0, 0, 0), (0, 0, 0, 255))),
             _save(tmp_path, "rgba.png", boxed("RGBA", (255, 0, 0, 128), (255, 255, 255, 255))),
             _save(tmp_path, "pal.gif", Image.fromarray(rng.integers(0, 255, (20, 30), np.uint8)).convert("P")),
             _save(tmp_path, "bw.bmp", boxed("1", 1, 0)),
             _save(tmp_path, "f.tif", Image.fromarray(rng.random((20, 20)).astype(np.float32)))]
    for f in files:
        x = load_view(f, 64)
        assert x.shape == (1, 1, 64, 64) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1, f
    g = load_view(files[0], 64, background="keep")
    assert g.max() > 0.8 and g[0, 0, 0, 0] == 0                     # 16-bit scaled, padded with black
    assert load_view(files[1].read_bytes(), 32).shape == (1, 1, 32, 32)


def test_white_background_becomes_black(tmp_path):
    from PIL import Image

    from gan_studio.engine.image_input import load_view
    a = np.full((64, 64), 255, np.uint8)
    a[20:44, 20:44] = 60                                             # dark object on white
    x = load_view(_save(tmp_path, "w.png", Image.fromarray(a)), 64)
    assert x[0, 0, 2, 2] == 0 and x[0, 0, 32, 32] > 0.7


def test_bad_images_are_one_clear_user_error(tmp_path):
    from PIL import Image

    from gan_studio.engine import image_input
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("hello")
    good = _save(tmp_path, "ok.png", Image.new("L", (50, 50), 3))
    (tmp_path / "trunc.png").write_bytes(good.read_bytes()[:60])
    cases = {"empty.png": "empty", "text.png": "not an image", "trunc.png": "decoded|not an image",
             "missing.png": "no such file"}
    for name, msg in cases.items():
        with pytest.raises(UserError, match=msg):
            image_input.load_view(tmp_path / name)
    with pytest.raises(UserError, match="empty"):
        image_input.load_view(b"")


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    from PIL import Image

    from gan_studio.engine import image_input
    big = _save(tmp_path, "big.png", Image.new("L", (3000, 3000)))
    monkeypatch.setattr(image_input, "MAX_PIXELS", 1_000_000)
    with pytest.raises(UserError, match="too large"):
        image_input.load_view(big)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)   # PIL's own bomb check: also a clean error
    monkeypatch.setattr(image_input, "MAX_PIXELS", 10 ** 9)
    with pytest.raises(UserError, match="too large"):
        image_input.load_view(big)
