"""iGAN-style painting from the Sampling tab (Zhu et al. 2016): "Paint…" opens a canvas over the large view's
image; every stroke asks for the few latents whose images obey the strokes while staying likely under the model
(engine/latent/painting.py, `LivePainter`: warm-started, a time budget per update), latest wins. Clicking a
candidate makes it the current sample; "Walk to it" puts the start and the candidate in the Walks tab.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QColorDialog,
    QDialog,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ...engine.imaging import to_uint8
from ...engine.latent.painting_live import LivePainter
from ..state import AppContext
from ..widgets.image_grid import ImageGrid
from ..widgets.paint_canvas import BRUSHES, PaintCanvas
from ..workers import LatestQueue

N_CANDIDATES = 4


def _update(painter: LivePainter, strokes):
    return painter.update(strokes)


class PaintWindow(QDialog):
    """The canvas, the brushes and the candidates."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Paint — the nearest images that obey your strokes")
        self.canvas = PaintCanvas()
        self.brushes = QButtonGroup(self)
        brush_row = QHBoxLayout()
        for i, name in enumerate(BRUSHES):
            b = QRadioButton(name.capitalize())
            self.brushes.addButton(b, i)
            brush_row.addWidget(b)
        self.brushes.button(0).setChecked(True)
        self.colour_btn = QPushButton("Colour…")
        self.size_box = QDoubleSpinBox()
        self.size_box.setRange(0.5, 8)
        self.size_box.setSingleStep(0.5)
        self.size_box.setValue(1.0)
        self.size_box.setPrefix("size ")
        self.clear_btn = QPushButton("Clear")
        for w in (self.colour_btn, self.size_box, self.clear_btn):
            brush_row.addWidget(w)
        brush_row.addStretch(1)
        self.candidates = ImageGrid(N_CANDIDATES, 1)
        self.candidates.setMinimumWidth(120)
        self.candidates.clear("Paint on the image: candidates appear here")
        self.walk_btn = QPushButton("Walk to it")
        self.walk_btn.setToolTip("Put the start image and the chosen candidate in the Walks tab")
        self.status = QLabel("")
        self.status.setProperty("role", "subtle")
        self.status.setWordWrap(True)
        right = QVBoxLayout()
        right.addWidget(QLabel("CANDIDATES (click one)"))
        right.addWidget(self.candidates, 1)
        right.addWidget(self.walk_btn)
        main = QHBoxLayout()
        main.addWidget(self.canvas, 3)
        main.addLayout(right, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(brush_row)
        lay.addLayout(main, 1)
        lay.addWidget(self.status)
        self.brushes.idClicked.connect(lambda i: setattr(self.canvas, "brush", BRUSHES[i]))
        self.size_box.valueChanged.connect(lambda v: setattr(self.canvas, "radius", float(v)))
        self.colour_btn.clicked.connect(self._choose_colour)
        self.clear_btn.clicked.connect(self.canvas.clear)
        self.resize(720, 480)

    def set_rgb(self, rgb: bool) -> None:
        for i, name in enumerate(BRUSHES):
            if name == "colour":
                self.brushes.button(i).setVisible(rgb)
        self.colour_btn.setVisible(rgb)

    @Slot()
    def _choose_colour(self) -> None:
        c = QColorDialog.getColor(QColor(*self.canvas.colour), self, "Brush colour")
        if c.isValid():
            self.canvas.colour = (c.red(), c.green(), c.blue())
            self.brushes.button(BRUSHES.index("colour")).setChecked(True)
            self.canvas.brush = "colour"


class PaintControl(QObject):
    """The Paint… button of a SamplingPanel (its parent), the window and the live candidates."""

    candidates_shown = Signal(object)     # the PaintStep on screen
    walk_requested = Signal(object, object)   # (start Latent, chosen Latent)

    def __init__(self, ctx: AppContext, panel) -> None:
        super().__init__(panel)
        self.ctx, self.panel = ctx, panel
        self.button = QPushButton("Paint…")
        self.button.setToolTip("Paint strokes (ink, no ink, colour, edges) and get the images of the model that "
                               "obey them (iGAN)")
        self.button.clicked.connect(self.open)
        self.jobs = LatestQueue(ctx.tasks, self)
        self.jobs.finished.connect(self._shown)
        self.jobs.failed.connect(lambda _k, msg: self.ctx.report_error(f"Painting failed: {msg}"))
        self.window: PaintWindow | None = None
        self.painter: LivePainter | None = None
        self.start_latent = None
        self.shown: list = []                 # the candidates' Latents on screen
        self.chosen = None

    def set_model(self, model) -> None:
        self.jobs.cancel(stop=True)
        self.button.setEnabled(model is not None and model.is_image_generator)
        if self.window is not None:
            self.window.close()
        self.painter = None

    @Slot()
    def open(self) -> PaintWindow | None:
        G = self.panel._G
        if G is None:
            self.ctx.report_error("Open an image generator first: painting searches a 2-D model's latents")
            return None
        if self.window is None:
            self.window = PaintWindow(self.panel.window())
            self.window.canvas.changed.connect(self.request)
            self.window.candidates.tile_clicked.connect(self.choose)
            self.window.walk_btn.clicked.connect(self._walk)
        self.start_latent = self.panel.latent
        self.painter = LivePainter(G, N_CANDIDATES, self.start_latent)
        w = self.window
        w.canvas.set_shape(G.image_shape)
        view = self.panel.view_image
        w.canvas.set_base(None if view is None else to_uint8(view[None])[0])
        w.set_rgb(G.image_shape[0] == 3)
        w.candidates.clear("Paint on the image: candidates appear here")
        start = self.start_latent.label() if self.start_latent is not None else "no start image (random starts)"
        w.status.setText(f"Start: {start}. Strokes ask for ink (white), no ink (black), a colour, or an edge.")
        self.shown, self.chosen = [], None
        w.walk_btn.setEnabled(False)
        w.show()
        w.raise_()
        return w

    @Slot()
    def request(self) -> None:
        if self.painter is None or self.window is None:
            return
        if self.window.canvas.stroked_pixels() == 0:
            self.painter.reset(self.start_latent)
            self.window.candidates.clear("Paint on the image: candidates appear here")
            return
        self.jobs.submit("paint", _update, self.painter, self.window.canvas.strokes())

    @Slot(str, object)
    def _shown(self, _kind: str, step) -> None:
        if self.window is None or step is None:
            return
        self.shown = list(step.results or [])
        losses = [lat.info.get("loss", 0.0) for lat in self.shown]
        self.window.candidates.set_shape(max(1, len(self.shown)), 1)
        self.window.candidates.set_images(to_uint8(step.images), [f"#{i + 1} · {v:.2g}"
                                                                  for i, v in enumerate(losses)])
        self.window.status.setText(f"{len(self.shown)} candidates for {self.window.canvas.stroked_pixels()} stroked "
                                   f"px in {step.elapsed * 1000:.0f} ms ({step.step} steps, {step.space})")
        self.candidates_shown.emit(step)

    @Slot(int)
    def choose(self, index: int) -> None:
        if 0 <= index < len(self.shown):
            self.chosen = self.shown[index]
            self.window.candidates.set_selected(index)
            self.window.walk_btn.setEnabled(self.start_latent is not None)
            self.panel.set_latent(self.chosen)

    @Slot()
    def _walk(self) -> None:
        if self.start_latent is not None and self.chosen is not None:
            self.walk_requested.emit(self.start_latent, self.chosen)

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
