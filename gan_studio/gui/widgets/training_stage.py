"""The Training tab's right side: Start / Pause / Stop / Open in Sampling, the progress bar and status line, the
loss curves over the fixed-seed sample grid (an image-to-image run: over the preview of its translations), and the
equivalent command line. The panel drives them."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..theme import role_label
from .image_grid import ImageGrid
from .loss_curves import LossCurves
from .translation_preview import TranslationPreview

GRID_NOTE = "The fixed-seed samples (seeds 0–63) appear here while training"
PREVIEW_NOTE = "Fixed training images and their translations appear here while training"


class TrainingStage(QWidget):
    """What a training run shows while it runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start_btn, self.pause_btn, self.stop_btn = QPushButton("Start"), QPushButton("Pause"), QPushButton("Stop")
        self.open_btn = QPushButton("Open in Sampling")
        self.start_btn.setToolTip("Train with these settings (an existing output file can be resumed)")
        self.pause_btn.setToolTip("Hold training after the current step; Resume goes on from there")
        self.stop_btn.setToolTip("Stop after the current step and save the model file")
        self.open_btn.setToolTip("Open the model file in the Sampling tab")
        self.status = role_label("Choose a dataset and press Start", "subtle")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)   # never widens the panel
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(2 * self.status.fontMetrics().height() + 2)
        self.progress = QProgressBar()
        self.progress.setFormat("")
        self.progress.setFixedHeight(22)
        self.curves = LossCurves()
        self.curves.setMinimumHeight(180)
        self.grid = ImageGrid(8, 8)
        self.grid.setMinimumSize(240, 240)
        self.grid.clear(GRID_NOTE)
        self.preview = TranslationPreview()
        self.preview.clear(PREVIEW_NOTE)
        self.preview.hide()
        self.translation = False
        self.cli = QLineEdit()
        self.cli.setReadOnly(True)
        self.cli.setToolTip("The equivalent command line (also recorded in the model file)")
        bar = QHBoxLayout()
        for w in (self.start_btn, self.pause_btn, self.stop_btn):
            bar.addWidget(w)
        bar.addStretch(1)
        progress_row = QHBoxLayout()               # Open beside the progress, not the buttons: the tab fits 1024 px
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.open_btn)
        split = self.split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.curves)
        split.addWidget(self.grid)
        split.addWidget(self.preview)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setStretchFactor(2, 3)
        split.setChildrenCollapsible(False)
        right = QVBoxLayout(self)
        right.setContentsMargins(0, 0, 0, 0)
        right.addLayout(bar)
        right.addLayout(progress_row)
        right.addWidget(self.status)
        right.addWidget(split, 1)
        right.addWidget(self.cli)

    def set_translation(self, on: bool) -> None:
        """An image-to-image run shows its translations instead of the sample grid, and opens in Translate."""
        self.translation = on
        self.grid.setVisible(not on)
        self.preview.setVisible(on)
        self.open_btn.setText("Open in Translate" if on else "Open in Sampling")
        self.open_btn.setToolTip(f"Open the model file in the {'Translate' if on else 'Sampling'} tab")
        total = sum(self.split.sizes())
        if total > 0:                                 # the samples' view gets 3/5 (the preview has 4 to 6 rows)
            self.split.setSizes([2 * total // 5, 0, 3 * total // 5] if on else [2 * total // 5, 3 * total // 5, 0])

    def clear_samples(self) -> None:
        self.grid.clear(GRID_NOTE)
        self.preview.clear(PREVIEW_NOTE)

    def show_samples(self, pixels) -> None:
        """(N, H, W, C) uint8: the sample grid, or the translation preview's rows."""
        if self.translation:
            self.preview.set_samples(pixels)
        else:
            self.grid.set_images(pixels)
