"""iGAN-style painting (engine/latent/painting.py): candidates obey strokes, edits stay close, stop, stroke files."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from PIL import Image

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.latent.painting import (
    Strokes,
    edge_strength,
    paint,
    paint_candidates,
    read_strokes,
    save_strokes,
)
from gan_studio.engine.latent.painting_live import LivePainter
from gan_studio.engine.latent.sampling import generate
from gan_studio.engine.latent.state import Latent
from gan_studio.engine.seeds import seed_latent, seeds_latents
from tests.conftest import SHIPPED_MNIST, make_tiny_bundle


@pytest.fixture(scope="module")
def G():
    return load_bundle(SHIPPED_MNIST).generator().eval()


def _masked(imgs, s: Strokes) -> torch.Tensor:
    return ((imgs - s.target).square() * s.mask).sum((1, 2, 3)) / (s.mask.sum() * imgs.shape[1])


def _digit_strokes(G, seed=100_000, fraction=0.06) -> Strokes:
    """Strokes from a held-out generated digit: a few percent of its pixels, half ink, half no ink."""
    d = generate(G, seed_latent(seed, G.z_dim))[0]
    g = torch.Generator().manual_seed(1)
    flat = d.mean(0).flatten()
    k = int(fraction * flat.numel()) // 2
    ink, bg = (flat > 0).nonzero()[:, 0], (flat <= 0).nonzero()[:, 0]
    idx = torch.cat([ink[torch.randperm(len(ink), generator=g)[:k]], bg[torch.randperm(len(bg), generator=g)[:k]]])
    m = torch.zeros(flat.numel())
    m[idx] = 1
    return Strokes(d, m.reshape(d.shape[1:]), name="digit")


def test_candidates_obey_the_strokes_far_better_than_random_samples(G):
    torch.set_num_threads(1)
    s = _digit_strokes(G)
    last = paint_candidates(G, s, n=4, steps=40, starts=8, seed=0)
    assert last.done and len(last.results) == 4 and last.images.shape == (4, *G.image_shape)
    rand = generate(G, seeds_latents(list(range(16)), G.z_dim))
    ours, theirs = _masked(last.images, s), _masked(rand, s)
    assert ours.mean() < 0.15 * theirs.mean(), (ours, theirs.mean())
    r = last.results[0]
    assert r.source == "paint" and r.z is not None and r.info["strokes"].startswith("digit")
    assert r.info["loss"] <= last.results[-1].info["loss"]
    again = generate(G, torch.cat([c.z for c in last.results]))              # the latents render as shown
    assert (again - last.images).abs().max() < 1e-4
    flat = last.images.flatten(1)
    assert torch.cdist(flat, flat).fill_diagonal_(1e9).min() > 0              # distinct candidates


def test_starting_from_a_latent_keeps_the_image_where_nothing_is_stroked(G):
    torch.set_num_threads(1)
    start = Latent.from_seed(5, G.z_dim)
    img0 = generate(G, start.z)[0]
    target, mask = img0.clone(), torch.zeros(G.image_shape[1:])
    ink = (img0[0] > 0).float()[None, None]                                  # thicken the digit: a dark spot
    near = torch.nn.functional.max_pool2d(ink, 3, 1, 1)[0, 0].bool() & (img0[0] < -0.5)   # next to its ink
    ys, xs = near.nonzero().T
    y, x = int(ys[len(ys) // 2].clamp(1, 30)), int(xs[len(xs) // 2].clamp(1, 30))
    mask[y - 1:y + 2, x - 1:x + 2], target[:, y - 1:y + 2, x - 1:x + 2] = 1, 1.0
    s = Strokes(target, mask)
    last = paint_candidates(G, s, start=start, n=2, steps=40, starts=4)
    best = last.images[0]
    assert _masked(best[None], s) < 0.5 * _masked(img0[None], s)
    far = torch.ones_like(mask)
    far[max(0, y - 4):y + 5, max(0, x - 4):x + 5] = 0
    kept = ((best - img0).square() * far).sum() / far.sum()
    rand = generate(G, seeds_latents(list(range(8)), G.z_dim))
    others = ((rand - img0).square() * far).sum((1, 2, 3)) / far.sum()
    assert kept < 0.25 * others.mean(), (kept, others)


def test_stop_at_the_next_step_and_generator_state_restored(G):
    s = _digit_strokes(G)
    G.train()
    gen = paint(G, s, steps=10_000, starts=4, n=2)
    t = time.perf_counter()
    steps = [next(gen) for _ in range(3)]
    gen.close()
    assert time.perf_counter() - t < 20 and [p.step for p in steps] == [1, 2, 3]
    assert not steps[-1].done and steps[-1].images.shape[0] == 2 and steps[-1].values.shape == (4, G.z_dim)
    assert G.training
    G.eval()


def test_live_painter_warm_starts_within_its_budget(G):
    torch.set_num_threads(1)
    s = _digit_strokes(G)
    live = LivePainter(G, n=4, budget_s=0.3)
    first = live.update(s)
    t = time.perf_counter()
    second = live.update(s)
    assert time.perf_counter() - t < 1.5 and second.done and len(second.results) == 4
    assert second.results[0].info["loss"] <= first.results[0].info["loss"] * 1.5 + 1e-3


def test_rgb_other_size_colour_and_sketch(tmp_path):
    torch.set_num_threads(1)
    G = load_bundle(make_tiny_bundle(tmp_path / "rgb.safetensors", resolution=28, channels=3)).generator().eval()
    a = np.zeros((56, 56, 4), np.uint8)
    a[4:12, 4:12] = (255, 0, 0, 255)                                          # red, twice the model's size
    Image.fromarray(a, "RGBA").save(tmp_path / "s.png")
    sk = np.zeros((56, 56, 4), np.uint8)
    sk[20:28, 16] = (255, 255, 255, 255)                                      # "an edge here"
    Image.fromarray(sk, "RGBA").save(tmp_path / "e.png")
    s = read_strokes(tmp_path / "s.png", G.image_shape, edges=tmp_path / "e.png")
    assert s.target.shape == (3, 28, 28) and s.mask[3, 3] == 1 and s.mask[10, 10] == 0
    assert torch.allclose(s.target[:, 3, 3], torch.tensor([1.0, -1.0, -1.0]))
    assert s.edge_mask[11, 8] > 0 and s.edges[11, 8] == 1
    last = paint_candidates(G, s, n=2, steps=5, starts=4)
    assert last.images.shape == (2, 3, 28, 28) and last.results[0].z.shape == (1, 16)
    save_strokes(tmp_path / "back.png", s)
    assert read_strokes(tmp_path / "back.png", G.image_shape).mask.sum() == s.mask.sum()
    step = -torch.ones(1, 1, 8, 8)
    step[..., 4:] = 1
    e = edge_strength(step)[0]
    assert e[:, 3].min() > 0.9 and e[:, 0].max() < 0.01


@pytest.mark.parametrize("kind, words", [
    ("missing", "no such file"), ("empty", "empty"), ("text", "not an image"), ("rgb", "transparency"),
    ("clear", "no stroked pixels"), ("aspect", "aspect ratio"), ("sketch", "same canvas"),
])
def test_bad_stroke_files_are_one_user_error(tmp_path, kind, words):
    p, edges = tmp_path / "s.png", None
    good = np.zeros((32, 32, 4), np.uint8)
    good[10, 10] = 255
    if kind == "empty":
        p.write_bytes(b"")
    elif kind == "text":
        p.write_text("not a png")
    elif kind == "rgb":
        Image.new("RGB", (32, 32)).save(p)
    elif kind == "clear":
        Image.new("RGBA", (32, 32)).save(p)
    elif kind == "aspect":
        Image.fromarray(np.zeros((32, 64, 4), np.uint8) + 255, "RGBA").save(p)
    elif kind == "sketch":
        Image.fromarray(good, "RGBA").save(p)
        edges = tmp_path / "e.png"
        Image.fromarray(good[:16], "RGBA").save(edges)
    with pytest.raises(UserError) as exc:
        read_strokes(p, (1, 32, 32), edges=edges)
    msg = str(exc.value)
    assert words in msg and "\n" not in msg, msg
