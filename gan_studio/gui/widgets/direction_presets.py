"""Named presets of the sliders (engine `presets.py`): save the starred and shifted directions' amounts and layer
ranges under a name, apply one in one click from the combo, delete, and export / import one as a `.json` file that
only loads for the same directions. Presets are kept in the DirectionSet, so the panel's Save… writes them into
the directions file."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QInputDialog, QLabel, QPushButton, QWidget

from ...engine.errors import UserError
from ...engine.latent.directions.presets import add_preset, export_preset, find_preset, import_preset, make_preset
from ..dialogs import ask_open, ask_save

FILTER = "Direction presets (*.json)"


def file_stem(name: str) -> str:
    """A preset name as a file name: 'smile + age' -> 'smile-age'."""
    return re.sub(r"[^\w.-]+", "-", name).strip("-.") or "preset"


class PresetBar(QWidget):
    applied = Signal(str)           # the name of the preset just applied
    changed = Signal()              # a preset was saved, imported or deleted (the directions changed)

    def __init__(self, editor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.directions_file: Callable[[], Path | None] = lambda: None     # set by the panel
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(10)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setToolTip("Choose a preset to apply it: its amounts, layer ranges, names and stars")
        self.save_btn = QPushButton("Save preset…")
        self.save_btn.setToolTip("Save the shifted and starred directions' amounts (and layer ranges) under a name; "
                                 "Save… writes presets into the directions file")
        self.delete_btn = QPushButton("Delete")
        self.delete_btn.setToolTip("Delete the chosen preset")
        self.export_btn, self.import_btn = QPushButton("Export…"), QPushButton("Import…")
        self.export_btn.setToolTip("Write the chosen preset to a .json file to share (it records which directions "
                                   "and generator it belongs to)")
        self.import_btn.setToolTip("Read a preset .json made for these directions, and apply it")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        title = QLabel("Preset")
        for w in (title, self.combo, self.save_btn, self.delete_btn, self.export_btn, self.import_btn):
            lay.addWidget(w)
        self.combo.activated.connect(self._chosen)
        self.save_btn.clicked.connect(self._save_clicked)
        self.delete_btn.clicked.connect(self._delete_clicked)
        self.export_btn.clicked.connect(self._export_clicked)
        self.import_btn.clicked.connect(self._import_clicked)
        self.refresh()

    @property
    def ds(self):
        return self.editor.ds

    def names(self) -> list[str]:
        return [p.name for p in self.ds.presets] if self.ds is not None else []

    def current(self) -> str | None:
        return self.combo.currentText() if self.combo.currentIndex() >= 0 else None

    def refresh(self, select: str | None = None) -> None:
        names = self.names()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems(names)
        self.combo.setPlaceholderText("no presets" if not names else "choose…")
        self.combo.setCurrentIndex(names.index(select) if select in names else -1)
        self.combo.blockSignals(False)
        has = self.ds is not None
        self.combo.setEnabled(bool(names))
        for w in (self.save_btn, self.import_btn):
            w.setEnabled(has)
        for w in (self.delete_btn, self.export_btn):
            w.setEnabled(bool(names))

    # ------------------------------------------------------------ actions (the buttons ask, then call these)
    def save_preset(self, name: str) -> object | None:
        try:
            preset = make_preset(self.ds, name, self.editor.list.shifts())
        except UserError as exc:
            self.editor.ctx.report_error(f"Could not save the preset: {exc}")
            return None
        add_preset(self.ds, preset)
        self.refresh(select=preset.name)
        self.changed.emit()
        self.editor.ctx.status.emit(f"Preset {preset.name!r} saved with these directions ({len(preset.shifts)} "
                                    f"directions); Save… writes it into the directions file")
        return preset

    def apply(self, name: str) -> bool:
        try:
            preset = find_preset(self.ds, name)
        except UserError as exc:
            self.editor.ctx.report_error(str(exc))
            return False
        self.editor.apply_preset(preset)
        self.refresh(select=name)
        self.applied.emit(name)
        return True

    def delete(self, name: str) -> bool:
        if name not in self.names():
            return False
        self.ds.presets = [p for p in self.ds.presets if p.name != name]
        self.refresh()
        self.changed.emit()
        return True

    def export_to(self, name: str, path: str | Path) -> Path | None:
        try:
            out = export_preset(path, self.ds, find_preset(self.ds, name), str(self.directions_file() or ""))
        except (UserError, OSError) as exc:
            self.editor.ctx.report_error(f"Could not export the preset: {exc}")
            return None
        self.editor.ctx.report_done(f"Exported preset {name!r} to {Path(out).name}", out)
        return out

    def import_from(self, path: str | Path):
        """Read a preset file made for these directions, keep it (replacing one of the same name) and apply it."""
        try:
            preset = import_preset(path, self.ds)
        except UserError as exc:
            self.editor.ctx.report_error(f"Could not import {Path(path).name}: {exc}")
            return None
        add_preset(self.ds, preset)
        self.changed.emit()
        self.apply(preset.name)
        return preset

    # ------------------------------------------------------------ dialogs
    @Slot(int)
    def _chosen(self, index: int) -> None:
        if index >= 0:
            self.apply(self.combo.itemText(index))

    @Slot()
    def _save_clicked(self) -> None:
        if self.ds is None:
            return
        name, ok = QInputDialog.getText(self, "Save preset", "Preset name:", text=f"preset {len(self.names()) + 1}")
        if ok and name.strip():
            self.save_preset(name)

    @Slot()
    def _delete_clicked(self) -> None:
        if self.current():
            self.delete(self.current())

    @Slot()
    def _export_clicked(self) -> None:
        name = self.current()
        if not name:
            return
        path, _ = ask_save(self, self.editor.ctx.settings, "Export preset", f"{file_stem(name)}.json", FILTER,
                           suffix=".json")
        if path:
            self.export_to(name, path)

    @Slot()
    def _import_clicked(self) -> None:
        if self.ds is None:
            return
        path = ask_open(self, self.editor.ctx.settings, "Import preset", f"{FILTER};;All files (*)")
        if path:
            self.import_from(path)
