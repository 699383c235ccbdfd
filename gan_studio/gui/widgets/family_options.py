"""The training form's family options: one box per `--options` setting of the chosen architecture and loss
(ProGAN's phase lengths, BEGAN's γ, EBGAN's margin, MRGAN's λ's, ...), built from the engine's table
(`engine.training.families.options_for`) with its defaults, bounds and tooltips. Hidden when the family has none.
`set_table` shows any such table (the translation recipes' options: a text option gets a line edit).
`options()` gives the settings that differ from their defaults (the rest are left to the engine), as
`TrainConfig.options` and `--options` take them. Also the form's spin-box builders.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...engine.training.families import FamilyOption, options_for

NAMES = {"progan": "ProGAN", "began": "BEGAN", "ebgan": "EBGAN", "mrgan": "MRGAN", "lapgan": "LAPGAN"}


def _spin(lo: int, hi: int, value: int, step: int = 1, tip: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setValue(value)
    box.setGroupSeparatorShown(True)
    box.setToolTip(tip)
    return box


def _dspin(lo: float, hi: float, value: float, decimals: int, step: float, tip: str = "") -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setValue(value)
    box.setToolTip(tip)
    return box


def _box(o: FamilyOption) -> QWidget:
    lo = o.bounds.lo if o.bounds is not None and o.bounds.lo is not None else 0
    hi = o.bounds.hi if o.bounds is not None and o.bounds.hi is not None else None
    if o.kind is str:
        box = QLineEdit(str(o.default))
        box.setPlaceholderText(str(o.default) or "(none)")
        box.setToolTip(o.tip)
        return box
    if o.kind is bool:
        box = QCheckBox()
        box.setChecked(bool(o.default))
        box.setToolTip(o.tip)
        return box
    if o.kind is int:
        return _spin(int(lo), int(min(hi if hi is not None else 10**9, 2**31 - 1)), int(o.default),
                     max(1, int(o.default) // 10), o.tip)
    lo = float(lo) + (1e-4 if o.bounds is not None and o.bounds.lo_open else 0.0)
    top = float(hi) if hi is not None else 1e6
    if o.bounds is not None and o.bounds.hi_open and hi is not None:
        top -= 1e-4
    return _dspin(lo, top, float(o.default), 4, 0.001 if float(o.default) < 0.1 else 0.05, o.tip)


def _value(box: QWidget):
    if isinstance(box, QLineEdit):
        return box.text().strip()
    return box.isChecked() if isinstance(box, QCheckBox) else box.value()


def _signal(box: QWidget):
    return box.toggled if isinstance(box, QCheckBox) else box.textChanged if isinstance(box, QLineEdit) \
        else box.valueChanged


class FamilyOptions(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("")
        self.title.setProperty("role", "subtle")
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(8)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 2)
        lay.setSpacing(2)
        lay.addWidget(self.title)
        lay.addLayout(self.grid)
        self.family: tuple[str, str] | None = None
        self.table: list[FamilyOption] = []
        self.boxes: dict[str, QWidget] = {}
        self.hide()

    def set_family(self, arch: str, loss: str) -> None:
        """Boxes for `arch` + `loss`'s options at their defaults (kept as they are if the family is unchanged)."""
        if (arch, loss) == self.family:
            return
        try:
            table = options_for(arch, loss) if arch and loss else []
        except Exception:                   # an architecture without a training recipe: no options
            table = []
        self.set_table((arch, loss), table, f"{NAMES.get(loss, NAMES.get(arch, arch))} options")

    def set_table(self, key, table: list[FamilyOption], title: str) -> None:
        """Boxes for `table` at its defaults, under `title` (kept as they are while `key` is unchanged)."""
        if key == self.family:
            return
        self.family = key
        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w is not None:
                w.hide()                                    # at once: deleteLater waits for the event loop
                w.deleteLater()
        self.table = list(table)
        self.boxes = {}
        for i, o in enumerate(self.table):
            box = self.boxes[o.name] = _box(o)
            _signal(box).connect(self.changed)
            r, c = divmod(i, 2)
            label = QLabel(o.name.replace("_", " "))
            label.setToolTip(o.tip)
            self.grid.addWidget(label, r, 2 * c)
            self.grid.addWidget(box, r, 2 * c + 1)
        self.title.setText(title)
        self.setVisible(bool(self.table))
        self.changed.emit()

    def options(self) -> dict:
        """{name: value} of the settings not at their defaults."""
        out = {}
        for o in self.table:
            v = _value(self.boxes[o.name])
            if (v != o.default) if o.kind is not float else abs(float(v) - float(o.default)) > 1e-12:
                out[o.name] = v
        return out

    def set_value(self, name: str, value) -> None:
        box = self.boxes[name]
        if isinstance(box, QLineEdit):
            box.setText(str(value))
        else:
            box.setChecked(bool(value)) if isinstance(box, QCheckBox) else box.setValue(value)
