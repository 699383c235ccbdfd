"""The two views of the directions panel, as layouts only (the panel drives them):

- `EditPage`: one slider row per direction, and the current sample before and after the shifts.
- `ChartPage`: each visible direction as a row of images from −s to +s.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from .direction_chart import DirectionChart
from .direction_rows import DirectionList
from .pixel_view import PixelView


def label(text: str, role: str = "") -> QLabel:
    lab = QLabel(text)
    if role:
        lab.setProperty("role", role)
    return lab


class EditPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.starred_first = QCheckBox("Starred first")
        self.starred_first.setToolTip("List starred directions (★) before the others, here and in the chart")
        self.show_hidden = QCheckBox("Show hidden")
        self.show_hidden.setToolTip("Also list the directions you hid")
        self.reset_all_btn = QPushButton("Reset all")
        self.reset_all_btn.setToolTip("Set every shift back to 0")
        self.shift_summary = label("", "subtle")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 4, 0, 4)
        for w in (self.starred_first, self.show_hidden, self.reset_all_btn):
            bar.addWidget(w)
        bar.addSpacing(12)
        bar.addWidget(self.shift_summary, 1)
        # its text changes with every slider: it must never set the page's width
        self.shift_summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.bar = QHBoxLayout()                        # the editor adds its preset controls here, a row of their own
        self.bar.setContentsMargins(0, 0, 0, 4)
        self.list = DirectionList()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.list)
        split.addWidget(self._build_preview())
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        split.setSizes([560, 360])
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 6)
        lay.addLayout(bar)
        lay.addLayout(self.bar)
        lay.addWidget(split, 1)

    def _build_preview(self) -> QWidget:
        side = QWidget()
        side.setMinimumWidth(300)
        self.base_title = label("—", "heading")
        self.base_info = label("", "subtle")
        self.base_info.setWordWrap(True)
        self.original = PixelView("")
        self.edited = PixelView("")
        for v in (self.original, self.edited):
            v.setMinimumSize(130, 130)
        pics = QGridLayout()
        pics.setHorizontalSpacing(8)
        pics.addWidget(label("ORIGINAL", "section"), 0, 0, Qt.AlignmentFlag.AlignHCenter)
        pics.addWidget(label("EDITED", "section"), 0, 1, Qt.AlignmentFlag.AlignHCenter)
        pics.addWidget(self.original, 1, 0)
        pics.addWidget(self.edited, 1, 1)
        self.send_btn = QPushButton("Send to sample view")
        self.send_btn.setToolTip("Open the edited latent in the Sampling tab (to save it, mix it, walk from it)")
        self.cli_label = label("", "subtle")
        self.cli_label.setWordWrap(True)
        self.cli_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.cli_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cli_title = label("SAME FROM THE COMMAND LINE", "section")
        lay = QVBoxLayout(side)
        lay.setContentsMargins(10, 0, 0, 0)
        lay.addWidget(label("EDITING", "section"))
        lay.addWidget(self.base_title)
        lay.addWidget(self.base_info)
        lay.addSpacing(6)
        lay.addLayout(pics)
        lay.addSpacing(6)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.send_btn)
        lay.addLayout(row)
        lay.addSpacing(14)
        lay.addWidget(self.cli_title)
        lay.addWidget(self.cli_label)
        lay.addStretch(1)
        return side


class ChartPage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps_box = QSpinBox()
        self.steps_box.setRange(3, 15)
        self.steps_box.setSingleStep(2)
        self.steps_box.setValue(9)
        self.steps_box.setToolTip("Images per row, from −range to +range (odd: the middle one is unshifted)")
        self.status = label("", "subtle")
        self.save_btn = QPushButton("Save chart…")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 4, 0, 4)
        bar.addWidget(label("Images per row"))
        bar.addWidget(self.steps_box)
        bar.addSpacing(12)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.save_btn)
        self.chart = DirectionChart()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.chart)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 6)
        lay.addLayout(bar)
        lay.addWidget(self.scroll, 1)
