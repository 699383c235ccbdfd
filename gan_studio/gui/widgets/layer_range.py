"""A compact layer-range chooser for one direction of a style generator: a preset (all / coarse / middle / fine,
by resolution, as in style mixing) or custom, and the first and last ws index it moves (inclusive, as typed on
the command line). The engine stores the range end-exclusive; `value()` returns it that way."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from ...engine.latent.directions.layers import RANGE_PRESETS, range_presets

CUSTOM = "custom"


class LayerRangeBox(QWidget):
    changed = Signal()            # the user chose another range

    def __init__(self, resolutions: list[int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._res = list(resolutions)
        self._presets = range_presets(self._res)
        n = len(self._res)
        self.preset_box = QComboBox()
        self.preset_box.addItems(list(RANGE_PRESETS) + [CUSTOM])
        for i, p in enumerate(RANGE_PRESETS):
            self.preset_box.model().item(i).setEnabled(p in self._presets)
        self.preset_box.setToolTip("Which ws layers this direction moves: " + ", ".join(
            f"{p} {s}-{e - 1}" for p, (s, e) in self._presets.items()) + " (by resolution: " +
            ", ".join(f"{i}: {r} px" for i, r in enumerate(self._res)) + ")")
        fm = self.preset_box.fontMetrics()
        self.preset_box.setFixedWidth(max(fm.horizontalAdvance(t) for t in (*RANGE_PRESETS, CUSTOM)) + 34)
        self.start_box, self.end_box = QSpinBox(), QSpinBox()
        for box, tip in ((self.start_box, "first ws layer moved"), (self.end_box, "last ws layer moved")):
            box.setRange(0, n - 1)
            box.setToolTip(f"{tip} (0-based, inclusive; type it or scroll)")
            box.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)      # compact: a row has many of these
            box.setAlignment(Qt.AlignmentFlag.AlignCenter)
            box.setFixedWidth(fm.horizontalAdvance(str(n - 1)) + 18)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        dash = QLabel("–")
        dash.setProperty("role", "subtle")
        for w in (self.preset_box, self.start_box, dash, self.end_box):
            lay.addWidget(w)
        self.set_value((0, n), emit=False)
        self.preset_box.activated.connect(self._preset_chosen)
        self.start_box.valueChanged.connect(self._start_changed)
        self.end_box.valueChanged.connect(self._end_changed)

    @property
    def num_ws(self) -> int:
        return len(self._res)

    def value(self) -> tuple[int, int]:
        """(start, end), end exclusive."""
        return self.start_box.value(), self.end_box.value() + 1

    def preset(self) -> str:
        return self.preset_box.currentText()

    def set_value(self, r: tuple[int, int], emit: bool = True) -> None:
        s, e = int(r[0]), int(r[1])
        for box, v in ((self.start_box, s), (self.end_box, e - 1)):
            box.blockSignals(True)
            box.setValue(v)
            box.blockSignals(False)
        self._show_preset()
        if emit:
            self.changed.emit()

    def set_preset(self, name: str) -> bool:
        if name not in self._presets:
            return False
        self.set_value(self._presets[name])
        return True

    def _show_preset(self) -> None:
        name = next((p for p, r in self._presets.items() if r == self.value()), CUSTOM)
        self.preset_box.setCurrentText(name)

    @Slot(int)
    def _preset_chosen(self, index: int) -> None:
        name = self.preset_box.itemText(index)
        if name == CUSTOM:
            self._show_preset()          # custom is what the spin boxes say, not a choice of its own
            return
        self.set_preset(name)

    @Slot(int)
    def _start_changed(self, v: int) -> None:
        if self.end_box.value() < v:
            self.end_box.blockSignals(True)
            self.end_box.setValue(v)
            self.end_box.blockSignals(False)
        self._show_preset()
        self.changed.emit()

    @Slot(int)
    def _end_changed(self, v: int) -> None:
        if self.start_box.value() > v:
            self.start_box.blockSignals(True)
            self.start_box.setValue(v)
            self.start_box.blockSignals(False)
        self._show_preset()
        self.changed.emit()
