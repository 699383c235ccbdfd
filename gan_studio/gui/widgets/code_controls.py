"""The sampling view's class chooser (conditional models) and InfoGAN code controls: a category chooser and
one slider per continuous code. Each starts at "per seed" (the code each seed's latent gives, models/codes.py);
choosing a value fixes it for every tile. `changed` carries the chosen codes, e.g. {"class": 3, "c0": 0.5}.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget
from superqt import QLabeledDoubleSlider

from ...engine.models.codes import CAT, CLASS, CodeLayout

PER_SEED = "per seed"
SLIDER_RANGE = (-2.0, 2.0)          # InfoGAN's prior is Uniform(-1, 1): ±2 extrapolates, as in the paper


def _choice(count: int, tip: str) -> QComboBox:
    box = QComboBox()
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    box.addItem(PER_SEED)
    box.addItems([str(i) for i in range(count)])
    box.setToolTip(tip)
    return box


class CodeSlider(QWidget):
    """A continuous code: a check box (off = per seed) and a slider; moving the slider checks the box."""
    changed = Signal()

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.fixed = QCheckBox(name)
        self.fixed.setToolTip(f"Fix InfoGAN's continuous code {name} for every tile (off: per seed)")
        self.slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(*SLIDER_RANGE)
        self.slider.setSingleStep(0.05)
        self.slider.setDecimals(2)
        self.slider.setValue(0.0)
        self.slider.setMinimumWidth(140)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.fixed)
        lay.addWidget(self.slider, 1)
        self.fixed.toggled.connect(self.changed)
        self.slider.valueChanged.connect(self._moved)

    @Slot()
    def _moved(self) -> None:
        if self.fixed.isChecked():
            self.changed.emit()
        else:
            self.fixed.setChecked(True)           # emits once through toggled

    def value(self) -> float | None:
        return round(float(self.slider.value()), 4) if self.fixed.isChecked() else None


class CodeControls(QWidget):
    changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.code_layout: CodeLayout | None = None
        self.class_box: QComboBox | None = None
        self.cat_box: QComboBox | None = None
        self.sliders: list[CodeSlider] = []
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(8)
        self._quiet = False
        self.setVisible(False)

    def set_code_layout(self, layout: CodeLayout | None) -> None:
        """Rebuild for a model's codes (None: hidden); every code starts per seed."""
        while self._row.count():
            w = self._row.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.code_layout, self.class_box, self.cat_box, self.sliders = layout, None, None, []
        self.setVisible(layout is not None)
        if layout is None:
            return
        if layout.conditional:
            self.class_box = _choice(layout.num_classes, "The class of every tile (per seed: each seed's own)")
            self._add(QLabel("Class"), self.class_box)
        if layout.info_cat:
            self.cat_box = _choice(layout.info_cat, "InfoGAN's categorical code for every tile (per seed: each "
                                                    "seed's own)")
            self._add(QLabel("Category"), self.cat_box)
        for j in range(layout.info_cont):
            s = CodeSlider(f"c{j}")
            s.changed.connect(self._emit)
            self.sliders.append(s)
            self._row.addWidget(s, 1)
        if not self.sliders:
            self._row.addStretch(1)
        reset = QPushButton("All per seed")
        reset.setToolTip("Every class and code back to what each seed gives")
        reset.clicked.connect(self.reset)
        self._row.addWidget(reset)
        for box in (self.class_box, self.cat_box):
            if box is not None:
                box.currentIndexChanged.connect(self._emit)

    def _add(self, label: QLabel, box: QComboBox) -> None:
        self._row.addWidget(label)
        self._row.addWidget(box)

    def codes(self) -> dict[str, float]:
        """The chosen codes (names absent: per seed)."""
        out: dict[str, float] = {}
        for name, box in ((CLASS, self.class_box), (CAT, self.cat_box)):
            if box is not None and box.currentIndex() > 0:
                out[name] = box.currentIndex() - 1
        for s in self.sliders:
            if s.value() is not None:
                out[s.name] = s.value()
        return out

    def set_codes(self, codes: dict[str, float]) -> None:
        """Show these codes (the others per seed); emits `changed` once."""
        self._quiet = True
        try:
            for name, box in ((CLASS, self.class_box), (CAT, self.cat_box)):
                if box is not None:
                    box.setCurrentIndex(int(codes[name]) + 1 if name in codes else 0)
            for s in self.sliders:
                if s.name in codes:
                    s.slider.setValue(float(codes[s.name]))
                s.fixed.setChecked(s.name in codes)
        finally:
            self._quiet = False
        self._emit()

    @Slot()
    def reset(self) -> None:
        self.set_codes({})

    @Slot()
    def _emit(self) -> None:
        if not self._quiet:
            self.changed.emit(self.codes())
