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

from ...engine.jobs.directions import DiscoveryJob, run_discovery, run_rca
from ...engine.latent.directions import METHODS, PRESETS, DirectionSet
from ...engine.latent.directions.core import latent_dim, latent_space
from ...engine.latent.directions.voynov import PRESET_TIPS
from ...engine.latent.state import Latent
from ...engine.metrics.rca import BUDGETS, RCABudget
from ..state import AppContext, LoadedModel
from ..widgets.direction_editor import DirectionEditor
from ..widgets.direction_pages import label
from ..widgets.discovery_bar import DiscoveryBar
from ..widgets.export_bar import ElidedLabel
from ..widgets.training_curves import TrainingCurves
from ..workers import TaskWorker
from .base import Panel
from .directions_files import DirectionFiles, KeptDirections, cli_hint, finished_text, summary


class DirectionsPanel(DirectionFiles, Panel):
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
        self.rca_budget: RCABudget = BUDGETS["fast"]   # the CLI's default protocol: the same figure in both
        self._rca_ds: DirectionSet | None = None
        self._rca_prefix = ""
        self._model_seq = 0                       # bumps on every model change: a job belongs to one model
        self._ds_seq = 0                          # the job that found the shown directions (0: a file)
        self.kept = KeptDirections()              # each model's directions, back when it is opened again
        self._model: LoadedModel | None = None
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
        self.set_info = ElidedLabel()             # a long summary ends in '…' rather than widening the tab
        self.set_info.setProperty("role", "subtle")
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
        running = self._task == "discover"
        self._keep_current(running)
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
        self._model = model if self._G is not None else None
        if self._G is not None:
            self._restore_kept(model)
        self._set_ready(self._G is not None)

    def _keep_current(self, running: bool) -> None:
        """Before another model replaces this one: keep its directions (the shown ones, or what a running
        discovery had found) to show again when it comes back, and say so."""
        ds = self.ds or (self._result if running else None)
        if self._model is None or ds is None:
            return
        self.kept.keep(self._model, ds, self.file, self.range_box.value(), self.editor.list.shifts())
        what = "discovery stopped; " if running else ""
        self.ctx.info.emit(f"Directions: {what}the {ds.k} {ds.method} directions of {self._model.name} are kept "
                           f"and come back when you open it again")

    def _restore_kept(self, model: LoadedModel) -> None:
        kept = self.kept.take(model)
        if kept is None:
            return
        ds, file, limit, shifts = kept
        self.range_box.blockSignals(True)
        self.range_box.setValue(limit)
        self.range_box.blockSignals(False)
        self.editor.set_directions(ds, limit, shifts)
        self.file = file
        self._update_set_label()
        self._update_controls()
        self.bar.show_text(f"the {ds.k} {ds.method} directions you had for {model.name}, kept while another "
                           f"model was open", fraction=None)

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
            self.bar.show_text(finished_text(self.job, ds, stopped) +
                               (" · press Resume to train on" if self.can_resume() else ""),
                               fraction=None if job.method == "voynov" else 1)
        self.discovery_finished.emit(ds)
        if ds is not None and not stopped and job.method == "voynov" and self.rca_box.isChecked():
            self.measure_rca(then=finished_text(self.job, ds, stopped))      # the estimate at the end: measured

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
        self.set_label.setText(ds.method)
        self.set_info.setText("   " + summary(ds, self.file))

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

    @Slot(float)
    def _widen_range(self, reach: float) -> None:
        self.range_box.setValue(max(self.range_box.value(), reach))    # the editor's limit follows

    def _cli_hint(self, shifts: dict[int, float]) -> str:
        return cli_hint(self.ctx.model, self.editor.base, self.file, shifts, self.ds, self._G)
