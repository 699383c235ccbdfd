"""Periodic FID for the training panel: one measurement at a time through a LatestQueue, the newest request
waiting its turn (older waiting ones are dropped), and the real images' features kept between measurements."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from ...engine.jobs.training import FIDJob, run_fid
from ..state import AppContext
from ..workers import LatestQueue


class FIDScheduler(QObject):
    measured = Signal(int, float)        # step, FID
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.jobs = LatestQueue(ctx.tasks, self, drop_stale=False)   # an earlier checkpoint's FID still counts
        self.jobs.progress.connect(self._on_progress)
        self.jobs.failed.connect(self._on_failed)
        self._real = None                # (data path, n, features of the first n real images)
        self.results: list[tuple[int, float]] = []

    def busy(self) -> bool:
        return self.jobs.busy()

    def request(self, checkpoint: Path, step: int, data: str, n: int) -> None:
        self.jobs.submit("fid", self._measure, FIDJob(Path(checkpoint), step, data, n, self.ctx.device))

    def _measure(self, job: FIDJob):
        """Runs in the worker: reuse the real features a previous measurement left, if they fit."""
        real = self._real
        if real is not None and real[:2] == (job.data, job.n):
            job.real = real[2]
        return run_fid(job)

    def cancel_waiting(self) -> None:
        self.jobs.cancel()

    @Slot(str, object)
    def _on_progress(self, _kind: str, item: dict) -> None:
        if "fid" in item:
            self._real = (item["data"], item["n"], item["real"])
            self.results.append((item["step"], item["fid"]))
            self.measured.emit(item["step"], item["fid"])

    @Slot(str, str)
    def _on_failed(self, _kind: str, message: str) -> None:
        self.jobs.cancel()
        self.failed.emit(message)
