"""An ordered list of keyframe latents with thumbnails: reorder (buttons or drag), remove, clear."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .image_grid import qimage_from_pixels

THUMB = 44
ROLE = Qt.ItemDataRole.UserRole


def _blank_icon() -> QIcon:
    pm = QPixmap(THUMB, THUMB)
    pm.fill(Qt.GlobalColor.transparent)
    return QIcon(pm)


class KeyframeList(QWidget):
    """Holds `Latent`s; `changed` fires after any add, remove, clear or reorder."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setSpacing(1)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setToolTip("The walk passes through these in order; drag to reorder")
        self.list.model().rowsMoved.connect(self._rows_moved)
        self.up_btn, self.down_btn = QToolButton(), QToolButton()
        self.up_btn.setArrowType(Qt.ArrowType.UpArrow)
        self.down_btn.setArrowType(Qt.ArrowType.DownArrow)
        self.up_btn.setToolTip("Move the selected keyframe earlier")
        self.down_btn.setToolTip("Move the selected keyframe later")
        self.remove_btn, self.clear_btn = QPushButton("Remove"), QPushButton("Clear")
        self.up_btn.clicked.connect(lambda: self.move_selected(-1))
        self.down_btn.clicked.connect(lambda: self.move_selected(1))
        self.remove_btn.clicked.connect(self.remove_selected)
        self.clear_btn.clicked.connect(self.clear)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.up_btn, self.down_btn):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.remove_btn)
        row.addWidget(self.clear_btn)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.list, 1)
        lay.addLayout(row)
        self._update_buttons()

    # ------------------------------------------------------------ contents
    def latents(self) -> list:
        return [self.list.item(i).data(ROLE) for i in range(self.list.count())]

    def count(self) -> int:
        return self.list.count()

    def add(self, latents: list, select_last: bool = True) -> None:
        for lat in latents:
            item = QListWidgetItem(_blank_icon(), lat.label())
            item.setData(ROLE, lat)
            item.setToolTip(lat.label())
            self.list.addItem(item)
        if latents and select_last:
            self.list.setCurrentRow(self.list.count() - 1)
        if latents:
            self._emit()

    def set_latents(self, latents: list) -> None:
        """Replace the contents (one `changed`)."""
        self.list.blockSignals(True)
        self.list.clear()
        self.list.blockSignals(False)
        self.add(latents, select_last=False)
        if not latents:
            self._emit()

    def set_thumbnails(self, pixels: np.ndarray) -> None:
        """pixels (K, H, W, C) uint8 in list order."""
        for i in range(min(len(pixels), self.list.count())):
            img = qimage_from_pixels(pixels[i]).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                                       Qt.TransformationMode.FastTransformation)
            icon = QIcon(QPixmap.fromImage(img))
            icon.addPixmap(QPixmap.fromImage(img), QIcon.Mode.Selected)      # no selection tint on the image
            self.list.item(i).setIcon(icon)

    # ------------------------------------------------------------ editing
    @Slot()
    def clear(self) -> None:
        if self.list.count():
            self.list.clear()
            self._emit()

    @Slot()
    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)
            self._emit()

    def move_selected(self, delta: int) -> None:
        row = self.list.currentRow()
        to = row + delta
        if row < 0 or not 0 <= to < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(to, item)
        self.list.setCurrentRow(to)
        self._emit()

    @Slot()
    def _rows_moved(self, *args) -> None:
        self._emit()

    def _emit(self) -> None:
        self._update_buttons()
        self.changed.emit()

    @Slot()
    def _update_buttons(self) -> None:
        row, n = self.list.currentRow(), self.list.count()
        self.up_btn.setEnabled(row > 0)
        self.down_btn.setEnabled(0 <= row < n - 1)
        self.remove_btn.setEnabled(row >= 0)
        self.clear_btn.setEnabled(n > 0)
