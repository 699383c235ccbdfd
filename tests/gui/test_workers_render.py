"""engine.render (pure, never raises) and the GUI workers (latest-wins rendering, stoppable generators)."""
from __future__ import annotations

import threading
import time

import pytest
import torch
from PySide6.QtCore import QObject, Slot

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.latent.sampling import generate, seeds_latents
from gan_studio.engine.latent.state import Latent
from gan_studio.engine.render import RenderRequest, render
from gan_studio.gui.workers import RenderWorker, TaskPool, TaskWorker


@pytest.fixture(scope="module")
def G(gui_model):
    return load_bundle(gui_model).generator().eval()


def test_render_matches_generate_and_echoes_the_request(G):
    lats = [Latent.from_seed(s, G.z_dim) for s in (3, 4, 5)]
    res = render(RenderRequest(generator=G, latents=lats, truncation_psi=0.6, request_id=7, tag="t"))
    assert res.ok and res.request_id == 7 and res.tag == "t"
    want = generate(G, seeds_latents([3, 4, 5], G.z_dim), truncation_psi=0.6)
    assert (res.images - want).abs().max() <= 1e-5
    assert res.pixels.shape == (3, *G.image_shape[1:], G.image_shape[0]) and res.pixels.dtype.name == "uint8"
    z = render(RenderRequest(generator=G, z=seeds_latents([3, 4, 5], G.z_dim), truncation_psi=0.6))
    assert torch.equal(z.images, res.images)


def test_render_captures_errors_instead_of_raising(G):
    bad = [RenderRequest(generator=G, z=torch.zeros(2, G.z_dim + 3)),
           RenderRequest(generator=G, ws=torch.zeros(1, 5, 5)),
           RenderRequest(generator=G),
           RenderRequest(generator=G, latents=[]),
           RenderRequest(generator=object(), z=torch.zeros(1, 4)),
           RenderRequest(generator=G, z=torch.zeros(1, G.z_dim), device="no-such-device")]
    for i, req in enumerate(bad):
        req.request_id = i
        res = render(req)
        assert res.error and res.images is None and res.request_id == i


class _Sink(QObject):
    """Receives worker signals in the GUI thread (a @Slot of a GUI-thread QObject, not a lambda)."""

    def __init__(self):
        super().__init__()
        self.results, self.progress, self.done, self.failed = [], [], [], []

    @Slot(object)
    def on_result(self, r):
        self.results.append(r)

    @Slot(object)
    def on_progress(self, p):
        self.progress.append(p)

    @Slot(object)
    def on_done(self, v):
        self.done.append(v)

    @Slot(str)
    def on_failed(self, m):
        self.failed.append(m)


def test_render_worker_drops_stale_requests(qtbot, G):
    worker, sink = RenderWorker(), _Sink()
    worker.rendered.connect(sink.on_result)
    threads, render_fn = set(), worker._renderer.render
    worker._renderer.render = lambda req: threads.add(threading.get_ident()) or render_fn(req)
    try:
        ids = [worker.submit(RenderRequest(generator=G, latents=[Latent.from_seed(s, G.z_dim)], tag="a"))
               for s in range(100)]
        qtbot.waitUntil(lambda: bool(sink.results) and sink.results[-1].request_id == ids[-1], timeout=30_000)
        got = [r.request_id for r in sink.results]
        assert got == sorted(set(got)) and got[-1] == ids[-1]
        want = generate(G, seeds_latents([99], G.z_dim))
        assert (sink.results[-1].images - want).abs().max() <= 1e-5
        assert worker.newest_id("a") == ids[-1]
        assert threads and threading.get_ident() not in threads, "torch ran on the UI thread"
    finally:
        worker.stop()
    assert not worker.isRunning()


def _counting(n, log, pause=0.0):
    try:
        for i in range(n):
            time.sleep(pause)
            yield i
        return "finished"
    finally:
        log.append("closed")


def test_task_worker_reports_progress_and_result(qtbot):
    sink, pool, log = _Sink(), TaskPool(), []
    w = TaskWorker(_counting, 5, log)
    w.progress.connect(sink.on_progress)
    w.done.connect(sink.on_done)
    with qtbot.waitSignal(w.finished, timeout=10_000):
        pool.start(w)
    qtbot.waitUntil(lambda: sink.done == ["finished"], timeout=10_000)
    assert sink.progress == [0, 1, 2, 3, 4] and log == ["closed"]


def test_task_worker_stops_at_the_next_yield(qtbot):
    sink, log = _Sink(), []
    w = TaskWorker(_counting, 10**9, log, pause=0.002)
    w.progress.connect(sink.on_progress)
    w.done.connect(sink.on_done)
    w.start()
    qtbot.waitUntil(lambda: len(sink.progress) > 3, timeout=10_000)
    w.stop()
    assert w.wait(10_000) and w.stopped and log == ["closed"]
    qtbot.waitUntil(lambda: sink.done == [None], timeout=10_000)


def test_task_worker_turns_exceptions_into_messages(qtbot):
    from gan_studio.engine.errors import UserError

    def boom():
        raise UserError("the data folder is empty")

    sink = _Sink()
    w = TaskWorker(boom)
    w.failed.connect(sink.on_failed)
    w.start()
    qtbot.waitUntil(lambda: sink.failed == ["the data folder is empty"], timeout=10_000)
    w.wait()
