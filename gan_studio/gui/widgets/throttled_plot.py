"""The throttled redraw that the live-curve widgets share: `_touch` after appending to buffers, and superqt's
`qthrottled` pushes them to the plots (the subclass's `_draw`) at most ~10×/s while something changed; no
timer runs while nothing does."""
from __future__ import annotations

from PySide6.QtWidgets import QWidget
from superqt.utils import qthrottled

REDRAW_MS = 100


class ThrottledPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dirty = False
        self.draw_count = 0                       # redraws so far (tests: bounded by the throttle)
        # trailing edge only: a burst of appends within 100 ms becomes one redraw at its end
        self._throttled = qthrottled(self._redraw, timeout=REDRAW_MS, leading=False, parent=self)

    def _touch(self) -> None:
        """Something changed: redraw at the next throttle tick."""
        self._dirty = True
        self._throttled()

    def flush(self) -> None:
        """Redraw now (the throttle does this on its own)."""
        self._throttled.cancel()
        self._redraw()

    def _redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        self.draw_count += 1
        self._draw()

    def _draw(self) -> None:
        """Override: push the buffers to the plots."""
        raise NotImplementedError
