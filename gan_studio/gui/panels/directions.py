"""The directions panel: discover interpretable latent directions (Voynov & Babenko 2020, GANSpace, SeFa,
random and coordinate baselines), then edit the current sample with one slider per direction, or see
each direction as a row of images from −s to +s (the paper's figure).

Discovery and RCA run in a TaskWorker (Stop ends them after the current step; Voynov resumes from there);
edits and the chart render through the app's RenderWorker under their own tags, latest wins.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ...engine.errors import UserError
from ...engine.jobs.directions import DiscoveryJob, run_discovery, run_rca
from ...engine.latent.directions import METHODS, PRESETS, DirectionSet, load_directions, save_directions
from ...engine.latent.directions.core import latent_dim, latent_space
from ...engine.latent.directions.voynov import PRESET_TIPS
from ...engine.latent.state import Latent
from ...engine.metrics.rca import RCABudget
from ..state import AppContext, LoadedModel
from ..widgets.direction_editor import DirectionEditor
from ..widgets.direction_pages import label
from ..widgets.discovery_bar import DiscoveryBar
from ..widgets.training_curves import TrainingCurves
from ..workers import TaskWorker
from .base import Panel
from .directions_files import ask_path, cli_hint


class DirectionsPanel(Panel):
    name, title = "directions", "Directions"
    discovery_finished = Signal(object)     # the DirectionSet found (None when nothing was found)
    rca_measured = Signal(float)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._G = None
        self._seq = 0
        self.job: DiscoveryJob | None = None
        self._worker: TaskWorker | None = None
        self._task = ""                           # "discover" | "rca" | "" (one background task at a time)
        self._stopping = False
        self._result: DirectionSet | None = None  # the last {"result"} of the running discovery
        self._last: dict | None = None            # the latest progress, shown by the 10 Hz timer
        self.history: list[tuple[int, float, float]] = []   # (step, loss, accuracy) of the current job
        self.file: Path | None = None             # where the shown directions were saved or loaded
        self.rca_budget = RCABudget()
        self._rca_ds: DirectionSet | None = None
        self._rca_prefix = ""
        self._model_seq = 0                       # bumps on every model change: a job belongs to one model
        self._ds_seq = 0                          # the job that found the shown directions (0: a file)
        self._build()
        ctx.latent_selected.connect(self.editor.set_base)
        self.on_model_changed(ctx.model)

    @property
    def ds(self) -> DirectionSet | None:
        return self.editor.ds

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        self.curves = TrainingCurves()
        self.curves.setFixedHeight(170)
        self.editor = DirectionEditor(self.ctx)
        self.editor.cli_hint = self._cli_hint
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        self.bar = DiscoveryBar(METHODS, PRESETS, PRESET_TIPS)
        for name in ("method_box", "k_box", "steps_box", "preset_box", "rca_box", "start_btn", "stop_btn"):
            setattr(self, name, getattr(self.bar, name))
        lay.addWidget(self.bar)
        lay.addWidget(self.curves)
        lay.addLayout(self._build_set_bar())
        lay.addWidget(self.editor, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(100)              # progress labels: at most 10 updates a second
        self._timer.timeout.connect(self._tick)
        self._connect()

    def _build_set_bar(self) -> QHBoxLayout:
        self.set_label = label("", "heading")
        self.set_info = label("", "subtle")
        self.range_box = QDoubleSpinBox()
        self.range_box.setRange(0.1, 100.0)
        self.range_box.setSingleStep(0.5)
        self.range_box.setDecimals(2)
        self.range_box.setValue(6.0)
        self.range_box.setPrefix("± ")
        self.range_box.setToolTip("Slider and chart range (default 6 × the shift scale discovery used)")
        self.load_btn, self.save_btn = QPushButton("Load…"), QPushButton("Save…")
        self.rca_btn = QPushButton("Measure RCA")
        self.rca_btn.setToolTip("Reconstructor classification accuracy: how distinguishable these directions "
                                "are (a fresh reconstructor, fixed budget; runs in the background)")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 8, 0, 2)
        bar.addWidget(self.set_label)
        bar.addWidget(self.set_info, 1)
        for w in (label("Range"), self.range_box, self.rca_btn, self.load_btn, self.save_btn):
            bar.addWidget(w)
        return bar

    def _connect(self) -> None:
        self.start_btn.clicked.connect(self.start)
        self.stop_btn.clicked.connect(self.stop)
        for box in (self.method_box, self.preset_box):
            box.currentIndexChanged.connect(self._update_controls)
        for box in (self.k_box, self.steps_box):
            box.valueChanged.connect(self._update_controls)
        self.range_box.valueChanged.connect(self.editor.set_limit)
        self.load_btn.clicked.connect(self._load_clicked)
        self.save_btn.clicked.connect(self._save_clicked)
        self.rca_btn.clicked.connect(lambda: self.measure_rca())
        self.editor.meta_changed.connect(self._update_set_label)
        self.editor.limit_wanted.connect(self._widen_range)
        self.editor.presets.directions_file = lambda: self.file

    # ------------------------------------------------------------ model
    def on_model_changed(self, model: LoadedModel | None) -> None:
        self._abandon_task()
        self.job, self.history, self.file, self._last, self._ds_seq = None, [], None, None, 0
        self._model_seq += 1
        self.curves.clear()
        self._G = model.generator() if model is not None and model.is_image_generator else None
        if model is None:
            text = "Open an image generator to discover its latent directions"
        elif self._G is None:
            text = f"{model.name} is a {model.kind}: directions need an image generator"
        else:
            text = "No directions yet: choose a method and press Start, or Load… a directions file"
            dim = latent_dim(self._G, latent_space(self._G))
            self.k_box.setMaximum(dim)
            self.k_box.setValue(min(32, dim))
        self.editor.set_generator(self._G, text)
        self.bar.show_text("", fraction=0)
        if self._G is not None:
            self.editor.set_base(self.ctx.selected_latent or Latent.from_seed(0, self._G.z_dim))
        self._update_set_label()
        self._update_controls()
        self._set_ready(self._G is not None)

    def _key(self) -> tuple:
        return self.method_box.currentText(), self.k_box.value(), self.preset_box.currentText(), self._model_seq

    def can_resume(self) -> bool:
        return self.job is not None and self.job.can_resume(self._key(), self.steps_box.value())

    @Slot()
    def _update_controls(self) -> None:
        has_model, busy = self._G is not None, self._worker is not None
        voynov = self.method_box.currentText() == "voynov"
        self.start_btn.setText("Resume" if self.can_resume() else "Start")
        self.start_btn.setEnabled(has_model and not busy)
        self.stop_btn.setEnabled(busy)
        for w in (self.method_box, self.k_box):
            w.setEnabled(has_model and not busy)
        self.curves.setVisible(voynov or bool(self.history))
        self.steps_box.setEnabled(has_model and not busy and voynov)
        self.preset_box.setEnabled(has_model and not busy and voynov)
        self.rca_box.setEnabled(has_model and not busy and voynov)
        self.load_btn.setEnabled(has_model and self._task != "rca")
        self.save_btn.setEnabled(self.ds is not None)
        self.rca_btn.setEnabled(self.ds is not None and not busy)

    # ------------------------------------------------------------ discovery
    @Slot()
    def start(self) -> bool:
        """Start discovery with the controls' settings, or resume the stopped Voynov run."""
        if self._G is None or self._worker is not None:
            return False
        method, k, preset, model_key = self._key()
        if not self.can_resume():
            self._seq += 1
            self.job = DiscoveryJob(self._seq, method, k, self.steps_box.value(), preset, self._G,
                                    self.ctx.device, model_key)
            self.history = []
            self.curves.clear(chance=1.0 / k if method == "voynov" else None)
        self.job.steps = self.steps_box.value()
        self._result, self._last = None, None
        if method == "voynov":
            self.bar.show_text(f"resuming at step {self.job.step:,}…" if self.job.step else "starting…")
        else:                                             # closed-form methods report no steps
            self.bar.show_text(f"computing {method} directions…", busy=True)
        if self.ds is None:
            self.editor.list.clear("Discovering… the sliders appear when it finishes, or when you press Stop")
        self._run(TaskWorker(run_discovery, self.job), "discover")
        return True

    def _run(self, worker: TaskWorker, task: str) -> None:
        worker.progress.connect(self._on_progress)
        worker.done.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        self._worker, self._task = worker, task
        self.ctx.tasks.start(worker)
        self._timer.start()
        self._update_controls()

    @Slot()
    def stop(self) -> None:
        """Stop the running task after its current step (Voynov keeps the directions found so far)."""
        if self._request_stop():
            self.bar.show_text("stopping after this step…")

    def _abandon_task(self) -> None:
        if self._worker is not None:
            self._worker.stop()
        self._worker, self._task, self._stopping = None, "", False
        self._timer.stop()

    @Slot(object)
    def _on_progress(self, p: dict) -> None:
        if self.sender() is not self._worker:
            return                                        # an abandoned task
        if "result" in p:
            self._result = p["result"]
        elif "rca" in p:
            self._result = p
        elif self._task == "discover":
            self.history.append((p["step"], p["loss"], p["accuracy"]))
            self.curves.add(p["step"], p["loss"], p["accuracy"])
            self._last = p
        else:
            self._last = p

    @Slot()
    def _tick(self) -> None:
        if not self._stopping:
            self._draw_progress()

    def _draw_progress(self) -> None:
        if self._last is not None:
            self.bar.show_progress(self._last)

    @Slot(object)
    def _on_done(self, _value) -> None:
        worker = self.sender()
        if worker is not self._worker:
            return
        task, stopped = self._task, worker.stopped
        self._worker, self._task = None, ""
        self._timer.stop()
        self._stopping = False
        self._draw_progress()
        if task == "discover":
            self._discovery_done(stopped)
        else:
            self._rca_done(stopped)
        self._update_controls()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self.sender() is not self._worker:
            return
        what = "Direction discovery" if self._task == "discover" else "Measuring RCA"
        self._abandon_task()
        self.bar.show_text("", fraction=0)
        self.ctx.report_error(f"{what} failed: {message}")
        self._update_controls()

    def _discovery_done(self, stopped: bool) -> None:
        job = self.job
        ds = self._result or job.result()
        if ds is None:
            self.bar.show_text("stopped before the first step: no directions yet")
        else:
            same_run = self.ds is not None and self._ds_seq == job.seq and self.ds.k == ds.k
            if same_run:                                  # a resumed run keeps the user's names, flags, ranges
                for name in ("names", "starred", "hidden", "layers", "presets"):
                    setattr(ds, name, getattr(self.ds, name))
            self.set_directions(ds, keep_view=same_run)
            self._ds_seq = job.seq
            self.bar.show_text(self._finished_text(ds, stopped) +
                               (" · press Resume to train on" if self.can_resume() else ""),
                               fraction=None if job.method == "voynov" else 1)
        self.discovery_finished.emit(ds)
        if ds is not None and not stopped and job.method == "voynov" and self.rca_box.isChecked():
            self.measure_rca(then=self._finished_text(ds, stopped))      # the estimate at the end: measured

    def _finished_text(self, ds: DirectionSet, stopped: bool) -> str:
        job = self.job
        if job.method != "voynov":
            return f"done: {ds.k} {ds.method} directions"
        status = ds.extra.get("convergence", {}).get("status", "stopped early" if stopped else "finished")
        acc = ds.extra.get("train_accuracy")
        acc = f" · accuracy {acc:.2f} (chance {1 / ds.k:.2f})" if acc is not None else ""
        return f"{status} after {job.step:,} steps: {ds.k} voynov directions{acc}"

    def set_directions(self, ds: DirectionSet, keep_view: bool = False) -> None:
        """Show a direction set: new sliders at 0 and the range 6 × its shift scale (keep_view: same range and
        shifts as before, for a resumed run)."""
        shifts = self.editor.list.shifts() if keep_view else {}
        if not keep_view:
            self.range_box.blockSignals(True)
            self.range_box.setValue(round(6.0 * ds.shift_scale, 2))
            self.range_box.blockSignals(False)
            self.file = None
        self.editor.set_directions(ds, self.range_box.value(), shifts)
        self._update_set_label()
        self._update_controls()

    @Slot()
    def _update_set_label(self) -> None:
        ds = self.ds
        if ds is None:
            self.set_label.setText("Directions")
            self.set_info.setText("")
            return
        parts = [f"{ds.k} in {ds.space}"]
        if ds.method == "voynov":
            status = ds.extra.get("convergence", {}).get("status")
            parts.append(f"{ds.steps:,} steps" + (f", {status}" if status else ""))
        parts.append(f"RCA {ds.rca:.3f}" if ds.rca is not None else "RCA not measured")
        parts += [f"{len(ds.starred)} starred"] if ds.starred else []
        parts += [f"{len(ds.hidden)} hidden"] if ds.hidden else []
        parts += [f"{len(ds.layers)} on layer ranges"] if ds.layers else []
        parts += [f"{len(ds.presets)} preset{'s' * (len(ds.presets) != 1)}"] if ds.presets else []
        parts += [self.file.name] if self.file else []
        self.set_label.setText(ds.method)
        self.set_info.setText("   " + " · ".join(parts))

    # ------------------------------------------------------------ RCA
    @Slot()
    def measure_rca(self, then: str = "") -> bool:
        """Measure the shown directions' RCA in the background (`then`: text shown before the result)."""
        if self.ds is None or self._worker is not None or self._G is None:
            return False
        self._result, self._last, self._rca_ds, self._rca_prefix = None, None, self.ds, then
        self.bar.show_text((then + " · " if then else "") + "measuring RCA…", fraction=0)
        self._run(TaskWorker(run_rca, self._G, self.ds, self.rca_budget, self.ctx.device), "rca")
        return True

    def _rca_done(self, stopped: bool) -> None:
        out = self._result
        if stopped or out is None:
            self.bar.show_text((self._rca_prefix + " · " if self._rca_prefix else "") + "RCA measurement stopped")
            return
        self._rca_ds.rca = float(out["rca"])
        self._rca_ds.extra["rca_protocol"] = out["budget"]
        text = f"RCA {out['rca']:.3f} (chance {1 / out['k']:.2f})"
        self.bar.show_text(f"{self._rca_prefix} · {text}" if self._rca_prefix else f"{text} · {out['budget']}",
                           fraction=1)
        self._update_set_label()
        self.rca_measured.emit(float(out["rca"]))

    # ------------------------------------------------------------ files
    def save_to(self, path: str | Path) -> Path | None:
        if self.ds is None:
            self.ctx.report_error("Nothing to save: discover or load directions first")
            return None
        try:
            out = save_directions(path, self.ds)
        except (UserError, OSError) as exc:
            self.ctx.report_error(f"Could not save the directions: {exc}")
            return None
        self.file = out
        self._update_set_label()
        self.editor.request_edit()                       # refreshes the CLI line, which names the file
        self.ctx.status.emit(f"Saved {out}")
        return out

    def load_from(self, path: str | Path) -> DirectionSet | None:
        """Load a directions file made for the open model; anything else is one error message, no change."""
        if self._G is None:
            self.ctx.report_error("Open an image generator before loading directions")
            return None
        try:
            ds = load_directions(path, self._G)
        except UserError as exc:
            self.ctx.report_error(f"Could not load {Path(path).name}: {exc}")
            return None
        except OSError as exc:
            self.ctx.report_error(f"Could not read {Path(path).name}: {exc.strerror or exc}")
            return None
        if self._task == "discover":
            self._abandon_task()                         # its result would replace the loaded file
            self.bar.show_text("discovery stopped: a file was loaded")
        self.set_directions(ds)
        self.file, self._ds_seq = Path(path), 0
        self._update_set_label()
        self.editor.request_edit()
        self.ctx.status.emit(f"Loaded {ds.k} {ds.method} directions from {Path(path).name}")
        return ds

    @Slot(float)
    def _widen_range(self, reach: float) -> None:
        self.range_box.setValue(max(self.range_box.value(), reach))    # the editor's limit follows

    @Slot()
    def _save_clicked(self) -> None:
        path = ask_path(self, save=True) if self.ds is not None else ""
        if path:
            self.save_to(path)

    @Slot()
    def _load_clicked(self) -> None:
        path = ask_path(self, save=False)
        if path:
            self.load_from(path)

    def _cli_hint(self, shifts: dict[int, float]) -> str:
        return cli_hint(self.ctx.model, self.editor.base, self.file, shifts, self.ds, self._G)
