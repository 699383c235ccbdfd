"""Pausing an engine generator between two steps, and a clock that leaves the pauses out."""
from __future__ import annotations

import threading
import time


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
