"""One slider row per direction: star, editable name, a ± shift slider with its value, the layers it moves (w-space
directions on a style generator only), reset, hide.

`DirectionList` owns the rows of a direction set and reports edits as signals; it knows nothing about
generators or rendering. Hidden rows collapse unless "show hidden" is on; "starred first" reorders.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QScrollArea, QToolButton, QVBoxLayout, QWidget
from superqt import QLabeledDoubleSlider

from .layer_range import LayerRangeBox

STAR_ON, STAR_OFF = "★", "☆"
ROW_STYLE = """
DirectionRow { border-bottom: 1px solid #34363b; }
DirectionRow[hiddenDirection="true"] QLineEdit, DirectionRow[hiddenDirection="true"] QLabel { color: #6e7178; }
DirectionRow QLineEdit { background: transparent; border: 1px solid transparent; padding: 1px 3px; }
DirectionRow QLineEdit:hover { border: 1px solid #4a4d54; }
DirectionRow QLineEdit:focus { border: 1px solid #2d69af; background: #1e1f22; }
QToolButton[role="star"] { font-size: 13pt; color: #8a8e96; border: none; padding: 0 2px; }
QToolButton[role="star"]:checked { color: #f0c24a; }
QToolButton[role="rowtool"] { color: #9aa0aa; border: none; padding: 2px 6px; }
QToolButton[role="rowtool"]:hover { color: #dee0e4; background: #3a3d42; border-radius: 3px; }
QToolButton[role="rowtool"]:checked { color: #f08a4a; }
"""


class DirectionRow(QFrame):
    shift_changed = Signal(int, float)
    renamed = Signal(int, str)
    star_toggled = Signal(int, bool)
    hide_toggled = Signal(int, bool)
    range_changed = Signal(int)

    def __init__(self, index: int, name: str, limit: float, resolutions: list[int] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.range_box = LayerRangeBox(resolutions) if resolutions else None
        self.number = QLabel(f"{index}")
        self.number.setProperty("role", "subtle")
        self.number.setFixedWidth(24)
        self.number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.star_btn = self._tool(STAR_OFF, "star", "Star this direction (starred ones can be listed first)")
        self.name_edit = QLineEdit(name)
        self.name_edit.setFixedWidth(150)
        self.name_edit.setToolTip("Name this direction (saved with the file)")
        self.slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.slider.setDecimals(2)
        self.slider.setSingleStep(0.05)
        self.slider.setMinimumWidth(120 if resolutions else 160)
        self.set_limit(limit)
        self.reset_btn = self._tool("↺", "rowtool", "Reset this shift to 0")
        self.reset_btn.setCheckable(False)
        self.hide_btn = self._tool("Hide", "rowtool", "Hide this direction (from the sliders and the chart)")
        self.hide_btn.setFixedWidth(self.hide_btn.fontMetrics().horizontalAdvance("Unhide") + 16)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.setSpacing(6)
        for w, stretch in ((self.number, 0), (self.star_btn, 0), (self.name_edit, 0), (self.slider, 1),
                           (self.range_box, 0), (self.reset_btn, 0), (self.hide_btn, 0)):
            if w is not None:
                lay.addWidget(w, stretch)
        if self.range_box is not None:
            self.range_box.changed.connect(self._range_changed)
        self.star_btn.toggled.connect(self._star)
        self.hide_btn.toggled.connect(self._hide)
        self.reset_btn.clicked.connect(self.reset)
        self.name_edit.editingFinished.connect(self._renamed)
        self.slider.valueChanged.connect(self._moved)

    def _tool(self, text: str, role: str, tip: str) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setCheckable(True)
        b.setProperty("role", role)
        b.setToolTip(tip)
        b.setCursor(Qt.CursorShape.PointingHandCursor)
        return b

    def set_limit(self, limit: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(-limit, limit)
        self.slider.blockSignals(False)

    def shift(self) -> float:
        return float(self.slider.value())

    def set_shift(self, eps: float, notify: bool = True) -> None:
        self.slider.blockSignals(not notify)
        self.slider.setValue(eps)
        self.slider.blockSignals(False)

    @Slot()
    def reset(self) -> None:
        self.set_shift(0.0)

    def layer_range(self) -> tuple[int, int] | None:
        """(start, end) ws this direction moves, end exclusive; None without a range chooser."""
        return self.range_box.value() if self.range_box is not None else None

    def set_layer_range(self, r: tuple[int, int] | None, notify: bool = False) -> None:
        if self.range_box is not None:
            self.range_box.set_value(r or (0, self.range_box.num_ws), emit=notify)

    @Slot()
    def _range_changed(self) -> None:
        self.range_changed.emit(self.index)

    def set_state(self, starred: bool, hidden: bool) -> None:
        for b, on in ((self.star_btn, starred), (self.hide_btn, hidden)):
            b.blockSignals(True)
            b.setChecked(on)
            b.blockSignals(False)
        self._restyle()

    def is_starred(self) -> bool:
        return self.star_btn.isChecked()

    def is_hidden(self) -> bool:
        return self.hide_btn.isChecked()

    def _restyle(self) -> None:
        self.star_btn.setText(STAR_ON if self.is_starred() else STAR_OFF)
        self.hide_btn.setText("Unhide" if self.is_hidden() else "Hide")
        self.setProperty("hiddenDirection", self.is_hidden())
        self.style().unpolish(self)
        self.style().polish(self)
        for w in (self.name_edit, self.number):
            w.style().unpolish(w)
            w.style().polish(w)

    @Slot(bool)
    def _star(self, on: bool) -> None:
        self._restyle()
        self.star_toggled.emit(self.index, on)

    @Slot(bool)
    def _hide(self, on: bool) -> None:
        self._restyle()
        self.hide_toggled.emit(self.index, on)

    @Slot()
    def _renamed(self) -> None:
        self.renamed.emit(self.index, self.name_edit.text().strip() or f"direction {self.index}")

    @Slot(float)
    def _moved(self, value: float) -> None:
        self.shift_changed.emit(self.index, float(value))


class DirectionList(QScrollArea):
    """The rows of one direction set, in display order."""
    shifts_changed = Signal()          # any slider moved, a reset, or reset all
    meta_changed = Signal(str, int)    # ("name" | "star" | "hide" | "layers", direction index)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[DirectionRow] = []
        self._show_hidden, self._starred_first = False, False
        self._body = QWidget()
        self._body.setStyleSheet(ROW_STYLE)
        self._lay = QVBoxLayout(self._body)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self._lay.setSpacing(0)
        self._placeholder = QLabel("")
        self._placeholder.setProperty("role", "subtle")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setWordWrap(True)
        self._lay.addWidget(self._placeholder)
        self._lay.addStretch(1)
        self.setWidget(self._body)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def set_directions(self, names: list[str], starred: list[int], hidden: list[int], limit: float,
                       resolutions: list[int] | None = None, ranges: dict | None = None) -> None:
        """New rows; with `resolutions` (w-space directions on a style generator) each gets a layer-range chooser
        set to `ranges` (direction -> (start, end), end exclusive; all layers when absent)."""
        for row in self.rows:
            row.deleteLater()
        self.rows = []
        for i, name in enumerate(names):
            row = DirectionRow(i, name, limit, resolutions)
            row.set_state(i in starred, i in hidden)
            row.set_layer_range((ranges or {}).get(i))
            row.range_changed.connect(self._range_changed)
            row.shift_changed.connect(self._shift_changed)
            row.renamed.connect(self._renamed)
            row.star_toggled.connect(self._starred)
            row.hide_toggled.connect(self._hidden)
            self.rows.append(row)
        self._placeholder.setVisible(not self.rows)
        self._relayout()
        # never clip a row (its reset and hide buttons) when the splitter or the window is narrow
        self.setMinimumWidth(self.rows[0].minimumSizeHint().width() + 4 if self.rows else 0)

    def clear(self, placeholder: str = "") -> None:
        self.set_directions([], [], [], 1.0)
        self._placeholder.setText(placeholder)

    def set_limit(self, limit: float) -> None:
        for row in self.rows:
            row.set_limit(limit)          # QSlider clamps values beyond the new range
        self.shifts_changed.emit()

    def shifts(self) -> dict[int, float]:
        """Non-zero shifts by direction index (hidden directions included: hiding does not reset)."""
        return {r.index: r.shift() for r in self.rows if r.shift() != 0.0}

    def set_shift(self, index: int, eps: float) -> None:
        self.rows[index].set_shift(eps)

    @Slot()
    def reset_all(self) -> None:
        self.set_shifts({})

    def set_shifts(self, shifts: dict[int, float]) -> None:
        """Every slider at once (directions not named go to 0), then one shifts_changed."""
        for row in self.rows:
            row.set_shift(float(shifts.get(row.index, 0.0)), notify=False)
        self.shifts_changed.emit()

    def set_show_hidden(self, on: bool) -> None:
        self._show_hidden = on
        self._relayout()

    def set_starred_first(self, on: bool) -> None:
        self._starred_first = on
        self._relayout()

    def order(self) -> list[int]:
        """Direction indices in display order, hidden ones included."""
        rows = sorted(self.rows, key=lambda r: (not r.is_starred(), r.index)) if self._starred_first else self.rows
        return [r.index for r in rows]

    def visible(self) -> list[int]:
        """Direction indices shown (display order): the chart draws these rows."""
        return [i for i in self.order() if self._show_hidden or not self.rows[i].is_hidden()]

    def _relayout(self) -> None:
        for row in self.rows:
            self._lay.removeWidget(row)
        shown = set(self.visible())
        for pos, i in enumerate(self.order()):
            self._lay.insertWidget(1 + pos, self.rows[i])
            self.rows[i].setVisible(i in shown)

    @Slot(int, float)
    def _shift_changed(self, _index: int, _eps: float) -> None:
        self.shifts_changed.emit()

    @Slot(int)
    def _range_changed(self, index: int) -> None:
        self.meta_changed.emit("layers", index)

    @Slot(int, str)
    def _renamed(self, index: int, _name: str) -> None:
        self.meta_changed.emit("name", index)

    @Slot(int, bool)
    def _starred(self, index: int, _on: bool) -> None:
        if self._starred_first:
            self._relayout()
        self.meta_changed.emit("star", index)

    @Slot(int, bool)
    def _hidden(self, index: int, _on: bool) -> None:
        self._relayout()
        self.meta_changed.emit("hide", index)
