"""The large view of one sample: its label, a crisp enlarged image, saving, and the equivalent CLI call."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..theme import role_label
from .pixel_view import PixelView

UPSCALES = (1, 2, 4, 8, 16)


def _label(text: str, role: str = "") -> QLabel:
    return role_label(text, role)


class SampleView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(260)
        self.title = _label("—", "heading")
        self.info = _label("", "subtle")
        self.image = PixelView("Click a tile")
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
        lay.addSpacing(4)
        lay.addWidget(self.image)
        lay.addLayout(row)
        lay.addSpacing(14)
        lay.addWidget(_label("SAME FROM THE COMMAND LINE", "section"))
        lay.addWidget(self.cli_label)
        lay.addStretch(1)

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
