"""The training panel: train a GAN on a dataset inside the app, with live curves, the fixed-seed sample grid,
progress with an ETA, periodic FID, and Start / Pause / Resume / Stop; or an image-to-image model (pix2pix, CycleGAN,
DiscoGAN, DualGAN, SRResNet, SRGAN: the form's "Image to image" kind) with its own losses and a live preview of its
translations. The settings side (data checks, output name, command line) is training_settings.py.

The run is the engine's `train` generator in a TaskWorker: Pause holds the worker between two steps (blocked,
no CPU; its clock stands still, so elapsed time, ETA and the time limit leave pauses out), Stop — or closing
the window — closes the generator, which writes the checkpoint. The model file then shows in the model list.
FID runs in its own worker on the latest checkpoint, so the UI never waits on torch.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QLabel,
    QWidget,
)

from ...engine.imaging import to_uint8
from ...engine.jobs.training import (
    TrainingJob,
    default_output,
    run_training,
    unique_path,
)
from ..state import AppContext, LoadedModel
from ..theme import role_label
from ..widgets.discovery_bar import duration
from ..widgets.training_form import TrainingForm
from ..widgets.training_stage import TrainingStage
from ..workers import LatestQueue, TaskWorker
from .base import Panel, controls_beside
from .training_fid import FIDScheduler
from .training_settings import TrainingSettings

STOP_GRACE_MS = 120_000          # closing the window waits this long for the checkpoint to be written


def time_left(seconds: float) -> str:
    """'about 21 min 31 s left' (not '21:31', which reads like a clock time)."""
    s = int(round(seconds))
    if s >= 3600:
        return f"about {s // 3600} h {s // 60 % 60:02d} min left"
    return f"about {s // 60} min {s % 60:02d} s left" if s >= 60 else f"about {s} s left"


def _label(text: str = "", role: str = "subtle") -> QLabel:
    return role_label(text, role)


class TrainingPanel(TrainingSettings, Panel):
    name, title = "training", "Training"
    finished = Signal(str)               # "done" | "stopped" | "failed", when a run ends
    fid_measured = Signal(int, float)    # step, FID

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._worker: TaskWorker | None = None
        self.job: TrainingJob | None = None
        self._last = None                    # the newest Progress with a step, drawn by the 10 Hz timer
        self._samples = None                 # samples not yet drawn
        self.paused = False
        self._stopping = False
        self.step = 0                        # the newest step reported
        self.samples_shown = 0               # sample grids drawn (tests)
        self._out_auto = True                # the output name follows the settings until the user edits it
        self.data_info = None
        self.data_jobs = LatestQueue(ctx.tasks, self)   # dataset checks: one at a time, the newest waiting
        self.data_jobs.finished.connect(self._data_checked)
        self.data_jobs.failed.connect(self._data_failed)
        self.fid = FIDScheduler(ctx, self)
        self._fid_next = 0                   # measure FID at the first checkpoint at or after this step
        self._build()
        self._connect()
        data = self.ctx.settings.value("training/data", "")
        if data:
            self.form.set_data_path(str(data))
        self._refresh_output()
        self._update_fid_note()
        self._update_controls()
        self._set_ready(True)

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        self.form = TrainingForm()
        self.stage = TrainingStage()
        for name in ("start_btn", "pause_btn", "stop_btn", "open_btn", "status", "progress", "curves", "grid", "cli"):
            setattr(self, name, getattr(self.stage, name))      # the panel drives these directly
        controls_beside(self, self.form, self.stage, min_width=340)
        self._timer = QTimer(self)
        self._timer.setInterval(100)         # labels and the grid: at most 10 updates a second
        self._timer.timeout.connect(self._draw_progress)

    def _connect(self) -> None:
        self.start_btn.clicked.connect(self.start)
        self.pause_btn.clicked.connect(self.toggle_pause)
        self.stop_btn.clicked.connect(self.stop)
        self.open_btn.clicked.connect(self.open_model)
        self._connect_settings()
        self.fid.measured.connect(self._on_fid)
        self.fid.failed.connect(lambda msg: self.ctx.report_error(f"Measuring FID failed: {msg}"))

    def current_command(self) -> str:                # Edit > Copy command line (Panel)
        return self.cli.text()

    def on_model_changed(self, model: LoadedModel | None) -> None:
        self._set_ready(True)                # training does not depend on the open model

    # ------------------------------------------------------------ run
    @Slot()
    def start(self) -> bool:
        if self._worker is not None:
            return False
        run = self.run_config()
        if run is None:
            return False
        (cfg, titles), data = run, self.form.data_path()
        out = Path(self.form.out_path() or default_output(data, *self.form.output_parts())).expanduser()
        resume = False
        if out.exists():
            answer = self.ask_existing(out)
            if answer == "cancel":
                return False
            resume = answer == "resume"
            if not resume:
                out = unique_path(out.parent, out.stem)
        self.form.out_edit.setText(str(out))
        self.ctx.settings.set_value("training/data", data)
        same_run = resume and self.job is not None and self.job.out == out
        self.job = TrainingJob(cfg, out, resume)
        worker = TaskWorker(run_training, self.job)
        self.job.clock = worker.gate.clock
        worker.stop_timeout_ms = STOP_GRACE_MS
        worker.progress.connect(self._on_progress)
        worker.done.connect(self._on_done)
        worker.failed.connect(self._on_failed)
        worker.paused_changed.connect(self._on_paused)
        self.prepare_stage(cfg, titles, same_run)
        self._worker, self._last, self._samples, self.paused, self._stopping = worker, None, None, False, False
        self._fid_next = self.fid_every()
        self.fid.cancel_waiting()
        self.status.setText(f"resuming {out.name}…" if resume else f"starting {out.name}…")
        self.progress.setRange(0, cfg.steps)
        self.progress.setValue(0)
        self.ctx.tasks.start(worker)
        self._timer.start()
        self._update_controls()
        return True

    @Slot()
    def toggle_pause(self) -> None:
        if self._worker is None:
            return
        if self.paused:
            self._worker.resume()
        else:
            self._worker.pause()
            self.status.setText("pausing after this step…")
        self.pause_btn.setEnabled(False)         # until the worker says it holds / goes on

    @Slot(bool)
    def _on_paused(self, paused: bool) -> None:
        if self.sender() is not self._worker or self._stopping:
            return
        self.paused = paused
        self.pause_btn.setText("Resume" if paused else "Pause")
        self.pause_btn.setEnabled(True)
        self._draw_progress()

    @Slot()
    def stop(self) -> None:
        if self._request_stop():
            self.pause_btn.setEnabled(False)
            self.status.setText("stopping: saving the model file…")

    @Slot()
    def open_model(self) -> None:
        if self.job is not None and self.job.out.is_file():
            self.ctx.open_requested.emit(str(self.job.out))

    def _update_controls(self) -> None:
        busy = self._worker is not None
        self.start_btn.setEnabled(not busy)
        self.pause_btn.setEnabled(busy)
        self.pause_btn.setText("Resume" if busy and self.paused else "Pause")
        self.stop_btn.setEnabled(busy)
        self.open_btn.setEnabled(self.job is not None and self.job.out.is_file())
        self.form.set_running(busy)
        self._settings_changed()

    # ------------------------------------------------------------ progress
    @Slot(object)
    def _on_progress(self, p) -> None:
        if self.sender() is not self._worker:
            return
        if p.message:
            self.ctx.status.emit(p.message)
        if p.losses:
            self.curves.add(p.step, p.losses)
        self.step = p.step
        self._last = p
        if p.samples is not None:
            self._samples = p.samples
        if p.checkpoint:
            self._on_checkpoint(p)

    def _on_checkpoint(self, p) -> None:
        if not self.open_btn.isEnabled():    # the first checkpoint: the file is new
            self.open_btn.setEnabled(True)
            self.ctx.models_changed.emit()
        every = self.fid_every()
        if every and (p.step >= self._fid_next or p.done):
            self._fid_next = (p.step // every + 1) * every
            self.fid.request(Path(p.checkpoint), p.step, self.job.cfg.data, self.form.fid_n_box.value())

    @Slot(int, float)
    def _on_fid(self, step: int, value: float) -> None:
        self.curves.add_fid(step, value)
        self.ctx.status.emit(f"FID {value:.2f} at step {step:,} (lenet-mnist features)")
        self.fid_measured.emit(step, value)

    @Slot()
    def _draw_progress(self) -> None:
        if self._samples is not None:
            self.stage.show_samples(to_uint8(self._samples))
            self._samples = None
            self.samples_shown += 1
        p = self._last
        if p is None:
            return
        self.progress.setRange(0, p.total)
        self.progress.setValue(p.step)
        rate = (p.step - p.start) / p.elapsed if p.elapsed > 0 else 0.0
        running = self._worker is not None         # no time left after Stop or the end (_finish draws once more)
        eta = "paused" if self.paused else time_left(p.eta) if running and p.step > p.start else ""
        self.progress.setFormat(f"step {p.step:,} / {p.total:,}" + (f"  ·  {eta}" if eta else ""))
        parts = [f"{k} {v:.4g}" for k, v in p.losses.items()]
        parts += [f"{duration(p.elapsed)} training", f"{rate:.1f} steps/s"]
        if p.diversity is not None:
            parts.append(f"diversity {p.diversity:.3f}")
        prefix = f"paused at step {p.step:,}" if self.paused else ""
        if not self._stopping:
            self.status.setText(" · ".join(([prefix] if prefix else []) + parts))

    @Slot(object)
    def _on_done(self, _value) -> None:
        worker = self.sender()
        if worker is not self._worker:
            return
        p, out = self._last, self.job.out
        self._finish()
        saved = out.is_file()
        if worker.stopped:
            outcome = "stopped"
            text = (f"stopped at step {p.step:,}: saved {out.name}" if saved and p is not None and p.step > p.start
                    else "stopped before the first step: nothing new saved")
        elif p is None or (p.step == p.start and not p.losses):
            outcome, text = "done", f"{out.name} is already trained to {self.job.cfg.steps:,} steps: raise Steps " \
                                    f"and press Start to train on"
        else:
            outcome = "done"
            text = f"finished at step {p.step:,} ({duration(p.elapsed)}): saved {out.name}"
            if p.message:
                text = f"{p.message}: saved {out.name}"
        self.status.setText(text)
        if saved and p is not None and p.step > p.start:
            self.ctx.report_done(f"Training {text}", out)      # in the status bar, with a link to the file
        else:
            self.ctx.status.emit(text)
        self.finished.emit(outcome)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self.sender() is not self._worker:
            return
        out = self.job.out
        self._finish()
        kept = f" — the last checkpoint, {out.name}, is in the model list" if out.is_file() else ""
        self.status.setText("training failed")
        self.ctx.report_error(f"Training failed: {message}{kept}")
        self.finished.emit("failed")

    def _finish(self) -> None:
        self._worker, self.paused, self._stopping = None, False, False
        self._timer.stop()
        self._draw_progress()
        self.curves.flush()
        if self.job.out.is_file():
            self.ctx.models_changed.emit()
        self._update_controls()
