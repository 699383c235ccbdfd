"""The 3D panel: a voxel model (kind "voxel-model") turns one image into a 32³ shape, or a seed into a random
one; the shape is shown as a mesh in an interactive 3D view beside the image the encoder saw.

Inputs: an image file (Open… or dropped on the panel; any common format, engine/image_input.py), a ModelNet10
test object seen as `eval3d` sees it (when the data is on disk), a seed, or a `.npy` voxel grid. Two shapes
blend in latent space (A = the current shape, B = a seed or an image) with a slider over the frames. Display:
threshold (debounced), cubes or a smooth isosurface, colour by occupancy probability. Out: STL / OBJ / PLY
meshes and `.npy` grids (the engine's `export_voxels`, as the CLI writes them), and a PNG of the 3D view.

The panel has its own model chooser, so the image panels keep their model; a voxel model opened in the main
window's list shows here too. All torch work runs in one background job at a time (`JobQueue`, latest wins per
kind of job); the UI thread only builds meshes (milliseconds) and renders on demand.
"""
from __future__ import annotations

import os
import random
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QFileDialog, QFormLayout, QFrame, QHBoxLayout,
                               QLabel, QPushButton, QScrollArea, QSizePolicy, QSlider, QSpinBox,
                               QToolButton, QVBoxLayout, QWidget)
from superqt import QLabeledDoubleSlider

from ...engine.bundle import Bundle, load_bundle
from ...engine.catalog import MODEL_SUFFIXES, list_models, shipped_dir, user_dir
from ...engine.errors import UserError
from ...engine.reconstruction import VoxelModel
from ..state import AppContext, LoadedModel
from ..widgets.voxel_view import InputView, VoxelView
from ..workers import TaskPool, TaskWorker
from .base import Panel
from ..theme import role_label

KIND = "voxel-model"
MAX_SEED = 2**31 - 1
EVAL_SEED = 0                    # eval3d's default --seed: test object i is seen as eval3d sees it
THRESHOLD_DEBOUNCE_MS = 150
PLAY_INTERVAL_MS = 120
CONTROLS_WIDTH = 280
CHECKED_STYLE = "QPushButton:checked { background: #2d69af; color: white; }"
REPO_ROOT = Path(__file__).resolve().parents[3]
IMAGE_FILTER = ("Images and voxel grids (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.ppm *.pgm *.npy);;"
                "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.ppm *.pgm);;"
                "Voxel grids (*.npy);;All files (*)")
EXPORT_FILTERS = {
    "STL mesh (*.stl)": (".stl", False), "OBJ mesh (*.obj)": (".obj", False), "PLY mesh (*.ply)": (".ply", False),
    "Voxel grid, occupied cells (*.npy)": (".npy", False),
    "Voxel grid, probabilities (*.npy)": (".npy", True),
}


def _label(text: str, role: str = "") -> QLabel:
    return role_label(text, role)


def modelnet_dir() -> Path | None:
    """The ModelNet10 32³ folder: under $GAN_STUDIO_SHARED_DATA when set, else ../shared/data (from the
    working directory, then from the repository)."""
    env = os.environ.get("GAN_STUDIO_SHARED_DATA")
    rel = Path("modelnet10_vox32")
    candidates = [Path(env) / rel] if env else [Path("../shared/data") / rel, REPO_ROOT.parent / "shared/data" / rel]
    for c in candidates:
        if (c / "modelnet10.npz").is_file():
            return c.resolve()
    return None


def model_ref(path: Path | None) -> str:
    """How the CLI names a model file: its catalogue name, else its path."""
    if path is None:
        return "MODEL"
    if path.parent.resolve() in (shipped_dir().resolve(), user_dir().resolve()):
        return shlex.quote(path.stem)
    return shlex.quote(str(path))


# ---------------------------------------------------------------- background jobs (worker thread)

@dataclass
class Shape:
    """A shape on screen and where it came from."""
    probs: np.ndarray                     # (32, 32, 32) float32 occupancy probabilities, [x, y, z] z up
    z: torch.Tensor | None                # (1, z_dim) latent (None for a voxel file)
    source: str                           # "seed" | "object" | "image" | "grid"
    title: str
    caption: str
    view: np.ndarray | None = None        # (S, S) the encoder's input in [0, 1]
    truth: np.ndarray | None = None       # (32, 32, 32) bool, the true shape of a test object
    seed: int | None = None
    path: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class TestSet:
    data: object                          # VoxelDataset (test split)
    params: object                        # ViewParams: eval3d's one view per object (seed EVAL_SEED)
    path: Path

    def __len__(self) -> int:
        return len(self.data)

    def class_name(self, i: int) -> str:
        return self.data.classes[int(self.data.labels[i])]


def load_model_job(path: str, device) -> tuple[str, VoxelModel]:
    return path, VoxelModel.from_bundle(load_bundle(path), device)


def adopt_model_job(path: str, bundle: Bundle, device) -> tuple[str, VoxelModel]:
    return path, VoxelModel.from_bundle(bundle, device)


def load_test_set_job(folder: Path) -> TestSet:
    from ...engine.data.views import random_params
    from ...engine.data.voxels import load_voxels
    data = load_voxels(folder, "test")
    return TestSet(data, random_params(len(data), torch.Generator().manual_seed(EVAL_SEED)), folder)


def seed_shape(model: VoxelModel, seed: int) -> Shape:
    z = model.latent(seed)
    return Shape(model.decode(z)[0], z, "seed", f"Seed {seed}",
                 f"Seed {seed}: a random shape from the model's latent prior. No input image.", seed=seed)


def image_shape(model: VoxelModel, path: str) -> Shape:
    from ...engine.image_input import load_view
    view = load_view(path, model.image_size)                            # (1, 1, S, S); UserError if not an image
    z = model.encode(view)
    name = Path(path).name
    return Shape(model.decode(z, encoded=True)[0], z, "image", name, f"{name}, as the encoder sees it ({model.image_size}²)",
                 view=view[0, 0].numpy(), path=str(path))


def object_shape(model: VoxelModel, tests: TestSet, index: int) -> Shape:
    from ...engine.data.views import render_params
    if not 0 <= index < len(tests):
        raise UserError(f"test object {index} does not exist (0-{len(tests) - 1})")
    vox = tests.data.voxels[index:index + 1]                             # (1, 32, 32, 32) uint8
    view = render_params(vox, tests.params.slice(index, index + 1), model.image_size)    # (1, 1, S, S)
    z = model.encode(view)
    cls = tests.class_name(index)
    return Shape(model.decode(z, encoded=True)[0], z, "object", f"{cls.replace('_', ' ').capitalize()} · test object {index}",
                 f"ModelNet10 test object {index} ({cls}), seen as eval3d sees it", view=view[0, 0].numpy(),
                 truth=vox[0].numpy().astype(bool), extra={"index": index, "class": cls})


def grid_shape(path: str) -> Shape:
    from ...engine.voxels_mesh import load_voxel_file
    grid = load_voxel_file(path)
    name = Path(path).name
    return Shape(grid, None, "grid", name, f"A voxel grid from {name}: no input image, no latent.", path=str(path))


def make_shape(model: VoxelModel | None, request: tuple, tests: TestSet | None = None) -> Shape:
    kind = request[0]
    if kind == "grid":
        return grid_shape(request[1])
    if model is None:
        raise UserError("open a 3D voxel model first")
    if kind == "seed":
        return seed_shape(model, request[1])
    if kind == "image":
        return image_shape(model, request[1])
    if kind == "object":
        if tests is None:
            raise UserError("the ModelNet10 test objects are not loaded")
        return object_shape(model, tests, request[1])
    raise ValueError(f"unknown shape request {kind!r}")


def interpolate_job(model: VoxelModel, z_a: torch.Tensor, b: tuple, steps: int, method: str,
                    a_encoded: bool = False) -> dict:
    """Frames from z_a to B = ("seed", n) or ("image", path): {"frames": (steps, 32, 32, 32), "b": label}.
    `a_encoded`: z_a came from an image; when B is one too, the frames use the reconstruction statistics."""
    if b[0] == "seed":
        z_b, label = model.latent(b[1]), f"seed {b[1]}"
    else:
        from ...engine.image_input import load_view
        z_b, label = model.encode(load_view(b[1], model.image_size)), Path(b[1]).name
    frames = model.interpolate(z_a, z_b, steps, method, encoded=a_encoded and b[0] == "image")
    return {"frames": frames, "b": label, "steps": steps, "method": method}


class JobQueue(QObject):
    """Runs one TaskWorker at a time. Each kind of job keeps only its newest request: a request waiting for
    its turn is replaced by a newer one of its kind, and the result of a superseded one is dropped."""

    finished = Signal(str, object)        # kind, value
    failed = Signal(str, str)             # kind, message

    def __init__(self, pool: TaskPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self._pending: dict[str, tuple] = {}
        self._newest: dict[str, int] = {}
        self._tickets = 0
        self._running: tuple[str, int] | None = None

    def submit(self, kind: str, fn, *args) -> int:
        self._tickets += 1
        self._pending.pop(kind, None)                # re-queue at the end: after anything it depends on
        self._pending[kind] = (fn, args, self._tickets)
        self._newest[kind] = self._tickets
        self._next()
        return self._tickets

    def cancel(self, kind: str) -> None:
        self._pending.pop(kind, None)
        self._tickets += 1
        self._newest[kind] = self._tickets

    def busy(self, kind: str | None = None) -> bool:
        if kind is None:
            return self._running is not None or bool(self._pending)
        return kind in self._pending or (self._running is not None and self._running[0] == kind
                                         and self._running[1] == self._newest.get(kind))

    def _next(self) -> None:
        if self._running is not None or not self._pending:
            return
        kind = next(iter(self._pending))
        fn, args, ticket = self._pending.pop(kind)
        self._running = (kind, ticket)
        worker = TaskWorker(fn, *args)
        worker.done.connect(self._done)
        worker.failed.connect(self._failed)
        self.pool.start(worker)

    @Slot(object)
    def _done(self, value) -> None:
        kind, ticket = self._running
        self._running = None
        if ticket == self._newest.get(kind):
            self.finished.emit(kind, value)
        self._next()

    @Slot(str)
    def _failed(self, message: str) -> None:
        kind, ticket = self._running
        self._running = None
        if ticket == self._newest.get(kind):
            self.failed.emit(kind, message)
        self._next()


# ---------------------------------------------------------------- the panel

class Shapes3DPanel(Panel):
    name, title = "3d", "3D"
    model_ready = Signal(object)          # the VoxelModel now in use
    shape_shown = Signal(object)          # the Shape now on screen (after its first picture)
    frames_ready = Signal(int)            # an interpolation's frame count
    frame_shown = Signal(int)             # the interpolation frame now on screen

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.model: VoxelModel | None = None
        self.model_path: str | None = None
        self.shape: Shape | None = None
        self.frames: np.ndarray | None = None
        self.interp: dict | None = None
        self.tests: TestSet | None = None
        self.data_dir = modelnet_dir()
        self._request: tuple | None = None        # the source of the shape asked for last
        self._b_image: str | None = None
        self._started = False
        self._extra_paths: list[str] = []          # models opened from files, kept in the chooser
        self.jobs = JobQueue(ctx.tasks, self)
        self.jobs.finished.connect(self._job_finished)
        self.jobs.failed.connect(self._job_failed)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(THRESHOLD_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._apply_threshold)
        self._player = QTimer(self)
        self._player.setInterval(PLAY_INTERVAL_MS)
        self._player.timeout.connect(self._play_tick)
        self.setAcceptDrops(True)
        self._build()
        self.refresh_models()
        self._update_enabled()

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        controls = QScrollArea()
        controls.setWidget(self._build_controls())
        controls.setWidgetResizable(True)
        controls.setFrameShape(QFrame.Shape.NoFrame)
        controls.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        controls.setFixedWidth(CONTROLS_WIDTH)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addWidget(controls)
        lay.addWidget(self._build_stage(), 1)
        self._connect()

    def _build_controls(self) -> QWidget:
        # model
        self.model_box = QComboBox()
        self.model_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_box.setMinimumContentsLength(12)
        self.model_box.setToolTip("3D voxel models (kind voxel-model) from the shipped folder and your models folder")
        self.open_model_btn = QPushButton("Open…")
        self.open_model_btn.setToolTip("Open a 3D voxel model file (.safetensors) — or drop one on this panel")
        self.model_info = _label("", "subtle")
        self.model_info.setWordWrap(True)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_box, 1)
        model_row.addWidget(self.open_model_btn)
        # inputs
        self.open_image_btn = QPushButton("Open image…")
        self.open_image_btn.setToolTip("Reconstruct a shape from one image (PNG, JPEG, TIFF, BMP, GIF, WebP …) "
                                       "or show a .npy voxel grid — or drop the file on this panel")
        self.object_spin = QSpinBox()
        self.object_spin.setKeyboardTracking(False)
        self.object_spin.setRange(0, 0)
        self.object_spin.setMinimumWidth(70)
        self.object_class = _label("", "subtle")
        self.object_btn = QPushButton("Show")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, MAX_SEED)
        self.seed_spin.setValue(1)
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.setMinimumWidth(72)
        self.seed_spin.setToolTip("The seed of a random shape (the same seeds as `gan-studio sample3d --seed`)")
        self.seed_btn = QPushButton("Show")
        self.random_btn = QToolButton()
        self.random_btn.setText("⟳")
        self.random_btn.setToolTip("A random seed")
        self.random_btn.setFixedWidth(30)
        obj_row = QHBoxLayout()
        obj_row.addWidget(self.object_spin)
        obj_row.addWidget(self.object_class, 1)
        obj_row.addWidget(self.object_btn)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.random_btn)
        seed_row.addWidget(self.seed_btn)
        inputs = QFormLayout()
        inputs.setContentsMargins(0, 0, 0, 0)
        inputs.addRow("Test object", obj_row)
        inputs.addRow("Seed", seed_row)
        self.object_label = inputs.labelForField(obj_row)
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
        # interpolation
        self.b_box = QComboBox()
        self.b_box.addItem("Seed", "seed")
        self.b_box.addItem("Image", "image")
        self.b_seed = QSpinBox()
        self.b_seed.setRange(0, MAX_SEED)
        self.b_seed.setValue(2)
        self.b_seed.setMinimumWidth(72)
        self.b_image_btn = QPushButton("Choose…")
        self.b_image_btn.setToolTip("The image whose shape is B")
        self.b_image_label = _label("", "subtle")
        b_row = QHBoxLayout()
        b_row.addWidget(self.b_box)
        b_row.addWidget(self.b_seed, 1)
        b_row.addWidget(self.b_image_btn, 1)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(2, 200)
        self.steps_spin.setValue(10)
        self.steps_spin.setMinimumWidth(60)
        self.method_box = QComboBox()
        self.method_box.addItem("Slerp", "slerp")
        self.method_box.addItem("Lerp", "lerp")
        steps_row = QHBoxLayout()
        steps_row.addWidget(self.steps_spin)
        steps_row.addWidget(self.method_box, 1)
        self.interp_btn = QPushButton("Interpolate A → B")
        self.interp_btn.setToolTip("Blend the shape on screen (A) into B through the latent space")
        interp = QFormLayout()
        interp.setContentsMargins(0, 0, 0, 0)
        interp.addRow("B", b_row)
        interp.addRow("", self.b_image_label)
        interp.addRow("Frames", steps_row)
        self.drop_hint = _label("Tip: drop an image, a .npy voxel grid or a voxel model file anywhere on this panel.",
                                "subtle")
        self.drop_hint.setWordWrap(True)

        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 10, 0)
        lay.addWidget(_label("VOXEL MODEL", "section"))
        lay.addLayout(model_row)
        lay.addWidget(self.model_info)
        lay.addSpacing(12)
        lay.addWidget(_label("SHAPE FROM", "section"))
        lay.addWidget(self.open_image_btn)
        lay.addLayout(inputs)
        lay.addSpacing(12)
        lay.addWidget(_label("INTERPOLATE", "section"))
        lay.addLayout(interp)
        lay.addWidget(self.interp_btn)
        lay.addSpacing(12)
        lay.addWidget(self.drop_hint)
        lay.addStretch(1)
        return box

    def _build_display_bar(self) -> QHBoxLayout:
        self.threshold_slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(0.01, 0.99)
        self.threshold_slider.setSingleStep(0.01)
        self.threshold_slider.setDecimals(2)
        self.threshold_slider.setValue(0.5)
        self.threshold_slider.setMinimumWidth(150)
        self.threshold_slider.setToolTip("Occupancy threshold: cells more likely than this are solid")
        self.threshold_reset = QToolButton()
        self.threshold_reset.setText("↺")
        self.threshold_reset.setToolTip("Back to the model's threshold")
        self.cubes_btn, self.smooth_btn = QPushButton("Cubes"), QPushButton("Smooth")
        self.cubes_btn.setToolTip("One cube per occupied voxel")
        self.smooth_btn.setToolTip("A smooth surface through the threshold (flying edges)")
        self.style_group = QButtonGroup(self)
        for i, b in enumerate((self.cubes_btn, self.smooth_btn)):
            b.setCheckable(True)
            b.setStyleSheet(CHECKED_STYLE)
            self.style_group.addButton(b, i)
        self.cubes_btn.setChecked(True)
        self.colour_check = QCheckBox("Colour by probability")
        self.colour_check.setChecked(True)
        self.colour_check.setToolTip("Colour the surface by the model's occupancy probability (scale on the right)")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Threshold"))
        bar.addWidget(self.threshold_slider, 1)
        bar.addWidget(self.threshold_reset)
        bar.addSpacing(14)
        style = QHBoxLayout()
        style.setSpacing(0)
        style.addWidget(self.cubes_btn)
        style.addWidget(self.smooth_btn)
        bar.addLayout(style)
        bar.addSpacing(14)
        bar.addWidget(self.colour_check)
        return bar

    def _build_stage(self) -> QWidget:
        self.heading = _label("—", "heading")
        self.stats = _label("", "subtle")
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # the input column
        self.input_view = InputView()
        self.input_caption = _label("", "subtle")
        self.input_caption.setWordWrap(True)
        self.input_caption.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.truth_check = QCheckBox("Show the true shape")
        self.truth_check.setToolTip("Show the test object's real voxels instead of the reconstruction")
        self.truth_check.setVisible(False)
        side = QWidget()
        side.setFixedWidth(180)
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 8, 0)
        sl.addWidget(_label("INPUT", "section"))
        sl.addWidget(self.input_view)
        sl.addWidget(self.input_caption)
        sl.addWidget(self.truth_check)
        sl.addStretch(1)
        # the 3D view and its frame bar
        self.view = VoxelView()
        self.play_btn = QToolButton()
        self.play_btn.setText("▶")
        self.play_btn.setCheckable(True)
        self.play_btn.setToolTip("Play the interpolation")
        self.frame_slider = QSlider(Qt.Orientation.Horizontal)
        self.frame_slider.setRange(0, 0)
        self.frame_label = _label("", "subtle")
        self.frame_label.setMinimumWidth(90)
        self.back_btn = QToolButton()
        self.back_btn.setText("✕")
        self.back_btn.setToolTip("End the interpolation: back to shape A")
        self.frame_bar = QWidget()
        fb = QHBoxLayout(self.frame_bar)
        fb.setContentsMargins(0, 0, 0, 0)
        fb.addWidget(self.play_btn)
        fb.addWidget(self.frame_slider, 1)
        fb.addWidget(self.frame_label)
        fb.addWidget(self.back_btn)
        self.frame_bar.setVisible(False)
        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.view, 1)
        cl.addWidget(self.frame_bar)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(side)
        row.addWidget(centre, 1)
        # the bottom bar
        self.reset_camera_btn = QPushButton("Reset camera")
        self.screenshot_btn = QPushButton("Screenshot…")
        self.screenshot_btn.setToolTip("Save the 3D view as a PNG")
        self.export_btn = QPushButton("Export…")
        self.export_btn.setToolTip("Save the shape on screen as an STL, OBJ or PLY mesh, or a .npy voxel grid")
        bar = QHBoxLayout()
        bar.addWidget(self.reset_camera_btn)
        bar.addStretch(1)
        bar.addWidget(self.screenshot_btn)
        bar.addWidget(self.export_btn)
        display = self._build_display_bar()
        self.cli_label = _label("", "subtle")
        self.cli_label.setWordWrap(True)
        self.cli_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.cli_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cli_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(8, 0, 0, 0)
        lay.addWidget(self.heading)
        lay.addWidget(self.stats)
        lay.addSpacing(4)
        lay.addLayout(row, 1)
        lay.addSpacing(6)
        lay.addLayout(display)
        lay.addSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(self.cli_label)
        return box

    def _connect(self) -> None:
        self.model_box.activated.connect(self._model_chosen)
        self.open_model_btn.clicked.connect(self._open_model_clicked)
        self.open_image_btn.clicked.connect(self._open_image_clicked)
        self.object_spin.valueChanged.connect(self.show_test_object)
        self.object_btn.clicked.connect(lambda: self.show_test_object(self.object_spin.value()))
        self.seed_spin.valueChanged.connect(self.show_seed)
        self.seed_btn.clicked.connect(lambda: self.show_seed(self.seed_spin.value()))
        self.random_btn.clicked.connect(self._random_seed)
        self.b_box.currentIndexChanged.connect(self._update_enabled)
        self.b_image_btn.clicked.connect(self._choose_b_image)
        self.interp_btn.clicked.connect(lambda: self.interpolate())
        self.threshold_slider.valueChanged.connect(self._threshold_moved)
        self.threshold_reset.clicked.connect(self._reset_threshold)
        self.style_group.idClicked.connect(self._style_clicked)
        self.colour_check.toggled.connect(self._colour_toggled)
        self.truth_check.toggled.connect(self._show_current)
        self.frame_slider.valueChanged.connect(self._frame_moved)
        self.play_btn.toggled.connect(self._play_toggled)
        self.back_btn.clicked.connect(lambda: self.end_interpolation())
        self.reset_camera_btn.clicked.connect(lambda: self.view.reset_camera())
        self.screenshot_btn.clicked.connect(self._screenshot_clicked)
        self.export_btn.clicked.connect(self._export_clicked)

    # ------------------------------------------------------------ models
    def refresh_models(self) -> None:
        """Fill the chooser: catalogue voxel models, then files opened here; keep the selection."""
        entries = [e for e in list_models() if e.kind == KIND]
        known = {str(e.path.resolve()) for e in entries}
        self.model_box.blockSignals(True)
        self.model_box.clear()
        for e in entries:
            self.model_box.addItem(e.name, str(e.path.resolve()))
            self.model_box.setItemData(self.model_box.count() - 1, f"{e.path}\n{e.arch}", Qt.ItemDataRole.ToolTipRole)
        for p in self._extra_paths:
            if p not in known:
                self.model_box.addItem(Path(p).name, p)
                self.model_box.setItemData(self.model_box.count() - 1, p, Qt.ItemDataRole.ToolTipRole)
        if self.model_box.count() == 0:
            self.model_box.addItem("No 3D voxel model found", None)
        self._select_path(self.model_path)
        self.model_box.blockSignals(False)

    def _select_path(self, path: str | None) -> None:
        i = self.model_box.findData(path) if path else -1
        if i >= 0:
            self.model_box.setCurrentIndex(i)

    def _remember(self, path: str) -> None:
        if self.model_box.findData(path) < 0:
            self._extra_paths.append(path)
            self.refresh_models()

    @Slot(int)
    def _model_chosen(self, index: int) -> None:
        path = self.model_box.itemData(index)
        if path and path != self.model_path:
            self.open_model(path)

    def open_model(self, path: str | Path) -> bool:
        """Load a voxel model file in the background (a bad file or the wrong kind: a message, nothing else)."""
        p = Path(path).expanduser()
        if not p.is_file():
            self.ctx.report_error(f"{p}: no such model file")
            return False
        key = str(p.resolve())
        self._cancel_shape_work()
        self.jobs.submit("model", load_model_job, key, self.ctx.device)
        self._loading_text(f"Opening {p.name}…")
        return True

    def _loading_text(self, text: str) -> None:
        if self.shape is None:
            self.view.clear(text)
        self.ctx.status.emit(text)

    def _cancel_shape_work(self) -> None:
        for kind in ("shape", "interp"):
            self.jobs.cancel(kind)

    def _model_loaded(self, value) -> None:
        path, model = value
        self.model, self.model_path = model, path
        self._remember(path)
        self._select_path(path)
        meta = model.bundle.meta
        step = (meta.get("training") or {}).get("step")
        iou = ((meta.get("metrics") or {}).get("iou_test") or {}).get("mean_iou")
        bits = [meta.get("arch", "?"), f"z {model.z_dim}", f"input {model.image_size}²",
                f"threshold {model.threshold:.2f}"]
        bits += [f"{step} steps"] if step else []
        bits += [f"test IoU {iou:.3f}"] if isinstance(iou, (int, float)) else []
        self.model_info.setText(" · ".join(bits))
        self.model_info.setToolTip(str(model.bundle.path or ""))
        self._set_threshold(model.threshold)
        self.end_interpolation(show=False)
        self.model_ready.emit(model)
        self._update_enabled()
        self.ctx.status.emit(f"3D model {model.bundle.name} ready")
        self._submit_shape(self._request or self._default_request())

    def _default_request(self) -> tuple:
        if self.data_dir is not None:
            return ("object", self.object_spin.value())
        return ("seed", self.seed_spin.value())

    def on_model_changed(self, model: LoadedModel | None) -> None:
        """The main window opened `model`: show it here when it is a voxel model; otherwise keep ours."""
        if model is not None and model.kind == KIND:
            path = str(model.path.resolve()) if model.path else f"<{model.name}>"
            if path == self.model_path and self.model is not None and self.model.bundle is model.bundle:
                self._set_ready(self.shape is not None)
                return
            self._cancel_shape_work()
            self.jobs.submit("model", adopt_model_job, path, model.bundle, self.ctx.device)
            self._loading_text(f"Opening {model.name}…")
        elif self.shape is not None:
            self._set_ready(True)                    # our shape is still on screen
        elif self._started and self.model is None and not self.jobs.busy("model"):
            self._set_ready(True)                    # still the "no voxel model" state: nothing to wait for

    def on_device_changed(self, device) -> None:
        if self.model is not None and self.model.device != device:
            self._cancel_shape_work()
            self.jobs.submit("model", adopt_model_job, self.model_path, self.model.bundle, device)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            self.refresh_models()
            self._start()

    def hideEvent(self, event) -> None:
        self.play_btn.setChecked(False)              # nobody watches: stop playing
        super().hideEvent(event)

    def _start(self) -> None:
        """First show: the test objects (if on disk) and a model (the main window's, else the first listed)."""
        if self.data_dir is not None and self.tests is None:
            self.jobs.submit("data", load_test_set_job, self.data_dir)
        if self.model is None and not self.jobs.busy("model"):
            path = self.model_box.itemData(0)
            if path:
                self.open_model(path)
            else:
                self.view.clear("No 3D voxel model found.\n\nOpen… one (kind voxel-model), or train one with\n"
                                "gan-studio train3d --out my-shapes.safetensors")
                self._set_ready(True)                # the empty state is what there is to show

    # ------------------------------------------------------------ shapes
    def _submit_shape(self, request: tuple) -> None:
        self._request = request
        if request[0] != "grid" and self.model is None:
            if not self.jobs.busy("model"):
                self.ctx.report_error("Open a 3D voxel model first (the chooser at the top of the 3D panel)")
            return
        if request[0] == "object" and self.tests is None:
            if self.data_dir is None:
                self.ctx.report_error("The ModelNet10 test objects are not on this machine")
            return                                   # shown when the test set has loaded
        self._player.stop()
        self.jobs.submit("shape", make_shape, self.model, request, self.tests)
        self.ctx.status.emit("Reconstructing…" if request[0] in ("image", "object") else "Generating…")

    @Slot(int)
    def show_seed(self, seed: int | None = None) -> None:
        """A random shape from `seed` (default: the seed box)."""
        seed = self.seed_spin.value() if seed is None else int(seed)
        if self.seed_spin.value() != seed:
            self.seed_spin.blockSignals(True)
            self.seed_spin.setValue(seed)
            self.seed_spin.blockSignals(False)
        self._submit_shape(("seed", seed))

    @Slot(int)
    def show_test_object(self, index: int | None = None) -> None:
        """Reconstruct ModelNet10 test object `index` from eval3d's view of it."""
        if self.data_dir is None:
            self.ctx.report_error("The ModelNet10 test objects are not on this machine "
                                  "(../shared/data/modelnet10_vox32 is missing)")
            return
        index = self.object_spin.value() if index is None else int(index)
        if self.object_spin.value() != index:
            self.object_spin.blockSignals(True)
            self.object_spin.setValue(index)
            self.object_spin.blockSignals(False)
        self._submit_shape(("object", index))

    def open_image(self, path: str | Path) -> None:
        """Reconstruct from an image file, or show a `.npy` voxel grid. Bad files: a message in the window."""
        p = Path(path)
        self._submit_shape(("grid" if p.suffix.lower() == ".npy" else "image", str(p)))

    def open_file(self, path: str | Path) -> None:
        """What a drop does: a model file opens as the voxel model, anything else as an input image/grid."""
        p = Path(path)
        if p.suffix.lower() in MODEL_SUFFIXES:
            self.open_model(p)
        else:
            self.open_image(p)

    @Slot()
    def _random_seed(self) -> None:
        self.show_seed(random.randint(0, 99_999))

    def _shape_done(self, shape: Shape) -> None:
        self.shape = shape
        self.end_interpolation(show=False)
        self.input_view.set_view(shape.view, shape.caption if shape.view is None else "")
        self.input_caption.setText("" if shape.view is None else shape.caption)
        self.truth_check.setVisible(shape.truth is not None)
        if shape.truth is None:
            self.truth_check.setChecked(False)
        if shape.source == "object":
            self.object_class.setText(shape.extra["class"].replace("_", " "))
        first = self.view.grid is None
        self.heading.setText(shape.title)
        self.view.show_grid(self._current_grid(), self.threshold(), self.style(), self.colour_check.isChecked(),
                            reset_camera=first)
        self._after_view_change()
        self._update_enabled()
        self._set_ready(True)
        self.ctx.status.emit(f"{shape.title}: {int((self.view.grid > self.view.threshold).sum()):,} voxels")
        self.shape_shown.emit(shape)

    # ------------------------------------------------------------ interpolation
    def interpolate(self, b_seed: int | None = None, b_image: str | Path | None = None, steps: int | None = None,
                    method: str | None = None) -> bool:
        """Frames from the shape on screen (A) to B: a seed or an image (default: the B controls)."""
        if b_seed is not None:
            self.b_box.setCurrentIndex(0)
            self.b_seed.setValue(int(b_seed))
        if b_image is not None:
            self.b_box.setCurrentIndex(1)
            self._set_b_image(str(b_image))
        if steps is not None:
            self.steps_spin.setValue(int(steps))
        if method is not None:
            self.method_box.setCurrentIndex(max(0, self.method_box.findData(method)))
        problem = self._interp_problem()
        if problem:
            self.ctx.report_error(f"Cannot interpolate: {problem}")
            return False
        b = ("seed", self.b_seed.value()) if self.b_box.currentData() == "seed" else ("image", self._b_image)
        self.jobs.submit("interp", interpolate_job, self.model, self.shape.z, b, self.steps_spin.value(),
                         self.method_box.currentData(), self.shape.source in ("image", "object"))
        self.ctx.status.emit("Interpolating…")
        return True

    def _interp_problem(self) -> str:
        if self.model is None:
            return "no 3D voxel model is open"
        if self.shape is None:
            return "there is no shape A on screen yet"
        if self.shape.z is None:
            return "a shape from a voxel file has no latent; use a seed, an image or a test object as A"
        if self.b_box.currentData() == "image" and not self._b_image:
            return "choose B's image first"
        return ""

    def _interp_done(self, value: dict) -> None:
        self.interp = value
        self.frames = value["frames"]
        n = self.frames.shape[0]
        self.frame_slider.blockSignals(True)
        self.frame_slider.setRange(0, n - 1)
        self.frame_slider.setValue(0)
        self.frame_slider.blockSignals(False)
        self.frame_bar.setVisible(True)
        self.truth_check.setChecked(False)
        self.frames_ready.emit(n)
        self._frame_moved(0)

    @Slot(int)
    def _frame_moved(self, i: int) -> None:
        if self.frames is None:
            return
        self.frame_label.setText(f"frame {i + 1} / {self.frames.shape[0]}")
        self.heading.setText(f"{self.shape.title} → {self.interp['b']}")
        self.view.show_grid(self._current_grid())
        self._after_view_change()
        self.frame_shown.emit(i)

    def set_frame(self, i: int) -> None:
        self.frame_slider.setValue(i)

    @Slot(bool)
    def _play_toggled(self, on: bool) -> None:
        self.play_btn.setText("⏸" if on else "▶")
        if on and self.frames is not None:
            self._player.start()
        else:
            self._player.stop()

    @Slot()
    def _play_tick(self) -> None:
        if self.frames is None:
            return self.play_btn.setChecked(False)
        self.frame_slider.setValue((self.frame_slider.value() + 1) % self.frames.shape[0])

    def end_interpolation(self, show: bool = True) -> None:
        self.play_btn.setChecked(False)
        self.jobs.cancel("interp")
        had = self.frames is not None
        self.frames, self.interp = None, None
        self.frame_bar.setVisible(False)
        if show and had and self.shape is not None:
            self.heading.setText(self.shape.title)
            self._show_current()

    @Slot()
    def _choose_b_image(self) -> None:
        path = self._ask_open("Choose B's image", "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;"
                                                  "All files (*)")
        if path:
            self._set_b_image(path)

    def _set_b_image(self, path: str) -> None:
        self._b_image = path
        self.b_image_label.setText(Path(path).name)
        self.b_image_label.setToolTip(path)
        self._update_enabled()

    # ------------------------------------------------------------ display
    def threshold(self) -> float:
        return round(float(self.threshold_slider.value()), 2)

    def style(self) -> str:
        return "smooth" if self.smooth_btn.isChecked() else "cubes"

    def set_style(self, style: str) -> None:
        (self.smooth_btn if style == "smooth" else self.cubes_btn).setChecked(True)
        self._style_clicked(1 if style == "smooth" else 0)

    def _set_threshold(self, value: float) -> None:
        self.threshold_slider.blockSignals(True)
        self.threshold_slider.setValue(float(value))
        self.threshold_slider.blockSignals(False)
        self._debounce.stop()
        self._apply_threshold()

    def _threshold_moved(self, *_) -> None:
        self._debounce.start()                       # restart: one mesh + render when the slider rests

    @Slot()
    def _apply_threshold(self) -> None:
        self.view.set_options(threshold=self.threshold())
        self._after_view_change()

    @Slot()
    def _reset_threshold(self) -> None:
        self._set_threshold(self.model.threshold if self.model is not None else 0.5)

    @Slot(int)
    def _style_clicked(self, _id: int) -> None:
        self.view.set_options(style=self.style())
        self._after_view_change()

    @Slot(bool)
    def _colour_toggled(self, on: bool) -> None:
        self.view.set_options(colour=on)

    def _current_grid(self) -> np.ndarray | None:
        if self.frames is not None:
            return self.frames[self.frame_slider.value()]
        if self.shape is None:
            return None
        if self.truth_check.isChecked() and self.shape.truth is not None:
            return self.shape.truth.astype(np.float32)
        return self.shape.probs

    def _show_current(self, *_) -> None:
        grid = self._current_grid()
        if grid is not None:
            self.view.show_grid(grid)
            self._after_view_change()

    def displayed_grid(self) -> np.ndarray | None:
        """The probabilities on screen (an interpolation frame, the shape, or a test object's true shape)."""
        return self.view.grid

    def _after_view_change(self) -> None:
        """Stats and the command line for what is on screen."""
        grid, t = self.view.grid, self.view.threshold
        if grid is None:
            self.stats.setText("")
            self.cli_label.setText("")
            return
        solid = grid > t
        parts = [f"{int(solid.sum()):,} voxels > {t:.2f}", f"{self.view.n_cells():,} mesh cells"]
        s = self.shape
        if s is not None and s.truth is not None and self.frames is None and not self.truth_check.isChecked():
            union = int((solid | s.truth).sum())
            parts.append(f"IoU {int((solid & s.truth).sum()) / union:.3f} with the true shape" if union else "")
        if self.truth_check.isChecked() and self.frames is None:
            parts.append("the true shape")
        self.stats.setText(" · ".join(p for p in parts if p))
        self.cli_label.setText(self.command_line())

    def command_line(self, out: str = "shape.stl") -> str:
        """The CLI call that writes the shape on screen ('' where there is none, e.g. a test object)."""
        s = self.shape
        if s is None or self.model is None or self.frames is not None or self.truth_check.isChecked():
            return ""
        ref = model_ref(self.model.bundle.path)
        tail = f" --out {out} --threshold {self.view.threshold:g}" + (" --mesh smooth" if self.view.style == "smooth"
                                                                       else "")
        if s.source == "seed":
            return f"gan-studio sample3d --model {ref} --seed {s.seed}" + tail
        if s.source == "image":
            return f"gan-studio reconstruct --model {ref} --image {shlex.quote(s.path)}" + tail
        return ""

    # ------------------------------------------------------------ export, screenshot
    def export(self, path: str | Path, probabilities: bool = False) -> Path | None:
        """Write the shape on screen: .stl/.obj/.ply (the mesh style on screen) or .npy (bool grid at the
        threshold, or float probabilities). Problems: a message, None."""
        from ...engine.voxels_mesh import export_voxels
        grid = self.view.grid
        if grid is None:
            self.ctx.report_error("Nothing to export yet: no shape on screen")
            return None
        try:
            out = export_voxels(grid, path, self.view.threshold, probabilities, self.view.style)
        except UserError as exc:
            self.ctx.report_error(f"Export failed: {exc}")
            return None
        self.ctx.status.emit(f"Exported {out}")
        return out

    def save_screenshot(self, path: str | Path) -> Path | None:
        try:
            out = self.view.save_screenshot(path)
        except UserError as exc:
            self.ctx.report_error(f"Screenshot failed: {exc}")
            return None
        self.ctx.status.emit(f"Saved {out}")
        return out

    def _ask_save(self, title: str, name: str, filters: str) -> tuple[str, str]:
        folder = Path(str(self.ctx.settings.value("paths/save_dir", str(Path.home()))))
        path, chosen = QFileDialog.getSaveFileName(self, title, str(folder / name), filters)
        if path:
            self.ctx.settings.set_value("paths/save_dir", str(Path(path).parent))
        return path, chosen

    def _ask_open(self, title: str, filters: str) -> str:
        folder = str(self.ctx.settings.value("paths/open_dir", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, title, folder, filters)
        if path:
            self.ctx.settings.set_value("paths/open_dir", str(Path(path).parent))
        return path

    def _stem(self) -> str:
        s = self.shape
        if s is None:
            return "shape"
        stem = {"seed": f"seed{s.seed}", "object": f"test{s.extra.get('index', '')}"}.get(s.source) or \
            Path(s.path or "shape").stem
        return stem + (f"-frame{self.frame_slider.value()}" if self.frames is not None else "")

    @Slot()
    def _export_clicked(self) -> None:
        path, chosen = self._ask_save("Export the shape", f"{self._stem()}.stl", ";;".join(EXPORT_FILTERS))
        if not path:
            return
        suffix, probabilities = EXPORT_FILTERS.get(chosen, (Path(path).suffix.lower(), False))
        if Path(path).suffix.lower() not in (".stl", ".obj", ".ply", ".npy"):
            path += suffix
        self.export(path, probabilities)

    @Slot()
    def _screenshot_clicked(self) -> None:
        path, _ = self._ask_save("Save a picture of the 3D view", f"{self._stem()}.png", "PNG image (*.png)")
        if path:
            self.save_screenshot(path if path.lower().endswith(".png") else path + ".png")

    @Slot()
    def _open_image_clicked(self) -> None:
        path = self._ask_open("Open an image (or a .npy voxel grid)", IMAGE_FILTER)
        if path:
            self.open_image(path)

    @Slot()
    def _open_model_clicked(self) -> None:
        path = self._ask_open("Open a 3D voxel model", "Model files (*.safetensors);;All files (*)")
        if path:
            self.open_model(path)

    # ------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event) -> None:
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        self.open_file(paths[0])
        if len(paths) > 1:
            self.ctx.info.emit(f"Opened {Path(paths[0]).name}; drop one file at a time")

    # ------------------------------------------------------------ jobs
    @Slot(str, object)
    def _job_finished(self, kind: str, value) -> None:
        if kind == "model":
            self._model_loaded(value)
        elif kind == "data":
            self.tests = value
            self.object_spin.blockSignals(True)
            self.object_spin.setRange(0, len(value) - 1)
            self.object_spin.blockSignals(False)
            self.object_class.setText(value.class_name(self.object_spin.value()).replace("_", " "))
            if self._request and self._request[0] == "object" and self.model is not None:
                self._submit_shape(self._request)
        elif kind == "shape":
            self._shape_done(value)
        elif kind == "interp":
            self._interp_done(value)

    @Slot(str, str)
    def _job_failed(self, kind: str, message: str) -> None:
        if kind == "model":
            self._select_path(self.model_path)
            if self.model is None:
                self.view.clear("No 3D voxel model open: choose one above, or Open… a file")
            self.ctx.report_error(f"Could not open the 3D model: {message}")
        elif kind == "data":
            self.tests = None
            for w in (self.object_spin, self.object_btn):
                w.setEnabled(False)
                w.setToolTip(f"The ModelNet10 test objects could not be read: {message}")
            self.object_class.setText("unreadable")
            self.ctx.report_error(f"ModelNet10 test objects: {message}")
        elif kind == "shape":
            what = {"image": "Could not reconstruct from the image", "grid": "Could not show the voxel grid",
                    "object": "Could not reconstruct the test object", "seed": "Could not make the shape"}
            self.ctx.report_error(f"{what.get((self._request or ('',))[0], 'Could not make the shape')}: {message}")
        elif kind == "interp":
            self.ctx.report_error(f"Could not interpolate: {message}")
        self._update_enabled()

    # ------------------------------------------------------------ enabling
    def _update_enabled(self, *_) -> None:
        has_model = self.model is not None
        for w in (self.seed_spin, self.seed_btn, self.random_btn):
            w.setEnabled(has_model)
        has_data = self.data_dir is not None and (self.tests is not None or self.jobs.busy("data")
                                                  or not self._started)
        for w in (self.object_spin, self.object_btn, self.object_label):
            w.setEnabled(has_model and has_data)
        b_image = self.b_box.currentData() == "image"
        self.b_seed.setVisible(not b_image)
        self.b_image_btn.setVisible(b_image)
        self.b_image_label.setVisible(b_image)
        self.b_image_label.setText(Path(self._b_image).name if self._b_image else "no image chosen")
        can_interp = has_model and self.shape is not None and self.shape.z is not None
        self.interp_btn.setEnabled(can_interp)
        has_shape = self.view.grid is not None
        for w in (self.export_btn, self.screenshot_btn, self.reset_camera_btn):
            w.setEnabled(has_shape)
