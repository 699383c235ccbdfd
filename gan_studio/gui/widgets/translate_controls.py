"""The Translate panel's left column: the translation model (a chooser of kind translation-model), where the
input comes from (an image file, the Sampling tab's large view, a drop, the drawing canvas), the pen, the
direction of a two-way model, the zoom of a super-resolution model, and saving.

Sections show only where they apply (`set_kind`): the pen for a model whose input can be drawn, the direction
for a cycle model (A -> B / B -> A, named after its domains), the zoom for super-resolution.
"""
from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..theme import role_label
from .sketch_canvas import TOOLS
from .voxel_model_chooser import VoxelModelChooser
from .zoom_compare import MAX_ZOOM

KIND = "translation-model"
DIRECTIONS = ("a2b", "b2a")
FAMILY_NAMES = {"pix2pix": "pix2pix", "cyclegan": "CycleGAN", "discogan": "DiscoGAN", "dualgan": "DualGAN",
                "srresnet": "SRResNet", "srgan": "SRGAN"}


def headline(t) -> str:
    """The model's measured figures worth a glance (bench/translation.py's, in its metadata): PSNR and FID for
    super-resolution, FID of the A -> B translations otherwise; '' when unmeasured."""
    m = (t.meta.get("metrics") or {}).get("bench_translation") or {}
    num = lambda k: isinstance(m.get(k), (int, float))          # noqa: E731
    bits = [f"PSNR {m['psnr']:.1f} dB"] if num("psnr") else []
    fid = "fid" if num("fid") else "fid_a2b" if num("fid_a2b") else None
    bits += [f"FID {m[fid]:.1f}" + (" A → B" if fid == "fid_a2b" else "")] if fid else []
    return ", ".join(bits) + (f" ({m['split']} set)" if bits and m.get("split") else "")


class TranslatorChooser(VoxelModelChooser):
    """The image-to-image models (kind translation-model) from the catalogue and files opened in the panel."""

    KIND = KIND
    LIST_TIP = "Image-to-image models (kind translation-model) from the shipped folder and your models folder"
    OPEN_TIP = "Open an image-to-image model file (.safetensors) — or drop one on this panel"
    EMPTY = "No models found"

    def summary(self, t) -> str:
        """One line about a Translator: family, domains, sizes, training steps, a headline metric."""
        step = (t.meta.get("training") or {}).get("step")
        bits = [FAMILY_NAMES.get(t.family, t.family), " → ".join(t.domains)]
        sizes = f"{t.input_size} px → {t.output_size} px"
        named = [re.search(rf"\b{n} px\b", " ".join(t.domains)) for n in (t.input_size, t.output_size)]
        bits += [] if all(named) else [sizes]                   # "7 px digits → 28 px digits" says them already
        bits += [f"{step:,} steps" if step else "untrained (random weights)"]
        return " · ".join(bits + ([headline(t)] if headline(t) else []))


def _section(lay: QVBoxLayout, title: str) -> QWidget:
    """A titled block of the column (hidden as a whole where it does not apply)."""
    box = QWidget()
    inner = QVBoxLayout(box)
    inner.setContentsMargins(0, 10, 0, 0)
    inner.setSpacing(6)
    inner.addWidget(role_label(title, "section"))
    lay.addWidget(box)
    return box


class TranslateControls(QWidget):
    open_image_clicked = Signal()
    sample_clicked = Signal()
    direction_changed = Signal(str)       # "a2b" | "b2a"
    save_clicked = Signal()
    save_input_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 6, 0)
        lay.setSpacing(2)
        lay.addWidget(role_label("MODEL", "section"))
        self.chooser = TranslatorChooser()
        lay.addWidget(self.chooser)
        self._input_section(lay)
        self._draw_section(lay)
        self._direction_section(lay)
        self._zoom_section(lay)
        self._output_section(lay)
        lay.addStretch(1)

    def _input_section(self, lay: QVBoxLayout) -> None:
        box = _section(lay, "INPUT")
        self.image_btn = QPushButton("Open image…")
        self.image_btn.setToolTip("Translate an image file (PNG, JPEG, …), fitted to the model's input size")
        self.sample_btn = QPushButton("Use the sample view")
        self.sample_btn.setToolTip("Translate the Sampling tab's large view (the image generator's current image), "
                                   "resized to the model's input size and channels")
        self.input_note = role_label("…or drop an image on the input", "subtle")
        self.input_note.setWordWrap(True)
        for w in (self.image_btn, self.sample_btn, self.input_note):
            box.layout().addWidget(w)
        self.image_btn.clicked.connect(self.open_image_clicked)
        self.sample_btn.clicked.connect(self.sample_clicked)

    def _draw_section(self, lay: QVBoxLayout) -> None:
        self.draw_box = box = _section(lay, "DRAW")
        self.tools = QButtonGroup(self)
        row = QHBoxLayout()
        for i, name in enumerate(TOOLS):
            b = QRadioButton(name.capitalize())
            self.tools.addButton(b, i)
            row.addWidget(b)
        row.addStretch(1)
        self.tools.button(0).setChecked(True)
        self.width_box = QDoubleSpinBox()
        self.width_box.setRange(1, 12)
        self.width_box.setSingleStep(0.5)
        self.width_box.setDecimals(1)
        self.width_box.setValue(1.5)
        self.width_box.setSuffix(" px")
        self.width_box.setToolTip("Pen and eraser width, in the model's input pixels")
        self.clear_btn, self.undo_btn = QPushButton("Clear"), QPushButton("Undo")
        grid = QGridLayout()
        grid.addWidget(QLabel("Width"), 0, 0)
        grid.addWidget(self.width_box, 0, 1)
        grid.addWidget(self.undo_btn, 1, 0)
        grid.addWidget(self.clear_btn, 1, 1)
        self.draw_note = role_label("", "subtle")
        self.draw_note.setWordWrap(True)
        box.layout().addLayout(row)
        box.layout().addLayout(grid)
        box.layout().addWidget(self.draw_note)

    def _direction_section(self, lay: QVBoxLayout) -> None:
        self.direction_box = box = _section(lay, "DIRECTION")
        self.directions = QButtonGroup(self)
        for i, d in enumerate(DIRECTIONS):
            b = QRadioButton(d)
            self.directions.addButton(b, i)
            box.layout().addWidget(b)
        self.directions.button(0).setChecked(True)
        self.directions.idClicked.connect(lambda i: self.direction_changed.emit(DIRECTIONS[i]))

    def _zoom_section(self, lay: QVBoxLayout) -> None:
        self.zoom_box = box = _section(lay, "ZOOM")
        row = QHBoxLayout()
        self.zoom_slider = QSlider(Qt.Orientation.Horizontal)
        self.zoom_slider.setRange(1, MAX_ZOOM)
        self.zoom_slider.setToolTip("Magnify the three images together (nearest-neighbour); drag an image to pan, "
                                    "or use the mouse wheel over it")
        self.zoom_label = QLabel("×1")
        self.zoom_label.setMinimumWidth(34)
        row.addWidget(self.zoom_slider, 1)
        row.addWidget(self.zoom_label)
        box.layout().addLayout(row)
        self.zoom_slider.valueChanged.connect(lambda v: self.zoom_label.setText(f"×{v}"))

    def _output_section(self, lay: QVBoxLayout) -> None:
        box = _section(lay, "OUTPUT")
        self.save_btn = QPushButton("Save output…")
        self.save_btn.setToolTip("Save the translation as a PNG at the model's output size")
        self.save_input_btn = QPushButton("Save input…")
        self.save_input_btn.setToolTip("Save the input (your drawing) as a PNG, e.g. for gan-studio translate")
        row = QHBoxLayout()
        row.addWidget(self.save_btn)
        row.addWidget(self.save_input_btn)
        box.layout().addLayout(row)
        box.layout().addSpacing(8)
        box.layout().addWidget(role_label("SAME FROM THE COMMAND LINE", "section"))
        self.cli_label = role_label("", "subtle")
        self.cli_label.setWordWrap(True)
        self.cli_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.cli_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.layout().addWidget(self.cli_label)
        self.save_btn.clicked.connect(self.save_clicked)
        self.save_input_btn.clicked.connect(self.save_input_clicked)

    # ------------------------------------------------------------ state
    def set_kind(self, kind: str | None, drawable: bool, domains: tuple[str, str] = ("A", "B")) -> None:
        """Show the sections that apply to a model of `kind` (paired | cycle | sr; None: no model)."""
        self.draw_box.setVisible(drawable)
        self.direction_box.setVisible(kind == "cycle")
        self.zoom_box.setVisible(kind == "sr")
        a, b = domains
        self.directions.button(0).setText(f"A → B   ({a} → {b})")
        self.directions.button(1).setText(f"B → A   ({b} → {a})")

    def direction(self) -> str:
        return DIRECTIONS[max(0, self.directions.checkedId())]

    def set_direction(self, direction: str) -> None:
        self.directions.button(DIRECTIONS.index(direction)).setChecked(True)

    def tool(self) -> str:
        return TOOLS[max(0, self.tools.checkedId())]

    def update_enabled(self, has_model: bool, has_output: bool, has_input: bool) -> None:
        for w in (self.image_btn, self.sample_btn, self.draw_box, self.direction_box, self.zoom_box):
            w.setEnabled(has_model)
        self.save_btn.setEnabled(has_output)
        self.save_input_btn.setEnabled(has_input)
