"""The walk's options: path (keyframes or a random loop), loop seed, frames, interpolation, easing, closed
loop, truncation ψ. `changed` fires for any of them; `psi_changed` additionally for ψ."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QSpinBox, QWidget

from ...engine.jobs.walks import DEFAULT_EASING, DEFAULT_FRAMES, DEFAULT_PSI, HELP
from ...engine.latent.walks import EASINGS
from ..theme import double_slider

SOURCES = (("Through keyframes", None), ("Random loop: circle", "circle"), ("Random loop: noise", "noise"))
METHODS = (("Auto (slerp in z)", None), ("Slerp", "slerp"), ("Lerp", "lerp"))
MAX_FRAMES = 2000


class WalkOptions(QWidget):
    changed = Signal()
    psi_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source_box, self.method_box = QComboBox(), QComboBox()
        for box, items in ((self.source_box, SOURCES), (self.method_box, METHODS)):
            for text, data in items:
                box.addItem(text, data)
        self.source_box.setToolTip(HELP["random"])
        self.method_box.setToolTip("Auto: slerp when every keyframe is a z (a seed), lerp in w otherwise")
        self.loop_seed = QSpinBox()
        self.loop_seed.setRange(0, 2**31 - 1)
        self.loop_seed.setKeyboardTracking(False)
        self.loop_seed.setToolTip(HELP["random_seed"])
        self.frames_box = QSpinBox()
        self.frames_box.setRange(2, MAX_FRAMES)
        self.frames_box.setValue(DEFAULT_FRAMES)
        self.frames_box.setKeyboardTracking(False)
        self.frames_box.setToolTip(HELP["frames"])
        self.easing_box = QComboBox()
        self.easing_box.addItems(list(EASINGS))
        self.easing_box.setCurrentText(DEFAULT_EASING)
        self.easing_box.setToolTip(HELP["easing"])
        self.loop_check = QCheckBox("Closed loop")
        self.loop_check.setToolTip(HELP["loop"])
        self.psi_slider = double_slider(0.0, 1.5, DEFAULT_PSI, HELP["psi"])
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for text, w in (("Path", self.source_box), ("Loop seed", self.loop_seed), ("Frames", self.frames_box),
                        ("Interpolation", self.method_box), ("Easing", self.easing_box), ("", self.loop_check),
                        ("Truncation ψ", self.psi_slider)):
            form.addRow(text, w)
        for sig in (self.source_box.currentIndexChanged, self.method_box.currentIndexChanged,
                    self.easing_box.currentIndexChanged, self.loop_check.toggled, self.frames_box.valueChanged,
                    self.loop_seed.valueChanged, self.psi_slider.valueChanged):
            sig.connect(self.changed)
        self.psi_slider.valueChanged.connect(self.psi_changed)
        self.source_box.currentIndexChanged.connect(self._update_enabled)
        self._update_enabled()

    def psi(self) -> float:
        return round(float(self.psi_slider.value()), 4)      # what the CLI's --truncation reproduces

    def random(self) -> str | None:
        return self.source_box.currentData()

    def values(self) -> dict:
        """WalkSpec fields (all but the keyframes)."""
        return dict(frames=self.frames_box.value(), method=self.method_box.currentData(),
                    loop=self.loop_check.isChecked(), easing=self.easing_box.currentText(), psi=self.psi(),
                    random=self.random(), random_seed=self.loop_seed.value())

    def _update_enabled(self) -> None:
        keyed = self.random() is None
        for w in (self.method_box, self.easing_box, self.loop_check):
            w.setEnabled(keyed)
        self.loop_seed.setEnabled(not keyed)
