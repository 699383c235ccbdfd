"""The Training panel's settings side, for both kinds of run (latent → image and image to image): the data check in
the background (a translation run's: its two domains as the recipe reads them), the output name and the command line
that follow the settings, whether periodic FID can run, the question about an existing output, and the stage made
ready for a run (the sample grid, or the translation preview with the recipe's row titles; the curves' layout).
A mixin of `TrainingPanel` (its form, stage, context and jobs)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QMessageBox

from ...engine.errors import UserError
from ...engine.jobs.training import check_dataset, command_line, default_output, fid_unavailable
from ...engine.jobs.translation_training import check_translation_data, is_translation, preview_titles
from ...engine.training.loop import TrainConfig

FID_TIP = "Measure FID every N steps on the latest checkpoint, in the background (0: off)"
TRANSLATION_FID = ("FID during training is for latent → image models; measure a translation model with "
                   "gan-studio evaluate (bench/translation.py)")


class TrainingSettings:
    def _connect_settings(self) -> None:
        f = self.form
        f.data_changed.connect(self.check_data)
        f.changed.connect(self._settings_changed)
        for box in (f.arch_box, f.loss_box, f.translation.loss_box, f.translation.transform_box):
            box.currentTextChanged.connect(self._refresh_output)
        f.translation.recipe_box.currentIndexChanged.connect(self._refresh_output)
        f.kind_box.currentIndexChanged.connect(self._kind_changed)
        f.out_edit.textEdited.connect(self._out_edited)
        f.fid_box.valueChanged.connect(self._update_fid_note)

    @Slot(str)
    def check_data(self, path: str) -> None:
        """Validate the dataset in the background; the result shows under the path."""
        self.data_jobs.cancel()                      # an older check still running is stale now
        self.data_info = None
        self._refresh_output()                       # the output name and the command line follow the dataset
        self._update_fid_note()
        if self._worker is None:
            self.status.setText(f"Press Start to train on {Path(path).name}" if path else
                                "Choose a dataset and press Start")
        problem = self.form.translation.path_problem() if self.form.is_translation() and path else ""
        if not path or problem:
            self.form.set_data_info(problem, error=bool(problem))
            return
        self.form.set_data_info("checking…")
        if self.form.is_translation():
            try:
                self.data_jobs.submit("data", check_translation_data, self.form.config(self.ctx.device_request), 0)
            except UserError as exc:
                self.form.set_data_info(str(exc), error=True)
        else:
            self.data_jobs.submit("data", check_dataset, path, 0)

    @Slot(str, object)
    def _data_checked(self, _kind: str, value) -> None:
        _seq, info, error = value
        self.data_info = info
        self.form.set_data_info(error or info.describe(), error=bool(error))
        self._update_fid_note()

    @Slot(str, str)
    def _data_failed(self, _kind: str, message: str) -> None:   # an unexpected error (a UserError comes as a value)
        self.form.set_data_info(message, error=True)

    def data_problem(self) -> str:
        """Why Start cannot train on the chosen data, found without reading it ('' when the paths look right)."""
        if self.form.is_translation():
            return self.form.translation.path_problem()
        data = self.form.data_path()
        if not data:
            return "choose a dataset first"
        return "" if Path(data).expanduser().exists() else f"dataset path {data} does not exist"

    @Slot()
    def _kind_changed(self) -> None:
        if self.job is None and self._worker is None:        # the stage keeps showing a finished run until Start
            self.stage.set_translation(self.form.is_translation())
        self._update_fid_note()

    @Slot()
    def _out_edited(self) -> None:
        self._out_auto = False

    @Slot()
    def _refresh_output(self) -> None:
        if self._out_auto and self._worker is None:
            f = self.form
            f.out_edit.setText(str(default_output(f.data_path(), *f.output_parts())))
        self._settings_changed()

    @Slot()
    def _settings_changed(self) -> None:
        try:
            self.cli.setText(command_line(self.form.config(self.ctx.device_request), self.form.out_path()))
        except UserError as exc:
            self.cli.setText(f"(settings: {exc})")
        self.cli.setCursorPosition(0)
        self.cli.setToolTip(self.cli.text())           # the whole line on hover (the field scrolls; select to copy)

    def _fid_reason(self) -> str:
        return TRANSLATION_FID if self.form.is_translation() else fid_unavailable(self.data_info)

    @Slot()
    def _update_fid_note(self) -> None:
        reason = self._fid_reason()
        self.form.fid_box.setEnabled(not reason)
        self.form.fid_n_box.setEnabled(not reason)
        self.form.fid_box.setToolTip(reason or FID_TIP)
        self.curves.show_fid(bool(self.form.fid_box.value()) and not reason)

    def fid_every(self) -> int:
        return 0 if self._fid_reason() else self.form.fid_box.value()

    def run_config(self) -> tuple[TrainConfig, list] | None:
        """The run's TrainConfig and its preview titles (a translation run's), or None after one message."""
        problem = self.data_problem()
        if problem:
            self.form.set_data_info(problem, error=True)
            self.ctx.report_error(f"Training: {problem}")
            return None
        try:
            cfg = self.form.config(self.ctx.device_request)
            return cfg, preview_titles(cfg) if is_translation(cfg.arch) else []
        except UserError as exc:
            self.ctx.report_error(f"Training settings: {exc}")
            return None

    def prepare_stage(self, cfg: TrainConfig, titles: list, same_run: bool) -> None:
        """The curves and the samples' view for this run (a resumed run of the same file keeps what it drew)."""
        translation = is_translation(cfg.arch)
        self.stage.set_translation(translation)
        self.curves.set_translation(translation)
        self.curves.wasserstein_loss = cfg.loss in ("wgan", "wgan-gp")
        if not same_run:
            self.curves.clear()
            self.stage.clear_samples()
        if translation and titles != self.stage.preview.title_groups():
            self.stage.preview.set_titles(titles)

    def ask_existing(self, path: Path) -> str:
        """The output exists: 'resume' it, pick a 'rename'd output, or 'cancel' (tests replace this)."""
        box = QMessageBox(QMessageBox.Icon.Question, "The model file exists",
                          f"{path.name} exists. Resume its training, or train a new model under another name?",
                          QMessageBox.StandardButton.Cancel, self)
        resume = box.addButton("Resume", QMessageBox.ButtonRole.AcceptRole)
        rename = box.addButton("New name", QMessageBox.ButtonRole.ActionRole)
        box.setDefaultButton(resume)
        box.exec()
        return {resume: "resume", rename: "rename"}.get(box.clickedButton(), "cancel")
