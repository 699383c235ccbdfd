"""The Translate panel's stage: a heading, then the images.

- pix2pix-type (paired) models: the input (a drawing canvas, or the opened image) and the translation.
- CycleGAN-type (cycle) models: the input, its translation and the round trip back (the reconstruction).
- Super-resolution: the input, bicubic up-sampling and the model's output side by side at one zoom
  (`ZoomCompare`); the input canvas shows above them only when the model's input can be drawn.

Each image has a caption over it saying what it is (domain, size). The info line under the images says how long
the last translation took and what it was made from.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ..theme import role_label
from .pixel_view import PixelView
from .sketch_canvas import SketchCanvas
from .zoom_compare import ZoomCompare

COLUMN_GAP = 12
MIN_SIDE = 130
CANVAS_HINT = "Draw here with the pen\n(or open / drop an image)"


def _column(caption: QLabel, view: QWidget) -> QWidget:
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(4)
    caption.setWordWrap(True)
    caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    lay.addWidget(caption)
    lay.addWidget(view, 1)
    return box


class TranslateStage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = role_label("Translate", "heading")
        self.heading.setWordWrap(True)
        self.note = role_label("", "subtle")
        self.note.setWordWrap(True)
        self.canvas = SketchCanvas(CANVAS_HINT)
        self.output_view, self.recon_view = PixelView(""), PixelView("")
        for v in (self.canvas, self.output_view, self.recon_view):
            v.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            v.setMinimumSize(MIN_SIDE, MIN_SIDE)              # three columns fit a 1024 px window
        self.input_caption, self.output_caption, self.recon_caption = QLabel("Input"), QLabel("Output"), QLabel("")
        self.zoom = ZoomCompare()
        self.info = role_label("", "subtle")
        self.info.setWordWrap(True)
        self._input_col = _column(self.input_caption, self.canvas)
        self._output_col = _column(self.output_caption, self.output_view)
        self._recon_col = _column(self.recon_caption, self.recon_view)
        self.pairs = QWidget()
        row = QHBoxLayout(self.pairs)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(COLUMN_GAP)
        for col in (self._input_col, self._output_col, self._recon_col):
            row.addWidget(col, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 0, 0, 0)
        lay.addWidget(self.heading)
        lay.addWidget(self.note)
        lay.addSpacing(6)
        lay.addWidget(self.pairs)
        lay.addWidget(self.zoom)
        lay.addWidget(self.info)
        lay.addStretch(1)
        self.set_kind(None)

    def resizeEvent(self, event) -> None:
        """Square images as wide as their column allows, and no taller: the info line stays under them."""
        super().resizeEvent(event)
        self._fit_heights()

    def _fit_heights(self) -> None:
        cols = [c for c in (self._input_col, self._output_col, self._recon_col) if not c.isHidden()]
        width = self.width() - 8
        n = len(cols) if len(cols) > 1 else 3             # a lone input (a drawable SR model) as wide as a tile
        side = (width - COLUMN_GAP * (n - 1)) // n
        for view in (self.canvas, self.output_view, self.recon_view):
            view.setMaximumHeight(max(view.minimumHeight(), side))
        self.zoom.setMaximumHeight(self.zoom.height_for(width))

    def set_kind(self, kind: str | None, drawable: bool = False) -> None:
        """Lay the stage out for a model of `kind` (paired | cycle | sr; None: no model)."""
        sr = kind == "sr"
        self.pairs.setVisible(kind is not None and (not sr or drawable))
        self._input_col.setVisible(kind is not None and (not sr or drawable))
        self._output_col.setVisible(kind is not None and not sr)
        self._recon_col.setVisible(kind == "cycle")
        self.zoom.setVisible(sr)
        self.canvas.set_editable(drawable)
        self.canvas.set_placeholder(CANVAS_HINT if drawable else "Open or drop an image")
        self._fit_heights()

    def set_captions(self, inp: str, out: str, recon: str = "") -> None:
        self.input_caption.setText(inp)
        self.output_caption.setText(out)
        self.recon_caption.setText(recon)

    def clear_outputs(self, placeholder: str = "") -> None:
        self.output_view.set_pixels(None)
        self.recon_view.set_pixels(None)
        self.output_view.set_placeholder(placeholder)
        self.recon_view.set_placeholder(placeholder)
        self.zoom.clear(placeholder)
