"""The 3D panel: a voxel model (kind "voxel-model") turns one image into a 32³ shape, or a seed into a random
one; the shape is shown as a mesh in an interactive 3D view beside the image the encoder saw.

Inputs: an image file (Open… or dropped on the panel; any common format, engine/image_input.py), a ModelNet10
test object seen as `eval3d` sees it (when the data is on disk), a seed, or a `.npy` voxel grid. Two shapes
blend in latent space (A = the current shape, B = a seed or an image) with a slider over the frames. Display:
threshold (debounced), cubes or a smooth isosurface, colour by occupancy probability. Out: STL / OBJ / PLY
meshes and `.npy` grids (the engine's `export_voxels`, as the CLI writes them), and a PNG of the 3D view.

The work is engine code (engine/jobs/shapes.py), run one job at a time by the app's `LatestQueue` (latest
wins per kind); the widgets are the left column (`ShapeControls`, with the model chooser) and the stage
(`ShapeStage`). The voxel model in use is the app's (`AppContext.voxel_model`), so the image panels keep their
model; a voxel model opened in the main window's list shows here too.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QWidget

from ...engine.errors import not_a_file
from ...engine.jobs.shapes import (
    KIND,
    Shape,
    TestSet,
    adopt_model_job,
    interpolate_job,
    load_model_job,
    load_test_set_job,
    make_shape,
    modelnet_dir,
    shape_command,
    shape_stats,
)
from ..state import AppContext, LoadedModel
from ..widgets.shape_controls import ShapeControls
from ..widgets.shape_stage import ShapeStage
from ..workers import LatestQueue
from .base import Panel, controls_beside
from .shapes3d_files import ShapeFiles
from .shapes3d_guess import ShapeGuessing

CONTROLS_WIDTH = 286
FAILED = {"image": "Could not reconstruct from the image", "grid": "Could not show the voxel grid",
          "object": "Could not reconstruct the test object", "seed": "Could not make the shape"}


class Shapes3DPanel(ShapeGuessing, ShapeFiles, Panel):
    name, title = "3d", "3D"
    model_ready = Signal(object)          # the VoxelModel now in use
    shape_shown = Signal(object)          # the Shape now on screen (after its first picture)
    frames_ready = Signal(int)            # an interpolation's frame count
    frame_shown = Signal(int)             # the interpolation frame now on screen

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.shape: Shape | None = None
        self.frames: np.ndarray | None = None
        self.interp: dict | None = None
        self.tests: TestSet | None = None
        self.data_dir = modelnet_dir()
        self._request: tuple | None = None        # the source of the shape asked for last
        self._started = False
        self.jobs = LatestQueue(ctx.tasks, self)
        self.jobs.finished.connect(self._job_finished)
        self.jobs.failed.connect(self._job_failed)
        self.controls, self.stage = ShapeControls(self.data_dir), ShapeStage()
        self.view = self.stage.view
        self._layout()
        self._connect()
        self.setAcceptDrops(True)
        self.controls.chooser.refresh()
        self._update_enabled()

    @property
    def model(self):
        """The VoxelModel in use (the app's), or None."""
        return self.ctx.voxel_model

    @property
    def model_path(self) -> str | None:
        return self.ctx.voxel_model_path

    def _layout(self) -> None:
        controls_beside(self, self.controls, self.stage, CONTROLS_WIDTH)

    def _connect(self) -> None:
        c, s = self.controls, self.stage
        c.chooser.chosen.connect(self.open_model)
        c.chooser.open_clicked.connect(self._open_model_clicked)
        c.image_clicked.connect(self._open_image_clicked)
        c.seed_requested.connect(self.show_seed)
        for sig in (c.truncation_changed, c.class_changed):      # the seed again, drawn as now asked
            sig.connect(lambda *_: self._request and self._request[0] == "seed" and self.show_seed())
        c.object_requested.connect(self.show_test_object)
        c.refine_changed.connect(lambda _: self._request and self._request[0] in ("image", "object")
                                 and self._submit_shape(self._request))      # the shape again, refined as asked
        c.b_image_clicked.connect(self._choose_b_image)
        c.interpolate_clicked.connect(lambda: self.interpolate())
        s.display_changed.connect(self._after_view_change)
        s.frame_changed.connect(self._frame_moved)
        s.back_clicked.connect(lambda: self.end_interpolation())
        s.truth_toggled.connect(self._show_current)
        s.screenshot_clicked.connect(self._screenshot_clicked)
        s.export_clicked.connect(self._export_clicked)
        self.ctx.voxel_model_changed.connect(self._voxel_model_changed)

    # ------------------------------------------------------------ models
    def open_model(self, path: str | Path) -> bool:
        """Load a voxel model file in the background (a bad file or the wrong kind: a message, nothing else)."""
        p = Path(path).expanduser()
        if not p.is_file():
            self.ctx.report_error(not_a_file(p))
            return False
        self._load("model", load_model_job, str(p.resolve()), self.ctx.device, text=f"Opening {p.name}…")
        return True

    def _load(self, kind: str, fn, *args, text: str = "") -> None:
        for job in ("shape", "interp"):
            self.jobs.cancel(job)
        self.jobs.submit(kind, fn, *args)
        if text:
            if self.shape is None:
                self.view.clear(text)
            self.ctx.status.emit(text)

    @Slot(object)
    def _voxel_model_changed(self, model) -> None:
        """The app's voxel model changed (here or elsewhere): describe it, then show the shape asked for."""
        if model is None:
            return
        self.controls.chooser.set_model(self.model_path, model)
        self.controls.set_truncation(model.truncation)
        self.controls.set_components(model.components)
        request = self._request or self._default_request()
        request = self.controls.seed_request(request[1]) if request[0] == "seed" else request   # the new ψ
        self.stage.set_threshold(model.threshold_for(request[0]), default=True)
        self.end_interpolation(show=False)
        self.model_ready.emit(model)
        self._update_enabled()
        self.ctx.status.emit(f"3D model {model.bundle.name} ready")
        self._submit_shape(request)

    def _default_request(self) -> tuple:
        if self.data_dir is not None:
            return ("object", self.controls.object_spin.value())
        return self.controls.seed_request(self.controls.seed_spin.value())

    def on_model_changed(self, model: LoadedModel | None) -> None:
        """The main window opened `model`: show it here when it is a voxel model; otherwise keep ours."""
        if model is not None and model.kind == KIND:
            path = str(model.path.resolve()) if model.path else f"<{model.name}>"
            if path == self.model_path and self.model is not None and self.model.bundle is model.bundle:
                self._set_ready(self.shape is not None)
                return
            self._load("model", adopt_model_job, path, model.bundle, self.ctx.device, text=f"Opening {model.name}…")
        elif self.shape is not None:
            self._set_ready(True)                    # our shape is still on screen
        elif self._started and self.model is None and not self.jobs.busy("model"):
            self._set_ready(True)                    # still the "no voxel model" state: nothing to wait for

    def on_device_changed(self, device) -> None:
        if self.model is not None and self.model.device != device:
            self._load("model", adopt_model_job, self.model_path, self.model.bundle, device)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            self.controls.chooser.refresh()
            self._start()

    def hideEvent(self, event) -> None:
        self.stage.play_btn.setChecked(False)        # nobody watches: stop playing
        super().hideEvent(event)

    def _start(self) -> None:
        """First show: the test objects (if on disk) and a model (the app's, else the first listed)."""
        if self.data_dir is not None and self.tests is None:
            self.jobs.submit("data", load_test_set_job, self.data_dir)
        if self.model is None and not self.jobs.busy("model"):
            path = self.controls.chooser.first()
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
        self.stage.stop_playing()
        self.jobs.submit("shape", make_shape, self.model, request, self.tests, refine=self.controls.refine_steps())
        self.ctx.status.emit("Reconstructing…" if request[0] in ("image", "object") else "Generating…")

    @Slot(int)
    def show_seed(self, seed: int | None = None) -> None:
        """A random shape from `seed` (default: the seed box)."""
        seed = self.controls.seed_spin.value() if seed is None else int(seed)
        self.controls.show_seed(seed)
        self._submit_shape(self.controls.seed_request(seed))

    @Slot(int)
    def show_test_object(self, index: int | None = None) -> None:
        """Reconstruct ModelNet10 test object `index` from eval3d's view of it."""
        if self.data_dir is None:
            self.ctx.report_error("The ModelNet10 test objects are not on this machine "
                                  "(../shared/data/modelnet10_vox32 is missing)")
            return
        index = self.controls.object_spin.value() if index is None else int(index)
        self.controls.show_object(index)
        self._submit_shape(("object", index))

    def open_image(self, path: str | Path) -> None:
        """Reconstruct from an image file, or show a `.npy` voxel grid. Bad files: a message in the window."""
        p = Path(path)
        self._submit_shape(("grid" if p.suffix.lower() == ".npy" else "image", str(p)))

    def _shape_done(self, shape: Shape) -> None:
        self.shape, s = shape, self.stage
        self.end_interpolation(show=False)
        s.input_view.set_view(shape.view, shape.caption if shape.view is None else "")
        s.input_caption.setText("" if shape.view is None else shape.caption)
        s.truth_check.setVisible(shape.truth is not None)
        if shape.truth is None:
            s.truth_check.setChecked(False)
        if shape.source == "object":
            self.controls.object_class.setText(shape.extra["class"].replace("_", " "))
        s.heading.setText(shape.title)
        grid_file = shape.source == "grid" or self.model is None        # seeds, reconstructions, files: their own
        s.follow_default(0.5 if grid_file else self.model.threshold_for(shape.source))
        s.show_grid(self._current_grid(), reset_camera=self.view.grid is None)
        self._after_view_change()
        self._update_enabled()
        self._set_ready(True)
        self.ctx.status.emit(f"{shape.title}: {int((self.view.grid > self.view.threshold).sum()):,} voxels")
        self.shape_shown.emit(shape)

    # ------------------------------------------------------------ interpolation
    def interpolate(self, b_seed: int | None = None, b_image: str | Path | None = None, steps: int | None = None,
                    method: str | None = None) -> bool:
        """Frames from the shape on screen (A) to B: a seed or an image (default: the B controls)."""
        c = self.controls
        c.set_b(b_seed, None if b_image is None else str(b_image), steps, method)
        problem = self._interp_problem()
        if problem:
            self.ctx.report_error(f"Cannot interpolate: {problem}")
            return False
        self.jobs.submit("interp", interpolate_job, self.model, self.shape.z, c.b(), c.steps_spin.value(),
                         c.method_box.currentData(), self.shape.source in ("image", "object"))
        self.ctx.status.emit("Interpolating…")
        return True

    def _interp_problem(self) -> str:
        if self.model is None:
            return "no 3D voxel model is open"
        if self.shape is None:
            return "there is no shape A on screen yet"
        if self.shape.z is None:
            return "a shape from a voxel file has no latent; use a seed, an image or a test object as A"
        if self.controls.b() is None:
            return "choose B's image first"
        return ""

    def _interp_done(self, value: dict) -> None:
        self.interp, self.frames = value, value["frames"]
        self.stage.show_frames(self.frames.shape[0])
        self.stage.truth_check.setChecked(False)
        self.frames_ready.emit(self.frames.shape[0])
        self._frame_moved(0)

    @Slot(int)
    def _frame_moved(self, i: int) -> None:
        if self.frames is None:
            return
        self.stage.frame_label.setText(f"frame {i + 1} / {self.frames.shape[0]}")
        self.stage.heading.setText(f"{self.shape.title} → {self.interp['b']}")
        self.view.show_grid(self._current_grid())
        self._after_view_change()
        self.frame_shown.emit(i)

    def set_frame(self, i: int) -> None:
        self.stage.frame_slider.setValue(i)

    def end_interpolation(self, show: bool = True) -> None:
        self.stage.hide_frames()
        self.jobs.cancel("interp")
        had = self.frames is not None
        self.frames, self.interp = None, None
        if show and had and self.shape is not None:
            self.stage.heading.setText(self.shape.title)
            self._show_current()

    # ------------------------------------------------------------ display
    def _current_grid(self) -> np.ndarray | None:
        if self.frames is not None:
            return self.frames[self.stage.frame()]
        if self.shape is None:
            return None
        if self.stage.truth_check.isChecked() and self.shape.truth is not None:
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

    @Slot()
    def _after_view_change(self) -> None:
        """Stats and the command line for what is on screen."""
        grid, t, s = self.view.grid, self.view.threshold, self.shape
        truth_shown = self.stage.truth_check.isChecked() and self.frames is None
        if grid is None:
            parts = []
        else:
            scored = s is not None and self.frames is None and not self.stage.truth_check.isChecked()
            voxels, iou = shape_stats(grid, t, s.truth if scored else None)
            parts = [f"{voxels:,} voxels > {t:.2f}", f"{self.view.n_cells():,} mesh cells"]
            parts += [f"IoU {iou:.3f} with the true shape"] if iou is not None else []
            parts += ["the true shape"] if truth_shown else []
        self.stage.stats.setText(" · ".join(parts))
        self.stage.cli_label.setText(self.command_line() if grid is not None else "")
        self._ask_guess()                            # shapes3d_guess.py: the classifier's guess, in the queue

    def command_line(self, out: str = "shape.stl") -> str:
        """The CLI call that writes the shape on screen ('' where there is none, e.g. a test object)."""
        if self.shape is None or self.model is None or self.frames is not None or self.stage.truth_check.isChecked():
            return ""
        return shape_command(self.shape, self.model.bundle.path, self.view.threshold, self.view.style, out)

    # ------------------------------------------------------------ jobs
    @Slot(str, object)
    def _job_finished(self, kind: str, value) -> None:
        if kind == "model":
            self.ctx.set_voxel_model(*value)
        elif kind == "data":
            self.tests = value
            self.controls.set_test_set(value)
            if self._request and self._request[0] == "object" and self.model is not None:
                self._submit_shape(self._request)
        elif kind == "shape":
            self._shape_done(value)
        elif kind == "interp":
            self._interp_done(value)
        elif kind == "guess":
            self._guess_done(value)

    @Slot(str, str)
    def _job_failed(self, kind: str, message: str) -> None:
        if kind == "model":
            self.controls.chooser.select(self.model_path)
            if self.model is None:
                self.view.clear("No 3D voxel model open: choose one above, or Open… a file")
            self.ctx.report_error(f"Could not open the 3D model: {message}")
        elif kind == "data":
            self.tests = None
            self.controls.test_set_failed(message)
            self.ctx.report_error(f"ModelNet10 test objects: {message}")
        elif kind == "shape":
            self.ctx.report_error(f"{FAILED.get((self._request or ('',))[0], FAILED['seed'])}: {message}")
        elif kind == "interp":
            self.ctx.report_error(f"Could not interpolate: {message}")
        elif kind == "guess":
            self._guess_failed(message)
        self._update_enabled()

    def _update_enabled(self, *_) -> None:
        has_model = self.model is not None
        has_data = self.data_dir is not None and (self.tests is not None or self.jobs.busy("data")
                                                  or not self._started)
        can_interp = has_model and self.shape is not None and self.shape.z is not None
        self.controls.update_enabled(has_model, has_data, can_interp)
        self.stage.update_enabled()
