"""The 3D panel's model chooser: voxel models from the catalogue and files opened here, an Open… button, and a
line about the model in use (arch, latent size, input size, threshold, training steps, test IoU)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ...engine.catalog import list_models
from ...engine.jobs.shapes import KIND
from ..theme import role_label


def model_summary(model) -> str:
    """One line about a VoxelModel: what the chooser shows under the list."""
    meta = model.bundle.meta
    step = (meta.get("training") or {}).get("step")
    iou = ((meta.get("metrics") or {}).get("iou_test") or {}).get("mean_iou")
    bits = [meta.get("arch", "?"), f"z {model.z_dim}", f"input {model.image_size}²", f"threshold {model.threshold:.2f}"]
    if "sample_threshold" in meta or "truncation" in meta:        # random shapes drawn their own way
        bits += [f"random shapes ψ {model.truncation:g} at {model.sample_threshold:.2f}"]
    if model.prior is not None:
        bits += [f"fitted prior over {len(model.components)} classes"]
    bits += [f"{step} steps"] if step else []
    bits += [f"test IoU {iou:.3f}"] if isinstance(iou, (int, float)) else []
    return " · ".join(bits)


class VoxelModelChooser(QWidget):
    """A list of voxel models (kind voxel-model): `chosen(path)` when the user picks another one. Another panel's
    chooser of one kind of model subclasses it with its own KIND, texts and `summary`."""

    KIND = KIND
    LIST_TIP = "3D voxel models (kind voxel-model) from the shipped folder and your models folder"
    OPEN_TIP = "Open a 3D voxel model file (.safetensors) — or drop one on this panel"
    EMPTY = "No 3D voxel model found"
    chosen = Signal(str)              # the resolved path of the model picked in the list
    open_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QComboBox()
        self.box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.box.setMinimumContentsLength(12)
        self.box.setToolTip(self.LIST_TIP)
        self.open_btn = QPushButton("Open…")
        self.open_btn.setToolTip(self.OPEN_TIP)
        self.info = role_label("", "subtle")
        self.info.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.box, 1)
        row.addWidget(self.open_btn)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.info)
        self.current: str | None = None
        self._extra: list[str] = []               # models opened from files, kept in the list
        self.box.activated.connect(self._activated)
        self.open_btn.clicked.connect(self.open_clicked)

    def refresh(self) -> None:
        """Fill the list: catalogue voxel models, then files opened here; keep the selection."""
        entries = [e for e in list_models() if e.kind == self.KIND]
        known = {str(e.path.resolve()) for e in entries}
        self.box.blockSignals(True)
        self.box.clear()
        for e in entries:
            self.box.addItem(e.name, str(e.path.resolve()))
            self.box.setItemData(self.box.count() - 1, f"{e.path}\n{e.arch}", Qt.ItemDataRole.ToolTipRole)
        for p in self._extra:
            if p not in known:
                self.box.addItem(Path(p).name, p)
                self.box.setItemData(self.box.count() - 1, p, Qt.ItemDataRole.ToolTipRole)
        if self.box.count() == 0:
            self.box.addItem(self.EMPTY, None)
        self.select(self.current)
        self.box.blockSignals(False)

    def first(self) -> str | None:
        """The first model listed (None: there is none)."""
        return self.box.itemData(0)

    def select(self, path: str | None) -> None:
        """Show `path` as the current model (the list does not change when it is not listed)."""
        i = self.box.findData(path) if path else -1
        if i >= 0:
            self.box.setCurrentIndex(i)

    def set_model(self, path: str, model) -> None:
        """`model` (a VoxelModel from `path`) is in use: list it, select it, describe it."""
        self.current = path
        if self.box.findData(path) < 0:
            self._extra.append(path)
            self.refresh()
        self.select(path)
        self.info.setText(self.summary(model))
        self.info.setToolTip(str(model.bundle.path or ""))

    def summary(self, model) -> str:
        """The line under the list about the model in use."""
        return model_summary(model)

    @Slot(int)
    def _activated(self, index: int) -> None:
        path = self.box.itemData(index)
        if path and path != self.current:
            self.chosen.emit(path)
