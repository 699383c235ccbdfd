"""The sampling panel's "Rejection sampling (DRS)" mode: its checkbox, status line, calibration and jobs.

`DRSControl` runs its DRSJobs through a LatestQueue (one at a time, the newest request waiting) and emits
`shown(DRSOutcome)` for the newest request only. It keeps what stays true for the open model — the
calibration and one burn-in per truncation — so changing the seed only samples. A Wasserstein critic needs real
images once: the folder is asked for with a dialog, remembered in the settings ("drs/data_dir"), and the fit
itself is stored by the engine where the CLI finds it too (see engine/latent/drs_calibration.py).
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QFileDialog, QLabel, QWidget

from ...engine.jobs.drs import DRSJob, DRSOutcome, run_drs_job
from ...engine.latent.drs import DEFAULT_BURN_IN, DEFAULT_PERCENTILE
from ...engine.latent.drs_calibration import has_critic
from ..state import AppContext, LoadedModel
from ..workers import LatestQueue

DATA_KEY = "drs/data_dir"
TIP_ON = ("Discriminator rejection sampling (Azadi et al. 2019): try seeds S, S+1, … and keep the ones the "
          "model's critic rates as realistic, so the grid shows the first accepted seeds (each tile keeps its "
          "seed). A Wasserstein critic is first calibrated once on real images: you pick the data folder, and a "
          "copy of the critic is fine-tuned with the logistic loss (about a minute; remembered afterwards).")
TIP_NO_CRITIC = "This model file has no critic, and DRS needs one (GAN Studio's own training saves it)"
TIP_NO_MODEL = "Open an image generator with a critic to use rejection sampling"


class DRSControl(QObject):
    shown = Signal(object)      # DRSOutcome of the newest request
    failed = Signal(str)        # a message for the user; the checkbox is already off again
    retry = Signal()            # the data folder was chosen: ask for the grid again

    def __init__(self, ctx: AppContext, dialog_parent: QWidget) -> None:
        super().__init__(dialog_parent)
        self.ctx, self._parent = ctx, dialog_parent
        self.checkbox = QCheckBox("Rejection sampling (DRS)")
        self.status = QLabel("")
        self.status.setWordWrap(True)             # a long outcome wraps instead of widening the panel
        self.status.setProperty("role", "subtle")
        self.percentile, self.burn_in_n = DEFAULT_PERCENTILE, DEFAULT_BURN_IN   # as `sample --drs` defaults
        self.finetune_steps: int | None = None    # a new fit's critic fine-tuning steps (None: the engine's)
        self._bundle = None
        self._cal, self._burns, self._nets = None, {}, {}
        self.jobs = LatestQueue(ctx.tasks, self)
        self.jobs.progress.connect(self._on_progress)
        self.jobs.finished.connect(self._on_done)
        self.jobs.superseded.connect(self._on_superseded)
        self.jobs.failed.connect(self._on_failed)
        self._seq = 0
        self.last: DRSOutcome | None = None      # the outcome on screen
        self.set_model(None)

    # ------------------------------------------------------------ state
    def set_model(self, model: LoadedModel | None) -> None:
        self.jobs.cancel(stop=True)               # a new model: the old job stops at its next step
        self._bundle = model.bundle if model is not None and model.is_image_generator else None
        self._cal, self._burns, self._nets, self.last = None, {}, {}, None
        ok = self._bundle is not None and has_critic(self._bundle)
        self.checkbox.setEnabled(ok)
        self.checkbox.setToolTip(TIP_ON if ok else TIP_NO_CRITIC if self._bundle is not None else TIP_NO_MODEL)
        if not ok and self.checkbox.isChecked():
            self.checkbox.blockSignals(True)
            self.checkbox.setChecked(False)
            self.checkbox.blockSignals(False)
        self.status.setText("")

    def active(self) -> bool:
        return self.checkbox.isEnabled() and self.checkbox.isChecked()

    def is_busy(self) -> bool:
        return self.jobs.busy()

    def data_dir(self) -> str | None:
        v = self.ctx.settings.value(DATA_KEY)
        return str(v) if v else None

    # ------------------------------------------------------------ jobs (one at a time, newest next)
    def request(self, seed: int, n: int, psi: float, device) -> int:
        """Queue the grid for seeds from `seed`; returns its sequence number."""
        self._seq += 1
        key = (round(float(psi), 4), self.percentile, self.burn_in_n)
        job = DRSJob(self._seq, int(seed), int(n), key[0], device, self._bundle, self._nets, self._cal,
                     self.data_dir(), self._burns.get(key), self.percentile, self.burn_in_n,
                     steps=self.finetune_steps)
        self.jobs.submit("grid", run_drs_job, job)
        return self._seq

    @Slot(str, object)
    def _on_progress(self, _kind: str, p: dict) -> None:
        if "done" in p:
            self.status.setText(f"DRS {p['stage']}: {p['done']}/{p['total']}…")

    @Slot(str, object)
    def _on_superseded(self, _kind: str, out: DRSOutcome | None) -> None:
        if out is not None and out.job.bundle is self._bundle:
            self._keep(out)                       # a newer grid was asked for: keep the calibration it made

    @Slot(str, object)
    def _on_done(self, _kind: str, out: DRSOutcome | None) -> None:
        if out is None or out.job.bundle is not self._bundle:
            return
        self._keep(out)
        if out.needs_data:
            self._ask_data()
        elif out.result is not None:
            self.last = out
            self.status.setText(self.describe(out))
            self.shown.emit(out)

    def _keep(self, out: DRSOutcome) -> None:
        self._cal = out.cal or self._cal
        if out.burn is not None:
            self._burns[(out.job.psi, out.job.percentile, out.job.burn_in_n)] = out.burn

    @Slot(str, str)
    def _on_failed(self, _kind: str, message: str) -> None:
        if self._cal is None and self.data_dir():
            self.ctx.settings.set_value(DATA_KEY, "")    # that folder did not calibrate: ask again next time
        self.status.setText("")
        self.checkbox.setChecked(False)
        self.failed.emit(f"Rejection sampling failed: {message}")

    # ------------------------------------------------------------ the data folder
    def pick_data_dir(self) -> str:
        """Ask for the folder of real images (tests replace this)."""
        start = self.ctx.settings.value("paths/data_dir", "")
        return QFileDialog.getExistingDirectory(
            self._parent, "Real images to calibrate the critic (e.g. the MNIST folder)", str(start))

    def _ask_data(self) -> None:
        folder = self.pick_data_dir()
        if not folder:
            self.checkbox.setChecked(False)
            self.status.setText("DRS needs real images once to calibrate this model's critic")
            return
        self.ctx.settings.set_value(DATA_KEY, folder)
        self.status.setText("DRS: calibrating the critic (fine-tuning a copy of it, about a minute)…")
        self.retry.emit()

    @staticmethod
    def describe(out: DRSOutcome) -> str:
        r = out.result
        return (f"DRS: {len(r.seeds)} of {r.candidates} seeds accepted ({r.acceptance_rate:.0%}) from seed "
                f"{r.first_seed} · γ at percentile {out.job.percentile:g} · "
                f"{out.cal.short()}")
