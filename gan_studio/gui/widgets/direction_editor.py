"""The two views over one direction set for the current sample: sliders (edit) and the chart.

Both render through the app's RenderWorker with their own tags (latest wins): the edit view one request
with [original, edited], the chart one request with all its rows × columns. Results older than the newest
request are dropped. Names, stars and hidden flags are written straight into the DirectionSet.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QTabWidget, QWidget

from ...engine.errors import UserError
from ...engine.imaging import save_grid
from ...engine.latent.directions import DirectionSet, apply_shifts
from ...engine.latent.directions.core import z_shift_in_ws
from ...engine.latent.directions.layers import format_range, layer_masks, ranges_apply
from ...engine.latent.directions.presets import Preset
from ...engine.latent.mixing import ws_resolutions
from ...engine.latent.state import Latent
from ...engine.render import RenderRequest, RenderResult
from .direction_pages import ChartPage, EditPage
from .direction_presets import PresetBar


def chart_shifts(limit: float, n: int) -> list[float]:
    """n shifts from -limit to +limit (n odd: the middle one is exactly 0)."""
    vals = torch.linspace(-limit, limit, n).tolist()
    if n % 2:
        vals[n // 2] = 0.0
    return vals


@torch.no_grad()
def base_point(G, ds: DirectionSet, latent: Latent) -> tuple[str, torch.Tensor]:
    """Where shifts start, as `apply_shifts` does: ("z", (1, z_dim)) or ("ws", (1, num_ws, w_dim))."""
    if ds.space == "z" and latent.ws is None and not latent.codes:
        return "z", latent.z
    if ds.space == "z" and getattr(G, "num_ws", 1) != 1:
        raise UserError("these directions live in z; this latent is already a w (a mix or edit)")
    return "ws", latent.to_ws(G)


@torch.no_grad()
def chart_latents(G, ds: DirectionSet, latent: Latent, rows: list[int],
                  shifts: list[float]) -> tuple[str, torch.Tensor]:
    """The chart's latents, row-major: direction rows[r] shifted by shifts[s] -> (R*S, ...) in z or ws."""
    kind, point = base_point(G, ds, latent)
    dirs = ds.directions[rows]                                          # (R, dim)
    eps = torch.tensor(shifts, dtype=torch.float32)                     # (S,)
    delta = (eps[None, :, None] * dirs[:, None, :]).flatten(0, 1)       # (R*S, dim)
    if kind == "z":
        return "z", point.cpu() + delta
    if ds.space == "z":                                                 # a z latent with chosen codes
        delta = z_shift_in_ws(G, delta)
        return "ws", point.cpu() + delta[:, None, :]
    masks = layer_masks(ds.layers, rows, point.shape[1]).repeat_interleave(len(shifts), 0)   # (R*S, num_ws)
    return "ws", point.cpu() + delta[:, None, :] * masks[:, :, None]    # each row on its direction's layers


def format_shift(eps: float) -> str:
    return "0" if abs(eps) < 5e-4 else f"{eps:+.3g}".replace("-", "−")


class DirectionEditor(QTabWidget):
    EDIT_TAG, CHART_TAG = "directions.edit", "directions.chart"
    edit_shown = Signal(int)        # request id of each edit displayed
    chart_shown = Signal(int)       # request id of each chart displayed
    sent = Signal(object)           # the Latent sent to the sample view
    meta_changed = Signal()         # a rename, star, hide or layer range
    limit_wanted = Signal(float)    # a preset needs sliders that reach this far

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.G = None
        self.ds: DirectionSet | None = None
        self.base: Latent | None = None
        self.limit = 6.0
        self._sent: Latent | None = None
        self._pending_edit: tuple[int, Latent] | None = None
        self._pending_chart: tuple[int, list[int], list[float]] | None = None
        self.shown_edit_id = self.shown_chart_id = 0
        self.original_image: torch.Tensor | None = None    # (C, H, W) float, as rendered
        self.edited_image: torch.Tensor | None = None
        self.edited_latent: Latent | None = None
        self.chart_images: torch.Tensor | None = None      # (R*S, C, H, W), row-major
        self._chart_dirty = True
        self.cli_hint = None                               # callable(shifts) -> str, set by the panel
        self.edit, self.chart = EditPage(), ChartPage()
        self.list = self.edit.list
        self.presets = PresetBar(self)
        self.edit.bar.addWidget(self.presets)
        self.addTab(self.edit, "Sliders")
        self.addTab(self.chart, "Chart")
        self._connect()

    def _connect(self) -> None:
        self.ctx.renderer.rendered.connect(self._on_rendered)
        self.list.shifts_changed.connect(self.request_edit)
        self.list.meta_changed.connect(self._meta_changed)
        self.presets.changed.connect(self.meta_changed)
        self.edit.reset_all_btn.clicked.connect(self.list.reset_all)
        self.edit.starred_first.toggled.connect(self._order_changed)
        self.edit.show_hidden.toggled.connect(self._order_changed)
        self.edit.send_btn.clicked.connect(self.send_to_sample_view)
        self.chart.steps_box.valueChanged.connect(self.invalidate_chart)
        self.currentChanged.connect(self._tab_changed)

    # ------------------------------------------------------------ state
    def set_generator(self, G, placeholder: str) -> None:
        self.G, self.ds, self.base, self._sent = G, None, None, None
        self._pending_edit = self._pending_chart = None
        self.original_image = self.edited_image = self.edited_latent = self.chart_images = None
        self.list.clear(placeholder)
        self.chart.chart.clear(placeholder)
        self.chart.status.setText("")           # no header left over from the last model's chart
        self.edit.original.set_pixels(None)
        self.edit.edited.set_pixels(None)
        self.edit.base_title.setText("—")
        self.edit.base_info.setText("")
        self._update_enabled()

    def set_directions(self, ds: DirectionSet | None, limit: float, shifts: dict[int, float] | None = None) -> None:
        self.ds, self.limit = ds, limit
        if ds is None:
            self.list.clear("")
            self.chart.chart.clear("")
            self.chart.status.setText("")
        else:
            self.list.set_directions(ds.names, ds.starred, ds.hidden, limit, self.layer_resolutions(), ds.layers)
            for k, eps in (shifts or {}).items():
                if k < ds.k:
                    self.list.rows[k].set_shift(eps, notify=False)
        self._update_enabled()
        self.request_edit()
        self.invalidate_chart()

    def set_limit(self, limit: float) -> None:
        self.limit = limit
        self.list.set_limit(limit)
        self.invalidate_chart()

    @Slot(object)
    def set_base(self, latent) -> None:
        """The sample the shifts apply to (follow ctx.latent_selected); our own sent edit is not a new base."""
        if not isinstance(latent, Latent) or latent is self._sent:
            return
        self.base = latent
        self.edit.base_title.setText(latent.label())
        space = "z" if latent.z is not None else "ws"
        self.edit.base_info.setText(f"the sample selected in the Sampling tab ({space}, ψ 1)")
        self.request_edit()
        self.invalidate_chart()

    def _update_enabled(self) -> None:
        has = self.ds is not None
        self.presets.refresh()
        for w in (self.edit.reset_all_btn, self.edit.send_btn, self.chart.save_btn, self.edit.starred_first,
                  self.edit.show_hidden):
            w.setEnabled(has)

    def layer_resolutions(self) -> list[int] | None:
        """The ws resolutions when these directions can act on layer ranges (w-space, style generator), else None."""
        if self.G is None or self.ds is None or not ranges_apply(self.G, self.ds.space):
            return None
        return ws_resolutions(self.G)

    @Slot(str, int)
    def _meta_changed(self, what: str, k: int) -> None:
        if self.ds is None:
            return
        row = self.list.rows[k]
        if what == "layers":
            self._set_range(k, row.layer_range())
            self.meta_changed.emit()
            self.request_edit()
            self.invalidate_chart()
            return
        if what == "name":
            self.ds.names[k] = row.name_edit.text().strip() or f"direction {k}"
        else:
            flags = set(self.ds.starred if what == "star" else self.ds.hidden)
            on = row.is_starred() if what == "star" else row.is_hidden()
            flags = flags | {k} if on else flags - {k}
            if what == "star":
                self.ds.starred = sorted(flags)
            else:
                self.ds.hidden = sorted(flags)
        self.meta_changed.emit()
        self.invalidate_chart()

    def _set_range(self, k: int, r: tuple[int, int] | None) -> None:
        if r is None or tuple(r) == (0, self.G.num_ws):
            self.ds.layers.pop(k, None)
        else:
            self.ds.layers[k] = tuple(r)

    def apply_preset(self, preset: Preset) -> None:
        """Sliders to the preset's amounts (the rest to 0), its directions' layer ranges, names and stars."""
        if self.ds is None:
            return
        reach = max((abs(v) for v in preset.shifts.values()), default=0.0)
        if reach > self.limit:
            self.limit_wanted.emit(reach)
        ranged = self.layer_resolutions() is not None
        for k in preset.shifts:
            row = self.list.rows[k]
            if ranged:
                self._set_range(k, preset.layers.get(k))      # none: every layer
                row.set_layer_range(self.ds.layers.get(k))
            if k in preset.names:
                self.ds.names[k] = preset.names[k]
                row.name_edit.setText(preset.names[k])
            row.set_state(k in preset.starred, row.is_hidden())
        self.ds.starred = sorted(set(self.ds.starred) - set(preset.shifts) | set(preset.starred))
        self.list.set_starred_first(self.edit.starred_first.isChecked())
        self.list.set_shifts(preset.shifts)                 # one shifts_changed: one edit request
        self.meta_changed.emit()
        self.invalidate_chart()

    @Slot()
    def _order_changed(self) -> None:
        self.list.set_starred_first(self.edit.starred_first.isChecked())
        self.list.set_show_hidden(self.edit.show_hidden.isChecked())
        self.invalidate_chart()

    # ------------------------------------------------------------ the edit view
    def shifted_latent(self, shifts: dict[int, float]) -> Latent:
        """The base latent moved along the directions (engine `apply_shifts`), as a Latent."""
        with torch.no_grad():
            kind, t = apply_shifts(self.G, self.ds, z=self.base.z, ws=self.base.ws, shifts=shifts)
        info = {"shifts": {k: round(v, 3) for k, v in sorted(shifts.items())}}
        ranged = {k: format_range(self.ds.layers[k], self.G) for k in sorted(shifts) if k in self.ds.layers}
        if ranged:
            info["layers"] = ranged
        codes = dict(self.base.codes)          # a chosen class / InfoGAN codes stay chosen
        return Latent(z=t, source="direction", info=info, codes=codes) if kind == "z" else \
            Latent(ws=t, source="direction", info=info, codes=codes)

    @Slot()
    def request_edit(self) -> int:
        if self.G is None or self.ds is None or self.base is None:
            return 0
        shifts = self.list.shifts()
        try:
            before, after = self.shifted_latent({}), self.shifted_latent(shifts)
        except UserError as exc:
            self.ctx.report_error(str(exc))
            return 0
        rid = self.ctx.renderer.submit(RenderRequest(generator=self.G, latents=[before, after], truncation_psi=1.0,
                                                     device=self.ctx.device, tag=self.EDIT_TAG))
        self._pending_edit = (rid, after)
        n = len(shifts)
        self.edit.shift_summary.setText(f"{n} direction{'s' * (n != 1)} shifted" if n else "no shifts")
        return rid

    def _edit_rendered(self, result: RenderResult) -> None:
        if self._pending_edit is None or result.request_id != self._pending_edit[0]:
            return
        if result.error:
            self.ctx.report_error(f"Could not render the edit: {result.error}")
            return
        self.original_image, self.edited_image = result.images[0], result.images[1]
        self.edited_latent = self._pending_edit[1]
        self.edit.original.set_pixels(result.pixels[0])
        self.edit.edited.set_pixels(result.pixels[1])
        hint = self.cli_hint(self.edited_latent.info["shifts"]) if self.cli_hint else ""
        self.edit.cli_label.setText(hint)
        self.shown_edit_id = result.request_id
        self.edit_shown.emit(result.request_id)

    def is_settled(self) -> bool:
        return self._pending_edit is not None and self.shown_edit_id == self._pending_edit[0]

    @Slot()
    def send_to_sample_view(self) -> Latent | None:
        if self.G is None or self.ds is None or self.base is None:
            return None
        try:
            latent = self.shifted_latent(self.list.shifts())
        except UserError as exc:
            self.ctx.report_error(str(exc))
            return None
        self._sent = latent
        self.ctx.show_latent(latent)
        self.sent.emit(latent)
        return latent

    # ------------------------------------------------------------ the chart
    @Slot()
    def invalidate_chart(self) -> None:
        self._chart_dirty = True
        if self.currentWidget() is self.chart:
            self.request_chart()

    @Slot(int)
    def _tab_changed(self, _index: int) -> None:
        if self.currentWidget() is self.chart and self._chart_dirty:
            self.request_chart()

    def request_chart(self) -> int:
        self._chart_dirty = False
        if self.G is None or self.ds is None or self.base is None:
            return 0
        rows, shifts = self.list.visible(), chart_shifts(self.limit, self.chart.steps_box.value())
        if not rows:
            self._pending_chart = None
            self.chart.chart.clear("Every direction is hidden: tick “Show hidden” on the Sliders page")
            return 0
        try:
            kind, t = chart_latents(self.G, self.ds, self.base, rows, shifts)
        except UserError as exc:
            self.ctx.report_error(str(exc))
            return 0
        rid = self.ctx.renderer.submit(RenderRequest(generator=self.G, **{kind: t}, truncation_psi=1.0,
                                                     device=self.ctx.device, tag=self.CHART_TAG))
        self._pending_chart = (rid, rows, shifts)
        self.chart.status.setText("rendering…")
        return rid

    def chart_settled(self) -> bool:
        return self._pending_chart is not None and self.shown_chart_id == self._pending_chart[0]

    def _chart_rendered(self, result: RenderResult) -> None:
        if self._pending_chart is None or result.request_id != self._pending_chart[0]:
            return
        if result.error:
            self.chart.status.setText("")
            self.ctx.report_error(f"Could not render the chart: {result.error}")
            return
        _, rows, shifts = self._pending_chart
        px = result.pixels
        px = px.reshape(len(rows), len(shifts), *px.shape[1:])
        names = [("★ " if k in self.ds.starred else "") + f"{k} · {self.ds.names[k]}" +
                 (f" · {self._range_label(k)}" if k in self.ds.layers else "") for k in rows]
        self.chart.chart.set_chart(np.ascontiguousarray(px), names, [format_shift(e) for e in shifts],
                                   center=len(shifts) // 2 if len(shifts) % 2 else -1)
        self.chart_images = result.images
        self.chart.status.setText(f"{len(rows)} directions × {len(shifts)} shifts from {format_shift(shifts[0])} "
                                  f"to {format_shift(shifts[-1])} · {self.base.label()}")
        self.shown_chart_id = result.request_id
        self.chart_shown.emit(result.request_id)

    def _range_label(self, k: int) -> str:
        text = format_range(self.ds.layers[k], self.G)
        return f"ws {text}" if text[0].isdigit() else text

    def save_chart(self, path: str | Path, scale: int = 2) -> Path:
        if self.chart_images is None:
            raise UserError("Nothing to save: the chart has not been rendered")
        return save_grid(path, self.chart_images, ncols=self.chart.chart.cols, scale=scale)

    @Slot(object)
    def _on_rendered(self, result: RenderResult) -> None:
        if result.tag == self.EDIT_TAG:
            self._edit_rendered(result)
        elif result.tag == self.CHART_TAG:
            self._chart_rendered(result)
