"""Animation export controls: fps, upscale, one button per format; and the export they start, run in a
TaskWorker (an engine generator yielding (done, total)) with a progress bar and Cancel."""
from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QWidget

from ...engine.jobs.walks import DEFAULT_FPS, DEFAULT_SCALE, HELP
from ..workers import TaskPool, TaskWorker
from .sample_view import UPSCALES

FORMATS = {"gif": "GIF…", "mp4": "MP4…", "png": "PNG frames…"}


class ExportBar(QWidget):
    export_requested = Signal(str)      # "gif", "mp4" or "png"
    finished = Signal(str)              # the written path, or "" when cancelled or failed
    failed = Signal(str)                # the error message

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fps_box = QSpinBox()
        self.fps_box.setRange(1, 60)
        self.fps_box.setValue(DEFAULT_FPS)
        self.fps_box.setSuffix(" fps")
        self.fps_box.setToolTip(HELP["fps"])
        self.upscale_box = QComboBox()
        for f in UPSCALES:
            self.upscale_box.addItem(f"×{f}", f)
        self.upscale_box.setCurrentIndex(UPSCALES.index(DEFAULT_SCALE))
        self.upscale_box.setToolTip(HELP["scale"])
        self.buttons = {}
        for fmt, text in FORMATS.items():
            btn = QPushButton(text)
            btn.setToolTip(f"Export every frame of the walk as {text.rstrip('…')}")
            btn.clicked.connect(lambda _=False, f=fmt: self.export_requested.emit(f))
            self.buttons[fmt] = btn
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v / %m frames")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.clicked.connect(self.cancel)
        self._worker: TaskWorker | None = None
        self._path = ""
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("Export at"))
        lay.addWidget(self.fps_box)
        lay.addWidget(self.upscale_box)
        for btn in self.buttons.values():
            lay.addWidget(btn)
        lay.addStretch(0)                     # takes the slack while the progress bar is hidden
        lay.addWidget(self.progress, 1)
        lay.addWidget(self.cancel_btn)
        self._available, self._busy = True, False
        self.set_busy(False)

    def fps(self) -> int:
        return self.fps_box.value()

    def scale(self) -> int:
        return int(self.upscale_box.currentData())

    def set_available(self, available: bool) -> None:
        """Whether there is a walk to export."""
        self._available = available
        for btn in self.buttons.values():
            btn.setEnabled(available and not self._busy)

    def set_busy(self, busy: bool, total: int = 0) -> None:
        self._busy = busy
        self.set_available(self._available)
        self.progress.setVisible(busy)
        self.cancel_btn.setVisible(busy)
        if busy:
            self.progress.setRange(0, max(1, total))
            self.progress.setValue(0)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(1, total))
        self.progress.setValue(done)

    # ------------------------------------------------------------ running an export
    def is_running(self) -> bool:
        return self._worker is not None

    def run(self, pool: TaskPool, path: str, total: int, fn, *args) -> None:
        """Run the generator function fn(*args), which writes `path` and yields (done, total)."""
        self._path = path
        self._worker = TaskWorker(fn, *args)
        self._worker.progress.connect(self._progress)
        self._worker.done.connect(self._done)
        self._worker.failed.connect(self._failed)
        self.set_busy(True, total)
        pool.start(self._worker)

    @Slot()
    def cancel(self) -> None:
        """Stop at the next frame; the partial file is removed."""
        if self._worker is not None:
            self._worker.stop()

    @Slot(object)
    def _progress(self, value) -> None:
        self.set_progress(*value)

    @Slot(object)
    def _done(self, _value) -> None:
        stopped = self._worker is not None and self._worker.stopped
        self._worker = None
        self.set_busy(False)
        self.finished.emit("" if stopped else self._path)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._worker = None
        self.set_busy(False)
        self.failed.emit(message)
        self.finished.emit("")
