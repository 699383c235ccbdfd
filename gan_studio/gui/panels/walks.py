"""The walks panel: a latent walk through keyframes (typed seeds or samples from the sample view) or a random
loop, played in a large view, scrubbed frame by frame, sent back to the sample view, exported as GIF/MP4/PNG.

The walk's ws are computed once per change in the app's LatestQueue (`engine.jobs.walks.compute_walk`); frame i
renders from ws[i:i+1] through the shared latest-wins renderer. One frame request is in flight at a time: a
newer wish (scrub, play tick) waits in the player and is sent when the render lands, so a slow render drops
frames instead of queueing them — and never starves the view. Rendered frames are cached until anything changes.
On a slow model a scrub shows the frames the renderer keeps up with and, once it rests, the frame asked for; the
status bar says how long a frame takes (at most twice a second).
"""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QSplitter, QVBoxLayout, QWidget

from ...engine.errors import UserError
from ...engine.jobs.walks import FrameCache, WalkSpec, compute_walk
from ...engine.latent.sampling import parse_seeds
from ...engine.latent.state import Latent
from ...engine.render import RenderRequest, RenderResult
from ...engine.render_plan import format_speed
from ..state import AppContext, LoadedModel, model_ref
from ..theme import role_label
from ..widgets.export_bar import ExportBar
from ..widgets.keyframe_list import KeyframeList
from ..widgets.walk_options import WalkOptions
from ..widgets.walk_player import WalkPlayer
from ..workers import LatestQueue
from .base import Panel
from .walks_export import WalkExports

MAX_KEYFRAMES = 64
DEFAULT_SEEDS = "1,2,3"


_label = role_label


class WalksPanel(WalkExports, Panel):
    name, title = "walks", "Walks"
    FRAME_TAG, KEYS_TAG = "walks.frame", "walks.keyframes"
    frame_shown = Signal(int)       # the index of each frame put on screen
    walk_ready = Signal(int)        # a new walk's frame count, once its ws are computed
    export_finished = Signal(str)   # the written path, or "" when cancelled or failed
    latent_sent = Signal(object)    # the Latent sent to the sample view

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._G = None
        self.ws = None                     # (frames, num_ws, w_dim) of the walk on screen, None while computing
        self.spec: WalkSpec | None = None  # the spec `ws` was made from
        self._seq = 0                      # bumped on every change: older walks and frames are stale
        self.walks = LatestQueue(ctx.tasks, self)      # one walk computing, the newest change waiting
        self.walks.finished.connect(self._walk_computed)
        self._inflight: tuple[int, int, int] | None = None      # (request id, seq, frame)
        self._keys_rid = 0
        self.cache = FrameCache()
        self.shown_frame = -1              # frame index on screen (-1: none of this walk yet)
        self.frame_image = None            # (C, H, W) float of the frame on screen
        self._speed_said = 0.0             # when the status bar last gave the time per frame
        self._build()
        ctx.renderer.rendered.connect(self._on_rendered)
        ctx.latent_selected.connect(self._on_latent_selected)
        self.on_model_changed(ctx.model)

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self._build_controls())
        split.addWidget(self._build_player())
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([300, 660])
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addWidget(split, 1)
        self._connect()

    def _build_controls(self) -> QWidget:
        self.keys, self.options = KeyframeList(), WalkOptions()
        self.seeds_edit = QLineEdit(DEFAULT_SEEDS)
        self.seeds_edit.setPlaceholderText("e.g. 1,2,5-8")
        self.seeds_edit.setToolTip("Seeds to append as keyframes, e.g. 1,2,5-8 (Enter adds them)")
        self.add_seeds_btn = QPushButton("Add seeds")
        self.add_current_btn = QPushButton("Add current sample")
        self.add_current_btn.setToolTip("Append the latent shown in the sampling view's large view")
        box = QWidget()
        box.setMinimumWidth(270)
        add_row = QHBoxLayout()
        add_row.addWidget(self.seeds_edit, 1)
        add_row.addWidget(self.add_seeds_btn)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 8, 0)
        lay.addWidget(_label("KEYFRAMES", "section"))
        lay.addWidget(self.keys, 1)
        lay.addLayout(add_row)
        lay.addWidget(self.add_current_btn)
        lay.addSpacing(10)
        lay.addWidget(_label("WALK", "section"))
        lay.addWidget(self.options)
        return box

    def _build_player(self) -> QWidget:
        self.heading = _label("—", "heading")
        self.info = _label("", "subtle")
        for lab in (self.heading, self.info):
            lab.setWordWrap(True)                  # a long title wraps instead of widening the panel
        self.player = WalkPlayer()
        self.send_btn = QPushButton("Send to sample view")
        self.send_btn.setToolTip("Show this frame's latent (a ws) in the sampling view, to save or edit it")
        self.export_bar = ExportBar()
        self.cli_label = _label("", "subtle")
        self.cli_label.setWordWrap(True)
        self.cli_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.cli_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head = QHBoxLayout()
        head.addWidget(self.heading, 1)
        head.addWidget(self.send_btn, 0, Qt.AlignmentFlag.AlignBottom)
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(8, 0, 0, 0)
        lay.addLayout(head)
        lay.addWidget(self.info)
        lay.addWidget(self.player, 1)
        lay.addSpacing(6)
        lay.addWidget(self.export_bar)
        lay.addSpacing(10)
        lay.addWidget(_label("SAME FROM THE COMMAND LINE", "section"))
        lay.addWidget(self.cli_label)
        return box

    def _connect(self) -> None:
        self.keys.changed.connect(self._keys_changed)
        self.ctx.walk_requested.connect(self.walk_through)
        self.add_seeds_btn.clicked.connect(self._add_seeds_clicked)
        self.seeds_edit.returnPressed.connect(self._add_seeds_clicked)
        self.add_current_btn.clicked.connect(self.add_current_sample)
        self.options.changed.connect(self._walk_changed)
        self.options.psi_changed.connect(self._request_thumbnails)
        self.player.frame_changed.connect(self.request_frame)
        self.send_btn.clicked.connect(self.send_to_sample_view)
        self.export_bar.export_requested.connect(self._export_clicked)
        self.export_bar.finished.connect(self._export_finished)
        self.export_bar.failed.connect(lambda message: self.ctx.report_error(f"Export failed: {message}"))
        self.player.speed_box.valueChanged.connect(self.export_bar.fps_box.setValue)   # export what you watch
        self.export_bar.fps_box.valueChanged.connect(self._update_cli)
        self.export_bar.upscale_box.currentIndexChanged.connect(self._update_cli)

    # ------------------------------------------------------------ keyframes
    def add_seeds(self, text: str) -> list[Latent]:
        """Append keyframes for a typed seed list like '1,2,5-8'."""
        if self._G is None:
            return []
        try:
            seeds = parse_seeds(text)
            if self.keys.count() + len(seeds) > MAX_KEYFRAMES:
                raise UserError(f"a walk takes at most {MAX_KEYFRAMES} keyframes")
        except UserError as exc:
            self.ctx.report_error(str(exc))
            return []
        latents = [Latent.from_seed(s, self._G.z_dim) for s in seeds]
        self.keys.add(latents)
        return latents

    @Slot()
    def _add_seeds_clicked(self) -> None:
        self.add_seeds(self.seeds_edit.text())

    @Slot(object)
    def walk_through(self, latents: list) -> None:
        """Make these latents the keyframes (e.g. a painting's start and its chosen candidate)."""
        self.keys.clear()
        self.keys.add(list(latents)[:MAX_KEYFRAMES])

    @Slot()
    def add_current_sample(self) -> Latent | None:
        lat = self.ctx.selected_latent
        if lat is None or self._G is None:
            self.ctx.report_error("No sample to add: pick one in the sampling view first")
            return None
        self.keys.add([lat])
        return lat

    @Slot(object)
    def _on_latent_selected(self, latent) -> None:
        self.add_current_btn.setEnabled(latent is not None and self._G is not None and self.keys.isEnabled())
        self.add_current_btn.setToolTip(f"Append the sample view's latent: {latent.label() if latent else 'none'}")

    @Slot()
    def _keys_changed(self) -> None:
        self._request_thumbnails()
        self._walk_changed()

    @Slot()
    def _request_thumbnails(self) -> None:
        latents = self.keys.latents()
        if self._G is None or not latents:
            self._keys_rid = 0
            return
        self._keys_rid = self.ctx.renderer.submit(RenderRequest(
            generator=self._G, latents=latents, truncation_psi=self.psi(), device=self.ctx.device,
            tag=self.KEYS_TAG))

    # ------------------------------------------------------------ the walk
    def psi(self) -> float:
        return self.options.psi()

    def current_spec(self) -> WalkSpec:
        return WalkSpec(keyframes=self.keys.latents(), **self.options.values())

    @Slot()
    def _walk_changed(self) -> None:
        """Anything changed: forget the walk and its frames, and compute the new one."""
        self._seq += 1
        self.ws, self.spec = None, None
        self.cache.clear()
        self.shown_frame, self.frame_image = -1, None
        spec = self.current_spec()
        self._update_enabled(spec)
        self._update_cli()
        problem = spec.problem() if self._G is not None else "Open an image generator"
        if problem:
            self.walks.cancel()
            self.player.set_count(0)
            self.player.show_image(None)
            self.player.set_placeholder(problem)
            self.heading.setText(spec.title() if self._G is not None and spec.keyframes else "—")
            self.info.setText("")
            return
        self.walks.submit("walk", compute_walk, self._seq, spec, self._G)

    @Slot(str, object)
    def _walk_computed(self, _kind: str, value) -> None:
        seq, spec, ws, error = value
        if seq != self._seq:                       # changed meanwhile (the queue drops most such results)
            return
        if error:
            self.player.set_count(0)
            self.player.set_placeholder(error)
            return self.ctx.report_error(f"Could not make the walk: {error}")
        self.ws, self.spec = ws, spec
        self.player.set_count(ws.shape[0])
        self.export_bar.set_available(True)
        self.send_btn.setEnabled(True)
        self._update_titles()
        self.walk_ready.emit(ws.shape[0])
        self.request_frame(self.player.frame())

    # ------------------------------------------------------------ frames
    @Slot(int)
    def request_frame(self, i: int) -> int:
        """Show frame i: from the cache, else render it (returns the request id; 0 when none was sent)."""
        if self.ws is None or not 0 <= i < self.ws.shape[0]:
            return 0
        hit = self.cache.get(i)
        if hit is not None:
            self._show_frame(i, *hit)
            return 0
        if self._inflight is not None:             # sent when the render in flight lands
            return 0
        rid = self.ctx.renderer.submit(RenderRequest(generator=self._G, ws=self.ws[i:i + 1], device=self.ctx.device,
                                                     tag=self.FRAME_TAG))
        self._inflight = (rid, self._seq, i)
        return rid

    @Slot(object)
    def _on_rendered(self, result: RenderResult) -> None:
        if result.tag == self.FRAME_TAG:
            self._frame_rendered(result)
        elif result.tag == self.KEYS_TAG and result.request_id == self._keys_rid and result.ok:
            self.keys.set_thumbnails(result.pixels)

    def _frame_rendered(self, result: RenderResult) -> None:
        if self._inflight is None or result.request_id != self._inflight[0]:
            return
        _, seq, i = self._inflight
        self._inflight = None
        if seq == self._seq:
            if result.error:
                self.ctx.report_error(f"Could not render frame {i}: {result.error}")
                return
            self.cache.put(i, result.images[0], result.pixels[0])
            self._show_frame(i, result.images[0], result.pixels[0])
            if time.monotonic() - self._speed_said >= 0.5:
                self._speed_said = time.monotonic()
                self.ctx.status.emit(f"Frame {i}: {format_speed(result.seconds, result.images.shape, 'frame')}")
        want = self.player.frame()
        if want != self.shown_frame:
            self.request_frame(want)

    def _show_frame(self, i: int, image, pixels) -> None:
        self.player.show_image(pixels)
        self.shown_frame, self.frame_image = i, image
        self.frame_shown.emit(i)
        self._set_ready(True)

    # ------------------------------------------------------------ model
    def on_model_changed(self, model: LoadedModel | None) -> None:
        self.player.pause()
        self.ctx.renderer.cancel(self.FRAME_TAG)
        self.ctx.renderer.cancel(self.KEYS_TAG)
        self._inflight = None
        self._G = model.generator() if model is not None and model.is_image_generator else None
        if self._G is None:
            self.keys.set_latents([])
            self.player.set_placeholder("Open an image generator to make walks" if model is None else
                                        f"{model.name} is a {model.kind}: walks need an image generator")
            return
        seeds = [k.seed for k in self.keys.latents() if k.seed is not None] or parse_seeds(DEFAULT_SEEDS)
        self.keys.set_latents([Latent.from_seed(s, self._G.z_dim) for s in seeds])   # other latents: other model

    def on_device_changed(self, device) -> None:
        self._inflight = None
        self.cache.clear()
        self.shown_frame = -1
        self.request_frame(self.player.frame())

    def hideEvent(self, event) -> None:
        self.player.pause()                        # nobody watches: stop rendering
        super().hideEvent(event)

    # ------------------------------------------------------------ sending, exporting
    @Slot()
    def send_to_sample_view(self) -> Latent | None:
        i = self.player.frame()
        if self.ws is None or not 0 <= i < self.ws.shape[0]:
            self.ctx.report_error("No walk frame to send yet")
            return None
        lat = Latent(ws=self.ws[i:i + 1].clone(), source="walk", info={**self.spec.describe(), "frame": i})
        self.ctx.show_latent(lat)
        self.latent_sent.emit(lat)
        return lat

    # ------------------------------------------------------------ labels
    def _update_enabled(self, spec: WalkSpec) -> None:
        has_model, keyed = self._G is not None, spec.random is None
        self.options.setEnabled(has_model)
        for w in (self.keys, self.seeds_edit, self.add_seeds_btn):
            w.setEnabled(has_model and keyed)
        self.add_current_btn.setEnabled(has_model and keyed and self.ctx.selected_latent is not None)
        self.export_bar.set_available(False)
        self.send_btn.setEnabled(False)

    def _update_titles(self) -> None:
        spec, (_, h, w) = self.spec, self._G.image_shape
        how = ("great circle" if spec.random == "circle" else "periodic noise") if spec.random else \
            f"{spec.method or ('slerp' if all(k.z is not None for k in spec.keyframes) else 'lerp')} · {spec.easing}"
        self.heading.setText(spec.title())
        self.info.setText(f"{spec.frames} frames · {how} · ψ {spec.psi:.2f} · {w}×{h}")

    @Slot()
    def _update_cli(self) -> None:
        m = self.ctx.model
        spec = self.current_spec()
        cmd = spec.command(model_ref(m), fps=self.export_bar.fps(), scale=self.export_bar.scale()) \
            if m is not None and self._G is not None and not spec.problem() else ""
        self.cli_label.setText(cmd or ("— keyframes taken from the sample view have no seed, so no command line"
                                       if self._G is not None and spec.keyframes else ""))
