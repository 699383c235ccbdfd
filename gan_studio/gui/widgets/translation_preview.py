"""The Training tab's live preview of an image-to-image run: the recipe's sample rows (fixed training images and what
the model makes of them) with their titles at the left, in the recipe's groups — pix2pix: input → output → target
(twice), CycleGAN / DiscoGAN / DualGAN: A → B → A (round trip) and B → A → B, super-resolution: the enlarged input,
bicubic, output, target. Crisp nearest-neighbour pixels; the whole widget paints itself in one paintEvent."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from .. import theme
from .image_grid import fit_square, qimage_from_pixels


class TranslationPreview(QWidget):
    GAP = 4              # between tiles
    GROUP_GAP = 14       # between groups of rows
    MARGIN = 6

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._groups: list[list[str]] = []
        self._rows: list[list[QImage]] = []
        self._placeholder = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 200)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    # ------------------------------------------------------------ state
    def set_titles(self, groups: list[list[str]]) -> None:
        """The rows' titles, in groups (engine.jobs.translation_training.preview_titles)."""
        self._groups = [list(g) for g in groups]
        self._rows = []
        self.update()

    def title_groups(self) -> list[list[str]]:
        return [list(g) for g in self._groups]

    def titles(self) -> list[str]:
        return [t for g in self._groups for t in g]

    def set_samples(self, pixels: np.ndarray) -> None:
        """(N, H, W, C) uint8, the sample grid's rows one after another (N = rows × columns)."""
        n_rows = max(1, len(self.titles()))
        cols = len(pixels) // n_rows
        self._rows = [[qimage_from_pixels(pixels[r * cols + c]) for c in range(cols)] for r in range(n_rows)]
        self.update()

    def clear(self, placeholder: str = "") -> None:
        self._rows, self._placeholder = [], placeholder
        self.update()

    def image_count(self) -> int:
        return sum(len(r) for r in self._rows)

    def row_count(self) -> int:
        return len(self._rows)

    # ------------------------------------------------------------ layout
    def _label_width(self) -> int:
        fm = self.fontMetrics()
        return max((fm.horizontalAdvance(t) for t in self.titles()), default=0) + 12

    def _cols(self) -> int:
        return len(self._rows[0]) if self._rows else 8

    def _side(self, above: bool) -> int:
        """The tile side with the titles at the left of the rows, or above them (`above`)."""
        rows, cols = len(self.titles()), self._cols()
        if not rows:
            return 0
        line = self.fontMetrics().height() + 2 if above else 0
        w = self.width() - 2 * self.MARGIN - (0 if above else self._label_width()) - (cols - 1) * self.GAP
        h = self.height() - 2 * self.MARGIN - (rows - 1) * self.GAP - rows * line \
            - (len(self._groups) - 1) * (self.GROUP_GAP - self.GAP)
        return fit_square(max(1, min(w // cols, h // rows)), self._rows[0][0].width() if self._rows else 0)

    def titles_above(self) -> bool:
        """Whether the titles go above the rows: when that leaves bigger tiles (a narrow, tall preview)."""
        return self._side(True) > self._side(False)

    def tile_side(self) -> int:
        return self._side(self.titles_above())

    def row_rects(self) -> list[QRect]:
        """Each row's tile strip (tiles then lie side by side in it, GAP apart)."""
        above, side, cols = self.titles_above(), self.tile_side(), self._cols()
        label, line = (0, self.fontMetrics().height() + 2) if above else (self._label_width(), 0)
        rows = len(self.titles())
        strip = cols * side + (cols - 1) * self.GAP
        height = rows * (side + line) + (rows - 1) * self.GAP + (len(self._groups) - 1) * (self.GROUP_GAP - self.GAP)
        x0 = max(self.MARGIN, (self.width() - label - strip) // 2) + label
        y, out = max(self.MARGIN, (self.height() - height) // 2), []
        for g in self._groups:
            for _ in g:
                out.append(QRect(x0, y + line, strip, side))
                y += line + side + self.GAP
            y += self.GROUP_GAP - self.GAP
        return out

    # ------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.fillRect(self.rect(), theme.CANVAS)
        side, label, above = self.tile_side(), self._label_width(), self.titles_above()
        line = self.fontMetrics().height() + 2
        for r, (rect, title) in enumerate(zip(self.row_rects(), self.titles())):
            p.setPen(theme.MUTED_TEXT)
            if above:
                p.drawText(QRect(rect.x(), rect.y() - line, rect.width(), line),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, title)
            else:
                p.drawText(QRect(rect.x() - label, rect.y(), label - 10, side),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, title)
            images = self._rows[r] if r < len(self._rows) else []
            for c in range(len(images) if images else 8):
                tile = QRect(rect.x() + c * (side + self.GAP), rect.y(), side, side)
                p.drawImage(tile, images[c]) if images else p.fillRect(tile, theme.EMPTY_TILE)
        if self._placeholder and not self._rows:
            theme.draw_placeholder(p, self.rect().adjusted(24, 24, -24, -24), self._placeholder)
        p.end()
