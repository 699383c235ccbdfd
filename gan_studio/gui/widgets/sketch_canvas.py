"""A drawing canvas at a translation model's input resolution: a pen and an eraser of a chosen width, clear and
undo. The canvas IS the model's input image: (C, H, W) float in [-1, 1], shown large with crisp pixels.

The pen lays the model's ink value, the eraser its paper value (the engine says which: white strokes on black
for strokes -> digits, say). A stroke is drawn as the engine draws its training inputs (`strokes`: a 1 px path
dilated by a 3 x 3 pen, binary; `edges`: 1 px lines): the pointer's path marks the pixels it passes through, and
each of them is stamped with a hard-edged disc of the pen's width centred on that pixel (every pixel whose centre
lies within it takes the stroke's value). A 3 px pen thus makes lines exactly 3 px wide and a 1 px pen 1 px
lines, wherever between pixel centres the pointer runs (a disc centred on the pointer itself made a 3 px pen's
lines 2 or 3 px wide and a 1 px pen's 1 or 2 px, with 1 px bumps). An opened image can be set as the canvas
(`set_image`) and drawn over.

`changed` fires on every stroke segment, clear and undo (the owner asks for a translation, latest wins). With
`set_editable(False)` (a model whose input is not drawable) it is a plain image view.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .. import theme
from .image_grid import centred_square, qimage_from_pixels, to_image_pixel

TOOLS = ("pen", "eraser")
UNDO_DEPTH = 30


def _to_uint8(x: np.ndarray) -> np.ndarray:
    """(C, H, W) in [-1, 1] -> (H, W, C) uint8."""
    return ((np.clip(x, -1, 1) + 1) * 127.5).round().astype(np.uint8).transpose(1, 2, 0)


class SketchCanvas(QWidget):
    changed = Signal()

    def __init__(self, placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tool, self.width_px = "pen", 1.0
        self.ink: np.ndarray = np.ones(1, np.float32)         # per channel, [-1, 1]
        self.paper: np.ndarray = -np.ones(1, np.float32)
        self._editable = True
        self._placeholder = placeholder
        self._empty = True                   # nothing set or drawn yet (the placeholder shows)
        self._before: np.ndarray | None = None    # the image when the current stroke began
        self._cover: np.ndarray | None = None     # the pixels the current stroke covers, (H, W) 0 / 1
        self._last: tuple[float, float] | None = None
        self._hover: QPointF | None = None
        self._undo: list[np.ndarray] = []
        self.set_shape((1, 64, 64))
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setSizePolicy(policy)
        self.setMinimumSize(200, 200)
        self.setMouseTracking(True)

    # ------------------------------------------------------------ state
    def set_shape(self, shape, ink=None, paper=None) -> None:
        """A new canvas of `shape` (C, H, W) filled with paper; ink / paper: a value or one per channel, [-1, 1]."""
        self.shape = tuple(int(s) for s in shape)
        c = self.shape[0]
        if ink is not None:
            self.ink = np.broadcast_to(np.asarray(ink, np.float32).reshape(-1), (c,)).copy()
        if paper is not None:
            self.paper = np.broadcast_to(np.asarray(paper, np.float32).reshape(-1), (c,)).copy()
        if self.ink.shape[0] != c:
            self.ink = np.full(c, float(self.ink.mean()), np.float32)
            self.paper = np.full(c, float(self.paper.mean()), np.float32)
        self.pixels = np.empty(self.shape, np.float32)
        self.pixels[:] = self.paper[:, None, None]
        self._undo.clear()
        self._empty = True
        self._end_stroke()
        self.update()

    def set_image(self, x: np.ndarray, keep_undo: bool = True) -> None:
        """Show (and draw over) the image x (C, H, W) in [-1, 1]; its shape becomes the canvas's."""
        x = np.asarray(x, np.float32)
        if x.shape != self.shape:
            self.set_shape(x.shape)
        elif keep_undo and not self._empty:
            self._push_undo()
        self.pixels = np.clip(x, -1, 1).copy()
        self._empty = False
        self._end_stroke()
        self.update()

    def set_editable(self, on: bool) -> None:
        self._editable = on
        self.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)
        self.update()

    def editable(self) -> bool:
        return self._editable

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def is_empty(self) -> bool:
        """True until an image is set or a stroke drawn (and again after clear)."""
        return self._empty

    def image(self) -> np.ndarray:
        """A copy of the canvas: (C, H, W) float32 in [-1, 1]."""
        return self.pixels.copy()

    def drawn_pixels(self) -> int:
        """Pixels that differ from the paper."""
        return int((np.abs(self.pixels - self.paper[:, None, None]).max(0) > 1e-3).sum())

    def clear(self) -> None:
        if not self._empty:
            self._push_undo()
        self.pixels[:] = self.paper[:, None, None]
        self._empty = True
        self.update()
        self.changed.emit()

    def can_undo(self) -> bool:
        return bool(self._undo)

    def undo(self) -> None:
        if self._undo:
            self.pixels = self._undo.pop()
            self._empty = False
            self.update()
            self.changed.emit()

    def _push_undo(self) -> None:
        self._undo.append(self.pixels.copy())
        del self._undo[:-UNDO_DEPTH]

    # ------------------------------------------------------------ drawing
    def image_rect(self) -> QRect:
        return centred_square(self, self.shape[2], 4)

    def to_pixel(self, pos: QPointF) -> tuple[float, float]:
        """Widget coordinates -> image pixel coordinates (pixel centres at +0.5)."""
        return to_image_pixel(self.image_rect(), pos, self.shape[1], self.shape[2])

    def _begin_stroke(self) -> None:
        self._push_undo()
        self._before = self.pixels.copy()
        self._cover = np.zeros(self.shape[1:], np.float32)

    def _end_stroke(self) -> None:
        self._before, self._cover, self._last = None, None, None

    def dab(self, x: float, y: float) -> None:
        """One disc of the pen's width on the pixel holding image coordinates (x, y), within the current stroke."""
        if self._cover is None:
            self._begin_stroke()
        h, w = self.shape[1:]
        cx, cy = np.floor(x) + 0.5, np.floor(y) + 0.5            # that pixel's centre
        r = max(self.width_px, 1.0) / 2
        yy, xx = np.mgrid[:h, :w]
        self._cover[(xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2 <= r * r + 1e-6] = 1
        value = (self.ink if self.tool == "pen" else self.paper)[:, None, None]
        self.pixels = self._before + self._cover[None] * (value - self._before)
        self._empty = False

    def stroke(self, points: list[tuple[float, float]]) -> None:
        """A whole stroke through image pixel coordinates, as a mouse drag draws it (tests, scripted input)."""
        self._end_stroke()
        for x, y in points:
            self._segment_to(x, y)
        self._end_stroke()

    def _segment_to(self, x1: float, y1: float) -> None:
        x0, y0 = self._last if self._last is not None else (x1, y1)
        n = max(1, int(np.ceil(max(abs(x1 - x0), abs(y1 - y0)) * 2)))
        for t in np.linspace(0, 1, n + 1):
            self.dab(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
        self._last = (x1, y1)
        self.update()
        self.changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._editable and event.button() == Qt.MouseButton.LeftButton:
            self._end_stroke()
            self._segment_to(*self.to_pixel(event.position()))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._hover = event.position()
        if self._editable and self._cover is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self._segment_to(*self.to_pixel(event.position()))
        elif self._editable:
            self.update()
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._end_stroke()
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(event)

    # ------------------------------------------------------------ painting
    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.fillRect(self.rect(), theme.CANVAS)
        r = self.image_rect()
        p.drawImage(r, qimage_from_pixels(_to_uint8(self.pixels)))
        p.setPen(QPen(theme.HOVER.darker(160), 1))
        p.drawRect(r.adjusted(-1, -1, 0, 0))
        if self._empty and self._placeholder:
            p.setPen(theme.MUTED_TEXT)
            p.drawText(r.adjusted(12, 12, -12, -12), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self._placeholder)
        if self._editable and self._hover is not None and r.contains(self._hover.toPoint()):
            scale = r.width() / self.shape[2]
            d = max(self.width_px, 1.0) * scale                     # the pen's outline, in widget pixels, on
            x, y = self.to_pixel(self._hover)                       # the pixel it would stamp
            cx, cy = r.left() + (np.floor(x) + 0.5) * scale, r.top() + (np.floor(y) + 0.5) * scale
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(QPen(theme.ACCENT if self.tool == "pen" else QColor(240, 120, 120), 1))
            p.drawEllipse(QRectF(cx - d / 2, cy - d / 2, d, d))
        p.end()

    def sizeHint(self) -> QSize:
        return QSize(320, 320)
