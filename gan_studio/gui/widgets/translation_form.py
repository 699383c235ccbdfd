"""The Training tab's image-to-image settings (issue 23): the data the way `gan-studio train-translation` takes it
and the recipe with its loss, size and options — the form's Dataset and Model sections when the kind is "Image to
image". The schedule (learning rate, batch, steps, ...) and the output stay the training form's.

Data, as the CLI reads it (data/pairs.py):
  - one source + a named transform that derives A from it (an MNIST folder + strokes, edges, silhouette, down4, ...):
    `--data SRC --transform T` (paired recipes: pairs; unpaired: A from one half of the images, B the other half);
  - a folder with A/ and B/ subfolders (paired by file name, or two unpaired domains): `--data DIR`;
  - two sources, unpaired recipes only: `--data A --data-b B` (optionally `--transform T` on A).
The recipe's options come from its `options_table` (the data ones are the fields above); a value at its default is
left out of `--options`, as the training form does for the GAN families.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...engine.data.pairs import has_ab_folders
from ...engine.data.transforms import TRANSFORMS
from ...engine.registry import ARCHITECTURES, LOSSES
from ...engine.training.families import FamilyOption
from ...engine.training.loop import TrainConfig
from ...engine.translation import RECIPE_NAMES, recipe_class, translation_config
from ...engine.translation.recipe_base import COMMON_OPTIONS
from .family_options import FamilyOptions, _spin
from .training_schedule import form_layout as _form
from .training_schedule import section

RECIPES = {"pix2pix": ("pix2pix — paired", "Paired A → B (Isola et al. 2017): U-Net generator, conditional PatchGAN, "
                                           "cGAN + 100·L1"),
           "cyclegan": ("CycleGAN — unpaired", "Unpaired A ↔ B (Zhu et al. 2017): ResNet generators, LSGAN + cycle "
                                               "10 + identity 5, a 50-image history pool"),
           "discogan": ("DiscoGAN — unpaired", "Unpaired A ↔ B (Kim et al. 2017): encoder-decoders, GAN + "
                                               "reconstruction losses"),
           "dualgan": ("DualGAN — unpaired", "Unpaired A ↔ B (Yi et al. 2017): U-Nets, WGAN critics with weight "
                                             "clipping + 100·L1 reconstruction"),
           "srresnet": ("SRResNet — super-resolution", "Super-resolution (Ledig et al. 2017) with the pixel MSE "
                                                       "only: the PSNR baseline"),
           "srgan": ("SRGAN — super-resolution", "Super-resolution (Ledig et al. 2017): content loss in a feature "
                                                 "space + 1e-3 adversarial")}
MODES = (("one", "One source + a transform"), ("ab", "A/ and B/ folders"), ("two", "Two sources, A and B"))
MODE_TIPS = {"one": "An MNIST folder, image folder or .npy/.npz; the transform derives domain A from its images "
                    "(unpaired recipes: A from one half, B the other half)",
             "ab": "A folder holding A/ and B/ subfolders: pairs by file name (A/x.png with B/x.png) for the paired "
                   "recipes, two independent domains for the unpaired ones",
             "two": "Unpaired recipes: domain A and domain B from two sources, drawn independently"}
SIZE_TIPS = {"width": "the generator's first layer's channels", "depth": "down-samplings of the generator",
             "blocks": "residual blocks (ResNet generator, SRResNet)", "critic_width": "the critic's first channels",
             "critic_layers": "the critic's stride-2 layers (PatchGAN: 1 gives 16×16 patches)"}
NONE = "none"


def size_fields(recipe: str) -> list[str]:
    """The config fields that size this recipe's networks (the data sets channels and resolution)."""
    sr = recipe in ("srresnet", "srgan")
    fields = ["width"] + ([] if sr else ["depth"]) + (["blocks"] if recipe in ("cyclegan", "srresnet", "srgan") else [])
    return fields + (["critic_width", "critic_layers"] if "critic" in ARCHITECTURES.get(recipe).roles else [])


def _browse_button(slot_folder, slot_file) -> QToolButton:
    btn = QToolButton()
    btn.setText("Browse")
    btn.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    menu = QMenu(btn)
    menu.addAction("Folder (MNIST, images, A/ and B/)…", slot_folder)
    menu.addAction("File (.npz, .npy, IDX)…", slot_file)
    btn.setMenu(menu)
    return btn


class TranslationForm(QWidget):
    data_changed = Signal(str)      # anything the data check depends on (paths, mode, transform, recipe)
    changed = Signal()              # anything that changes the command line
    defaults_changed = Signal()     # the recipe or loss changed: the schedule's lr / n_critic defaults with it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._size_boxes: dict = {}
        self._build()
        self._recipe_changed()

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addSpacing(6)
        lay.addWidget(section("Dataset"))
        lay.addLayout(self._build_data())
        lay.addWidget(self.data_info)
        lay.addSpacing(6)
        lay.addWidget(section("Model"))
        lay.addLayout(self._build_model())

    def _path_row(self, placeholder: str, which: str) -> tuple[QLineEdit, QToolButton, QHBoxLayout]:
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        btn = _browse_button(lambda: self._browse(which, True), lambda: self._browse(which, False))
        edit.editingFinished.connect(self._data_edited)
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        row.addWidget(btn)
        return edit, btn, row

    def _build_data(self) -> QFormLayout:
        self.mode_box = QComboBox()
        for i, (key, text) in enumerate(MODES):
            self.mode_box.addItem(text, key)
            self.mode_box.setItemData(i, MODE_TIPS[key], 3)                          # ToolTipRole
        self.data_edit, self.browse_btn, data_row = self._path_row("MNIST folder, image folder, .npy / .npz", "a")
        self.data_b_edit, self.browse_b_btn, b_row = self._path_row("domain B: a folder or file", "b")
        self.transform_box = QComboBox()
        self.domains_edit = QLineEdit()
        self.domains_edit.setPlaceholderText("A,B (e.g. strokes,digits)")
        self.domains_edit.setToolTip(COMMON_OPTIONS["domains"][3])
        self.limit_box = _spin(0, 10**8, 0, 1000, COMMON_OPTIONS["limit"][3])
        self.limit_box.setSpecialValueText("all")
        self.data_info = QLabel("")                # under the data rows, wrapping: it never widens the form
        self.data_info.setWordWrap(True)
        self.data_info.setProperty("role", "subtle")
        self.data_info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        names = QHBoxLayout()
        names.addWidget(self.domains_edit, 1)
        names.addWidget(QLabel("limit"))
        names.addWidget(self.limit_box)
        form = _form()
        form.addRow("Input", self.mode_box)
        self.source_label = QLabel("Source")
        form.addRow(self.source_label, data_row)
        form.addRow("Domain B", b_row)
        form.addRow("Transform", self.transform_box)
        form.addRow("Domains", names)
        self.data_form = form
        self.mode_box.currentIndexChanged.connect(self._mode_changed)
        self.transform_box.currentIndexChanged.connect(self._data_edited)
        self.limit_box.valueChanged.connect(self._data_edited)
        self.domains_edit.editingFinished.connect(self._data_edited)
        self.domains_edit.textEdited.connect(lambda _t: self.changed.emit())
        return form

    def _build_model(self) -> QFormLayout:
        self.recipe_box = QComboBox()
        for i, name in enumerate(RECIPE_NAMES):
            self.recipe_box.addItem(RECIPES[name][0], name)
            self.recipe_box.setItemData(i, RECIPES[name][1], 3)
        self.loss_box = QComboBox()
        self.size_grid = QGridLayout()
        self.size_grid.setContentsMargins(0, 0, 0, 0)
        self.size_grid.setHorizontalSpacing(6)
        self.options_box = FamilyOptions()
        self.options_box.changed.connect(self.changed)
        form = _form()
        form.addRow("Recipe", self.recipe_box)
        form.addRow("Loss", self.loss_box)
        form.addRow("Size", self.size_grid)
        form.addRow(self.options_box)
        self.recipe_box.currentIndexChanged.connect(self._recipe_changed)
        self.loss_box.currentTextChanged.connect(self._loss_changed)
        return form

    # ------------------------------------------------------------ choices
    def recipe(self) -> str:
        return self.recipe_box.currentData() or RECIPE_NAMES[0]

    def set_recipe(self, name: str) -> None:
        self.recipe_box.setCurrentIndex(self.recipe_box.findData(name))

    def mode(self) -> str:
        return self.mode_box.currentData()

    def set_mode(self, mode: str) -> None:
        self.mode_box.setCurrentIndex(self.mode_box.findData(mode))

    @Slot()
    def _recipe_changed(self) -> None:
        """The recipe's modes, transform, losses, sizes and options, at its defaults."""
        recipe, cls = self.recipe(), recipe_class(self.recipe())
        self.recipe_box.setToolTip(RECIPES[recipe][1])
        two = self.mode_box.model().item(self.mode_box.findData("two"))
        two.setEnabled(not cls.PAIRED)
        if cls.PAIRED and self.mode() == "two":
            self.set_mode("one")
        self._fill_transforms(cls.DEFAULT_TRANSFORM)
        self.loss_box.blockSignals(True)
        self.loss_box.clear()
        for i, name in enumerate(cls.LOSSES_ALLOWED):
            self.loss_box.addItem(name)
            self.loss_box.setItemData(i, getattr(LOSSES.get(name), "description", ""), 3)
        self.loss_box.blockSignals(False)
        self._fill_sizes(recipe)
        self._loss_changed()
        self._mode_changed()

    def _fill_sizes(self, recipe: str) -> None:
        while self.size_grid.count():
            w = self.size_grid.takeAt(0).widget()
            if w is not None:
                w.hide()
                w.deleteLater()
        defaults = ARCHITECTURES.get(recipe).config_class()
        self._size_boxes = {}
        for i, name in enumerate(size_fields(recipe)):
            box = self._size_boxes[name] = _spin(0 if name in ("depth", "critic_layers") else 1, 1024,
                                                 getattr(defaults, name), tip=f"{recipe} config: {SIZE_TIPS[name]}")
            box.valueChanged.connect(self.changed)
            r, c = divmod(i, 2)
            self.size_grid.addWidget(QLabel(name.replace("_", " ")), r, 2 * c)
            self.size_grid.addWidget(box, r, 2 * c + 1)
        self.size_grid.setColumnStretch(1, 1)
        self.size_grid.setColumnStretch(3, 1)

    def _fill_transforms(self, default: str) -> None:
        box, optional = self.transform_box, self.mode() == "two"
        box.blockSignals(True)
        box.clear()
        if optional:
            box.addItem(NONE)
            box.setItemData(0, "Domain A as it is", 3)
        for name, t in TRANSFORMS.items():
            box.addItem(name)
            box.setItemData(box.count() - 1, t.description, 3)
        box.setCurrentText(NONE if optional else default)
        box.blockSignals(False)

    @Slot()
    def _loss_changed(self) -> None:
        recipe, loss = self.recipe(), self.loss_box.currentText()
        if not loss:
            return
        self.loss_box.setToolTip(getattr(LOSSES.get(loss), "description", ""))
        table = [FamilyOption(k, *row) for k, row in recipe_class(recipe).options_table(loss).items()
                 if k not in ("transform", "data_b", "domains", "limit")]
        self.options_box.set_table((recipe, loss), table, f"{RECIPES[recipe][0].split(' — ')[0]} options")
        for box in self.options_box.boxes.values():
            box.setMinimumWidth(72)       # the column's width sizes a box, not the longest value it could hold
        self.defaults_changed.emit()
        self.changed.emit()

    @Slot()
    def _mode_changed(self) -> None:
        mode = self.mode()
        self.mode_box.setToolTip(MODE_TIPS[mode])
        if (self.transform_box.itemText(0) == NONE) != (mode == "two"):
            self._fill_transforms(recipe_class(self.recipe()).DEFAULT_TRANSFORM)
        form = self.data_form
        form.setRowVisible(2, mode == "two")
        form.setRowVisible(3, mode != "ab")
        self.source_label.setText({"one": "Source", "ab": "Folder", "two": "Domain A"}[mode])
        self.data_edit.setPlaceholderText({"one": "MNIST folder, image folder, .npy / .npz",
                                           "ab": "a folder with A/ and B/ subfolders",
                                           "two": "domain A: a folder or file"}[mode])
        self._data_edited()

    @Slot()
    def _data_edited(self) -> None:
        self.data_changed.emit(self.data_path())
        self.changed.emit()

    # ------------------------------------------------------------ values
    def data_path(self) -> str:
        return self.data_edit.text().strip()

    def set_data_path(self, path: str, data_b: str = "") -> None:
        self.data_edit.setText(str(path))
        self.data_b_edit.setText(str(data_b))
        self._data_edited()

    def set_transform(self, name: str) -> None:
        self.transform_box.setCurrentText(name)

    def set_data_info(self, text: str, error: bool = False) -> None:
        self.data_info.setText(text)
        self.data_info.setStyleSheet("color: #ff8a8a;" if error else "")

    def path_problem(self) -> str:
        """Why the data cannot be used, found without reading it ('' when the paths look right)."""
        mode, data, data_b = self.mode(), self.data_path(), self.data_b_edit.text().strip()
        for path, what in ((data, "domain A" if mode == "two" else "the dataset"), (data_b, "domain B")):
            if what == "domain B" and mode != "two":
                continue
            if not path:
                return f"choose {what} first"
            if not Path(path).expanduser().exists():
                return f"{what} {path} does not exist"
        if mode == "ab" and not has_ab_folders(data):
            return f"{data} has no A/ and B/ subfolders"
        return ""

    def data_options(self) -> dict:
        mode, out = self.mode(), {}
        transform = self.transform_box.currentText()
        if mode == "two":
            out["data_b"] = self.data_b_edit.text().strip()
        if mode == "one" or mode == "two" and transform != NONE:
            out["transform"] = transform
        if self.domains_edit.text().strip():
            out["domains"] = self.domains_edit.text().strip()
        if self.limit_box.value():
            out["limit"] = self.limit_box.value()
        return out

    def arch_config(self) -> dict:
        defaults = ARCHITECTURES.get(self.recipe()).config_class()
        return {k: box.value() for k, box in self._size_boxes.items() if box.value() != getattr(defaults, k)}

    def hyper_defaults(self) -> tuple[float, int]:
        """The learning rate and critic steps the recipe trains with by default (its paper's, over the loss's)."""
        cls, spec = recipe_class(self.recipe()), LOSSES.get(self.loss_box.currentText())
        return float(cls.SPEC.get("lr", spec.lr)), int(cls.SPEC.get("n_critic", spec.n_critic))

    def config(self, **settings) -> TrainConfig:
        """The TrainConfig of this run; `settings` are the schedule's TrainConfig fields."""
        return translation_config(self.recipe(), self.data_path(), loss=self.loss_box.currentText(),
                                  options=self.data_options() | self.options_box.options(),
                                  arch_config=self.arch_config(), **settings)

    def widgets(self) -> list[QWidget]:
        """What a running training fixes."""
        return [self.mode_box, self.data_edit, self.browse_btn, self.data_b_edit, self.browse_b_btn,
                self.transform_box, self.domains_edit, self.limit_box, self.recipe_box, self.loss_box,
                self.options_box, *self._size_boxes.values()]

    # ------------------------------------------------------------ dialogs
    def _browse(self, which: str, folder: bool) -> None:
        edit = self.data_edit if which == "a" else self.data_b_edit
        start = edit.text().strip() or str(Path.home())
        if folder:
            path = QFileDialog.getExistingDirectory(self, "Choose a folder", start)
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a dataset file", start,
                                                  "Datasets (*.npz *.npy *.gz *idx*);;All files (*)")
        if path:
            edit.setText(path)
            self._data_edited()

