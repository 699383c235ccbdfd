"""The paper's figure for directions: one row per direction, images from −s to +s along it.

Painted in one paintEvent from cached QImages; row names on the left, shift values on top, the unshifted
column outlined. Tiles fit the width (integer multiples of the image size when there is room) and the
widget asks for the height that needs, so it sits in a vertically scrolling area.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .. import theme
from .image_grid import fit_square, qimage_from_pixels

LABEL_W, HEADER_H, GAP, MAX_TILE = 150, 22, 3, 112
STAR = QColor(240, 194, 74)                # the star colour of the slider rows


class DirectionChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._images: list[list[QImage]] = []
        self._row_labels: list[str] = []
        self._col_labels: list[str] = []
        self._center = -1
        self._placeholder = ""
        self._image_px = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    # ------------------------------------------------------------ state
    def set_chart(self, pixels: np.ndarray, row_labels: list[str], col_labels: list[str], center: int = -1) -> None:
        """pixels (R, S, H, W, C) uint8."""
        self._images = [[qimage_from_pixels(pixels[r, s]) for s in range(pixels.shape[1])]
                        for r in range(pixels.shape[0])]
        self._row_labels, self._col_labels, self._center = list(row_labels), list(col_labels), center
        self._image_px = int(pixels.shape[3]) if pixels.size else 0
        self._placeholder = ""
        self._fit_height()
        self.update()

    def clear(self, placeholder: str = "") -> None:
        self._images, self._row_labels, self._col_labels, self._placeholder = [], [], [], placeholder
        self._fit_height()
        self.update()

    @property
    def rows(self) -> int:
        return len(self._images)

    @property
    def cols(self) -> int:
        return len(self._images[0]) if self._images else 0

    def image(self, row: int, col: int) -> QImage | None:
        try:
            return self._images[row][col]
        except IndexError:
            return None

    def row_label(self, row: int) -> str:
        return self._row_labels[row] if 0 <= row < len(self._row_labels) else ""

    # ------------------------------------------------------------ geometry
    def tile_side(self, width: int | None = None) -> int:
        if not self.cols:
            return 0
        avail = ((width or self.width()) - LABEL_W - GAP * (self.cols + 1)) // self.cols
        side = fit_square(max(avail, 16), self._image_px)
        if self._image_px and side > MAX_TILE:
            side = max(self._image_px, (MAX_TILE // self._image_px) * self._image_px)
        return min(side, max(avail, 16))

    def _needed_height(self, width: int) -> int:
        if not self.rows:
            return 240
        return HEADER_H + self.rows * (self.tile_side(width) + GAP) + GAP

    def _fit_height(self) -> None:
        self.setFixedHeight(self._needed_height(self.width()))

    def _offset(self, side: int) -> int:
        """Left margin that centres the names and the tiles together."""
        return max(0, (self.width() - LABEL_W - self.cols * (side + GAP)) // 2)

    def tile_rect(self, row: int, col: int) -> QRect:
        side = self.tile_side()
        x0 = LABEL_W + self._offset(side)
        return QRect(x0 + col * (side + GAP), HEADER_H + row * (side + GAP), side, side)

    def sizeHint(self) -> QSize:
        return QSize(720, self._needed_height(720))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_height()

    # ------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.fillRect(self.rect(), theme.CANVAS)
        if not self._images:
            p.setPen(theme.MUTED_TEXT)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
            p.end()
            return
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1.0))
        p.setFont(small)
        self._paint_header(p)
        for r, row in enumerate(self._images):
            first = self.tile_rect(r, 0)
            p.setPen(theme.MUTED_TEXT if not self._row_labels[r].startswith("★") else STAR)
            text = p.fontMetrics().elidedText(self._row_labels[r], Qt.TextElideMode.ElideRight, LABEL_W - 20)
            p.drawText(QRect(first.left() - LABEL_W + 6, first.top(), LABEL_W - 16, first.height()),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, text)
            for c, img in enumerate(row):
                p.drawImage(self.tile_rect(r, c), img)
        if 0 <= self._center < self.cols:
            top, bottom = self.tile_rect(0, self._center), self.tile_rect(self.rows - 1, self._center)
            p.setPen(QPen(theme.ACCENT.darker(130), 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRect(top.topLeft(), bottom.bottomRight()).adjusted(-2, -2, 1, 1))
        p.end()

    def _paint_header(self, p: QPainter) -> None:
        for c, label in enumerate(self._col_labels):
            r = self.tile_rect(0, c)
            p.setPen(theme.ACCENT if c == self._center else theme.MUTED_TEXT)
            p.drawText(QRect(r.left() - GAP, 0, r.width() + 2 * GAP, HEADER_H),
                       Qt.AlignmentFlag.AlignCenter, label)
