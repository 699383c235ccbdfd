"""One image, shown large with crisp nearest-neighbour pixels (integer scale when it fits)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .. import theme
from .image_grid import fit_square, qimage_from_pixels


class PixelView(QWidget):
    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._placeholder = placeholder
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)                 # stays square as the side panel is resized
        self.setSizePolicy(policy)
        self.setMinimumSize(160, 160)

    def set_pixels(self, px: np.ndarray | None) -> None:
        """(H, W, C) uint8, or None to clear."""
        self._image = None if px is None else qimage_from_pixels(px)
        self.update()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def has_image(self) -> bool:
        return self._image is not None

    def image(self) -> QImage | None:
        return self._image

    def image_rect(self) -> QRect:
        margin = 6
        avail = min(self.width(), self.height()) - 2 * margin
        side = fit_square(avail, self._image.width() if self._image is not None else 0)
        return QRect((self.width() - side) // 2, (self.height() - side) // 2, side, side)

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
