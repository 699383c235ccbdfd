"""One image, shown large with crisp nearest-neighbour pixels (integer scale when it fits).

With `set_draggable(True)` a left-button drag on the image reports itself: `drag_started`, then `drag_moved(dx, dy)`
(pixels from where the drag began, y down) for each mouse move, then `drag_finished`. A drag begins once the
mouse has moved `QApplication.startDragDistance()` from the press; a press released before that is a plain click
and reports nothing.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QApplication, QSizePolicy, QWidget

from .. import theme
from .image_grid import centred_square, qimage_from_pixels


class PixelView(QWidget):
    drag_started = Signal()
    drag_moved = Signal(float, float)      # (dx, dy) pixels from where the drag began
    drag_finished = Signal()

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._placeholder = placeholder
        self._draggable = False
        self._press: QPointF | None = None     # where the left button went down (None: not pressed)
        self._anchor: QPointF | None = None    # where the drag began (None: no drag yet)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)                 # stays square as the side panel is resized
        self.setSizePolicy(policy)
        self.setMinimumSize(160, 160)

    def set_pixels(self, px: np.ndarray | None) -> None:
        """(H, W, C) uint8, or None to clear."""
        had = self._image is not None
        self._image = None if px is None else qimage_from_pixels(px)
        if had != (self._image is not None):
            self._update_cursor()
        self.update()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def has_image(self) -> bool:
        return self._image is not None

    def image(self) -> QImage | None:
        return self._image

    # ------------------------------------------------------------ dragging
    def set_draggable(self, on: bool) -> None:
        self._draggable = on
        self._update_cursor()

    def is_dragging(self) -> bool:
        return self._anchor is not None

    def _update_cursor(self) -> None:
        if not self._draggable or self._image is None:
            self.unsetCursor()
        else:
            self.setCursor(Qt.CursorShape.ClosedHandCursor if self.is_dragging() else Qt.CursorShape.OpenHandCursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._draggable and self._image is not None and event.button() == Qt.MouseButton.LeftButton:
            self._press, self._anchor = event.position(), None
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            super().mouseMoveEvent(event)
            return
        pos = event.position()
        if self._anchor is None:
            if (pos - self._press).manhattanLength() < QApplication.startDragDistance():
                return
            self._anchor = pos                  # measured from here: no jump when the drag begins
            self._update_cursor()
            self.drag_started.emit()
        self.drag_moved.emit(pos.x() - self._anchor.x(), pos.y() - self._anchor.y())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is None or event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        dragged = self._anchor is not None
        self._press = self._anchor = None
        self._update_cursor()
        if dragged:
            self.drag_finished.emit()
        event.accept()

    def image_rect(self) -> QRect:
        return centred_square(self, self._image.width() if self._image is not None else 0, 6)

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, w: int) -> int:
        return w

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.fillRect(self.rect(), theme.CANVAS)
        rect = self.image_rect()
        if self._image is None:
            p.fillRect(rect, theme.EMPTY_TILE)
            if self._placeholder:
                p.setPen(theme.MUTED_TEXT)
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
        else:
            p.drawImage(rect, self._image)
            p.setPen(QPen(theme.HOVER.darker(160), 1))
            p.drawRect(rect.adjusted(-1, -1, 0, 0))
        p.end()
