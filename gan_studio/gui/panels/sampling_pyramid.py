"""A LAPGAN sample's Laplacian pyramid: "Pyramid…" in the Sampling tab (shown only for a LAPGAN model) opens a window
with the large view's sample taken apart, coarsest first: the coarse image, then per finer level the band-pass
residual that level's conditional generator added (at full contrast: mid grey is 0) and the image it made, each
scaled up to the output size (engine/models/lapgan.py `pyramid_figure`). The window follows the large view while it
is open. The model is small (milliseconds a sample), so the pyramid is computed on the UI thread.
The same from the command line: `gan-studio sample --model M --seed S --pyramid --out F`.
"""
from __future__ import annotations

import torch
from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QVBoxLayout, QWidget

from ...engine.imaging import to_uint8
from ...engine.models.lapgan import LAPGANGenerator, pyramid_captions, pyramid_figure
from ..state import LoadedModel
from ..widgets.image_grid import ImageGrid


class PyramidWindow(QDialog):
    """One row: the coarse image, then residual and image per finer level."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Laplacian pyramid")
        self.heading = QLabel("")
        self.heading.setWordWrap(True)
        self.grid = ImageGrid(1, 5)
        self.grid.setMinimumSize(560, 170)
        note = QLabel("Coarsest first. Each finer level's generator sees the up-sampled coarser image and adds a "
                      "band-pass residual (shown at full contrast: mid grey is no change); its latent is that "
                      "level's ws row, so walks and directions can move one level alone.")
        note.setWordWrap(True)
        note.setProperty("role", "subtle")
        lay = QVBoxLayout(self)
        lay.addWidget(self.heading)
        lay.addWidget(self.grid, 1)
        lay.addWidget(note)
        self.resize(760, 320)

    def show_pyramid(self, levels, title: str) -> None:
        figure = pyramid_figure(levels)
        self.grid.set_shape(1, figure.shape[0])
        self.grid.set_images(to_uint8(figure), pyramid_captions(levels))
        self.heading.setText(title)


class PyramidControl(QObject):
    """The button of a SamplingPanel (its parent) and the window it opens."""

    def __init__(self, panel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.button = QPushButton("Pyramid…")
        self.button.setToolTip("This LAPGAN sample's Laplacian pyramid: each level's image and residual")
        self.button.setVisible(False)
        self.button.clicked.connect(self.open)
        self.window: PyramidWindow | None = None
        panel.view_shown.connect(self._view_changed)

    def set_model(self, model: LoadedModel | None) -> None:
        lap = bool(model and model.is_image_generator and isinstance(model.generator(), LAPGANGenerator))
        self.button.setVisible(lap)
        if not lap and self.window is not None:
            self.window.close()

    @Slot()
    def open(self) -> bool:
        if self.panel.latent is None:
            self.panel.ctx.report_error("Pick a sample first: the pyramid is the large view's sample's")
            return False
        if self.window is None:
            self.window = PyramidWindow(self.panel)
            self.window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.refresh()
        self.window.show()
        self.window.raise_()
        return True

    def refresh(self) -> None:
        latent, G = self.panel.latent, self.panel._G
        if self.window is None or latent is None or not isinstance(G, LAPGANGenerator):
            return
        with torch.no_grad():
            levels = G.pyramid(latent.to_ws(G, truncation_psi=self.panel.psi()))
        self.window.show_pyramid(levels, latent.label())

    @Slot(object)
    def _view_changed(self, _latent) -> None:
        if self.window is not None and self.window.isVisible():
            self.refresh()
