"""Live loss and accuracy curves (pyqtgraph) for a background training run, redrawn at most ~10×/s.

`add` only appends to buffers; a timer pushes them to the plots when something changed, so a run that
yields hundreds of steps a second costs the UI thread a few list appends per step.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget

from .. import theme
from .throttled_plot import ThrottledPlot

LOSS_PEN = (74, 160, 255)
ACC_PEN = (120, 200, 120)


def _plot(title: str, y_label: str) -> pg.PlotWidget:
    w = pg.PlotWidget(background=theme.CANVAS)
    w.setTitle(title, color="#9aa0aa", size="9pt")
    w.setLabel("bottom", "step", color="#9aa0aa")
    w.setLabel("left", y_label, color="#9aa0aa")
    w.showGrid(x=True, y=True, alpha=0.15)
    w.setMouseEnabled(x=False, y=False)
    w.hideButtons()
    w.setMenuEnabled(False)
    for name in ("left", "bottom"):
        ax = w.getAxis(name)
        ax.setPen(pg.mkPen("#5a5e66"))
        ax.setTextPen(pg.mkPen("#9aa0aa"))
        ax.enableAutoSIPrefix(False)          # losses of 0.1 to 0.9 read as such, not as "900 (x0.001)"
    w.setMinimumHeight(120)
    return w


class TrainingCurves(ThrottledPlot):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = _plot("Loss", "loss")
        self.acc_plot = _plot("Accuracy (direction index, last 100 steps)", "accuracy")
        self.acc_plot.setYRange(0, 1, padding=0.02)
        self._loss_curve = self.loss_plot.plot(pen=pg.mkPen(LOSS_PEN, width=1.5))
        self._acc_curve = self.acc_plot.plot(pen=pg.mkPen(ACC_PEN, width=1.5))
        self._chance = pg.InfiniteLine(angle=0, pen=pg.mkPen("#80848c", width=1, style=Qt.PenStyle.DashLine),
                                       label="chance", labelOpts={"color": "#9aa0aa", "position": 0.95})
        self._chance.hide()
        self.acc_plot.addItem(self._chance)
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.accuracies: list[float] = []
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addWidget(self.loss_plot, 1)
        lay.addWidget(self.acc_plot, 1)

    def clear(self, chance: float | None = None) -> None:
        """Forget all points; `chance` draws the accuracy of guessing (1/K) as a dashed line."""
        self.steps, self.losses, self.accuracies = [], [], []
        self._loss_curve.setData([], [])
        self._acc_curve.setData([], [])
        self._chance.setVisible(chance is not None)
        if chance is not None:
            self._chance.setValue(chance)
        self._dirty = False

    def add(self, step: int, loss: float, accuracy: float) -> None:
        self.steps.append(step)
        self.losses.append(loss)
        self.accuracies.append(accuracy)
        self._touch()

    def point_count(self) -> int:
        """Points shown on the plots (after the latest redraw)."""
        return len(self._loss_curve.xData) if self._loss_curve.xData is not None else 0

    def _draw(self) -> None:
        self._loss_curve.setData(self.steps, self.losses)
        self._acc_curve.setData(self.steps, self.accuracies)
