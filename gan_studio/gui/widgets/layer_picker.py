"""Which ws indices ("layers") a style mix takes from the column source: a preset, a typed range, or one
checkbox per layer showing the resolution it drives. The three always agree; `changed` fires on a user edit."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from ...engine.errors import UserError
from ...engine.latent.mixing import PRESETS, format_layers, parse_layers, preset_bands
from ..theme import role_label

MAX_PER_ROW = 8


class LayerPicker(QWidget):
    changed = Signal()        # the user chose other layers
    range_invalid = Signal(str)    # the typed range does not parse or fit the model
    preset_invalid = Signal(str)   # the chosen preset does not fit the model

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._resolutions: list[int] = []
        self._layers: list[int] = []
        self.preset_box = QComboBox()
        self.preset_box.addItems(list(PRESETS) + ["custom"])
        self.preset_box.setToolTip("Layer presets by resolution: coarse 4-8 px, middle 16-32 px, fine the rest")
        self.range_edit = QLineEdit()
        self.range_edit.setMaximumWidth(120)
        self.range_edit.setToolTip("ws indices taken from the column source: 0-based, inclusive, e.g. 0-2,6")
        self.layer_boxes: list[QCheckBox] = []
        self.layer_area = QWidget()
        self.layer_grid = QGridLayout(self.layer_area)
        self.layer_grid.setContentsMargins(0, 0, 0, 0)
        self.layer_grid.setHorizontalSpacing(10)
        bar = QHBoxLayout()
        for w in (role_label("Layers from columns", ""), self.preset_box, self.range_edit):
            bar.addWidget(w)
        bar.addStretch(1)
        lay = QVBoxLayout(self)                  # the checkboxes on a line of their own: the panel stays narrow
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(self.layer_area, 0, Qt.AlignmentFlag.AlignLeft)
        self.preset_box.activated.connect(self._preset_chosen)
        self.range_edit.editingFinished.connect(self._range_edited)

    @property
    def resolutions(self) -> list[int]:
        return list(self._resolutions)

    def set_resolutions(self, resolutions: list[int]) -> None:
        """One checkbox per ws index (a new model); starts at the coarse preset, else all layers."""
        for box in self.layer_boxes:
            box.deleteLater()
        self.layer_boxes = []
        self._resolutions, self._layers = list(resolutions), []
        n = len(self._resolutions)
        if not n:
            return
        lines = -(-n // MAX_PER_ROW)
        per_row = -(-n // lines)                 # balanced lines of at most MAX_PER_ROW
        for i, r in enumerate(self._resolutions):
            box = QCheckBox(f"{i} · {r} px")
            box.setToolTip(f"ws {i} drives the {r}×{r} layer: take it from the column source")
            box.toggled.connect(self._box_toggled)
            self.layer_grid.addWidget(box, i // per_row, i % per_row)
            self.layer_boxes.append(box)
        bands = preset_bands(self._resolutions) if n > 1 else {}
        model = self.preset_box.model()
        for idx, p in enumerate(PRESETS):
            model.item(idx).setEnabled(p in ("none", "all") or bool(bands.get(p)))
        start = "coarse" if bands.get("coarse") else "all"
        self.set_layers(parse_layers(start, n, self._resolutions), emit=False)

    def layers(self) -> list[int]:
        return list(self._layers)

    def set_layers(self, layers, emit: bool = True) -> None:
        n = len(self.layer_boxes)
        self._layers = sorted({int(i) for i in layers if 0 <= int(i) < n})
        for i, box in enumerate(self.layer_boxes):
            box.blockSignals(True)
            box.setChecked(i in self._layers)
            box.blockSignals(False)
        self.range_edit.setText(format_layers(self._layers))
        self.preset_box.setCurrentText(self._matching_preset())
        if emit:
            self.changed.emit()

    def _matching_preset(self) -> str:
        n = len(self._resolutions)
        for p in PRESETS:
            try:
                if n and parse_layers(p, n, self._resolutions) == self._layers:
                    return p
            except UserError:
                continue
        return "custom"

    def set_preset(self, preset: str) -> bool:
        """Apply a preset by name; False (and `preset_invalid`) when it does not fit the model."""
        if preset == "custom" or not self._resolutions:
            return False
        try:
            self.set_layers(parse_layers(preset, len(self._resolutions), self._resolutions))
        except UserError as exc:
            self.preset_invalid.emit(str(exc))
            return False
        return True

    @Slot(int)
    def _preset_chosen(self, index: int) -> None:
        self.set_preset(self.preset_box.itemText(index))

    @Slot()
    def _range_edited(self) -> None:
        if not self._resolutions:
            return
        try:
            layers = parse_layers(self.range_edit.text(), len(self._resolutions), self._resolutions)
        except UserError as exc:
            self.range_invalid.emit(str(exc))
            return
        if layers != self._layers:
            self.set_layers(layers)

    @Slot(bool)
    def _box_toggled(self, _checked: bool) -> None:
        self.set_layers([i for i, b in enumerate(self.layer_boxes) if b.isChecked()])
