"""Latent walks: keyframes hit exactly, slerp keeps norms, loops close smoothly, seeds reproduce, export."""
import numpy as np
import pytest
import torch

from gan_studio.engine.errors import UserError
from gan_studio.engine.export import export_frames
from gan_studio.engine.latent.sampling import seeds_latents
from gan_studio.engine.latent.walks import interpolate, random_loop, slerp, walk_ws


@pytest.mark.parametrize("method", ["slerp", "lerp"])
@pytest.mark.parametrize("easing", ["linear", "ease"])
def test_endpoints_and_inner_keyframes_are_hit_exactly(method, easing):
    keys = seeds_latents([1, 2, 3, 4], 32)
    walk = interpolate(keys, 31, method, easing=easing)       # 3 segments, 10 frames each + the end
    assert walk.shape == (31, 32)
    for i, f in enumerate((0, 10, 20, 30)):
        assert torch.equal(walk[f], keys[i])
    assert (walk[1] - keys[0]).norm() > 0


def test_ws_keyframes_keep_their_shape():
    keys = torch.randn(3, 5, 8)
    walk = interpolate(keys, 9, "lerp")
    assert walk.shape == (9, 5, 8) and torch.equal(walk[-1], keys[-1])


def test_slerp_preserves_norm_for_equal_norm_endpoints():
    a, b = torch.randn(64), torch.randn(64)
    b = b / b.norm() * a.norm()
    for t in torch.linspace(0, 1, 11):
        assert slerp(a, b, float(t)).norm() == pytest.approx(a.norm().item(), rel=1e-5)
    mid = (a + b) / 2
    assert mid.norm() < a.norm() * 0.95                        # lerp would shrink it: the test can fail
    assert torch.allclose(slerp(a, a, 0.3), a, atol=1e-6)      # parallel vectors do not divide by zero


def _steps(walk):
    return (walk[1:] - walk[:-1]).norm(dim=-1)


@pytest.mark.parametrize("walk", [
    interpolate(seeds_latents([1, 2, 3], 32), 60, "slerp", loop=True),
    random_loop(7, 32, 60, "circle"),
    random_loop(7, 32, 60, "noise"),
])
def test_loops_lead_smoothly_back_to_the_first_frame(walk):
    inner = _steps(walk)
    closing = (walk[0] - walk[-1]).norm()
    assert 0 < closing <= inner.max() * 1.01
    assert closing >= inner.min() * 0.5


def test_random_loops_are_seeded_and_gaussian_scaled():
    assert torch.equal(random_loop(3, 64, 40), random_loop(3, 64, 40))
    assert not torch.equal(random_loop(3, 64, 40), random_loop(4, 64, 40))
    c = random_loop(3, 64, 40, "circle")
    assert torch.allclose(c.norm(dim=1), c[0].norm().expand(40), rtol=1e-4)
    n = random_loop(3, 512, 200, "noise")
    assert 0.85 < n.std().item() < 1.15                         # each coordinate N(0, 1) along the loop


def test_bad_walks_are_user_errors():
    keys = seeds_latents([1, 2], 8)
    for kwargs in ({"frames": 1}, {"frames": 5, "method": "cubic"}, {"frames": 5, "easing": "bounce"}):
        with pytest.raises(UserError):
            interpolate(keys, **kwargs)
    with pytest.raises(UserError):
        interpolate(keys[:1], 5)


@pytest.mark.parametrize("suffix", [".gif", ".mp4", ".npy", ".png"])
def test_export_writes_every_frame(tmp_path, suffix):
    import imageio.v3 as iio
    images = torch.linspace(-1, 1, 7)[:, None, None, None].expand(7, 1, 28, 28).contiguous()
    progress = list(export_frames(images, 7, tmp_path / f"walk{suffix}", fps=10, scale=3))
    assert progress[-1] == (7, 7) and len(progress) == 7
    if suffix == ".npy":
        arr = np.load(tmp_path / "walk.npy")
        assert arr.shape == (7, 1, 28, 28) and arr.dtype == np.float32
    elif suffix == ".png":
        files = sorted(tmp_path.glob("walk_*.png"))
        assert len(files) == 7 and iio.imread(files[0]).shape[:2] == (84, 84)
    else:
        frames = iio.imread(tmp_path / f"walk{suffix}")
        assert frames.shape[0] == 7 and frames.shape[1:3] == (84, 84)
        assert frames[0].mean() < frames[-1].mean()


def test_cancelled_export_leaves_no_file(tmp_path):
    images = torch.zeros(10, 1, 28, 28)
    gen = export_frames(images, 10, tmp_path / "w.gif")
    next(gen)
    gen.close()
    assert list(tmp_path.iterdir()) == []


def test_walk_ws_through_seed_and_ws_keyframes(tiny_model):
    from gan_studio.engine.bundle import load_bundle
    from gan_studio.engine.latent.state import Latent
    G = load_bundle(tiny_model).generator()
    a, b = Latent.from_seed(1, G.z_dim), Latent.from_seed(2, G.z_dim)
    ws = walk_ws(G, [a, b], 5)
    assert ws.shape == (5, 1, G.z_dim) and torch.equal(ws[0], G.mapping(a.z)[0])
    edited = Latent(ws=G.mapping(b.z) * 0.5, source="direction")
    ws2 = walk_ws(G, [a, edited], 5)
    assert torch.equal(ws2[-1], edited.ws[0]) and torch.equal(ws2[0], G.mapping(a.z)[0])
