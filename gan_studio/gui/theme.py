"""The app's look: Fusion style with a dark palette, and the few colours custom widgets paint with."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel
from superqt import QLabeledDoubleSlider

CANVAS = QColor(24, 25, 28)          # behind image grids and views
EMPTY_TILE = QColor(40, 42, 46)      # a tile waiting for its image
ACCENT = QColor(74, 160, 255)        # selection
HOVER = QColor(150, 155, 165)
MUTED_TEXT = QColor(140, 145, 155)
ERROR_BG, ERROR_FG = "#5a1d1d", "#ffd9d9"
INFO_BG, INFO_FG = "#1d3a5a", "#d9ecff"

def role_label(text: str = "", role: str = "") -> QLabel:
    """A QLabel styled by its role in STYLE_SHEET: heading, subtle, section (or none)."""
    lab = QLabel(text)
    if role:
        lab.setProperty("role", role)
    return lab


STYLE_SHEET = """
QToolButton, QPushButton { padding: 4px 10px; }
QTabWidget::pane { border: 1px solid #3a3d42; top: -1px; }
QTabBar::tab { padding: 6px 16px; }
QTreeWidget { border: none; }
QLabel[role="heading"] { font-size: 15pt; font-weight: 600; }
QLabel[role="subtle"] { color: #9aa0aa; }
QLabel[role="section"] { color: #9aa0aa; font-weight: 600; }
QFrame[role="sidebar"] { background: #232529; }
"""


def dark_palette() -> QPalette:
    pal = QPalette()
    base, window, text = QColor(30, 31, 34), QColor(43, 45, 49), QColor(222, 224, 228)
    for role, color in [
        (QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, QColor(36, 38, 42)),
        (QPalette.ColorRole.ToolTipBase, QColor(50, 52, 56)), (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, QColor(52, 54, 59)),
        (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.BrightText, QColor(255, 90, 90)),
        (QPalette.ColorRole.Link, ACCENT), (QPalette.ColorRole.Highlight, QColor(45, 105, 175)),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.PlaceholderText, MUTED_TEXT),
    ]:
        pal.setColor(role, color)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(110, 113, 120))
    return pal


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLE_SHEET)


def double_slider(lo: float, hi: float, value: float, tip: str, min_width: int = 0, step: float = 0.01,
                  decimals: int = 2) -> QLabeledDoubleSlider:
    """A horizontal labelled slider over [lo, hi] (truncation ψ, thresholds): `step`, `decimals`, `value`, `tip`."""
    slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
    slider.setRange(lo, hi)
    slider.setSingleStep(step)
    slider.setDecimals(decimals)
    slider.setValue(value)
    if min_width:
        slider.setMinimumWidth(min_width)
    slider.setToolTip(tip)
    return slider


def draw_placeholder(p, area, text: str) -> None:
    """`text` centred and wrapped in `area` (a QRect) on a rounded backing box of the canvas colour, so that it
    reads over empty tiles: what an empty grid or preview says it is waiting for. `p` is an active QPainter."""
    flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
    box = p.boundingRect(area, flags, text).adjusted(-12, -8, 12, 8)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(CANVAS)
    p.drawRoundedRect(box, 6, 6)
    p.setPen(MUTED_TEXT)
    p.drawText(area, flags, text)
