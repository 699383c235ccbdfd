"""A grid of sample tiles: crisp nearest-neighbour pixels, a caption strip under each image, click to select.

The whole grid paints itself in one paintEvent from cached QImages (no child widget per tile), so a
12x12 grid redraws cheaply. A grid rendered in parts (a slow model) shows a placeholder tile ("…") under each
caption until its image lands (`set_pending`, then `set_tiles` per part).

Captions never cover the image: each cell is the image with a strip under it (`caption_rect`), the text elided
to the cell's width. When cells get too small for a readable strip the captions hide; hovering a tile shows its
caption as a tooltip either way.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QKeyEvent, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from .. import theme


def qimage_from_pixels(px: np.ndarray) -> QImage:
    """(H, W, C) uint8 with C in (1, 3, 4) -> a QImage owning its memory, in the format the raster painter
    draws fastest (a scaled draw of a Grayscale8 image costs ~5x that of an RGB32 one)."""
    px = np.ascontiguousarray(px)
    if px.ndim == 2:
        px = px[..., None]
    h, w, c = px.shape
    fmt = {1: QImage.Format.Format_Grayscale8, 3: QImage.Format.Format_RGB888,
           4: QImage.Format.Format_RGBA8888}.get(c)
    if fmt is None:
        raise ValueError(f"cannot show an image with {c} channels")
    fast = QImage.Format.Format_ARGB32_Premultiplied if c == 4 else QImage.Format.Format_RGB32
    return QImage(px.data, w, h, w * c, fmt).convertToFormat(fast)   # a copy: the numpy buffer may go away


def fit_square(avail: int, image_px: int) -> int:
    """Largest tile side <= avail; an integer multiple of the image size when that leaves >= 2x (even pixels)."""
    if image_px > 0 and avail >= 2 * image_px:
        return (avail // image_px) * image_px
    return max(avail, 1)


def centred_square(widget: QWidget, image_px: int, margin: int) -> QRect:
    """Where a square image of `image_px` pixels a side is drawn in `widget`: centred, `margin` px clear of the
    nearer edges, its side from `fit_square` (whole multiples of the image where there is room)."""
    side = fit_square(min(widget.width(), widget.height()) - 2 * margin, image_px)
    return QRect((widget.width() - side) // 2, (widget.height() - side) // 2, side, side)


def to_image_pixel(rect: QRect, pos, height: int, width: int) -> tuple[float, float]:
    """Widget coordinates `pos` (a QPointF) -> (x, y) pixel coordinates of a height x width image drawn in `rect`
    (pixel centres at +0.5)."""
    return (pos.x() - rect.left()) / rect.width() * width, (pos.y() - rect.top()) / rect.height() * height


class ImageGrid(QWidget):
    tile_clicked = Signal(int)

    GAP = 6
    MIN_CAPTION_SIDE = 40     # smaller tiles drop their caption strip (the tooltip still has it)

    def __init__(self, rows: int = 4, cols: int = 4, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows, self._cols = rows, cols
        self._images: list[QImage | None] = []
        self._captions: list[str] = []
        self._selected = -1
        self._hover = -1
        self._placeholder = ""
        self._pending: set[int] = set()       # tiles waiting for their image
        self._image_px = 0            # image side of the last images shown: tiles snap to multiples of it
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 200)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    # ------------------------------------------------------------ state
    @property
    def rows(self) -> int:
        return self._rows

    @property
    def cols(self) -> int:
        return self._cols

    def count(self) -> int:
        return self._rows * self._cols

    def set_shape(self, rows: int, cols: int) -> None:
        self._rows, self._cols = max(1, rows), max(1, cols)
        n = self.count()
        self._images, self._captions = self._images[:n], self._captions[:n]
        self._pending = {i for i in self._pending if i < n}
        if self._selected >= n:
            self._selected = -1
        self.update()

    def set_images(self, pixels: np.ndarray | list, captions: list[str] | None = None) -> None:
        """pixels (N, H, W, C) uint8, N <= rows*cols; tiles beyond N stay empty."""
        n = min(len(pixels), self.count())
        self._images = [qimage_from_pixels(pixels[i]) for i in range(n)]
        self._captions = list(captions or [])[:n]
        self._pending = set()
        if self._images:
            self._image_px = self._images[0].width()
        self.update()

    def set_pending(self, captions: list[str]) -> None:
        """A grid is on its way in parts: one placeholder tile per caption until `set_tiles` gives its image."""
        n = min(len(captions), self.count())
        self._images, self._captions = [None] * n, list(captions)[:n]
        self._pending = set(range(n))
        self.update()

    def set_tiles(self, start: int, pixels: np.ndarray | list) -> None:
        """The images of tiles start, start+1, … (a part of the grid has landed): (K, H, W, C) uint8."""
        for k in range(len(pixels)):
            i = start + k
            if not 0 <= i < len(self._images):
                break
            self._images[i] = qimage_from_pixels(pixels[k])
            self._pending.discard(i)
            self._image_px = self._images[i].width()
        self.update()

    def is_pending(self, index: int) -> bool:
        return index in self._pending

    def pending_count(self) -> int:
        return len(self._pending)

    def clear(self, placeholder: str = "") -> None:
        self._images, self._captions, self._placeholder = [], [], placeholder
        self._pending = set()
        self.update()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def image(self, index: int) -> QImage | None:
        return self._images[index] if 0 <= index < len(self._images) else None

    def image_count(self) -> int:
        return sum(1 for im in self._images if im is not None)

    def caption(self, index: int) -> str:
        return self._captions[index] if 0 <= index < len(self._captions) else ""

    def selected(self) -> int:
        return self._selected

    def set_selected(self, index: int) -> None:
        self._selected = index if 0 <= index < self.count() else -1
        self.update()

    # ------------------------------------------------------------ geometry
    def caption_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
        return font

    def _layout(self) -> tuple[int, int]:
        """(tile side, caption strip height): the strip only when there are captions and room for them."""
        g = self.GAP
        w = (self.width() - g * (self._cols + 1)) // self._cols
        h = self.height() - g * (self._rows + 1)
        strip = QFontMetrics(self.caption_font()).height() + 4 if any(self._captions) else 0
        side = fit_square(min(w, (h - self._rows * strip) // self._rows), self._image_px)
        if strip and side < self.MIN_CAPTION_SIDE:
            return fit_square(min(w, h // self._rows), self._image_px), 0
        return side, strip

    def _tile_side(self) -> int:
        return self._layout()[0]

    def cell_rect(self, index: int) -> QRect:
        """The image and its caption strip under it."""
        (side, strip), g = self._layout(), self.GAP
        total_w = self._cols * side + (self._cols - 1) * g
        total_h = self._rows * (side + strip) + (self._rows - 1) * g
        x0, y0 = (self.width() - total_w) // 2, (self.height() - total_h) // 2
        r, c = divmod(index, self._cols)
        return QRect(x0 + c * (side + g), y0 + r * (side + strip + g), side, side + strip)

    def tile_rect(self, index: int) -> QRect:
        """Where tile `index`'s image is drawn."""
        cell = self.cell_rect(index)
        return QRect(cell.left(), cell.top(), cell.width(), cell.width())

    def caption_rect(self, index: int) -> QRect:
        """The strip under the image (empty when the captions are hidden)."""
        cell = self.cell_rect(index)
        return QRect(cell.left(), cell.top() + cell.width(), cell.width(), cell.height() - cell.width())

    def shown_caption(self, index: int) -> str:
        """The caption text as drawn: elided to the strip, '' when hidden."""
        rect, caption = self.caption_rect(index), self.caption(index)
        if not caption or rect.height() <= 0:
            return ""
        return QFontMetrics(self.caption_font()).elidedText(caption, Qt.TextElideMode.ElideRight, rect.width() - 4)

    def index_at(self, pos: QPoint) -> int:
        for i in range(self.count()):
            if self.cell_rect(i).contains(pos):
                return i
        return -1

    def placeholder(self) -> str:
        return self._placeholder

    def sizeHint(self) -> QSize:
        return QSize(720, 720)

    # ------------------------------------------------------------ events
    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.fillRect(self.rect(), theme.CANVAS)
        p.setFont(self.caption_font())
        side = self._tile_side()
        for i in range(self.count()):
            self._paint_tile(p, i, side)
        if self._placeholder and not self._images:      # on a backing box: readable over the empty tiles
            theme.draw_placeholder(p, self.rect().adjusted(24, 24, -24, -24), self._placeholder)
        p.end()

    def _paint_tile(self, p: QPainter, i: int, side: int) -> None:
        rect = self.tile_rect(i)
        img = self.image(i)
        if img is None:
            p.fillRect(rect, theme.EMPTY_TILE)
            if i in self._pending:
                p.setPen(theme.MUTED_TEXT)
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, "rendering…" if side >= 96 else "…")
        else:
            p.drawImage(rect, img)
        text = self.shown_caption(i)
        if text:
            p.setPen(QColor(235, 235, 235) if i == self._selected else theme.MUTED_TEXT)
            p.drawText(self.caption_rect(i).adjusted(2, 0, -2, 0),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        if i == self._selected or i == self._hover:
            selected = i == self._selected
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(theme.ACCENT, 3) if selected else QPen(theme.HOVER, 1))
            p.drawRect(self.cell_rect(i).adjusted(-2, -2, 1, 1) if selected else
                       self.cell_rect(i).adjusted(-1, -1, 0, 0))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        i = self.index_at(event.position().toPoint())
        if i >= 0:
            self.setFocus()
            self.set_selected(i)
            self.tile_clicked.emit(i)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Arrow keys move the selection (and select like a click)."""
        step = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -self._cols,
                Qt.Key.Key_Down: self._cols}.get(Qt.Key(event.key()))
        if step is None:
            return super().keyPressEvent(event)
        i = max(self._selected, 0) + step if self._selected >= 0 else 0
        if 0 <= i < len(self._images):
            self.set_selected(i)
            self.tile_clicked.emit(i)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        i = self.index_at(event.position().toPoint())
        if i != self._hover:
            self._hover = i
            self.setToolTip(self.caption(i) if i >= 0 else "")
            if i < 0:
                QToolTip.hideText()
            self.update()

    def leaveEvent(self, event) -> None:
        self._hover = -1
        self.update()
