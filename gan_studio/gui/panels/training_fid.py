"""Periodic FID for the training panel: one measurement at a time in a TaskWorker, the newest request waiting
its turn (older waiting ones are dropped), and the real images' features kept between measurements."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from ..state import AppContext
from ..workers import TaskWorker
from .training_jobs import FIDJob, run_fid


class FIDScheduler(QObject):
    measured = Signal(int, float)        # step, FID
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._worker: TaskWorker | None = None
        self._waiting: FIDJob | None = None
        self._real = None                # (data path, n, features of the first n real images)
        self.results: list[tuple[int, float]] = []

    def busy(self) -> bool:
        return self._worker is not None

    def request(self, checkpoint: Path, step: int, data: str, n: int) -> None:
        job = FIDJob(Path(checkpoint), step, data, n, self.ctx.device)
        if self._real is not None and self._real[:2] == (data, n):
            job.real = self._real[2]
        if self._worker is not None:
            self._waiting = job
            return
        self._worker = TaskWorker(run_fid, job)
        self._worker.progress.connect(self._on_progress)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self.ctx.tasks.start(self._worker)

    def cancel_waiting(self) -> None:
        self._waiting = None

    @Slot(object)
    def _on_progress(self, item: dict) -> None:
        if "fid" in item:
            self._real = (item["data"], item["n"], item["real"])
            self.results.append((item["step"], item["fid"]))
            self.measured.emit(item["step"], item["fid"])

    @Slot(object)
    def _on_done(self, _value) -> None:
        self._worker = None
        job, self._waiting = self._waiting, None
        if job is not None:
            self.request(job.checkpoint, job.step, job.data, job.n)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._worker, self._waiting = None, None
        self.failed.emit(message)
