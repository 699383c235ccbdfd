"""The training settings of the training panel: dataset, architecture and its size, loss, regulariser,
hyper-parameters, schedule and output file — turned into the engine's `TrainConfig`.

Architectures, losses and regularisers come from the engine's registries when the form is built, and the
hyper-parameters are re-filled with the chosen loss's defaults (a value equal to the default is passed as
None, so the engine — and the equivalent CLI call — use the loss's or the recipe's own setting). The other
boxes start at `TrainConfig`'s defaults (the same table `gan-studio train` is built from; `FORM_DEFAULTS` names
the few the form starts differently) and show its fields' tooltips.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...engine.errors import UserError
from ...engine.registry import ARCHITECTURES, LOSSES, REGULARIZERS
from ...engine.training.families import family_spec, losses_for
from ...engine.training.loop import TrainConfig
from .family_options import FamilyOptions, _dspin, _spin
from .training_schedule import (  # noqa: F401  (FORM_DEFAULTS, form_default, form_tip, section: this form's too)
    FORM_DEFAULTS,
    build_output,
    build_schedule,
    form_default,
    form_layout,
    form_tip,
    section,
)
from .translation_form import TranslationForm

SIZE_FIELDS = ("width", "z_dim", "w_dim", "mapping_layers", "channel_max")   # shown when the config has them
GUI_DEFAULTS = {"dcgan": {"width": 32, "z_dim": 64}}                          # small enough for a CPU
RESOLUTIONS = (8, 16, 28, 32, 64, 128, 256)
DATA_FILTER = "Datasets (*.npz *.npy *.gz *idx*);;All files (*)"
CODE_OPTIONS = (("conditional", "Conditional"), ("info", "InfoGAN"))     # tooltips: the TrainConfig fields'
KINDS = (("gan", "Latent → image (GAN families)", "Train a generator of new images from random codes"),
         ("translation", "Image to image (pix2pix, CycleGAN, …)",
          "Train a model that turns an image into another: pix2pix, CycleGAN, DiscoGAN, DualGAN, SRResNet, SRGAN "
          "(gan-studio train-translation)"))
def image_architectures() -> list[str]:
    return [n for n in ARCHITECTURES.names() if getattr(ARCHITECTURES.get(n), "kind", "") == "image-generator"]


def has_option(name: str) -> bool:
    """Whether this engine's TrainConfig has a setting (e.g. `sn`)."""
    return name in {f.name for f in dataclasses.fields(TrainConfig)}


class TrainingForm(QWidget):
    data_changed = Signal(str)      # the dataset path, after an edit or Browse
    changed = Signal()              # anything that changes the command line

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._size_boxes: dict[str, QSpinBox] = {}
        self._build()
        self._arch_changed()
        self._loss_changed()

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 6, 0)
        lay.setSpacing(4)
        self.kind_box = QComboBox()
        for key, text, tip in KINDS:
            self.kind_box.addItem(text, key)
            self.kind_box.setItemData(self.kind_box.count() - 1, tip, 3)         # ToolTipRole
        kind_row = self._form()
        kind_row.addRow("Kind", self.kind_box)
        lay.addLayout(kind_row)
        self.gan_part = QWidget()                      # the latent -> image families' Dataset and Model sections
        gan = QVBoxLayout(self.gan_part)
        gan.setContentsMargins(0, 0, 0, 0)
        gan.setSpacing(4)
        self.translation = TranslationForm()           # the image-to-image recipes' (hidden until chosen)
        self.translation.hide()
        for where, title, build in ((gan, "Dataset", self._build_data), (gan, "Model", self._build_model),
                                    (lay, "", None), (lay, "Training", self._build_hyper),
                                    (lay, "Output", self._build_output)):
            if build is None:                          # the kind's own sections above the shared ones
                lay.addWidget(self.gan_part)
                lay.addWidget(self.translation)
            else:
                where.addSpacing(6)
                where.addWidget(section(title))
                where.addLayout(build())
        lay.addStretch(1)
        self.kind_box.currentIndexChanged.connect(self._kind_changed)
        self.translation.changed.connect(self.changed)
        self.translation.data_changed.connect(self.data_changed)
        self.translation.defaults_changed.connect(self._translation_defaults)

    def _build_data(self) -> QVBoxLayout:
        self.data_edit = QLineEdit()
        self.data_edit.setPlaceholderText("MNIST folder, image folder, .npy / .npz")
        self.data_edit.setToolTip(form_tip("data"))
        self.browse_btn = QToolButton()
        self.browse_btn.setText("Browse")
        self.browse_btn.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.browse_btn)
        menu.addAction("Folder (MNIST or images)…", lambda: self._browse(folder=True))
        menu.addAction("File (.npz, .npy, IDX)…", lambda: self._browse(folder=False))
        self.browse_btn.setMenu(menu)
        self.data_info = QLabel("")
        self.data_info.setWordWrap(True)
        self.data_info.setProperty("role", "subtle")
        row = QHBoxLayout()
        row.addWidget(self.data_edit, 1)
        row.addWidget(self.browse_btn)
        col = QVBoxLayout()
        col.setSpacing(2)
        col.addLayout(row)
        col.addWidget(self.data_info)
        self.data_edit.editingFinished.connect(lambda: self.data_changed.emit(self.data_path()))
        return col

    def _build_model(self) -> QFormLayout:
        self.arch_box = QComboBox()
        self.arch_box.addItems(image_architectures())
        self.arch_box.setCurrentText(form_default("arch"))
        self.size_grid = QGridLayout()
        self.size_grid.setContentsMargins(0, 0, 0, 0)
        self.size_grid.setHorizontalSpacing(6)
        self.res_box = QComboBox()
        self.res_box.setToolTip("Image size the model makes; auto: from the dataset")
        self.loss_box = QComboBox()                 # the architecture's losses: _fill_losses
        self.reg_box = QComboBox()
        self.reg_box.addItems(REGULARIZERS.names())
        self.reg_weight = _dspin(0.0, 10_000.0, 10.0, 4, 1.0, form_tip("reg_weight"))    # 10.0 until the loss's
        self.reg_weight.valueChanged.connect(self.changed)
        reg_row = QHBoxLayout()
        reg_row.addWidget(self.reg_box, 1)
        reg_row.addWidget(QLabel("weight"))
        reg_row.addWidget(self.reg_weight, 1)
        form = self._form()
        form.addRow("Architecture", self.arch_box)
        form.addRow("Size", self.size_grid)
        form.addRow("Loss", self.loss_box)
        form.addRow("Regulariser", reg_row)
        self.sn_boxes: dict[str, QCheckBox] = {}
        sn_row = QHBoxLayout()
        for key, text in (("sn", "critic"), ("sn_generator", "generator")):
            if has_option(key):
                box = self.sn_boxes[key] = QCheckBox(text)
                box.setToolTip(f"Spectral normalisation (Miyato et al. 2018) of the {text}'s layers")
                box.toggled.connect(self.changed)
                sn_row.addWidget(box)
        if self.sn_boxes:
            sn_row.addStretch(1)
            form.addRow("Spectral norm", sn_row)
        self.code_boxes: dict[str, QCheckBox] = {}
        code_row = QHBoxLayout()
        for key, text in CODE_OPTIONS:
            if has_option(key):
                box = self.code_boxes[key] = QCheckBox(text)
                box.setToolTip(form_tip(key))
                box.toggled.connect(self.changed)
                code_row.addWidget(box)
        if self.code_boxes:
            code_row.addStretch(1)
            form.addRow("Codes", code_row)
        self.family_opts = FamilyOptions()          # the family's --options (ProGAN's phases, BEGAN's γ, …)
        self.family_opts.changed.connect(self.changed)
        form.addRow(self.family_opts)
        self.arch_box.currentTextChanged.connect(self._arch_changed)
        self.loss_box.currentTextChanged.connect(self._loss_changed)
        self.reg_box.currentTextChanged.connect(self._reg_changed)
        return form

    def _build_hyper(self) -> QGridLayout:
        return build_schedule(self)

    def _build_output(self) -> QHBoxLayout:
        return build_output(self)

    _form = staticmethod(form_layout)

    # ------------------------------------------------------------ choices
    @Slot()
    def _arch_changed(self) -> None:
        arch = self.arch_box.currentText()
        while self.size_grid.count():
            w = self.size_grid.takeAt(0).widget()
            if w is not None and w is not self.res_box:
                w.hide()                                    # at once: deleteLater waits for the event loop
                w.deleteLater()
        self._size_boxes = {}
        family = ARCHITECTURES.get(arch) if arch else None
        fields = {f.name: f.default for f in dataclasses.fields(family.config_class)} if family else {}
        ours = GUI_DEFAULTS.get(arch, {})
        cells = []
        for name in (n for n in SIZE_FIELDS if n in fields):
            box = _spin(1, 4096, int(ours.get(name, fields[name])), tip=f"{arch} config: {name}")
            box.valueChanged.connect(self.changed)
            self._size_boxes[name] = box
            cells.append((name.replace("_dim", "").replace("_", " "), box))
        self.res_box.clear()
        self.res_box.addItem("auto")
        self.res_box.addItems([str(r) for r in self._resolutions(family, fields)])
        cells.append(("px", self.res_box))
        for i, (text, box) in enumerate(cells):             # two pairs a row
            r, c = divmod(i, 2)
            self.size_grid.addWidget(QLabel(text), r, 2 * c)
            self.size_grid.addWidget(box, r, 2 * c + 1)
        self.size_grid.setColumnStretch(1, 1)
        self.size_grid.setColumnStretch(3, 1)
        self._fill_losses(arch)
        self.changed.emit()

    def _fill_losses(self, arch: str) -> None:
        """The losses `arch` trains with (its family's own, e.g. began / ebgan for dcgan-ae); the chosen one kept."""
        names, current = losses_for(arch) if arch else LOSSES.names(), self.loss_box.currentText()
        self.loss_box.blockSignals(True)
        self.loss_box.clear()
        for i, name in enumerate(names):
            self.loss_box.addItem(name)
            self.loss_box.setItemData(i, getattr(LOSSES.get(name), "description", ""), 3)   # ToolTipRole
        default = current if current in names else form_default("loss")
        self.loss_box.setCurrentText(default if default in names else names[0] if names else "")
        self.loss_box.blockSignals(False)
        self._loss_changed()

    @staticmethod
    def _resolutions(family, fields: dict) -> list[int]:
        ok = []
        for r in RESOLUTIONS:
            try:
                family.config_class(**{k: v for k, v in fields.items() if v is not dataclasses.MISSING}
                                    | {"img_resolution": r})
                ok.append(r)
            except (TypeError, ValueError):
                pass
        return ok

    @Slot()
    def _loss_changed(self) -> None:
        """The loss's own regulariser, then its hyper-parameters."""
        name = self.loss_box.currentText()
        if name not in LOSSES:
            return
        loss = LOSSES.get(name)
        self.loss_box.setToolTip(getattr(loss, "description", ""))
        self.family_opts.set_family(self.arch_box.currentText(), name)
        self.reg_box.blockSignals(True)
        self.reg_box.setCurrentText(getattr(loss, "reg", "none"))
        self.reg_box.blockSignals(False)
        self._reg_changed()

    @Slot()
    def _reg_changed(self) -> None:
        """Pre-fill lr, n_critic and the regulariser weight with the defaults of this loss + regulariser."""
        reg, spec = self.reg_box.currentText(), self.spec()
        self.reg_weight.setEnabled(reg != "none")
        if spec is not None:
            self.lr_box.setValue(float(getattr(spec, "lr", 2e-4)))
            self.n_critic_box.setValue(int(getattr(spec, "n_critic", 1)))
            self.reg_weight.setValue(float(getattr(spec, "reg_weight", 0.0) or 10.0))
        self.changed.emit()

    def spec(self):
        """The loss spec whose settings this loss + regulariser train with (None: no loss chosen)."""
        name = self.loss_box.currentText()
        return family_spec(self.arch_box.currentText(), name, self.reg_box.currentText() or None) \
            if name in LOSSES else None

    # ------------------------------------------------------------ kind
    def is_translation(self) -> bool:
        return self.kind_box.currentData() == "translation"

    def set_kind(self, kind: str) -> None:
        """'gan' (latent -> image) or 'translation' (image to image)."""
        self.kind_box.setCurrentIndex(self.kind_box.findData(kind))

    @Slot()
    def _kind_changed(self) -> None:
        tr = self.is_translation()
        self.gan_part.setVisible(not tr)
        self.translation.setVisible(tr)
        self._translation_defaults() if tr else self._reg_changed()
        self.data_changed.emit(self.data_path())

    @Slot()
    def _translation_defaults(self) -> None:
        """The recipe's learning rate and critic steps (its paper's), as _reg_changed does for a loss."""
        if self.is_translation():
            lr, n_critic = self.translation.hyper_defaults()
            self.lr_box.setValue(lr)
            self.n_critic_box.setValue(n_critic)
            self.changed.emit()

    def output_parts(self) -> tuple[str, str]:
        """What the default output file is named after besides the data: (architecture or recipe, loss or
        transform)."""
        if self.is_translation():
            t = self.translation
            return t.recipe(), t.data_options().get("transform") or t.loss_box.currentText()
        return self.arch_box.currentText(), self.loss_box.currentText()

    # ------------------------------------------------------------ values
    def data_path(self) -> str:
        return self.translation.data_path() if self.is_translation() else self.data_edit.text().strip()

    def set_data_path(self, path: str) -> None:
        self.data_edit.setText(str(path))
        self.data_changed.emit(self.data_path())

    def set_data_info(self, text: str, error: bool = False) -> None:
        if self.is_translation():
            return self.translation.set_data_info(text, error)
        self.data_info.setText(text)
        self.data_info.setStyleSheet("color: #ff8a8a;" if error else "")

    def out_path(self) -> str:
        return self.out_edit.text().strip()

    def set_out_path(self, path: str | Path) -> None:
        self.out_edit.setText(str(path))
        self.changed.emit()

    def arch_config(self) -> dict:
        cfg = {name: box.value() for name, box in self._size_boxes.items()}
        res = self.res_box.currentText()
        if res and res != "auto":
            cfg["img_resolution"] = int(res)
        return cfg

    def _schedule(self, device: str) -> dict:
        return dict(steps=self.steps_box.value(), batch=self.batch_box.value(), seed=self.seed_box.value(),
                    sample_every=self.sample_box.value(), checkpoint_every=self.ckpt_box.value(),
                    max_minutes=self.minutes_box.value() or None, device=device)

    def config(self, device: str = "auto") -> TrainConfig:
        """The TrainConfig these settings describe (a value equal to the loss's or recipe's default is left None)."""
        if self.is_translation():
            (lr0, n0), lr, n = self.translation.hyper_defaults(), self.lr_box.value(), self.n_critic_box.value()
            return self.translation.config(lr=None if abs(lr - lr0) < 1e-12 else lr,
                                           n_critic=None if n == n0 else n, **self._schedule(device))
        name, reg, spec = self.loss_box.currentText(), self.reg_box.currentText(), self.spec()
        if spec is None:
            raise UserError("choose a loss")
        weight, lr, n_critic = self.reg_weight.value(), self.lr_box.value(), self.n_critic_box.value()
        default_weight = float(getattr(spec, "reg_weight", 0.0) or 10.0)
        return TrainConfig.from_dict(dict(
            data=self.data_path(), arch=self.arch_box.currentText(), arch_config=self.arch_config(),
            loss=name, reg=None if reg == getattr(LOSSES.get(name), "reg", "none") else reg,
            reg_weight=None if reg == "none" or abs(weight - default_weight) < 1e-12 else weight,
            lr=None if abs(lr - float(getattr(spec, "lr", 0.0))) < 1e-12 else lr,
            n_critic=None if n_critic == int(getattr(spec, "n_critic", 1)) else n_critic,
            options=self.family_opts.options(), **self._schedule(device),
            **{k: box.isChecked() for k, box in {**self.sn_boxes, **self.code_boxes}.items()}))

    def set_running(self, running: bool) -> None:
        """Settings are fixed while a run goes on."""
        for w in [self.data_edit, self.browse_btn, self.arch_box, self.res_box, self.loss_box, self.reg_box,
                  self.reg_weight, self.lr_box, self.n_critic_box, self.batch_box, self.steps_box, self.seed_box,
                  self.sample_box, self.ckpt_box, self.minutes_box, self.out_edit, self.out_btn, self.family_opts,
                  self.kind_box, *self.translation.widgets(), *self._size_boxes.values(), *self.sn_boxes.values(),
                  *self.code_boxes.values()]:
            w.setEnabled(not running)
        if not running:
            self.reg_weight.setEnabled(self.reg_box.currentText() != "none")

    # ------------------------------------------------------------ dialogs
    def _browse(self, folder: bool) -> None:
        start = self.data_path() or str(Path.home())
        if folder:
            path = QFileDialog.getExistingDirectory(self, "Choose a dataset folder", start)
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a dataset file", start, DATA_FILTER)
        if path:
            self.set_data_path(path)
