"""The one latest-wins scheduler: LatestWins bookkeeping and LatestQueue (one job at a time, newest per kind)."""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Slot

from gan_studio.engine.errors import UserError
from gan_studio.gui.workers import LatestQueue, LatestWins, TaskPool


def test_latest_wins_keeps_one_waiting_request_per_key_oldest_key_first():
    book = LatestWins()
    a1 = book.put("a", "a1")
    book.put("b", "b1")
    a2 = book.put("a", "a2")                      # replaces a1 and queues after b
    assert not book.is_current("a", a1) and book.is_current("a", a2)
    assert book.take()[::2] == ("b", "b1")
    assert book.take() == ("a", a2, "a2")
    assert book.take() is None and not book.waiting()
    book.cancel("a")                              # a result of a2 in flight is now stale
    assert not book.is_current("a", a2)
    b2 = book.put("b", "b2")
    book.cancel()                                 # every key
    assert not book.waiting("b") and not book.is_current("b", b2)


class _Sink(QObject):
    def __init__(self, queue: LatestQueue) -> None:
        super().__init__()
        self.finished, self.failed, self.superseded, self.progress, self.idle = [], [], [], [], 0
        queue.finished.connect(self.on_finished)
        queue.failed.connect(self.on_failed)
        queue.superseded.connect(self.on_superseded)
        queue.progress.connect(self.on_progress)
        queue.idle.connect(self.on_idle)

    @Slot(str, object)
    def on_finished(self, kind, value):
        self.finished.append((kind, value))

    @Slot(str, str)
    def on_failed(self, kind, message):
        self.failed.append((kind, message))

    @Slot(str, object)
    def on_superseded(self, kind, value):
        self.superseded.append((kind, value))

    @Slot(str, object)
    def on_progress(self, kind, item):
        self.progress.append((kind, item))

    @Slot()
    def on_idle(self):
        self.idle += 1


def _blocked(gate: threading.Event, value):
    gate.wait(10)
    return value


def _steps(n: int):
    yield from range(n)
    return "done"


def _fails():
    raise UserError("that image is not an image")


def _queue(qtbot, drop_stale: bool = True):
    pool = TaskPool()
    queue = LatestQueue(pool, drop_stale=drop_stale)
    return pool, queue, _Sink(queue)


def test_one_job_runs_the_newest_waits_and_stale_results_are_dropped(qtbot):
    pool, queue, sink = _queue(qtbot)
    gate = threading.Event()
    queue.submit("grid", _blocked, gate, "first")          # runs
    queue.submit("grid", _blocked, gate, "second")         # waits…
    queue.submit("grid", _blocked, gate, "third")          # …and is replaced by this one
    assert pool.active() == 1 and queue.busy("grid")
    gate.set()
    qtbot.waitUntil(lambda: bool(sink.finished), timeout=10_000)
    qtbot.waitUntil(lambda: not queue.busy(), timeout=10_000)
    assert sink.finished == [("grid", "third")]
    assert sink.superseded == [("grid", "first")]          # ran, but a newer request came meanwhile
    assert sink.idle >= 1
    pool.shutdown()


def test_kinds_take_turns_and_progress_and_failures_reach_the_current_request(qtbot):
    pool, queue, sink = _queue(qtbot)
    queue.submit("steps", _steps, 3)
    queue.submit("bad", _fails)
    qtbot.waitUntil(lambda: bool(sink.failed and sink.finished), timeout=10_000)
    assert sink.progress == [("steps", 0), ("steps", 1), ("steps", 2)]
    assert sink.finished == [("steps", "done")]
    assert sink.failed == [("bad", "that image is not an image")]
    pool.shutdown()


def test_cancel_with_stop_ends_the_running_generator_and_drops_its_result(qtbot):
    pool, queue, sink = _queue(qtbot)
    gate = threading.Event()

    def slow():
        for i in range(1000):
            gate.wait(0.01)
            yield i
        return "never"

    queue.submit("fit", slow)
    qtbot.waitUntil(lambda: bool(sink.progress), timeout=10_000)
    queue.cancel(stop=True)
    qtbot.waitUntil(lambda: not queue.busy() and queue.running() is None, timeout=10_000)
    assert sink.finished == [] and sink.failed == []
    assert len(sink.progress) < 1000
    pool.shutdown()


def test_a_queue_that_keeps_stale_results_emits_every_result(qtbot):
    pool, queue, sink = _queue(qtbot, drop_stale=False)
    gate = threading.Event()
    queue.submit("fid", _blocked, gate, 1)
    queue.submit("fid", _blocked, gate, 2)
    queue.submit("fid", _blocked, gate, 3)                 # replaces 2 while it waits
    gate.set()
    qtbot.waitUntil(lambda: len(sink.finished) == 2, timeout=10_000)
    assert sink.finished == [("fid", 1), ("fid", 3)] and sink.superseded == []
    pool.shutdown()


def test_a_job_asked_for_after_shutdown_is_not_started(qtbot):
    """A panel reacting while the window closes must not start a thread nobody waits for (its QThread would be
    destroyed while running, which aborts the process)."""
    from gan_studio.gui.workers import TaskPool, TaskWorker
    pool = TaskPool()
    pool.shutdown()
    ran = []
    w = pool.start(TaskWorker(lambda: ran.append(1)))
    qtbot.wait(100)
    assert not ran and not w.isRunning() and not w.isFinished() and pool.active() == 0
