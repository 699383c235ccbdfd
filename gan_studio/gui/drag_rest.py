"""When a slider drag rests: the full render of a slow model waits for it, a preview renders meanwhile.

`DragRest.moved()` on every change of the slider; `rested` fires `rest_ms` after the last change, or at once
when the slider is let go (`release()`), whichever comes first — once per drag. Whether a model is slow enough
for this is decided from its measured speed (`engine.render_plan.is_slow`), never from its resolution.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal, Slot

REST_MS = 300          # no change for this long: the drag rests


class DragRest(QObject):
    rested = Signal()

    def __init__(self, parent: QObject | None = None, rest_ms: int = REST_MS) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(rest_ms)
        self._timer.timeout.connect(self.rested)

    def moved(self) -> None:
        """The slider changed: wait for it to rest (again)."""
        self._timer.start()

    @Slot()
    def release(self) -> None:
        """The slider was let go: rest now, if a drag was waiting for it."""
        if self._timer.isActive():
            self._timer.stop()
            self.rested.emit()

    def waiting(self) -> bool:
        return self._timer.isActive()

    def cancel(self) -> None:
        self._timer.stop()
