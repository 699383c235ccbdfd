"""A canvas over one image for iGAN-style painting: brushes say "ink here", "no ink here", "this colour here"
(RGB models) or "an edge here" (a sketch); Erase takes strokes away. Strokes are kept at the model's resolution
and become `engine.latent.painting.Strokes` (target + mask, edges + edge mask).

The image is drawn large with crisp pixels, the strokes over it in translucent colours (ink green, no ink red,
colour as chosen, edges blue). `changed` fires on every stroke change (the owner asks for candidates, latest wins).
"""
from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...engine.latent.painting import Strokes
from .image_grid import centred_square, qimage_from_pixels, to_image_pixel

BRUSHES = ("ink", "no ink", "colour", "edge", "erase")
OVERLAY = {"ink": (80, 220, 120), "no ink": (240, 80, 80), "edge": (90, 150, 255)}


class PaintCanvas(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.brush, self.radius, self.colour = "ink", 1.0, (255, 255, 255)
        self._base: QImage | None = None
        self._last: QPointF | None = None
        self.set_shape((1, 28, 28))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(224, 224)
        self.setCursor(Qt.CursorShape.CrossCursor)

    # ------------------------------------------------------------ state
    def set_shape(self, shape) -> None:
        """A new, empty canvas for images of shape (C, H, W)."""
        self.shape = tuple(int(s) for s in shape)
        c, h, w = self.shape
        self.target = np.zeros((c, h, w), np.float32)      # the colour wanted, in [-1, 1]
        self.mask = np.zeros((h, w), np.float32)
        self.edge_mask = np.zeros((h, w), np.float32)
        self.update()

    def set_base(self, pixels: np.ndarray | None) -> None:
        """The image painted over, (H, W, C) uint8 (None: a blank canvas)."""
        self._base = None if pixels is None else qimage_from_pixels(pixels)
        self.update()

    def clear(self) -> None:
        self.set_shape(self.shape)
        self.changed.emit()

    def stroked_pixels(self) -> int:
        return int((self.mask > 0).sum() + (self.edge_mask > 0).sum())

    def strokes(self) -> Strokes:
        edges = None if not self.edge_mask.any() else torch.ones(self.shape[1:])
        return Strokes(torch.from_numpy(self.target.copy()), torch.from_numpy(self.mask.copy()),
                       edges=edges, edge_mask=None if edges is None else torch.from_numpy(self.edge_mask.copy()),
                       name=f"canvas ({self.stroked_pixels()} px)")

    # ------------------------------------------------------------ painting
    def image_rect(self) -> QRect:
        return centred_square(self, self.shape[2], 4)

    def to_pixel(self, pos: QPointF) -> tuple[float, float]:
        return to_image_pixel(self.image_rect(), pos, self.shape[1], self.shape[2])

    def dab(self, x: float, y: float) -> None:
        """One brush dab centred on image pixel coordinates (x, y) (pixel centres at +0.5)."""
        c, h, w = self.shape
        yy, xx = np.mgrid[:h, :w]
        disc = (xx + 0.5 - x) ** 2 + (yy + 0.5 - y) ** 2 <= max(self.radius, 0.5) ** 2 + 0.25
        if not disc.any():
            return
        if self.brush == "erase":
            self.mask[disc] = 0
            self.edge_mask[disc] = 0
        elif self.brush == "edge":
            self.edge_mask[disc] = 1
        else:
            rgb = {"ink": (255, 255, 255), "no ink": (0, 0, 0)}.get(self.brush, self.colour)
            value = np.array(rgb, np.float32) / 127.5 - 1
            value = value[:c] if c == 3 else np.array([value.mean()], np.float32)
            self.target[:, disc] = value[:, None]
            self.mask[disc] = 1

    def _stroke_to(self, pos: QPointF) -> None:
        x1, y1 = self.to_pixel(pos)
        x0, y0 = self.to_pixel(self._last) if self._last is not None else (x1, y1)
        n = max(1, int(np.ceil(max(abs(x1 - x0), abs(y1 - y0)) * 2)))
        for t in np.linspace(0, 1, n + 1):
            self.dab(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
        self._last = pos
        self.update()
        self.changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._last = None
            self._stroke_to(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._stroke_to(event.position())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._last = None

    # ------------------------------------------------------------ drawing
    def _overlay(self) -> QImage:
        h, w = self.shape[1:]
        rgba = np.zeros((h, w, 4), np.uint8)
        ink = self.target.mean(0) > 0
        for key, where in (("ink", (self.mask > 0) & ink), ("no ink", (self.mask > 0) & ~ink),
                           ("edge", self.edge_mask > 0)):
            rgba[where, :3] = OVERLAY[key]
            rgba[where, 3] = 150
        if self.shape[0] == 3:                              # colour strokes show their own colour
            painted = (self.mask > 0) & (self.target.std(0) > 1e-3)
            rgba[painted, :3] = ((self.target[:, painted].T + 1) * 127.5).astype(np.uint8)
        return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.fillRect(self.rect(), QColor(24, 25, 28))
        r = self.image_rect()
        if self._base is not None:
            p.drawImage(r, self._base)
        else:
            p.fillRect(r, QColor(0, 0, 0))
        p.drawImage(r, self._overlay())
        p.end()

    def sizeHint(self) -> QSize:
        return QSize(320, 320)
