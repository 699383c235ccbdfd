"""The 3D panel's left column: the voxel model, where a shape comes from (an image, a ModelNet10 test object,
a seed) and the interpolation from the shape on screen (A) to B (a seed or an image)."""
from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...engine.jobs.shapes import EVAL_SEED
from ...engine.models.voxel_prior import MAX_TRUNCATION
from ..theme import role_label
from .voxel_model_chooser import VoxelModelChooser

MAX_SEED = 2**31 - 1            # what a spin box holds (the seeds of sample3d are any int, these are enough)
MAX_REFINE = 200                # refinement steps the box offers (the CLI takes up to 1000)
REFINE_COST = ("Latent refinement after encoding: z is optimised for this many steps so that the shape, rendered "
               "from the camera that fits the picture best, matches the picture (silhouette and shading). "
               "0 = the encoder alone (a few ms). Cost: about {ms} ms a step for one picture on one CPU thread "
               "(measured, bench/refine3d.py), i.e. about {s25:.1f} s for 25 steps, plus ~{search} s to find "
               "the camera. Same as `gan-studio reconstruct --refine STEPS`.")
# measured by bench/refine3d.py on the shared 2-core machine under load (one thread, 100 test objects in batches
# of 16: 2.57 s an object for 10 steps, 5.65 s for 25): ~200 ms a step, ~0.5-1 s for the camera search
REFINE_MS_PER_STEP, REFINE_SEARCH_S = 200, 1.0


def _spin(value: int, lo: int = 0, hi: int = MAX_SEED, width: int = 72) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(lo, hi)
    spin.setValue(value)
    spin.setKeyboardTracking(False)
    spin.setMinimumWidth(width)
    return spin


def _row(*widgets, stretch: int = -1) -> QHBoxLayout:
    """Widgets side by side; the one at index `stretch` takes the room."""
    row = QHBoxLayout()
    for i, w in enumerate(widgets):
        row.addWidget(w, 1 if i == stretch else 0)
    return row


def _set_silently(spin: QSpinBox, value: int) -> None:
    if spin.value() != value:
        spin.blockSignals(True)
        spin.setValue(value)
        spin.blockSignals(False)


class ShapeControls(QWidget):
    """Asks for shapes; the panel does the work. Seeds and test objects ask as their boxes change."""

    seed_requested = Signal(int)
    truncation_changed = Signal(float)
    class_changed = Signal()                  # the class random shapes are drawn from (a fitted prior's)
    object_requested = Signal(int)
    refine_changed = Signal(int)
    image_clicked = Signal()
    interpolate_clicked = Signal()
    b_image_clicked = Signal()

    def __init__(self, data_dir: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.b_image: str | None = None
        self.chooser = VoxelModelChooser()
        inputs, interp = self._build_inputs(), self._build_interpolation()
        self.drop_hint = role_label("Tip: drop an image, a .npy voxel grid or a voxel model file anywhere on this "
                                    "panel.", "subtle")
        self.drop_hint.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 10, 0)
        for title, part in (("VOXEL MODEL", self.chooser), ("SHAPE FROM", inputs), ("INTERPOLATE", interp)):
            lay.addWidget(role_label(title, "section"))
            lay.addWidget(part)
            lay.addSpacing(12)
        lay.addWidget(self.drop_hint)
        lay.addStretch(1)
        self._connect()

    def _build_inputs(self) -> QWidget:
        self.open_image_btn = QPushButton("Open image…")
        self.open_image_btn.setToolTip("Reconstruct a shape from one image (PNG, JPEG, TIFF, BMP, GIF, WebP …) "
                                       "or show a .npy voxel grid — or drop the file on this panel")
        self.object_spin = _spin(0, hi=0, width=70)
        self.object_class = role_label("", "subtle")
        self.object_class.setMinimumWidth(0)                     # a long class name shortens, the row stays
        self.object_class.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.object_btn = QPushButton("Show")
        self.seed_spin = _spin(1)
        self.seed_spin.setToolTip("The seed of a random shape (the same seeds as `gan-studio sample3d --seed`)")
        self.seed_btn = QPushButton("Show")
        for btn in (self.object_btn, self.seed_btn):             # narrower than the style's 80 px: room for the class
            btn.setMinimumWidth(52)
            btn.setMaximumWidth(60)
        self.random_btn = QToolButton()
        self.random_btn.setText("⟳")
        self.random_btn.setToolTip("A random seed")
        self.random_btn.setFixedWidth(30)
        obj_row = _row(self.object_spin, self.object_class, self.object_btn, stretch=1)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Test object", obj_row)
        form.addRow("Seed", _row(self.seed_spin, self.random_btn, self.seed_btn, stretch=0))
        self.psi_spin = QDoubleSpinBox()
        self.psi_spin.setRange(0.05, MAX_TRUNCATION)
        self.psi_spin.setSingleStep(0.05)
        self.psi_spin.setDecimals(2)
        self.psi_spin.setValue(1.0)
        self.psi_spin.setKeyboardTracking(False)
        self.psi_spin.setToolTip("Truncation ψ of random shapes: the spread of a seed's latent. Lower: plainer, more "
                                 "typical shapes; higher: more varied ones. Starts at the model's (chosen by "
                                 "`gan-studio eval3d --choose-sampling`); same as `sample3d --truncation`")
        form.addRow("Truncation ψ", _row(self.psi_spin, role_label("random shapes", "subtle"), stretch=1))
        self._add_class_row(form)
        self.refine_spin = _spin(0, hi=MAX_REFINE, width=60)
        self.refine_spin.setSuffix(" steps")
        self.refine_spin.setSpecialValueText("off")
        tip = REFINE_COST.format(ms=REFINE_MS_PER_STEP, s25=25 * REFINE_MS_PER_STEP / 1000, search=REFINE_SEARCH_S)
        self.refine_spin.setToolTip(tip)
        self.refine_cost = role_label("", "subtle")
        self.refine_cost.setToolTip(tip)
        refine_row = _row(self.refine_spin, self.refine_cost, stretch=1)
        form.addRow("Refine", refine_row)
        self.refine_label = form.labelForField(refine_row)
        self._refine_cost()
        self.object_label = form.labelForField(obj_row)
        self._object_tips()
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.open_image_btn)
        lay.addLayout(form)
        return box

    @Slot()
    def _refine_cost(self, *_) -> None:
        """The cost of the steps in the box, next to it (images and test objects; not seeds)."""
        n = self.refine_spin.value()
        self.refine_cost.setText("encoder only" if n == 0 else
                                 f"≈ {REFINE_SEARCH_S + n * REFINE_MS_PER_STEP / 1000:.1f} s a shape")

    def refine_steps(self) -> int:
        return self.refine_spin.value()

    def _object_tips(self) -> None:
        if self.data_dir is None:
            why = ("ModelNet10 test objects need ../shared/data/modelnet10_vox32/modelnet10.npz "
                   "(or $GAN_STUDIO_SHARED_DATA/modelnet10_vox32): not found")
            for w in (self.object_spin, self.object_btn, self.object_class, self.object_label):
                w.setToolTip(why)
            self.object_class.setText("no data")
        else:
            tip = (f"A ModelNet10 test object from {self.data_dir}, rendered from the one view "
                   f"`gan-studio eval3d` scores it on (seed {EVAL_SEED})")
            for w in (self.object_spin, self.object_btn, self.object_label):
                w.setToolTip(tip)

    def _build_interpolation(self) -> QWidget:
        self.b_box = QComboBox()
        self.b_box.addItem("Seed", "seed")
        self.b_box.addItem("Image", "image")
        self.b_seed = _spin(2)
        self.b_seed.setKeyboardTracking(True)
        self.b_image_btn = QPushButton("Choose…")
        self.b_image_btn.setToolTip("The image whose shape is B")
        self.b_image_label = role_label("", "subtle")
        self.steps_spin = _spin(10, lo=2, hi=200, width=60)
        self.steps_spin.setKeyboardTracking(True)
        self.method_box = QComboBox()
        self.method_box.addItem("Slerp", "slerp")
        self.method_box.addItem("Lerp", "lerp")
        self.interp_btn = QPushButton("Interpolate A → B")
        self.interp_btn.setToolTip("Blend the shape on screen (A) into B through the latent space")
        for w in (self.b_image_btn, self.b_image_label):          # B starts as a seed
            w.setVisible(False)
        b_row = _row(self.b_box, self.b_seed, stretch=1)
        b_row.addWidget(self.b_image_btn, 1)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("B", b_row)
        form.addRow("", self.b_image_label)
        form.addRow("Frames", _row(self.steps_spin, self.method_box, stretch=1))
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(form)
        lay.addWidget(self.interp_btn)
        return box

    def _add_class_row(self, form: QFormLayout) -> None:
        """The class of random shapes: only for models with a fitted prior (`gan-studio prior3d`)."""
        self.class_box = QComboBox()
        self.class_box.setToolTip("Draw random shapes from one class (models with a fitted latent prior); "
                                  "same as `sample3d --class`")
        self.class_row = _row(self.class_box, stretch=1)
        form.addRow("Class", self.class_row)
        self.class_label = form.labelForField(self.class_row)
        self.set_components([])

    def _connect(self) -> None:
        self.open_image_btn.clicked.connect(self.image_clicked)
        self.object_spin.valueChanged.connect(self.object_requested)
        self.object_btn.clicked.connect(lambda: self.object_requested.emit(self.object_spin.value()))
        self.seed_spin.valueChanged.connect(self.seed_requested)
        self.psi_spin.valueChanged.connect(self.truncation_changed)
        self.class_box.currentIndexChanged.connect(lambda _: self.class_changed.emit())
        self.refine_spin.valueChanged.connect(self._refine_cost)
        self.refine_spin.valueChanged.connect(self.refine_changed)
        self.seed_btn.clicked.connect(lambda: self.seed_requested.emit(self.seed_spin.value()))
        self.random_btn.clicked.connect(lambda: self.seed_requested.emit(random.randint(0, 99_999)))
        self.b_box.currentIndexChanged.connect(self._b_kind_changed)
        self.b_image_btn.clicked.connect(self.b_image_clicked)
        self.interp_btn.clicked.connect(self.interpolate_clicked)

    # ------------------------------------------------------------ state
    def show_seed(self, seed: int) -> None:
        _set_silently(self.seed_spin, seed)

    def truncation(self) -> float:
        return round(self.psi_spin.value(), 2)

    def set_truncation(self, psi: float) -> None:
        """The model's ψ (a new model): no request."""
        self.psi_spin.blockSignals(True)
        self.psi_spin.setValue(float(psi))
        self.psi_spin.blockSignals(False)

    def set_components(self, names: list[str]) -> None:
        """The model's prior components (class names; [] for none: the row hides), back to the seed's own."""
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItem("the seed's own", None)
        for name in names:
            self.class_box.addItem(name.replace("_", " "), name)
        self.class_box.blockSignals(False)
        for w in (self.class_box, self.class_label):
            w.setVisible(bool(names))

    def component(self) -> str | None:
        return self.class_box.currentData()

    def seed_request(self, seed: int) -> tuple:
        """The request for seed `seed` as the boxes say: ("seed", n, ψ, class or None)."""
        return ("seed", int(seed), self.truncation(), self.component())

    def show_object(self, index: int) -> None:
        _set_silently(self.object_spin, index)

    def set_test_set(self, tests) -> None:
        """The test objects are loaded: the box covers them."""
        self.object_spin.blockSignals(True)
        self.object_spin.setRange(0, len(tests) - 1)
        self.object_spin.blockSignals(False)
        self.object_class.setText(tests.class_name(self.object_spin.value()).replace("_", " "))

    def test_set_failed(self, message: str) -> None:
        for w in (self.object_spin, self.object_btn):
            w.setEnabled(False)
            w.setToolTip(f"The ModelNet10 test objects could not be read: {message}")
        self.object_class.setText("unreadable")

    def set_b(self, seed: int | None = None, image: str | None = None, steps: int | None = None,
              method: str | None = None) -> None:
        """Set B and the frames (None: leave as is)."""
        if seed is not None:
            self.b_box.setCurrentIndex(0)
            self.b_seed.setValue(int(seed))
        if image is not None:
            self.b_box.setCurrentIndex(1)
            self.b_image = str(image)
            self.b_image_label.setToolTip(self.b_image)
            self._b_kind_changed()
        if steps is not None:
            self.steps_spin.setValue(int(steps))
        if method is not None:
            self.method_box.setCurrentIndex(max(0, self.method_box.findData(method)))

    def b(self) -> tuple | None:
        """B as ("seed", n, ψ, class) or ("image", path); None while B is an image not chosen yet."""
        if self.b_box.currentData() == "seed":
            return self.seed_request(self.b_seed.value())
        return ("image", self.b_image) if self.b_image else None

    @Slot()
    def _b_kind_changed(self, *_) -> None:
        image = self.b_box.currentData() == "image"
        self.b_seed.setVisible(not image)
        self.b_image_btn.setVisible(image)
        self.b_image_label.setVisible(image)
        self.b_image_label.setText(Path(self.b_image).name if self.b_image else "no image chosen")

    def update_enabled(self, has_model: bool, has_data: bool, can_interpolate: bool) -> None:
        for w in (self.seed_spin, self.seed_btn, self.random_btn, self.psi_spin):
            w.setEnabled(has_model)
        for w in (self.object_spin, self.object_btn, self.object_label):
            w.setEnabled(has_model and has_data)
        for w in (self.refine_spin, self.refine_label):
            w.setEnabled(has_model)
        self._b_kind_changed()
        self.interp_btn.setEnabled(can_interpolate)
