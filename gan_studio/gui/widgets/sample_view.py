"""The large view of one sample: its label, a fractional seed position (x, y), a crisp enlarged image that can be
dragged through latent space (panels/sampling_drag.py), saving, and the equivalent CLI call."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...engine.latent.drag import DECIMALS, STRIDE
from ..theme import role_label
from .pixel_view import PixelView

UPSCALES = (1, 2, 4, 8, 16)
MAX_X = float(2**31 - 2)                  # the grid's seed range, less one (x blends floor(x) and floor(x) + 1)
MAX_Y = float((2**31 - 1) // STRIDE)


def _label(text: str, role: str = "") -> QLabel:
    return role_label(text, role)


class SampleView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(260)
        self.title = _label("—", "heading")
        self.info = _label("", "subtle")
        self.image = PixelView("Click a tile")
        self.image.set_draggable(True)
        self.image.setToolTip("Drag the image to move through latent space: 100 px = 1 seed, sideways along the "
                              f"seeds, up and down across rows of {STRIDE} seeds")
        self.x_box, self.y_box = self._position_box(MAX_X), self._position_box(MAX_Y)
        self.x_box.setToolTip("Seed of the large view; a fraction blends the seeds on either side (7.5: halfway "
                              "from 7 to 8)")
        self.y_box.setToolTip(f"Second seed dimension: y = 1 is seed x + {STRIDE}; a fraction blends the rows")
        self.upscale_box = QComboBox()
        for f in UPSCALES:
            self.upscale_box.addItem(f"×{f}", f)
        self.upscale_box.setCurrentIndex(UPSCALES.index(8))
        self.upscale_box.setToolTip("Nearest-neighbour upscale factor for saved images")
        self.save_btn = QPushButton("Save image…")
        self.cli_label = _label("", "subtle")
        self.cli_label.setWordWrap(True)
        self.cli_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.cli_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(_label("Upscale"))
        row.addWidget(self.upscale_box)
        row.addStretch(1)
        row.addWidget(self.save_btn)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.info)
        pos_row = QHBoxLayout()
        pos_row.addWidget(_label("Seed"))
        pos_row.addWidget(self.x_box, 1)
        pos_row.addWidget(_label("y"))
        pos_row.addWidget(self.y_box)
        lay.addSpacing(4)
        lay.addLayout(pos_row)
        lay.addWidget(self.image)
        lay.addLayout(row)
        lay.addSpacing(14)
        lay.addWidget(_label("SAME FROM THE COMMAND LINE", "section"))
        lay.addWidget(self.cli_label)
        lay.addStretch(1)

    @staticmethod
    def _position_box(maximum: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.0, maximum)
        box.setDecimals(DECIMALS)
        box.setSingleStep(0.1)
        box.setKeyboardTracking(False)          # on Enter / arrows, not every keystroke
        return box

    def position(self) -> tuple[float, float]:
        return round(self.x_box.value(), DECIMALS), round(self.y_box.value(), DECIMALS)

    def set_position(self, x: float, y: float) -> None:
        """Show a position without reporting it as typed."""
        for box, v in ((self.x_box, x), (self.y_box, y)):
            box.blockSignals(True)
            box.setValue(v)
            box.blockSignals(False)

    def scale(self) -> int:
        return int(self.upscale_box.currentData())

    def show_sample(self, title: str, info: str, pixels: np.ndarray) -> None:
        """pixels (H, W, C) uint8."""
        self.title.setText(title)
        self.info.setText(info)
        self.image.set_pixels(pixels)

    def show_pending(self, title: str) -> None:
        self.title.setText(title)
        self.info.setText("rendering…")

    def set_commands(self, lines: list[str]) -> None:
        self.cli_label.setText("\n\n".join(lines))

    def clear(self) -> None:
        self.show_pending("—")
        self.info.setText("")
        self.image.set_pixels(None)
        self.cli_label.setText("")
