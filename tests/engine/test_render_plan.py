"""Rendering in parts, Qt-free: chunk sizes from a byte budget and the measured speed, the speed book, and a request
rendered part by part giving the same images as in one go."""
from __future__ import annotations

import gc

import pytest
import torch

from gan_studio.engine.latent.sampling import generate, seeds_latents, synthesize
from gan_studio.engine.latent.state import Latent
from gan_studio.engine.render import Renderer, RenderRequest, merge_results, request_size, slice_request
from gan_studio.engine.render_plan import (
    DEFAULT_BUDGET_BYTES,
    MAX_BATCH,
    SpeedBook,
    bytes_per_image,
    chunk_size,
    format_speed,
    is_slow,
    max_batch,
)
from tests.conftest import make_tiny_bundle

RGB = {r: (3, r, r) for r in (32, 64, 128, 256, 512, 1024)}


def test_the_byte_budget_gives_one_image_at_a_time_at_1024_and_the_old_64_for_small_models():
    assert max_batch(RGB[1024]) == 1
    assert max_batch(RGB[512]) == 4
    assert max_batch(RGB[256]) == 16
    assert max_batch((1, 32, 32)) == max_batch(RGB[128]) == MAX_BATCH
    assert max_batch((3, 2048, 2048)) == 1                         # over the budget on its own: still one
    for shape in RGB.values():
        assert max_batch(shape) * bytes_per_image(shape) <= DEFAULT_BUDGET_BYTES or max_batch(shape) == 1
    assert max_batch(RGB[256], budget_bytes=64 * 2**20) == 4


def _chunks(n, shape, speed):
    out, start = [], 0
    while start < n:
        k = chunk_size(n - start, shape, speed)
        assert k >= 1
        out.append(k)
        start += k
    return out


@pytest.mark.parametrize("shape", list(RGB.values()) + [(1, 28, 28)])
@pytest.mark.parametrize("speed", [0.0005, 0.05, 0.11, 0.42, 3.0])
@pytest.mark.parametrize("n", [1, 2, 16, 64, 144])
def test_chunks_cover_the_request_within_the_budget(shape, speed, n):
    chunks = _chunks(n, shape, speed)
    assert sum(chunks) == n and max(chunks) <= max_batch(shape)
    assert max(chunks) - min(chunks[:-1] or chunks) <= 1          # balanced: no 15 + 1


def test_chunk_sizes_follow_the_measured_speed_not_the_resolution():
    assert chunk_size(16, (1, 32, 32), None) == 1                 # unknown speed: a one-image probe first
    assert chunk_size(16, (1, 32, 32), 0.0005) == 16              # a fast small model: the whole grid at once
    assert chunk_size(16, RGB[256], 0.0005) == 16                 # fast and within the budget: at once
    assert chunk_size(20, RGB[256], 0.0005) == 10                 # over it: two parts of 10, not 16 + 4
    assert chunk_size(16, RGB[512], 0.0005) == 4 and chunk_size(16, RGB[1024], 0.0005) == 1
    assert chunk_size(16, (1, 32, 32), 0.42) == 1                 # slow: one image (~0.4 s) at a time
    assert chunk_size(16, (1, 32, 32), 0.11) == 2                 # ~0.25 s a part
    assert chunk_size(16, (1, 32, 32), 0.09) == 16                # not slow: no time limit
    assert chunk_size(1, RGB[1024], None) == 1 and chunk_size(0, RGB[1024], 1.0) == 0
    assert not is_slow(None) and not is_slow(0.1) and is_slow(0.101)


def test_speed_book_follows_renders_per_generator_and_device():
    book, G, H = SpeedBook(), torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)
    assert book.get(G, "cpu") is None
    assert book.record(G, "cpu", 4, 2.0) == pytest.approx(0.5)
    assert book.record(G, "cpu", 1, 0.1) == pytest.approx(0.3)     # an even mix with the one before
    book.record(G, "cuda:0", 2, 0.02)
    assert book.get(G, "cpu") == pytest.approx(0.3) and book.get(G, "cuda:0") == pytest.approx(0.01)
    assert book.get(H, "cpu") is None
    assert book.record(G, "cpu", 0, 1.0) == pytest.approx(0.3)     # nothing rendered: nothing learned
    del G
    gc.collect()
    assert len(book._book) == 0                                    # forgets a generator with its object
    assert book.record(7, "cpu", 2, 1.0) == 0.5 and book.get(7, "cpu") is None   # not weak-referenceable: no error


def test_format_speed():
    assert format_speed(0.4249, RGB[256]) == "0.42 s per image · 256×256"
    assert format_speed(0.0031, (1, 28, 32)) == "3.1 ms per image · 32×28"
    assert format_speed(1.5, unit="frame") == "1.50 s per frame"


@pytest.fixture(scope="module")
def G(tmp_path_factory):
    from gan_studio.engine.bundle import load_bundle
    return load_bundle(make_tiny_bundle(tmp_path_factory.mktemp("plan") / "tiny.safetensors")).generator().eval()


def test_a_request_rendered_in_parts_equals_the_whole(G):
    lats = [Latent.from_seed(s, G.z_dim) for s in range(10, 17)]
    renderer = Renderer()
    whole = renderer.render(RenderRequest(generator=G, latents=lats, truncation_psi=0.7))
    assert renderer.seconds_per_image(G) is not None and renderer.seconds_per_image(G, "cpu") > 0
    for req in (RenderRequest(generator=G, latents=lats, truncation_psi=0.7),
                RenderRequest(generator=G, z=seeds_latents(range(10, 17), G.z_dim), truncation_psi=0.7)):
        assert request_size(req) == 7
        parts = [renderer.render(slice_request(req, a, b)) for a, b in ((0, 1), (1, 4), (4, 7))]
        for p, a in zip(parts, (0, 1, 4)):
            p.start, p.total = a, 7
        assert [p.done for p in parts] == [False, False, True]
        merged = merge_results(parts)
        assert merged.ok and merged.count == merged.total == 7 and merged.pixels.shape[0] == 7
        assert (merged.images - whole.images).abs().max() <= 1e-5
    ws = G.mapping(seeds_latents([1, 2, 3], G.z_dim))
    assert torch.equal(slice_request(RenderRequest(generator=G, ws=ws), 1, 3).ws, ws[1:3])
    assert slice_request(RenderRequest(generator=G, ws=ws), 0, 3).ws is ws


def test_next_stop_probes_then_follows_the_speed(G):
    renderer = Renderer()
    req = RenderRequest(generator=G, latents=[Latent.from_seed(s, G.z_dim) for s in range(16)])
    assert renderer.next_stop(req, 0) == 1                          # unknown speed: a probe
    renderer.speeds.record(G, "cpu", 1, 0.001)
    assert renderer.next_stop(req, 1) == 16                         # fast: the rest at once
    renderer.speeds = SpeedBook()
    renderer.speeds.record(G, "cpu", 1, 0.5)
    assert renderer.next_stop(req, 1) == 2                          # slow: one at a time
    bad = RenderRequest(generator=object(), latents=[])
    assert request_size(bad) == 0 and renderer.next_stop(bad, 0) == 1
    res = renderer.render(slice_request(bad, 0, 1))
    assert res.error and res.done


def test_a_failed_part_fails_the_merged_result(G):
    ok = Renderer().render(RenderRequest(generator=G, latents=[Latent.from_seed(1, G.z_dim)]))
    bad = Renderer().render(RenderRequest(generator=G, z=torch.zeros(1, G.z_dim + 1)))
    merged = merge_results([ok, bad])
    assert merged.error == bad.error and merged.images is None and merged.done


class _Big(torch.nn.Module):
    """Says it makes 1024² RGB images (renders tiny ones) and records its batch sizes."""
    image_shape = (3, 1024, 1024)

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.batches: list[int] = []

    def synthesis(self, ws, noise_mode="const"):
        self.batches.append(ws.shape[0])
        return torch.zeros(ws.shape[0], 3, 4, 4)


def test_synthesize_keeps_big_batches_within_the_budget(G):
    big = _Big()
    assert synthesize(big, torch.zeros(5, 2, 2)).shape == (5, 3, 4, 4) and big.batches == [1] * 5
    big.batches = []
    synthesize(big, torch.zeros(5, 2, 2), batch_size=2)
    assert big.batches == [2, 2, 1]                                 # an explicit batch size still wins
    z = seeds_latents(range(70), G.z_dim)
    assert torch.equal(generate(G, z), generate(G, z, batch_size=64))   # a small model: 64 at a time, as before
