"""Animation export controls: fps, upscale, one button per format; and the export they start, run in a
TaskWorker (an engine generator yielding (done, total)) with a progress bar and Cancel.

While an export runs the bar shows only what it writes, its progress and Cancel (so the progress text has room);
once it ends it says how it ended ("Saved walk.gif (1.2 MB)") next to the buttons, until the next export.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from ...engine.jobs.walks import DEFAULT_FPS, DEFAULT_SCALE, HELP
from ..workers import TaskPool, TaskWorker
from .sample_view import UPSCALES

FORMATS = {"gif": "GIF…", "mp4": "MP4…", "png": "PNG frames…"}


def human_size(n: int) -> str:
    """1234567 -> '1.2 MB'."""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def png_frame_paths(path: str | Path, frames: int) -> list[Path]:
    """The files a PNG-frames export to NAME.png writes: NAME_0000.png, … (as engine.export names them)."""
    path = Path(path)
    digits = max(4, len(str(frames - 1)))
    return [path.with_name(f"{path.stem}_{i:0{digits}d}.png") for i in range(frames)]


def saved_message(path: str | Path, frames: int = 0) -> tuple[str, Path]:
    """What an export wrote, for the user: ('Saved walk.gif (1.2 MB)', the file to reveal). A PNG-frames export
    of `frames` frames names its first and last file and their total size, and reveals the first."""
    path = Path(path)
    if frames > 1 and path.suffix.lower() == ".png":
        files = png_frame_paths(path, frames)
        size = sum(f.stat().st_size for f in files if f.is_file())
        return f"Saved {frames} PNG frames {files[0].name} … {files[-1].name} ({human_size(size)})", files[0]
    size = path.stat().st_size if path.is_file() else 0
    return f"Saved {path.name} ({human_size(size)})", path


class ElidedLabel(QLabel):
    """A one-line label that never widens its layout: text that does not fit ends in '…' (the full text is the
    tooltip)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setToolTip(text)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def shown_text(self) -> str:
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideMiddle, max(0, self.width()))

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setPen(self.palette().color(self.foregroundRole()))
        p.drawText(self.rect(), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.shown_text())
        p.end()


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
        self.progress.setMinimumWidth(self.progress.fontMetrics().horizontalAdvance("0000 / 0000 frames") + 24)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.clicked.connect(self.cancel)
        self.what_label = ElidedLabel()          # while running: the file being written
        self.result_label = ElidedLabel()        # once ended: how ("Saved walk.gif (1.2 MB)")
        self.result_label.setProperty("role", "subtle")
        self._worker: TaskWorker | None = None
        self._path, self._total = "", 0
        self.message, self.reveal_path = "", ""  # of the last export that ended
        self._build()
        self._available, self._busy = True, False
        self.set_busy(False)

    def _build(self) -> None:
        self.export_label = QLabel("Export at")
        self._idle = [self.export_label, self.fps_box, self.upscale_box, *self.buttons.values(), self.result_label]
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for w in self._idle[:-1]:
            lay.addWidget(w)
        lay.addSpacing(6)
        lay.addWidget(self.result_label, 1)
        lay.addWidget(self.what_label, 1)
        lay.addWidget(self.progress, 2)
        lay.addWidget(self.cancel_btn)

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
        for w in self._idle:
            w.setVisible(not busy)
        for w in (self.what_label, self.progress, self.cancel_btn):
            w.setVisible(busy)
        if busy:
            self.progress.setRange(0, max(1, total))
            self.progress.setValue(0)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(1, total))
        self.progress.setValue(done)

    def _ended(self, message: str, reveal: str | Path = "") -> None:
        self.message, self.reveal_path = message, str(reveal)
        self.result_label.setText(message)

    # ------------------------------------------------------------ running an export
    def is_running(self) -> bool:
        return self._worker is not None

    def run(self, pool: TaskPool, path: str, total: int, fn, *args) -> None:
        """Run the generator function fn(*args), which writes `path` and yields (done, total)."""
        self._path, self._total = path, total
        self._worker = TaskWorker(fn, *args)
        self._worker.progress.connect(self._progress)
        self._worker.done.connect(self._done)
        self._worker.failed.connect(self._failed)
        self.what_label.setText(f"Exporting {Path(path).name}")
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
        if stopped:
            self._ended("Export cancelled")
        else:
            self._ended(*saved_message(self._path, self._total))
        self.set_busy(False)
        self.finished.emit("" if stopped else self._path)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._worker = None
        self._ended(f"Export failed: {message}")
        self.set_busy(False)
        self.failed.emit(message)
        self.finished.emit("")
