"""The throttled redraw that the live-curve widgets share: `_touch` after appending to buffers, and a timer
pushes them to the plots (the subclass's `_draw`) at most ~10×/s while something changed, then stops."""
from __future__ import annotations

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QWidget

REDRAW_MS = 100


class ThrottledPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dirty = False
        self.draw_count = 0                       # redraws so far (tests: bounded by the timer)
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._redraw)

    def _touch(self) -> None:
        """Something changed: redraw at the next tick."""
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Redraw now (the timer does this on its own)."""
        self._redraw()

    @Slot()
    def _redraw(self) -> None:
        if not self._dirty:
            self._timer.stop()                    # idle between runs (and while paused): no timer ticks
            return
        self._dirty = False
        self.draw_count += 1
        self._draw()

    def _draw(self) -> None:
        """Override: push the buffers to the plots."""
        raise NotImplementedError
