"""The style-mixing panel: the StyleGAN paper's mixing figure (Karras et al. 2019, fig. 3) for the open model.

Column sources along the top, row sources down the left; cell (i, j) is row source i with the chosen ws
indices ("layers") taken from column source j — exactly `gan-studio mix`. Sources are typed seed lists plus
latents taken from the sample view; layers come from a preset, a range, or per-layer checkboxes that show
each layer's resolution. The grid renders in a background task, latest wins (while one render runs only
the newest request waits); clicking a cell sends it to the sample view as a ws `Latent` (source "mix").
"""
from __future__ import annotations

import shlex
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget
from superqt import QLabeledSlider

from ...engine.errors import UserError
from ...engine.imaging import save_png, to_uint8
from ...engine.jobs.mixing import MixJob, render_job
from ...engine.latent.mixing import MixingGrid, format_layers, grid_canvas, ws_resolutions
from ...engine.latent.sampling import parse_seeds
from ...engine.latent.state import Latent
from ...engine.render import Renderer
from ..dialogs import ask_save
from ..state import AppContext, LoadedModel, model_ref
from ..theme import double_slider, role_label
from ..widgets.export_bar import saved_message
from ..widgets.image_grid import ImageGrid
from ..widgets.layer_picker import LayerPicker
from ..workers import LatestQueue
from .base import Panel

MAX_SOURCES = 12
NOISE_MODES = ("const", "random", "none")
NO_STYLES = ("{name} has no style layers: one w drives the whole image, so a mix could only repeat the column "
             "images.\n\nStyle mixing needs a style-based generator: StyleGAN2, or an imported StyleGAN2-ADA or "
             "StyleGAN3 model.")


def mix_command(model: LoadedModel, rows: str, cols: str, layers: str, psi: float, cutoff: int | None,
                noise: str, out: str = "mix.png") -> str:
    cmd = f"gan-studio mix --model {model_ref(model)} --rows {rows} --cols {cols} --layers {shlex.quote(layers)}"
    cmd += f" --truncation {psi:g}" if psi != 1.0 else ""
    cmd += f" --cutoff {cutoff}" if cutoff is not None and psi != 1.0 else ""
    cmd += f" --noise {noise}" if noise != "const" else ""
    return cmd + f" --out {out}"


def _label(text: str, role: str = "") -> QLabel:
    return role_label(text, role)


class MixingPanel(Panel):
    name, title = "mixing", "Style mixing"
    grid_shown = Signal(int)        # seq of each grid displayed
    cell_sent = Signal(object)      # the Latent sent to the sample view

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._G = None
        self._placer = Renderer()                # device copies; used only inside the (single) task
        self._seq, self._shown_seq = 0, 0
        self.jobs = LatestQueue(ctx.tasks, self)  # one render at a time, the newest request waiting
        self.jobs.finished.connect(self._on_done)
        self.extra_rows: list[Latent] = []
        self.extra_cols: list[Latent] = []
        self.current_sample: Latent | None = None
        self.grid: MixingGrid | None = None      # as shown
        self.shown_rows: list[Latent] = []
        self.shown_cols: list[Latent] = []
        self._shown_job: MixJob | None = None
        self._build()
        ctx.latent_requested.connect(self.set_current_sample)
        self.on_model_changed(ctx.model)

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        self.view = ImageGrid(4, 4)
        self.status_label = _label("", "subtle")
        self.status_label.setWordWrap(True)
        self.cli_label = _label("", "subtle")
        self.cli_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.cli_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cli_label.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        self.picker = LayerPicker()
        lay.addLayout(self._build_sources())
        lay.addWidget(self.picker)
        lay.addLayout(self._build_rendering())
        lay.addWidget(self.view, 1)
        lay.addWidget(self.status_label)
        lay.addWidget(self.cli_label)
        self._connect()

    def _build_sources(self) -> QHBoxLayout:
        self.rows_edit, self.cols_edit = QLineEdit("1,2,3"), QLineEdit("4,5,6")
        for e, what in ((self.rows_edit, "row"), (self.cols_edit, "column")):
            e.setToolTip(f"Seeds of the {what} sources, e.g. 1,2,5-8")
            e.setMaximumWidth(160)
        self.add_row_btn, self.add_col_btn = QPushButton("+ Row"), QPushButton("+ Column")
        for b in (self.add_row_btn, self.add_col_btn):
            b.setToolTip("Add the latent shown in the sample view as a source")
        self.clear_btn = QPushButton("Clear added")
        self.extra_label = _label("", "subtle")
        bar = QHBoxLayout()
        for w in (_label("Rows"), self.rows_edit, _label("  Columns"), self.cols_edit, _label("   From sample view:"),
                  self.add_row_btn, self.add_col_btn, self.clear_btn, self.extra_label):
            bar.addWidget(w)
        bar.addStretch(1)
        return bar

    def _build_rendering(self) -> QHBoxLayout:
        self.psi_slider = double_slider(
            0.0, 1.5, 1.0, "Truncation ψ towards the average w: 1 = none, 0 = the average latent", min_width=160)
        self.cutoff_slider = QLabeledSlider(Qt.Orientation.Horizontal)
        self.cutoff_slider.setMinimumWidth(140)
        self.cutoff_slider.setToolTip("Truncate only ws indices below this one (the top value = all layers)")
        self.noise_box = QComboBox()
        self.noise_box.addItems(NOISE_MODES)
        self.noise_box.setToolTip("Noise inputs: const (stored maps, repeatable), random (new each render), none")
        self.save_btn = QPushButton("Save figure…")
        bar = QHBoxLayout()
        for w, stretch in ((_label("Truncation ψ"), 0), (self.psi_slider, 1), (_label("  Cutoff"), 0),
                           (self.cutoff_slider, 1), (_label("  Noise"), 0), (self.noise_box, 0)):
            bar.addWidget(w, stretch)
        bar.addSpacing(12)
        bar.addWidget(self.save_btn)
        return bar

    def _connect(self) -> None:
        self.rows_edit.editingFinished.connect(self.request_grid)
        self.cols_edit.editingFinished.connect(self.request_grid)
        self.add_row_btn.clicked.connect(self._add_row_clicked)
        self.add_col_btn.clicked.connect(self._add_col_clicked)
        self.clear_btn.clicked.connect(self.clear_added)
        self.picker.changed.connect(self.request_grid)
        self.picker.range_invalid.connect(self.status_label.setText)
        self.picker.preset_invalid.connect(self.ctx.report_error)
        self.psi_slider.valueChanged.connect(self.request_grid)
        self.cutoff_slider.valueChanged.connect(self.request_grid)
        self.noise_box.currentIndexChanged.connect(self.request_grid)
        self.view.tile_clicked.connect(self.click_tile)
        self.save_btn.clicked.connect(self._save_clicked)

    # ------------------------------------------------------------ model
    def on_model_changed(self, model: LoadedModel | None) -> None:
        self._seq += 1                      # results of the old model are stale
        self.jobs.cancel()
        self._G, self.grid = None, None
        self.extra_rows, self.extra_cols = [], []
        self.view.set_shape(4, 4)
        if model is None:
            self.view.clear("Open a model to mix its styles")
        elif not model.is_image_generator:
            self.view.clear(f"{model.name} is a {model.kind}: style mixing needs an image generator")
        else:
            self._G = model.generator()
            self.view.clear("")
            if len(ws_resolutions(self._G)) <= 1:       # a DCGAN-like model: nothing to mix, and say why
                self._G = None
                self.view.clear(NO_STYLES.format(name=model.name))
                self._shown_seq = self._seq             # settled: there is no grid to wait for
                self._set_ready(True)
        self._rebuild_layer_boxes()
        self._update_sources_label()
        self.status_label.setText("")
        self.cli_label.setText("")
        for w in (self.rows_edit, self.cols_edit, self.picker, self.psi_slider, self.cutoff_slider, self.noise_box,
                  self.save_btn):
            w.setEnabled(self._G is not None)
        if self._G is not None:
            self.request_grid()

    def on_device_changed(self, device) -> None:
        self.request_grid()

    def _rebuild_layer_boxes(self) -> None:
        self.picker.set_resolutions(ws_resolutions(self._G) if self._G is not None else [])
        n = len(self.picker.resolutions)
        if n:
            self.cutoff_slider.blockSignals(True)
            self.cutoff_slider.setRange(0, n)
            self.cutoff_slider.setValue(n)
            self.cutoff_slider.blockSignals(False)

    # ------------------------------------------------------------ layers (the picker's; tests and the CLI line)
    @property
    def preset_box(self):
        return self.picker.preset_box

    @property
    def range_edit(self):
        return self.picker.range_edit

    @property
    def layer_boxes(self):
        return self.picker.layer_boxes

    @property
    def _resolutions(self) -> list[int]:
        return self.picker.resolutions

    def layers(self) -> list[int]:
        return self.picker.layers()

    def set_layers(self, layers, render: bool = True) -> None:
        self.picker.set_layers(layers, emit=render)

    def set_preset(self, preset: str) -> None:
        self.picker.set_preset(preset)

    # ------------------------------------------------------------ sources
    def set_sources(self, rows: str, cols: str) -> None:
        self.rows_edit.setText(rows)
        self.cols_edit.setText(cols)
        self.request_grid()

    def _sources(self) -> tuple[list[Latent], list[Latent]]:
        z_dim = self._G.z_dim
        out = []
        for edit, extra, what in ((self.rows_edit, self.extra_rows, "row"),
                                  (self.cols_edit, self.extra_cols, "column")):
            seeds = parse_seeds(edit.text()) if edit.text().strip() else []
            lats = [Latent.from_seed(s, z_dim) for s in seeds] + extra
            if not lats:
                raise UserError(f"no {what} sources: type seeds (e.g. 1,2,3) or add one from the sample view")
            if len(lats) > MAX_SOURCES:
                raise UserError(f"at most {MAX_SOURCES} {what} sources, not {len(lats)}")
            out.append(lats)
        return out[0], out[1]

    @Slot(object)
    def set_current_sample(self, latent) -> None:
        """The latent shown in the sample view (connect the sampling panel's `view_shown` here)."""
        self.current_sample = latent if isinstance(latent, Latent) else None
        self._update_sources_label()

    def add_source(self, latent: Latent | None, axis: str) -> None:
        if latent is None or self._G is None:
            return
        (self.extra_rows if axis == "row" else self.extra_cols).append(latent)
        self._update_sources_label()
        self.request_grid()

    @Slot()
    def _add_row_clicked(self) -> None:
        self.add_source(self.current_sample, "row")

    @Slot()
    def _add_col_clicked(self) -> None:
        self.add_source(self.current_sample, "col")

    @Slot()
    def clear_added(self) -> None:
        self.extra_rows, self.extra_cols = [], []
        self._update_sources_label()
        self.request_grid()

    def _update_sources_label(self) -> None:
        has = self.current_sample is not None and self._G is not None
        self.add_row_btn.setEnabled(has)
        self.add_col_btn.setEnabled(has)
        n_r, n_c = len(self.extra_rows), len(self.extra_cols)
        self.clear_btn.setEnabled(bool(n_r or n_c))
        self.extra_label.setText(f"added +{n_r} row, +{n_c} col" if n_r or n_c else "")

    # ------------------------------------------------------------ rendering (latest wins)
    def psi(self) -> float:
        return float(self.psi_slider.value())

    def cutoff(self) -> int | None:
        v = int(self.cutoff_slider.value())
        return None if v >= len(self._resolutions) else v

    def noise_mode(self) -> str:
        return self.noise_box.currentText()

    def is_settled(self) -> bool:
        return not self.jobs.busy() and self._shown_seq == self._seq

    @Slot()
    def request_grid(self) -> int:
        """Ask for the grid with the current controls; returns its sequence number (0: nothing to draw)."""
        if self._G is None:
            return 0
        try:
            rows, cols = self._sources()
        except UserError as exc:
            self.status_label.setText(str(exc))
            return 0
        self._seq += 1
        job = MixJob(self._seq, self._G, rows, cols, self.layers(), self.psi(), self.cutoff(), self.noise_mode(),
                     self.ctx.device, self._placer)
        self.status_label.setText("rendering…")
        self.jobs.submit("grid", render_job, job)
        return self._seq

    @Slot(str, object)
    def _on_done(self, _kind: str, value) -> None:
        job, grid, tiles, error = value
        if error:
            self.status_label.setText("")
            self.ctx.report_error(f"Could not render the mixing grid: {error}")
        else:
            self._show(job, grid, tiles)

    def _show(self, job: MixJob, grid: MixingGrid, tiles: list) -> None:
        r, k = len(job.rows), len(job.cols)
        self.grid, self.shown_rows, self.shown_cols, self._shown_job = grid, job.rows, job.cols, job
        captions = [""] + [f"↓ {lat.label()}" for lat in job.cols]
        for lat in job.rows:
            captions += [f"{lat.label()} →"] + [""] * k
        self.view.set_shape(r + 1, k + 1)
        self.view.set_images(tiles, captions)
        self._shown_seq = job.seq
        self.status_label.setText(f"{r}×{k} mixes · ws {format_layers(job.layers, len(self._resolutions))} "
                                  f"from the columns · click a cell to open it in the sample view")
        self._update_cli(job)
        self.grid_shown.emit(job.seq)
        self._set_ready(True)

    def _update_cli(self, job: MixJob) -> None:
        m = self.ctx.model
        if m is None or self.extra_rows or self.extra_cols:
            self.cli_label.setText("")
            return
        layers = self.preset_box.currentText()
        if layers == "custom":
            layers = format_layers(job.layers, len(self._resolutions))
        rows = ",".join(str(lat.seed) for lat in job.rows)
        cols = ",".join(str(lat.seed) for lat in job.cols)
        self.cli_label.setText(mix_command(m, rows, cols, layers, job.psi, job.cutoff, job.noise))

    # ------------------------------------------------------------ clicks and saving
    @Slot(int)
    def click_tile(self, index: int) -> Latent | None:
        """Send tile `index` (row-major over the figure) to the sample view: a source as it is, a cell as
        a ws Latent of source "mix"."""
        if self.grid is None:
            return None
        k = len(self.shown_cols)
        i, j = divmod(index, k + 1)
        if i == 0 and j == 0 or i > len(self.shown_rows):
            return None
        if i == 0:
            latent = self.shown_cols[j - 1]
        elif j == 0:
            latent = self.shown_rows[i - 1]
        else:
            job = self._shown_job
            latent = Latent(ws=self.grid.cell_ws[i - 1, j - 1][None].clone(), source="mix",
                            info={"row": self.shown_rows[i - 1].label(), "col": self.shown_cols[j - 1].label(),
                                  "layers": format_layers(job.layers, len(self._resolutions)),
                                  "psi": round(job.psi, 3), "noise": job.noise})
        self.ctx.show_latent(latent)
        self.cell_sent.emit(latent)
        return latent

    def save_figure(self, path: str | Path, scale: int = 4) -> Path | None:
        if self.grid is None:
            self.ctx.report_error("Nothing to save: the mixing grid has not been rendered")
            return None
        try:
            out = save_png(path, grid_canvas(self.grid), scale)
        except UserError as exc:
            self.ctx.report_error(str(exc))
            return None
        self.ctx.report_done(saved_message(out)[0], out)
        return out

    def save_image(self) -> bool:               # the window's menus (Panel)
        if self.grid is None:
            return False
        self._save_clicked()
        return True

    export_result = save_image

    def current_image(self):
        return None if self.grid is None else to_uint8(grid_canvas(self.grid)[None])[0]

    @Slot()
    def _save_clicked(self) -> None:
        name = f"{Path(self.ctx.model.name).stem if self.ctx.model else 'model'}-mix.png"
        path, _ = ask_save(self, self.ctx.settings, "Save mixing figure", name, "PNG images (*.png)", suffix=".png")
        if path:
            self.save_figure(path)
