"""The training form's parts that both kinds of run share (latent → image and image to image): the schedule
(learning rate, critic steps, batch, steps, seed, time limit, sample / checkpoint / FID intervals) and the output
file, built as boxes of the form; the starting values and tooltips of TrainConfig settings; the section headers."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QFormLayout, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QToolButton

from ...engine.config import options_of
from ...engine.training.loop import TrainConfig
from .family_options import _dspin, _spin

TRAIN_OPTIONS = options_of(TrainConfig)
FORM_DEFAULTS = {"steps": 5000, "sample_every": 100}    # the form starts a longer run with a livelier sample grid


def form_default(name: str):
    """The form's starting value of a TrainConfig setting: TrainConfig's default unless FORM_DEFAULTS has one."""
    return FORM_DEFAULTS[name] if name in FORM_DEFAULTS else TRAIN_OPTIONS[name].default


def form_tip(name: str) -> str:
    """The tooltip of a TrainConfig setting (its field's `tip`, else its help)."""
    return TRAIN_OPTIONS[name].tooltip if name in TRAIN_OPTIONS else ""


def section(text: str) -> QLabel:
    lab = QLabel(text.upper())
    lab.setProperty("role", "section")
    return lab


def form_layout() -> QFormLayout:
    form = QFormLayout()
    form.setContentsMargins(0, 0, 0, 0)
    form.setHorizontalSpacing(8)
    form.setVerticalSpacing(4)
    return form


def build_schedule(form) -> QGridLayout:
    """The boxes as attributes of `form` (lr_box, n_critic_box, batch_box, steps_box, seed_box, sample_box, ckpt_box,
    minutes_box, fid_box, fid_n_box) in a grid of two pairs a row. Each box but FID's emits `form.changed`."""
    # lr and n_critic start at placeholders that the loss's (or recipe's) own replace at once
    form.lr_box = _dspin(1e-6, 1.0, 2e-4, 6, 1e-4, form_tip("lr"))
    form.n_critic_box = _spin(1, 100, 1, tip=form_tip("n_critic"))
    form.batch_box = _spin(1, 4096, form_default("batch"), 8, form_tip("batch"))
    form.steps_box = _spin(1, 10_000_000, form_default("steps"), 500, form_tip("steps"))
    form.seed_box = _spin(0, 2**31 - 1, form_default("seed"), tip=form_tip("seed"))
    form.sample_box = _spin(1, 1_000_000, form_default("sample_every"), 50, form_tip("sample_every"))
    form.ckpt_box = _spin(1, 1_000_000, form_default("checkpoint_every"), 100, form_tip("checkpoint_every"))
    form.minutes_box = _dspin(0.0, 100_000.0, form_default("max_minutes") or 0.0, 1, 5.0, form_tip("max_minutes"))
    form.minutes_box.setSpecialValueText("none")
    form.fid_box = _spin(0, 1_000_000, 2000, 500, "Measure FID every N steps on the latest checkpoint, "
                         "in the background (0: off)")
    form.fid_box.setSpecialValueText("off")
    form.fid_n_box = _spin(100, 10_000, 1000, 500, "Images (generated and real) per FID measurement")
    grid = QGridLayout()
    grid.setHorizontalSpacing(8)
    grid.setVerticalSpacing(4)
    pairs = [("Learning rate", form.lr_box), ("n_critic", form.n_critic_box), ("Batch", form.batch_box),
             ("Steps", form.steps_box), ("Seed", form.seed_box), ("Time limit (min)", form.minutes_box),
             ("Samples every", form.sample_box), ("Checkpoint every", form.ckpt_box),
             ("FID every", form.fid_box), ("FID images", form.fid_n_box)]
    for i, (text, box) in enumerate(pairs):
        r, c = divmod(i, 2)
        grid.addWidget(QLabel(text), r, 2 * c)
        grid.addWidget(box, r, 2 * c + 1)
        box.setMinimumWidth(84)
    grid.setColumnStretch(1, 1)
    grid.setColumnStretch(3, 1)
    for box in (form.lr_box, form.n_critic_box, form.batch_box, form.steps_box, form.seed_box, form.minutes_box,
                form.sample_box, form.ckpt_box):
        box.valueChanged.connect(form.changed)
    return grid


def build_output(form) -> QHBoxLayout:
    """The output file's row as `form.out_edit` and `form.out_btn` (a save dialog)."""
    form.out_edit = QLineEdit()
    form.out_edit.setToolTip("The model file: written every checkpoint, listed under My models")
    form.out_btn = QToolButton()
    form.out_btn.setText("…")
    form.out_btn.clicked.connect(lambda: _browse_out(form))
    form.out_edit.textEdited.connect(lambda _t: form.changed.emit())
    row = QHBoxLayout()
    row.addWidget(form.out_edit, 1)
    row.addWidget(form.out_btn)
    return row


def _browse_out(form) -> None:
    path, _ = QFileDialog.getSaveFileName(form, "Save the trained model as", form.out_path(), "Models (*.safetensors)")
    if path:
        form.set_out_path(path if path.endswith(".safetensors") else path + ".safetensors")
