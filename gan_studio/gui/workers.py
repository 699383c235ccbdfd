"""Background work, latest-wins: one bookkeeping (`LatestWins`, latest_wins.py) behind the render thread and the
task queue.

- `RenderWorker`: a persistent thread that renders interactive requests (one waiting per view tag), a big
  request in parts (engine `render_plan`): between two parts other views' requests go first, a newer request of
  the same tag drops the rest, and a `progressive` request has each part emitted as it lands.
- `LatestQueue`: one TaskWorker at a time for a panel's jobs (one waiting per kind), stale results dropped.
- `TaskWorker`: runs an engine function or generator (progress, pause, stop at the next yield); `TaskPool`
  keeps workers alive until their thread ends and stops them all at shutdown.

PySide6 runs a lambda connected to a worker's signal in the worker thread, so connect these signals to
`@Slot` methods of QObjects that live in the GUI thread. The workers are QThread subclasses: the QThread
object itself lives in the GUI thread, its `run` in the new thread.
"""
from __future__ import annotations

import dataclasses
import inspect
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

import shiboken6
import torch
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from ..engine.errors import UserError
from ..engine.jobs.pause import PauseGate
from ..engine.render import (
    Renderer,
    RenderRequest,
    RenderResult,
    merge_results,
    request_size,
    slice_request,
    warm_up,
)
from .latest_wins import LatestWins

log = logging.getLogger(__name__)
_LIVE: weakref.WeakSet = weakref.WeakSet()      # every worker thread made here (see live_workers)
_ORPHANS: set = set()                           # workers still running after their pool shut down


def live_workers() -> list[QThread]:
    """Worker threads (render and task) still running: none should outlive a closed window or a test."""
    return [w for w in list(_LIVE) if shiboken6.isValid(w) and w.isRunning()]


def _own_torch_threads(n: int) -> None:
    """Give the calling thread a torch intra-op team of n threads, leaving other threads' default alone.

    torch fixes a thread's team size when the thread first runs an op, from the process-wide value set last:
    so set n, run an op here, then restore the old value from a helper thread (its own team is the only other
    one that changes)."""
    prev = torch.get_num_threads()
    torch.set_num_threads(n)
    warm_up()
    helper = threading.Thread(target=torch.set_num_threads, args=(prev,), name="torch-threads-restore")
    helper.start()
    helper.join()


class LatestQueue(QObject):
    """One job at a time in a TaskWorker, the newest request of each kind waiting, stale results dropped.

    `submit(kind, fn, *args)` returns a ticket. When the job ends, `finished(kind, value)` (or
    `failed(kind, message)`) is emitted only if no newer request of its kind came meanwhile; a superseded
    result is emitted as `superseded(kind, value)` instead, for callers that cache work (calibrations,
    features). `progress(kind, item)` passes on what a generator job yields, while it is current.
    `cancel()` forgets waiting requests and makes the running one stale; `cancel(stop=True)` also ends the
    running job at its next yield (a new model, a closed panel). `drop_stale=False` keeps every result
    current (a queue whose older results are still worth showing, such as FID of earlier checkpoints).
    """

    progress = Signal(str, object)
    finished = Signal(str, object)
    failed = Signal(str, str)
    superseded = Signal(str, object)
    idle = Signal()                         # nothing running and nothing waiting

    def __init__(self, pool: TaskPool, parent: QObject | None = None, drop_stale: bool = True) -> None:
        super().__init__(parent)
        self.pool, self.drop_stale = pool, drop_stale
        self._book = LatestWins()
        self._running: tuple[str, int, TaskWorker] | None = None

    def submit(self, kind: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
        ticket = self._book.put(kind, (fn, args, kwargs))
        self._next()
        return ticket

    def cancel(self, kind: str | None = None, stop: bool = False) -> None:
        self._book.cancel(kind)
        if stop and self._running is not None and (kind is None or self._running[0] == kind):
            self._running[2].stop()

    def busy(self, kind: str | None = None) -> bool:
        """Is a current request of `kind` (any kind: None) waiting or running?"""
        run = self._running
        if kind is None:
            return run is not None or self._book.waiting()
        return self._book.waiting(kind) or (run is not None and run[0] == kind and self._current(run))

    def is_current(self, kind: str, ticket: int) -> bool:
        return self._book.is_current(kind, ticket)

    def running(self) -> tuple[str, int] | None:
        return None if self._running is None else self._running[:2]

    def _current(self, run) -> bool:
        return not self.drop_stale or self._book.is_current(run[0], run[1])

    def _next(self) -> None:
        if self._running is not None:
            return
        job = self._book.take()
        if job is None:
            self.idle.emit()
            return
        kind, ticket, (fn, args, kwargs) = job
        worker = TaskWorker(fn, *args, **kwargs)
        worker.progress.connect(self._on_progress)
        worker.done.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        self._running = (kind, ticket, worker)
        self.pool.start(worker)

    def _end(self) -> tuple[str, bool] | None:
        run, self._running = self._running, None
        if run is None or run[2] is not self.sender():
            self._running = run                  # a signal of a job this queue no longer runs
            return None
        return run[0], self._current(run)

    @Slot(object)
    def _on_progress(self, item: Any) -> None:
        run = self._running
        if run is not None and run[2] is self.sender() and self._current(run):
            self.progress.emit(run[0], item)

    @Slot(object)
    def _on_done(self, value: Any) -> None:
        ended = self._end()
        if ended is not None:
            kind, current = ended
            (self.finished if current else self.superseded).emit(kind, value)
            self._next()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        ended = self._end()
        if ended is not None:
            kind, current = ended
            if current:
                self.failed.emit(kind, message)
            else:
                log.info("superseded %s job failed: %s", kind, message)
            self._next()


@dataclasses.dataclass
class _RenderJob:
    """A request being rendered in parts: where its next part starts, and the parts done (unless progressive)."""
    request: RenderRequest
    start: int = 0
    parts: list = dataclasses.field(default_factory=list)


class RenderWorker(QThread):
    """Renders requests in its own thread, latest-wins per tag.

    `submit` never blocks on torch: it drops the request into a one-slot mailbox per tag (replacing any
    request of that tag not yet started) and returns the new request id. Results older than the newest
    request submitted for their tag are dropped, never emitted; receivers should still compare ids, since
    a newer request may be submitted while a result is on its way.

    A request renders in parts (`Renderer.next_stop`: within a memory budget; about a quarter second each on a
    slow model). After each part the rest of the request queues again behind other tags' waiting requests, and
    is dropped once a newer request of its tag comes. A `progressive` request's parts are emitted one by one
    (`RenderResult.start`, `.total`, `.done`); any other request's are merged into one result.
    """

    rendered = Signal(object)  # RenderResult

    def __init__(self, parent: QObject | None = None, threads: int | None = 1) -> None:
        super().__init__(parent)
        _LIVE.add(self)
        # torch intra-op threads for renders (None: torch's default). One frame gains little from a team, and on
        # a busy 2-core machine a 2-thread team waits for descheduled members: measured 43 ms vs 1.6 ms median
        # per 28 px frame (bench/interactive_latency.py). Only this thread's team changes (_own_torch_threads).
        self.threads = threads
        self._cond = threading.Condition()
        self._book = LatestWins()              # one waiting request per tag
        self._stopping = False
        self._renderer = Renderer()
        self.rendered_count = 0           # results emitted (for tests and the status bar)

    def submit(self, request: RenderRequest) -> int:
        with self._cond:
            rid = self._book.put(request.tag, _RenderJob(request))
            self._cond.notify()
        if not self.isRunning() and not self._stopping:
            self.start()
        return rid

    def newest_id(self, tag: str) -> int:
        with self._cond:
            return self._book.newest(tag)

    def cancel(self, tag: str) -> None:
        """Forget a pending request of `tag` and make any result in flight stale."""
        with self._cond:
            self._book.cancel(tag)

    def seconds_per_image(self, G, device=None) -> float | None:
        """G's measured render time per image (None before its first render); safe from any thread."""
        return self._renderer.seconds_per_image(G, device)

    def _next_job(self) -> tuple[str, int, _RenderJob] | None:
        with self._cond:
            while not self._book.waiting() and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            return self._book.take()     # oldest tag first: fair between views

    def run(self) -> None:
        if self.threads:
            _own_torch_threads(self.threads)
        warm_up()
        while True:
            job = self._next_job()
            if job is None:
                return
            self._render_part(*job)

    def _render_part(self, tag: str, rid: int, job: _RenderJob) -> None:
        """Render the next part of a job, queue the rest again, emit what is current."""
        req = dataclasses.replace(job.request, request_id=rid)
        start, total = job.start, request_size(req)
        result: RenderResult = self._renderer.render(slice_request(req, start, self._renderer.next_stop(req, start)))
        result.start, result.total = start, total
        with self._cond:
            current = self._book.is_current(tag, rid)
            if current and not result.done and not self._stopping:
                job.start = result.stop
                if not req.progressive:
                    job.parts.append(result)
                self._book.put_back(tag, rid, job)
                self._cond.notify()
        if not current or not (req.progressive or result.done):
            return
        if not req.progressive and job.parts:
            result = merge_results([*job.parts, result])
        self.rendered_count += 1
        self.rendered.emit(result)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._book.clear()
            self._cond.notify_all()
        self.wait()


class TaskWorker(QThread):
    """Runs `fn(*args, **kwargs)` in a thread. When it returns a generator (an engine generator such as
    training or discovery), each yielded value is emitted as `progress`, and `stop()` ends it at the next
    yield (the generator is closed, so its cleanup runs). Then `done(return value)` or `failed(message)`.
    `pause()` holds a generator between two yields (the thread blocks: no CPU) until `resume()` or `stop()`;
    `paused_changed(True/False)` says when it really holds and when it goes on.
    """

    progress = Signal(object)
    done = Signal(object)
    failed = Signal(str)
    paused_changed = Signal(bool)

    def __init__(self, fn: Callable[..., Any], *args: Any, parent: QObject | None = None, **kwargs: Any) -> None:
        super().__init__(parent)
        _LIVE.add(self)
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._stop_requested = threading.Event()
        self.gate = PauseGate()
        self.stopped = False
        self.stop_timeout_ms: int | None = None   # how long TaskPool.shutdown waits for it (None: the pool's)

    def stop(self) -> None:
        """Ask the worker to stop at its next yield (a plain function runs to its end); ends a pause."""
        self._stop_requested.set()
        self.gate.resume()

    def pause(self) -> None:
        """Hold the generator after its current step (a plain function runs on)."""
        if not self._stop_requested.is_set():
            self.gate.pause()

    def resume(self) -> None:
        self.gate.resume()

    def run(self) -> None:
        try:
            value = self._fn(*self._args, **self._kwargs)
            if inspect.isgenerator(value):
                value = self._drive(value)
        except UserError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:
            log.exception("background task failed")
            first = str(exc).strip().splitlines()
            self.failed.emit(f"{type(exc).__name__}: {first[0][:300] if first else 'unexpected error'}")
            return
        self.done.emit(value)

    def _drive(self, gen) -> Any:
        while True:
            if self.gate.paused and not self._stop_requested.is_set():
                self.paused_changed.emit(True)
                self.gate.wait()
                self.paused_changed.emit(False)
            if self._stop_requested.is_set():
                gen.close()
                self.stopped = True
                return None
            try:
                item = next(gen)
            except StopIteration as stop:
                return stop.value
            self.progress.emit(item)


class TaskPool(QObject):
    """Keeps TaskWorkers alive until their thread ends, and stops them all on shutdown."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workers: set[TaskWorker] = set()
        self._closed = False

    def start(self, worker: TaskWorker) -> TaskWorker:
        """Run the worker; after shutdown (the window is closing) a late job is not started at all: nothing
        would wait for its thread, and a QThread destroyed while it runs aborts the process."""
        if self._closed:
            log.info("a background task asked for after shutdown was not started")
            return worker
        self._workers.add(worker)
        worker.finished.connect(self._reap)
        worker.start()
        return worker

    @Slot()
    def _reap(self) -> None:
        w = self.sender()
        if isinstance(w, TaskWorker) and w in self._workers:
            ended = w.wait(2000)          # `finished` comes right before the thread ends
            self._workers.discard(w)
            if ended:
                w.deleteLater()
            else:                         # a very busy machine: let the thread end before it is destroyed
                _ORPHANS.add(w)
                QTimer.singleShot(2000, lambda w=w: (w.wait(), _ORPHANS.discard(w), w.deleteLater()))

    def active(self) -> int:
        return sum(1 for w in self._workers if not w.isFinished())

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        self._closed = True
        for w in list(self._workers):
            w.stop()
        for w in list(self._workers):
            if not w.wait(max(timeout_ms, w.stop_timeout_ms or 0)):
                log.warning("a background task did not stop within %d ms; it is left to finish", timeout_ms)
                _ORPHANS.add(w)           # its QThread must outlive the pool: destroying a running one aborts
                w.finished.connect(lambda w=w: _ORPHANS.discard(w))
        self._workers.clear()
