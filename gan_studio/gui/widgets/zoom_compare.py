"""Images side by side at one magnification, with crisp nearest-neighbour pixels: super-resolution's input,
bicubic and SR outputs, compared detail for detail.

Every image is drawn over the same square of the scene, whatever its own size (a 16 px input beside 64 px
outputs fills the same tile, each input pixel a block of 4 x 4 output pixels), so the tiles show the same part of
the picture. `zoom` (1 = the whole image fits a tile) magnifies around a shared centre; dragging any tile pans
them all, the mouse wheel zooms. Each tile has its caption (what it is and its size) in a strip above it.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QFontMetrics, QImage, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from .. import theme
from .image_grid import qimage_from_pixels

MAX_ZOOM = 16
GAP = 10


class ZoomCompare(QWidget):
    zoom_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._images: list[QImage | None] = []
        self._captions: list[str] = []
        self._placeholder = ""
        self.zoom = 1
        self.centre = QPointF(0.5, 0.5)       # the shown square's centre, in fractions of the image
        self._drag: tuple[QPointF, QPointF] | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(360, 200)
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    # ------------------------------------------------------------ state
    def set_images(self, pixels: list[np.ndarray | None], captions: list[str]) -> None:
        """(H, W, C) uint8 images (None: a tile still waiting), one caption each."""
        self._images = [None if px is None else qimage_from_pixels(px) for px in pixels]
        self._captions = list(captions)
        self.update()

    def clear(self, placeholder: str = "") -> None:
        self._images, self._captions, self._placeholder = [], [], placeholder
        self.update()

    def image(self, index: int) -> QImage | None:
        return self._images[index] if 0 <= index < len(self._images) else None

    def count(self) -> int:
        return len(self._images)

    def caption(self, index: int) -> str:
        return self._captions[index] if 0 <= index < len(self._captions) else ""

    def set_zoom(self, zoom: int) -> None:
        zoom = int(min(max(zoom, 1), MAX_ZOOM))
        if zoom != self.zoom:
            self.zoom = zoom
            self._clamp_centre()
            self.update()
            self.zoom_changed.emit(zoom)

    def _clamp_centre(self) -> None:
        half = 0.5 / self.zoom
        self.centre = QPointF(min(max(self.centre.x(), half), 1 - half), min(max(self.centre.y(), half), 1 - half))

    def source_rect(self, image: QImage) -> QRectF:
        """The part of `image` on screen at the current zoom and centre, in its own pixels."""
        w, h = image.width(), image.height()
        half = 0.5 / self.zoom
        return QRectF((self.centre.x() - half) * w, (self.centre.y() - half) * h, w / self.zoom, h / self.zoom)

    # ------------------------------------------------------------ geometry
    def _strip(self) -> int:
        return QFontMetrics(self.font()).height() + 6

    def tile_side(self) -> int:
        n = max(1, len(self._images))
        return max(16, min((self.width() - GAP * (n + 1)) // n, self.height() - self._strip() - 2 * GAP))

    def tile_rect(self, index: int) -> QRect:
        n, side = max(1, len(self._images)), self.tile_side()
        left = (self.width() - (n * side + (n - 1) * GAP)) // 2
        top = (self.height() - side - self._strip()) // 2 + self._strip()
        return QRect(left + index * (side + GAP), top, side, side)

    def height_for(self, width: int, n: int = 3) -> int:
        """The height at which n tiles side by side fill `width` (taller only adds empty space)."""
        return (width - GAP * (n + 1)) // n + self._strip() + 2 * GAP

    def sizeHint(self) -> QSize:
        return QSize(3 * 256 + 4 * GAP, 256 + 40)

    # ------------------------------------------------------------ interaction
    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() // 120
        if steps:
            self.set_zoom(self.zoom + steps)
            event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag = (event.position(), QPointF(self.centre))
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            return
        start, centre = self._drag
        side = self.tile_side() * self.zoom                    # widget pixels across the whole image
        d = event.position() - start
        self.centre = QPointF(centre.x() - d.x() / side, centre.y() - d.y() / side)
        self._clamp_centre()
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    # ------------------------------------------------------------ painting
    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.fillRect(self.rect(), theme.CANVAS)
        if not self._images:
            p.setPen(theme.MUTED_TEXT)
            p.drawText(self.rect().adjusted(20, 20, -20, -20), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self._placeholder)
            p.end()
            return
        fm, strip = QFontMetrics(self.font()), self._strip()
        for i, img in enumerate(self._images):
            r = self.tile_rect(i)
            p.setPen(theme.MUTED_TEXT)
            text = fm.elidedText(self.caption(i), Qt.TextElideMode.ElideRight, r.width())
            p.drawText(QRect(r.left(), r.top() - strip, r.width(), strip - 4),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, text)
            if img is None:
                p.fillRect(r, theme.EMPTY_TILE)
                p.drawText(r, Qt.AlignmentFlag.AlignCenter, "…")
                continue
            p.drawImage(QRectF(r), img, self.source_rect(img))
            p.setPen(QPen(theme.HOVER.darker(160), 1))
            p.drawRect(r.adjusted(-1, -1, 0, 0))
        p.end()
