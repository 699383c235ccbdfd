"""Background work: a latest-wins render thread, and a worker that runs an engine generator or function.

PySide6 runs a lambda connected to a worker's signal in the worker thread, so connect these signals to
`@Slot` methods of QObjects that live in the GUI thread. Both workers are QThread subclasses: the
QThread object itself lives in the GUI thread, its `run` in the new thread.
"""
from __future__ import annotations

import dataclasses
import inspect
import itertools
import logging
import threading
import time
from typing import Any, Callable

import torch
from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..engine.errors import UserError
from ..engine.render import Renderer, RenderRequest, RenderResult, warm_up

log = logging.getLogger(__name__)


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


class RenderWorker(QThread):
    """Renders requests in its own thread, latest-wins per tag.

    `submit` never blocks on torch: it drops the request into a one-slot mailbox per tag (replacing any
    request of that tag not yet started) and returns the new request id. Results older than the newest
    request submitted for their tag are dropped, never emitted; receivers should still compare ids, since
    a newer request may be submitted while a result is on its way.
    """

    rendered = Signal(object)  # RenderResult

    def __init__(self, parent: QObject | None = None, threads: int | None = 1) -> None:
        super().__init__(parent)
        # torch intra-op threads for renders (None: torch's default). One frame gains little from a team, and on
        # a busy 2-core machine a 2-thread team waits for descheduled members: measured 43 ms vs 1.6 ms median
        # per 28 px frame (bench/interactive_latency.py). Only this thread's team changes (_own_torch_threads).
        self.threads = threads
        self._cond = threading.Condition()
        self._mailbox: dict[str, RenderRequest] = {}
        self._newest: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._stopping = False
        self._renderer = Renderer()
        self.rendered_count = 0           # results emitted (for tests and the status bar)

    def submit(self, request: RenderRequest) -> int:
        with self._cond:
            rid = next(self._ids)
            self._mailbox[request.tag] = dataclasses.replace(request, request_id=rid)
            self._newest[request.tag] = rid
            self._cond.notify()
        if not self.isRunning() and not self._stopping:
            self.start()
        return rid

    def newest_id(self, tag: str) -> int:
        with self._cond:
            return self._newest.get(tag, 0)

    def cancel(self, tag: str) -> None:
        """Forget a pending request of `tag` and make any result in flight stale."""
        with self._cond:
            self._mailbox.pop(tag, None)
            self._newest[tag] = next(self._ids)

    def _next_request(self) -> RenderRequest | None:
        with self._cond:
            while not self._mailbox and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            tag = next(iter(self._mailbox))      # oldest tag first: fair between views
            return self._mailbox.pop(tag)

    def run(self) -> None:
        if self.threads:
            _own_torch_threads(self.threads)
        warm_up()
        while True:
            req = self._next_request()
            if req is None:
                return
            result: RenderResult = self._renderer.render(req)
            with self._cond:
                stale = result.request_id < self._newest.get(result.tag, 0)
            if not stale:
                self.rendered_count += 1
                self.rendered.emit(result)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._mailbox.clear()
            self._cond.notify_all()
        self.wait()


class PauseGate:
    """Holds a worker between two steps while paused, blocked on a condition (no CPU spent).

    `clock()` is time.perf_counter() less the seconds spent held here, so a run timed with it (elapsed, ETA,
    a wall-clock budget) does not count its pauses."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._paused = False
        self._held = 0.0                    # seconds spent blocked in wait(), finished pauses
        self._since: float | None = None    # when the current block began

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def wait(self) -> None:
        """Block while paused."""
        with self._cond:
            if not self._paused:
                return
            self._since = time.perf_counter()
            while self._paused:
                self._cond.wait()
            self._held += time.perf_counter() - self._since
            self._since = None

    def clock(self) -> float:
        with self._cond:
            now = time.perf_counter()
            return now - self._held - (now - self._since if self._since is not None else 0.0)


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

    def start(self, worker: TaskWorker) -> TaskWorker:
        self._workers.add(worker)
        worker.finished.connect(self._reap)
        worker.start()
        return worker

    @Slot()
    def _reap(self) -> None:
        w = self.sender()
        if isinstance(w, TaskWorker) and w in self._workers:
            w.wait(2000)                  # `finished` comes right before the thread ends
            self._workers.discard(w)
            w.deleteLater()

    def active(self) -> int:
        return sum(1 for w in self._workers if not w.isFinished())

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        for w in list(self._workers):
            w.stop()
        for w in list(self._workers):
            w.wait(max(timeout_ms, w.stop_timeout_ms or 0))
        self._workers.clear()
