"""The render worker renders big and slow requests in parts: progressive parts emitted in order, other requests merged
into one result, a newer request of the same tag dropping the rest of an older one, other tags going between parts."""
from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QObject, Slot

from gan_studio.engine.latent.sampling import generate, seeds_latents
from gan_studio.engine.latent.state import Latent
from gan_studio.engine.render import RenderRequest
from gan_studio.gui.workers import RenderWorker
from tests.conftest import make_tiny_bundle
from tests.gui.slow_model import slow_loaded_model

T = 30_000


class _Sink(QObject):
    def __init__(self):
        super().__init__()
        self.results = []

    @Slot(object)
    def on_result(self, r):
        self.results.append(r)

    def of(self, rid):
        return [r for r in self.results if r.request_id == rid]


@pytest.fixture
def slow(tmp_path):
    _model, G, log = slow_loaded_model(make_tiny_bundle(tmp_path / "slow.safetensors"))
    return G, log


@pytest.fixture
def worker(qtbot):
    w, sink = RenderWorker(), _Sink()
    w.rendered.connect(sink.on_result)
    yield w, sink
    w.stop()


def _grid(G, seeds, tag="grid", progressive=True):
    return RenderRequest(generator=G, latents=[Latent.from_seed(s, G.z_dim) for s in seeds], tag=tag,
                         progressive=progressive)


def test_a_slow_progressive_request_lands_part_by_part(qtbot, worker, slow):
    (w, sink), (G, log) = worker, slow
    rid = w.submit(_grid(G, range(5)))
    qtbot.waitUntil(lambda: bool(sink.of(rid)) and sink.of(rid)[-1].done, timeout=T)
    parts = sink.of(rid)
    assert [(p.start, p.stop, p.total) for p in parts] == [(i, i + 1, 5) for i in range(5)]   # probe, then 1 each
    assert [p.done for p in parts] == [False] * 4 + [True] and log.batches == [1] * 5
    assert w.seconds_per_image(G) > 0.1
    got = torch.cat([p.images for p in parts])
    assert (got - generate(G, seeds_latents(range(5), G.z_dim))).abs().max() <= 1e-5


def test_a_request_that_is_not_progressive_comes_back_whole(qtbot, worker, slow):
    (w, sink), (G, log) = worker, slow
    rid = w.submit(_grid(G, range(4), progressive=False))
    qtbot.waitUntil(lambda: bool(sink.of(rid)), timeout=T)
    qtbot.wait(200)
    (res,) = sink.of(rid)
    assert res.ok and res.start == 0 and res.count == res.total == 4 and res.pixels.shape[0] == 4
    assert len(log.batches) > 1, "a slow request is still rendered in parts (memory, fairness)"


def test_a_newer_request_drops_the_rest_of_an_older_one(qtbot, worker, slow):
    (w, sink), (G, log) = worker, slow
    old = w.submit(_grid(G, range(8)))
    qtbot.waitUntil(lambda: bool(sink.of(old)), timeout=T)
    new = w.submit(_grid(G, range(100, 104)))
    qtbot.waitUntil(lambda: bool(sink.of(new)) and sink.of(new)[-1].done, timeout=T)
    assert len(sink.of(old)) <= 2, "the older grid went on rendering after a newer one came"
    assert all(r.request_id == new for r in sink.results[sink.results.index(sink.of(new)[0]):])
    assert sum(log.batches) <= 2 + 4


def test_other_views_go_between_the_parts(qtbot, worker, slow):
    (w, sink), (G, _log) = worker, slow
    grid = w.submit(_grid(G, range(6)))
    qtbot.waitUntil(lambda: bool(sink.of(grid)), timeout=T)
    view = w.submit(_grid(G, [42], tag="view"))
    qtbot.waitUntil(lambda: bool(sink.of(view)) and bool(sink.of(grid)) and sink.of(grid)[-1].done, timeout=T)
    order = [r.request_id for r in sink.results]
    assert order.index(view) < len(order) - 1, "the view waited for the whole grid"
    assert len(sink.of(grid)) == 6 and sink.of(grid)[-1].done


def test_cancel_drops_the_rest(qtbot, worker, slow):
    (w, sink), (G, log) = worker, slow
    rid = w.submit(_grid(G, range(8)))
    qtbot.waitUntil(lambda: bool(sink.of(rid)), timeout=T)
    w.cancel("grid")
    qtbot.wait(600)
    assert len(sink.of(rid)) == 1 and log.count() <= 2
