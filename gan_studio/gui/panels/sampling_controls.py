"""The Sampling panel's top bar: first seed, resample, grid size (kept in the settings), truncation ψ."""
from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QPushButton, QSpinBox

from ..theme import double_slider

MAX_SEED = 2**31 - 1


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):       # a hand-edited settings file
        return default


def build_top_controls(panel, s) -> None:
    """The top bar's widgets on `panel`: first seed, resample, grid size (from the settings `s`), truncation."""
    panel.seed_box = QSpinBox()
    panel.seed_box.setRange(0, MAX_SEED)
    panel.seed_box.setKeyboardTracking(False)       # render on Enter / arrows, not every keystroke
    panel.seed_box.setToolTip("First seed of the grid: tiles show seeds S, S+1, … in row-major order")
    panel.seed_box.setMinimumWidth(110)
    panel.resample_btn = QPushButton("Resample")
    panel.resample_btn.setShortcut(QKeySequence("Ctrl+R"))
    panel.resample_btn.setToolTip("New random first seed (Ctrl+R)")
    panel.rows_box, panel.cols_box = QSpinBox(), QSpinBox()
    for box, key in ((panel.rows_box, "rows"), (panel.cols_box, "cols")):
        box.setRange(1, 12)
        box.setValue(_int(s.value(f"sampling/{key}", 4), 4))
    panel.psi_slider = double_slider(0.0, 1.5, 1.0, "Truncation ψ: 1 = no truncation, 0 = the average latent",
                                     min_width=180)
