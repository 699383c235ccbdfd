"""The sampling panel: a grid of seeds S..S+N-1 (row-major, exactly like `gan-studio sample --seed S --n N`),
truncation, and a large view of one latent — a grid tile, or any Latent sent with `set_latent`.

With "Rejection sampling (DRS)" on, the grid holds the first N seeds from S that the critic accepts (like
`gan-studio sample --drs --seed S --n N`); each tile keeps its own seed (sampling_drs.py).

A conditional model gets a class chooser, an InfoGAN a category chooser and a slider per continuous code
(widgets/code_controls.py): the chosen codes go into every tile's Latent (`Latent.codes`, like
`sample --class K --code NAME=VALUE`) and re-render the grid and the large view through the latest-wins
renderer; walks and direction edits started from the large view keep them. DRS grids use per-seed codes.

A slow model (measured: over `render_plan.SLOW_SECONDS` per image) renders its grid in parts, painted as they
land over placeholder tiles (sampling_grid.py); while ψ or a code slider is dragged only the large view renders,
and the grid when the drag rests (drag_rest.py). The status bar gives the time per image of each render.
"""
from __future__ import annotations

import random

import torch
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from ...engine.latent.state import Latent
from ...engine.models.codes import layout_of
from ...engine.render import RenderRequest, RenderResult
from ...engine.render_plan import format_speed, is_slow
from ..drag_rest import DragRest
from ..state import AppContext, LoadedModel
from ..theme import role_label
from ..widgets.code_controls import CodeControls
from ..widgets.image_grid import ImageGrid
from ..widgets.sample_view import SampleView
from .base import Panel
from .sampling_controls import MAX_SEED, build_top_controls
from .sampling_drag import LatentDrag
from .sampling_drs import DRSControl
from .sampling_grid import GridFill, grid_status, part_status, tile_captions
from .sampling_guide import add_steering
from .sampling_neighbours import NeighboursControl
from .sampling_output import SamplingOutputs
from .sampling_paint import PaintControl
from .sampling_project import ProjectionControl
from .sampling_pyramid import PyramidControl
from .sampling_text import TextControl


def _label(text: str, role: str = "") -> QLabel:
    return role_label(text, role)


class SamplingPanel(SamplingOutputs, Panel):
    name, title = "sampling", "Sampling"
    GRID_TAG, VIEW_TAG = "sampling.grid", "sampling.view"
    grid_shown = Signal(int)    # request id of each grid result displayed, in display order
    view_shown = Signal(object)  # the Latent now in the large view

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._G = None
        self._pending_grid: tuple[int, list[Latent]] | None = None
        self._pending_view: tuple[int, Latent] | None = None
        self.grid_latents: list[Latent] = []
        self.grid_images: torch.Tensor | None = None     # (N, C, H, W) float, as rendered
        self._grid_pixels = None                          # (N, H, W, C) uint8
        self.latent: Latent | None = None                # the large view's state
        self.shown_grid_id = 0                           # request id of the grid result on screen
        self.view_image: torch.Tensor | None = None      # (C, H, W) float
        self._build()
        self.fill = GridFill(self.grid)                  # a grid landing in parts
        self.rest = DragRest(self)                       # a slow model's grid waits for a drag to rest
        self.drag = LatentDrag(self)                     # dragging the large view through latent space
        self.rest.rested.connect(self._controls_changed)
        self.psi_slider.sliderReleased.connect(self.rest.release)
        ctx.renderer.rendered.connect(self._on_rendered)
        self.on_model_changed(ctx.model)

    # ------------------------------------------------------------ layout
    def _build_controls(self) -> None:
        build_top_controls(self, self.ctx.settings)

    def _build(self) -> None:
        self._build_controls()
        self.save_grid_btn = QPushButton("Save grid…")
        self.grid = ImageGrid(self.rows_box.value(), self.cols_box.value())
        self.drs = DRSControl(self.ctx, self)
        self.projection = ProjectionControl(self.ctx, self)      # your own image -> a latent
        self.neighbours = NeighboursControl(self.ctx, self)      # is this sample a copy?
        self.paint = PaintControl(self.ctx, self)                # iGAN-style strokes -> latents
        self.paint.walk_requested.connect(lambda a, b: self.ctx.walk_requested.emit([a, b]))
        self.pyramid = PyramidControl(self)                      # a LAPGAN sample's levels
        self.code_controls = CodeControls()

        bar = QHBoxLayout()
        bar.setSpacing(8)
        for w in (_label("Seed"), self.seed_box, self.resample_btn, _label("   Grid"), self.rows_box,
                  _label("×"), self.cols_box, _label("   Truncation ψ")):
            bar.addWidget(w)
        bar.addWidget(self.psi_slider, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.grid)
        self.side = SampleView()
        self.side.title.setWordWrap(True)              # a long title (a mix cell's) wraps instead of clipping
        split.addWidget(self.side)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        split.setSizes([640, 320])
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        drs_row = QHBoxLayout()
        drs_row.addWidget(self.drs.checkbox)
        drs_row.addWidget(self.drs.status, 1)
        drs_row.addWidget(self.pyramid.button)
        drs_row.addWidget(self.save_grid_btn)          # here, not in the top bar: the panel fits 1024 px
        lay.addLayout(bar)
        lay.addWidget(self.code_controls)
        self.text = TextControl(self, lay)                      # a caption box, for text-to-image models
        lay.addLayout(drs_row)
        p = self.projection
        project_row = QHBoxLayout()
        for w, stretch in ((p.button, 0), (p.space_box, 0), (p.steps_box, 0), (p.features_box, 0), (p.bar, 1)):
            project_row.addWidget(w, stretch)
        project_row.addStretch(0)                      # takes the slack while the progress row is hidden
        project_row.addWidget(self.paint.button)
        project_row.addWidget(self.neighbours.button)
        lay.addLayout(project_row)
        add_steering(self, lay)                                 # "Make it a …" (a classifier) and latent arithmetic
        lay.addWidget(split, 1)
        self._connect()

    def _connect(self) -> None:
        self.seed_box.valueChanged.connect(self._controls_changed)
        self.rows_box.valueChanged.connect(self._shape_changed)
        self.cols_box.valueChanged.connect(self._shape_changed)
        self.psi_slider.valueChanged.connect(self._psi_changed)
        self.resample_btn.clicked.connect(self.resample)
        self.grid.tile_clicked.connect(self.select_tile)
        self.save_grid_btn.clicked.connect(self._save_grid_clicked)
        self.side.save_btn.clicked.connect(self._save_image_clicked)
        self.side.upscale_box.currentIndexChanged.connect(self._update_cli)
        self.drs.checkbox.toggled.connect(self._controls_changed)
        self.drs.retry.connect(self._controls_changed)
        self.drs.shown.connect(self._drs_shown)
        self.drs.failed.connect(self.ctx.report_error)
        self.code_controls.changed.connect(self._codes_changed)

    # ------------------------------------------------------------ controls
    def seeds(self) -> list[int]:
        """The grid's seeds: S..S+N-1, or while a DRS grid is on screen, its accepted seeds."""
        if self.shown_grid_id < 0 and self.drs.active():
            return [lat.seed for lat in self.grid_latents]
        s0 = self.seed_box.value()
        return [s0 + i for i in range(self.grid.count())]

    def psi(self) -> float:
        return round(float(self.psi_slider.value()), 4)   # what the CLI's --truncation reproduces

    def codes(self) -> dict[str, float]:
        """The chosen class / InfoGAN codes ({} : all per seed)."""
        return self.code_controls.codes()

    def set_first_seed(self, seed: int) -> None:
        if seed == self.seed_box.value():
            self.request_grid()
        self.seed_box.setValue(seed)

    def set_psi(self, psi: float) -> None:
        self.psi_slider.setValue(psi)

    def set_grid_shape(self, rows: int, cols: int) -> None:
        self.rows_box.setValue(rows)
        self.cols_box.setValue(cols)

    @Slot()
    def resample(self) -> None:
        self.set_first_seed(random.randrange(0, MAX_SEED - self.grid.count()))

    @Slot()
    def _controls_changed(self) -> None:
        self.request_grid()

    @Slot()
    def _shape_changed(self) -> None:
        self.grid.set_shape(self.rows_box.value(), self.cols_box.value())
        self.ctx.settings.set_value("sampling/rows", self.rows_box.value())
        self.ctx.settings.set_value("sampling/cols", self.cols_box.value())
        self.request_grid()

    def _asked_latent(self) -> Latent | None:
        """The latent the large view was last asked to show: a drag's newest position may still be on its way (a
        slider moved then must re-render that one, not the older latent on screen)."""
        return self._pending_view[1] if self._pending_view is not None else self.latent

    @Slot(dict)
    def _codes_changed(self, codes: dict) -> None:
        view = self._asked_latent()
        self._slider_moved(view.with_codes(codes) if view is not None else None)

    @Slot()
    def _psi_changed(self) -> None:
        self._slider_moved(self._asked_latent())

    def _slider_moved(self, view: Latent | None) -> None:
        """The large view first: one image comes back before the grid. A slow model renders only that while the
        slider moves (an older grid still on its way is dropped), and the grid once the drag rests."""
        if view is not None:
            self._request_view(view)
        if self.is_slow() and not self.drs.active():
            self.ctx.renderer.cancel(self.GRID_TAG)
            self.rest.moved()
        else:
            self.request_grid()

    def is_slow(self) -> bool:
        """The open model renders slower than render_plan.SLOW_SECONDS per image (as measured on this device)."""
        return self._G is not None and is_slow(self.ctx.renderer.seconds_per_image(self._G, self.ctx.device))

    # ------------------------------------------------------------ model and rendering
    def on_model_changed(self, model: LoadedModel | None) -> None:
        self.drs.set_model(model)
        self.projection.set_model(model)
        self.paint.set_model(model)
        self.pyramid.set_model(model)
        self._G, self._pending_grid, self._pending_view, self.shown_grid_id = None, None, None, 0
        self.fill.stop()
        self.rest.cancel()
        self.grid_latents, self.grid_images = [], None
        self.latent, self.view_image = None, None
        self.side.clear()
        self.code_controls.set_code_layout(layout_of(model.generator()) if model and model.is_image_generator
                                           else None)
        if model is None:
            self.grid.clear("Open a model: pick one on the left, use Open…, or drop a file here")
        elif not model.is_image_generator:
            self.grid.clear(f"{model.name} is a {model.kind}: the sampling panel shows image generators")
        else:
            self._G = model.generator()
            self.grid.clear("")
            self.grid.set_selected(0)
            self.request_grid()

    def on_device_changed(self, device) -> None:
        self.request_grid()

    @property
    def pending_grid_id(self) -> int:
        """Id of the newest grid request (equal to shown_grid_id once it is on screen)."""
        return self._pending_grid[0] if self._pending_grid else 0

    def is_settled(self) -> bool:
        """The grid on screen is the newest one asked for."""
        return self._pending_grid is not None and self.shown_grid_id == self._pending_grid[0]

    def request_grid(self) -> int:
        """Render the grid's seeds (latest wins); returns the request id (0 when there is nothing to render)."""
        if self._G is None:
            return 0
        if self.drs.active():               # DRS jobs count down: -1, -2, … never clash with render ids
            rid = -self.drs.request(self.seed_box.value(), self.grid.count(), self.psi(), self.ctx.device)
            self._pending_grid = (rid, [])
            return rid
        latents = self.text.latents(self.seeds(), self.psi()) or [Latent.from_seed(s, self._G.z_dim, self.codes())
                                                                   for s in self.seeds()]
        req = RenderRequest(generator=self._G, latents=latents, truncation_psi=self.psi(),
                            device=self.ctx.device, tag=self.GRID_TAG, progressive=True)
        rid = self.ctx.renderer.submit(req)
        self._pending_grid = (rid, latents)
        self.fill.start(rid, latents, placeholders=self.is_slow())    # a fast model's grid lands whole
        return rid

    def _request_view(self, latent: Latent) -> int:
        if self._G is None:
            return 0
        req = RenderRequest(generator=self._G, latents=[latent], truncation_psi=self.psi(),
                            device=self.ctx.device, tag=self.VIEW_TAG)
        rid = self.ctx.renderer.submit(req)
        self._pending_view = (rid, latent)
        return rid

    @Slot(object)
    def _on_rendered(self, result: RenderResult) -> None:
        if result.tag == self.GRID_TAG:
            self._grid_rendered(result)
        elif result.tag == self.VIEW_TAG:
            self._view_rendered(result)

    def _grid_rendered(self, result: RenderResult) -> None:
        if self._pending_grid is None or result.request_id != self._pending_grid[0]:
            return                                    # stale: a newer grid was asked for
        latents = self._pending_grid[1]
        if result.error:
            self.ctx.report_error(f"Could not render the grid: {result.error}")
            return
        shape = tuple(result.images.shape[1:])
        if result.start == 0 and result.done:            # the whole grid at once (a fast model)
            self._show_grid(result.request_id, latents, result.images, result.pixels)
            self.ctx.status.emit(grid_status(len(latents), result.seconds, shape))
            return
        whole = self.fill.add(result)
        sel = self.grid.selected()
        if result.start <= sel < result.stop or (sel < 0 and self.latent is None and result.start == 0):
            self.select_tile(max(sel, 0))                # the large view as soon as its tile lands
        if whole is None:
            self.ctx.status.emit(part_status(result, shape))
            return
        self._show_grid(result.request_id, latents, *whole, painted=True)
        self.ctx.status.emit(grid_status(len(latents), self.fill.seconds, shape))

    @Slot(object)
    def _drs_shown(self, out) -> None:
        if self._G is None or self._pending_grid is None or self._pending_grid[0] != -out.job.seq:
            return
        latents = [Latent.from_seed(s, self._G.z_dim) for s in out.result.seeds]
        self._show_grid(-out.job.seq, latents, out.result.images, out.pixels)
        self.ctx.status.emit(DRSControl.describe(out))

    def _show_grid(self, rid: int, latents: list[Latent], images: torch.Tensor, pixels, painted: bool = False) -> None:
        """A whole grid on screen (`painted`: its tiles are there already, landed part by part)."""
        self.grid_latents, self.grid_images, self._grid_pixels = latents, images, pixels
        self.fill.stop()
        if not painted:
            self.grid.set_images(pixels, tile_captions(latents))
        self.shown_grid_id = rid
        self.grid_shown.emit(rid)
        sel = self.grid.selected()
        if sel >= 0 or self.latent is None:
            self.select_tile(max(sel, 0))
        self._set_ready(True)

    def _view_rendered(self, result: RenderResult) -> None:
        if self._pending_view is None or result.request_id != self._pending_view[0]:
            return
        if result.error:
            self.ctx.report_error(f"Could not render {self._pending_view[1].label()}: {result.error}")
            return
        latent = self._pending_view[1]
        self._show_view(latent, result.images[0], result.pixels[0])
        if is_slow(result.seconds_per_image):           # a slow model's preview: say how long it took
            self.ctx.status.emit(f"{latent.label()}: {format_speed(result.seconds, result.images.shape)}")

    # ------------------------------------------------------------ the large view
    @Slot(int)
    def select_tile(self, index: int) -> None:
        """Show grid tile `index` in the large view (while a grid lands in parts: once its tile is in)."""
        tile = self._tile(index)
        if tile is None:
            return
        self.grid.set_selected(index)
        newer = self._newer_tile(index)
        if newer is not None:             # the tile on screen is from an older grid: render the new one's
            self.side.show_pending(newer.label())
            self._request_view(newer)
            return
        self._pending_view = None
        self.ctx.renderer.cancel(self.VIEW_TAG)
        self._show_view(*tile)

    def _newer_tile(self, index: int) -> Latent | None:
        """Tile `index` of a newer grid still on its way (another ψ, codes or seeds), or None when the grid on
        screen is the newest asked for (or lands in parts: its tiles are shown as they come)."""
        pending = self._pending_grid
        if pending is None or pending[0] == self.shown_grid_id or self.fill.painting or index >= len(pending[1]):
            return None
        return pending[1][index]

    def _tile(self, index: int) -> tuple[Latent, torch.Tensor, object] | None:
        if self.fill.painting:
            return self.fill.tile(index)
        if not 0 <= index < len(self.grid_latents) or self.grid_images is None:
            return None
        return self.grid_latents[index], self.grid_images[index], self._grid_pixels[index]

    def set_latent(self, latent: Latent) -> None:
        """Show any latent (a seed, a walk frame, a direction edit, a mix) in the large view."""
        if latent.seed is not None and latent.seed in self.seeds() and self.grid_latents:
            idx = self.seeds().index(latent.seed)
            tile = self.grid_latents[idx] if idx < len(self.grid_latents) else None
            if tile is not None and tile.seed == latent.seed and tile.codes == latent.codes:
                self.select_tile(idx)
                return
        self.grid.set_selected(-1)
        self.latent = latent
        self.side.show_pending(latent.label())
        self._request_view(latent)

    def _show_view(self, latent: Latent, image: torch.Tensor, pixels) -> None:
        self.latent, self.view_image = latent, image
        c, h, w = image.shape
        space = "z" if latent.z is not None else "ws"
        psi = f" · ψ {self.psi():.2f}" if latent.z is not None else ""
        self.side.show_sample(latent.label(), f"{space}{psi} · {w}×{h}{' RGB' if c == 3 else ''}", pixels)
        self._update_cli()
        if not self.drag.active:                          # a drag selects where it ends (sampling_drag.py)
            self.ctx.select_latent(latent, image)
        self.view_shown.emit(latent)
