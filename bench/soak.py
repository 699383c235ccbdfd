"""Soak test in a real app window (issue 22): thousands of slider moves, hundreds of model switches and tab changes;
memory growth after warm-up, and whether a stale frame is ever shown.

    python bench/soak.py [--moves 10000] [--switches 500] [--tabs 200] [--quick] [--gap-ms 5] [--seed 0]

A MainWindow is opened on the real platform (xcb when a display is set, e.g. under xvfb-run; else offscreen) with
throwaway settings and user folders, and driven as a user would drive it:

- slider moves: on the Sampling tab the truncation ψ slider (setValue) and drags of the large image through
  latent space (mouse press / move / release events on the view, panels/sampling_drag.py); on the Directions tab
  the direction sliders (directions found once per model with SeFa through the Start button, kept per model
  file by the panel). One move, then the event loop runs for `gap-ms` (a drag at ~100-200 events/s); after about
  half of the gestures the bench waits until every frame is delivered (a settle point), the others run into the
  next gesture while frames are still on their way.
- model switches: a click on a model's row in the model list (the shipped image generators and the voxel
  model); about one in six is a quick pair of clicks (the first load superseded by the second).
- tab changes: a click on the next tab of the tab bar, round all tabs.

The three are interleaved: the run is a tour of the tabs (one stay per tab visit); the switches are spread over
all stays, the moves over the stays on the Sampling and Directions tabs (the voxel model opens only where it
does not take the moves' tab away: the window shows a voxel model in the 3D tab).

Stale frames. Every render request the panels submit is logged from the render worker's `submit` (request id,
the bench's action number at that moment, model, ψ, the latents' seed positions); the panels' display methods
are wrapped (sampling large view `_show_view`, grid `_show_grid`, directions edit `_edit_rendered`), so each
frame shown is known by the request it came from. A frame is stale when
  (a) at a settle point, the pixels on screen differ from a fresh engine render (engine/render.py with the
      bench's own copy of the model) of the state the bench asked for: the model it picked, the ψ it set, the
      position it dragged to, the shifts it set (for a voxel model: no image may be left in the sampling tab);
  (b) it comes from an older bench action than a frame already shown in that view;
  (c) it shows another model than the one open, or (large view, grid) not what the bench asked for at the
      action its request came from.
Any of these counts once per frame (or settle point). Goal 0.

Memory: RSS (/proc/self/statm, after gc.collect()) once 10 % of each activity is done (warm-up) and at the end;
growth = end / warm-up - 1 (goal <= 5 %), and the peak sampled at every settle point.

Exit status 1 when a stale frame was seen or RSS grew more than 5 %.

Measured (2-core CPU, 1 thread, Xvfb, shipped models; `xvfb-run -a python bench/soak.py`, the defaults): 10,000
moves, 500 switches, 200 tab changes in 245 s; 11,024 frames shown, 0 stale (2,001 settle-point pixel checks, max
|diff| 1/255 against a fresh render); RSS 963 MiB after warm-up -> 1,004 MiB at the end, growth +4.21 %.
"""
from __future__ import annotations

import argparse
import bisect
import gc
import os
import random
import resource
import sys
import tempfile
import time
import weakref
from collections import OrderedDict
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PySide6.QtCore import QEvent, QEventLoop, QPointF, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QMouseEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gan_studio.engine.bundle import load_bundle  # noqa: E402
from gan_studio.engine.catalog import list_models  # noqa: E402
from gan_studio.engine.latent.directions import apply_shifts  # noqa: E402
from gan_studio.engine.latent.drag import SeedPos  # noqa: E402
from gan_studio.engine.latent.state import Latent  # noqa: E402
from gan_studio.engine.render import Renderer, RenderRequest  # noqa: E402

now = time.perf_counter
GROWTH_GOAL = 5.0                 # % RSS growth after warm-up
WARM_UP = 0.10                    # fraction of each activity before the baseline
SLIDER_TABS = ("sampling", "directions")
ACTIVITIES = ("moves", "switches", "tabs")
MAX_LOG = 4096                    # requests / intents remembered (older frames are "unknown": stale anyway)
PX_PER_SEED = 100.0               # panels/sampling_drag.py: 100 px of drag = one seed


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def latent_key(lat: Latent):
    """What a latent is, hashable: its seed-plane position (seeds, fractional seeds), else its numbers."""
    pos = lat.position
    if pos is not None:
        key = (pos.x, pos.y)
    else:
        t = lat.z if lat.z is not None else lat.ws
        key = ("t", hash(t.detach().cpu().numpy().tobytes()))
    return key + (tuple(sorted(lat.codes.items())),) if lat.codes else key


def pos_key(pos: SeedPos):
    return (pos.x, pos.y)


def qimage_array(img: QImage | None) -> np.ndarray | None:
    """A shown QImage as (H, W, 3) uint8."""
    if img is None or img.isNull():
        return None
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    a = np.frombuffer(img.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)[:, :w * 3]
    return a.reshape(h, w, 3).copy()


def as_rgb(px: np.ndarray) -> np.ndarray:
    return np.repeat(px, 3, axis=2) if px.shape[2] == 1 else px[..., :3]


class Soak:
    """Drives a MainWindow (already shown, its first model open) and watches every frame its views show."""

    def __init__(self, window, seed: int = 0, gap_ms: int = 5, settle_p: float = 0.5, tolerance: int = 1,
                 models: list[str] | None = None, settle_timeout_s: float = 15.0, log=None) -> None:
        self.w, self.app = window, QApplication.instance()
        self.ctx = window.ctx
        self.rng = random.Random(seed)
        self.gap_ms, self.settle_p, self.tol = gap_ms, settle_p, tolerance
        self.settle_timeout_s = settle_timeout_s
        self.log = log or (lambda *_: None)
        self.P = window.panel("sampling")
        self.D = window.panel("directions")
        self.E = self.D.editor
        entries = {str(e.path.resolve()): e for e in list_models()}
        paths = models or [p for p in window.model_list.paths() if p in entries]
        self.kind = {p: entries[p].kind if p in entries else load_bundle(p).kind for p in paths}
        self.gens = [p for p in paths if self.kind[p] == "image-generator"]
        self.voxels = [p for p in paths if self.kind[p] == "voxel-model"]
        if len(self.gens) + len(self.voxels) < 2 or not self.gens:
            raise SystemExit("the soak needs at least two models in the model list, one an image generator")
        self.ref = {p: load_bundle(p).generator().eval() for p in self.gens}   # the bench's own copies
        self.renderer = Renderer()
        self._paths: dict[str, str] = {}                  # interned model paths
        self.gpaths: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # app generator -> model path
        self.reqlog: OrderedDict[int, tuple] = OrderedDict()   # rid -> (tag, model, psi, latent keys, seq)
        self.seq = 0                                      # the bench's action number
        self.sel_seq = 0                                  # action that last chose the large view's latent
        self.intents: dict[str, tuple[list[int], list]] = {v: ([], []) for v in ("view", "grid")}
        self.last_seq = {"view": 0, "grid": 0, "edit": 0}
        self.shifts: dict[str, dict[int, float]] = {}     # per model: the direction shifts the bench set
        self.view_pos = SeedPos(0.0)
        self.psi = 1.0
        self.model = self._intern(str(self.ctx.model.path)) if self.ctx.model else None
        self.activity = "setup"
        self.stats = {a: {"count": 0, "wall_s": 0.0, "frames": 0, "stale": 0} for a in ACTIVITIES + ("setup",)}
        self.frames = {"view": 0, "grid": 0, "edit": 0}
        self.violations: list[str] = []
        self.stale = 0
        self.checks = {"view": 0, "grid": 0, "edit": 0, "empty": 0}
        self.max_diff = 0
        self.notes = {"click_fallbacks": 0, "app_tab_jumps": 0, "quick_pairs": 0, "discoveries": 0,
                      "tab_not_ready": 0, "widget_rounding": 0}
        self.rss: dict[str, int] = {}
        self._ctx_results: list = []
        self._frames_in_window = 0
        self._loop = QEventLoop()
        self._timer = QTimer()
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._loop.quit)
        self._patched: list[tuple[object, str]] = []
        self._opens = 0                                   # model rows the model list reported as picked
        self.last_state: dict[str, object] = {}
        self._install()
        window.model_list.open_requested.connect(self._count_open)

    # ------------------------------------------------------------ hooks
    def _patch(self, owner, name: str, fn) -> None:
        setattr(owner, name, fn)
        self._patched.append((owner, name))

    def close(self) -> None:
        """Take the hooks out again (the instance attributes that shadow the methods)."""
        for owner, name in reversed(self._patched):
            try:
                delattr(owner, name)
            except AttributeError:
                pass
        self._patched.clear()
        try:
            self.w.model_list.open_requested.disconnect(self._count_open)
        except (RuntimeError, TypeError):
            pass

    def _install(self) -> None:
        P, E, r = self.P, self.E, self.ctx.renderer
        real_submit = r.submit

        def submit(req):
            rid = real_submit(req)
            self._logged(rid, req)
            return rid
        self._patch(r, "submit", submit)
        for name in ("_view_rendered", "_grid_rendered"):
            self._patch(P, name, self._in_result(getattr(P, name)))
        real_show_view, real_show_grid, real_edit = P._show_view, P._show_grid, E._edit_rendered

        def show_view(latent, image, pixels):
            real_show_view(latent, image, pixels)
            self._view_frame(latent)

        def show_grid(rid, latents, images, pixels, painted=False):
            real_show_grid(rid, latents, images, pixels, painted)
            self._grid_frame(rid)

        def edit_rendered(result):
            before = E.shown_edit_id
            real_edit(result)
            if E.shown_edit_id == result.request_id != before:
                self._edit_frame(result.request_id)
        self._patch(P, "_show_view", show_view)
        self._patch(P, "_show_grid", show_grid)
        self._patch(E, "_edit_rendered", edit_rendered)

    def _in_result(self, real):
        def slot(result):
            self._ctx_results.append(result)
            try:
                real(result)
            finally:
                self._ctx_results.pop()
        return slot

    def _intern(self, path: str) -> str:
        return self._paths.setdefault(path, path)

    def _model_of(self, G) -> str:
        path = self.gpaths.get(G)
        if path is None:
            m = self.ctx.model
            if m is not None and m.is_image_generator and m.bundle.generator() is G:
                path = self.gpaths[G] = self._intern(str(m.path))
        return path or "?"

    def _logged(self, rid: int, req) -> None:
        if req.tag not in (self.P.VIEW_TAG, self.P.GRID_TAG, self.E.EDIT_TAG):
            return
        keys = tuple(latent_key(lat) for lat in req.latents) if req.latents is not None else None
        self.reqlog[rid] = (req.tag, self._model_of(req.generator), round(float(req.truncation_psi), 4), keys,
                            self.seq)
        if len(self.reqlog) > MAX_LOG:
            self.reqlog.popitem(last=False)
        if req.tag == self.P.VIEW_TAG:
            self.sel_seq = self.seq

    def _view_frame(self, latent: Latent) -> None:
        res = self._ctx_results[-1] if self._ctx_results else None
        if res is not None:
            entry = self.reqlog.get(res.request_id)
            seq = None if entry is None else (entry[4] if res.tag == self.P.VIEW_TAG else max(entry[4], self.sel_seq))
        else:                                  # a tile shown at once (a click, a drag onto a grid seed)
            P = self.P
            entry = self.reqlog.get(P.fill.rid if P.fill.painting else P.shown_grid_id)
            seq = self.sel_seq = self.seq
        state = None if entry is None else (entry[1], entry[2], latent_key(latent))
        self._frame("view", state, seq)

    def _grid_frame(self, rid: int) -> None:
        entry = self.reqlog.get(rid)
        state = None if entry is None else (entry[1], entry[2], entry[3])
        self._frame("grid", state, None if entry is None else entry[4])

    def _edit_frame(self, rid: int) -> None:
        entry = self.reqlog.get(rid)
        self._frame("edit", None if entry is None else (entry[1],), None if entry is None else entry[4])

    def _frame(self, view: str, state, seq) -> None:
        self.frames[view] += 1
        self.stats[self.activity]["frames"] += 1
        self._frames_in_window += 1
        if state is None:
            return self._stale(f"{view}: a frame from a request the bench never saw (or long forgotten)")
        open_model = str(self.ctx.model.path) if self.ctx.model is not None else None
        if state[0] != open_model:
            return self._stale(f"{view}: a frame of {Path(state[0]).name} while {Path(open_model or '-').name} "
                               f"is open (request of action {seq}, now {self.seq})")
        if seq < self.last_seq[view]:
            return self._stale(f"{view}: a frame for action {seq} shown after one for action {self.last_seq[view]}")
        self.last_seq[view] = seq
        self.last_state[view] = state
        if view in self.intents:
            asked = self._intent_at(view, seq)
            if state != asked:
                self._stale(f"{view}: shows {self._describe(state)}; at action {seq} the bench asked for "
                            f"{self._describe(asked)} (now action {self.seq})")

    @staticmethod
    def _describe(state) -> str:
        if state is None:
            return "no image"
        model, psi, key = state[:3]
        where = f"{len(key)} tiles from {key[0][:2]}" if key and isinstance(key[0], tuple) else f"position {key}"
        return f"{Path(model).stem} ψ {psi} {where}"

    def _stale(self, why: str) -> None:
        self.stale += 1
        self.stats[self.activity]["stale"] += 1
        if len(self.violations) < 50:
            self.violations.append(f"[{self.activity} #{self.stats[self.activity]['count']}] {why}")
            self.log(f"  STALE {self.violations[-1]}")

    # ------------------------------------------------------------ intents
    def _set_intent(self, view: str, state) -> None:
        seqs, states = self.intents[view]
        if states and states[-1] == state:
            return
        seqs.append(self.seq)
        states.append(state)
        if len(seqs) > MAX_LOG:
            del seqs[:MAX_LOG // 2], states[:MAX_LOG // 2]

    def _intent_at(self, view: str, seq: int):
        seqs, states = self.intents[view]
        i = bisect.bisect_right(seqs, seq) - 1
        return states[i] if i >= 0 else None

    def _grid_seeds(self) -> tuple:
        s0 = self.P.seed_box.value()
        return tuple((float(s0 + i), 0.0) for i in range(self.P.grid.count()))

    def _ask(self) -> None:
        """What the bench wants on screen now: the large view and the grid (none for a voxel model)."""
        gen = self.model in self.gens
        self._set_intent("view", (self.model, self.psi, pos_key(self.view_pos)) if gen else None)
        self._set_intent("grid", (self.model, self.psi, self._grid_seeds()) if gen else None)

    def _next_action(self, activity: str) -> None:
        self.seq += 1
        self.activity = activity
        self.stats[activity]["count"] += 1

    # ------------------------------------------------------------ event loop
    def wait(self, ms: float) -> None:
        """Let the event loop run for `ms` (the app idles in its loop; no busy spinning)."""
        self._timer.start(max(0, int(ms)))
        self._loop.exec()

    def wait_until(self, cond, timeout_s: float = 60.0, step_ms: int = 5) -> bool:
        end = now() + timeout_s
        while not cond():
            if now() > end:
                return False
            self.wait(step_ms)
        return True

    # ------------------------------------------------------------ settle points
    def _quiet(self) -> bool:
        """The model asked for is open and the views show the newest state asked for, with nothing on its way."""
        if self.w.loading:
            return False
        m = self.ctx.model
        if m is None or str(m.path) != self.model:
            return False
        if self.model in self.gens:
            for view in ("view", "grid"):
                if self.last_state.get(view) != self._intent_at(view, self.seq):
                    return False
            if not self.P.is_settled():
                return False
            if self.E.ds is not None and self.E.base is not None and not self.E.is_settled():
                return False
        return True

    def settle(self, timeout_s: float | None = None) -> None:
        """Wait until every frame asked for is delivered (and nothing new came for a moment), then compare what is
        on screen with fresh renders of what the bench asked for."""
        timeout_s = self.settle_timeout_s if timeout_s is None else timeout_s
        end = now() + timeout_s
        while True:
            if self.wait_until(self._quiet, max(0.1, end - now())):
                self._frames_in_window = 0
                self.wait(15)
                if self._quiet() and not self._frames_in_window:
                    break
            elif now() > end:
                self._stale(f"not settled after {timeout_s:.0f} s (the newest frame never came)")
                break
        self.rss["peak"] = max(self.rss.get("peak", 0), rss_bytes())
        self._check_pixels()

    def _compare(self, what: str, shown: np.ndarray | None, want: np.ndarray) -> bool:
        if shown is None:
            self._stale(f"{what}: no image on screen")
            return False
        want = as_rgb(want)
        if shown.shape != want.shape:
            self._stale(f"{what}: the image on screen is {shown.shape}, a fresh render {want.shape}")
            return False
        diff = int(np.abs(shown.astype(np.int16) - want.astype(np.int16)).max())
        self.max_diff = max(self.max_diff, diff)
        if diff > self.tol:
            self._stale(f"{what}: the image on screen differs from a fresh render of the state asked for "
                        f"(max |diff| {diff})")
            return False
        return True

    def _check_pixels(self) -> None:
        P = self.P
        if self.model not in self.gens:
            self.checks["empty"] += 1
            if P.side.image.has_image() or P.grid.image_count():
                self._stale(f"sampling tab: an image is left on screen while {Path(self.model).name} "
                            f"(a {self.kind[self.model]}) is open")
            return
        G = self.ref[self.model]
        lat = Latent.from_position(self.view_pos, G.z_dim)
        out = self.renderer.render(RenderRequest(generator=G, latents=[lat], truncation_psi=self.psi))
        self.checks["view"] += 1
        self._compare(f"large view ({self._describe(self._intent_at('view', self.seq))})",
                      qimage_array(P.side.image.image()), out.pixels[0])
        grid = self._intent_at("grid", self.seq)
        if grid != getattr(self, "_grid_checked", None):
            self._grid_checked = grid
            lats = [Latent.from_seed(int(x), G.z_dim) for x, _ in grid[2]]
            out = self.renderer.render(RenderRequest(generator=G, latents=lats, truncation_psi=self.psi))
            self.checks["grid"] += 1
            for i in range(len(lats)):
                if not self._compare(f"grid tile {i} ({self._describe(grid)})", qimage_array(P.grid.image(i)),
                                     out.pixels[i]):
                    break
        E = self.E
        if E.ds is not None and E.base is not None:
            shifts = {k: v for k, v in self.shifts.get(self.model, {}).items() if v != 0.0}
            base = Latent.from_position(self.view_pos, G.z_dim)
            lats = []
            for s in ({}, shifts):
                kind, t = apply_shifts(G, E.ds, z=base.z, shifts=s)
                lats.append(Latent(z=t, source="direction") if kind == "z" else Latent(ws=t, source="direction"))
            out = self.renderer.render(RenderRequest(generator=G, latents=lats, truncation_psi=1.0))
            self.checks["edit"] += 1
            self._compare("directions: original", qimage_array(E.edit.original.image()), out.pixels[0])
            self._compare(f"directions: edited (shifts {shifts})", qimage_array(E.edit.edited.image()),
                          out.pixels[1])

    # ------------------------------------------------------------ user actions
    def _mouse(self, widget, kind, pos: QPointF, button, buttons) -> None:
        ev = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(widget, ev)

    def click_tile(self, index: int) -> None:
        self._next_action("setup")
        self.view_pos = SeedPos(float(self.P.seed_box.value() + index))
        self._ask()
        QTest.mouseClick(self.P.grid, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         self.P.grid.tile_rect(index).center())

    def _move_done(self, t0: float) -> None:
        self.wait(self.gap_ms)
        self.stats["moves"]["wall_s"] += now() - t0

    def psi_gesture(self, n: int) -> None:
        slider = self.P.psi_slider
        step = self.rng.choice([-1, 1]) * self.rng.uniform(0.01, 0.05)
        for _ in range(n):
            t0 = now()
            v = round(min(1.3, max(0.3, self.psi + step)), 2)
            if v == self.psi:
                step = -step
                v = round(min(1.3, max(0.3, self.psi + step)), 2)
            self._next_action("moves")
            self.psi = round(v, 4)
            self._ask()
            slider.setValue(v)
            got = round(float(slider.value()), 4)
            if got != self.psi:                         # the slider shows another value: that is what is asked
                self.notes["widget_rounding"] += 1
                self.psi = got
                self._ask()
            self._move_done(t0)

    def drag_gesture(self, n: int) -> None:
        view = self.P.side.image
        t0 = now()
        self._next_action("moves")
        c = QPointF(view.rect().center())
        self._mouse(view, QEvent.Type.MouseButtonPress, c, Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
        anchor = c + QPointF(QApplication.startDragDistance() + 1, 0)
        self._mouse(view, QEvent.Type.MouseMove, anchor, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
        self._move_done(t0)
        start, dx, dy = self.view_pos, 0.0, 0.0
        vx = 1 if start.x < 20 else self.rng.choice([-1, 1])
        for _ in range(n - 1):
            t0 = now()
            dx += vx * self.rng.randint(1, 8)
            if self.rng.random() < 0.15:
                dy = max(-start.y * PX_PER_SEED, dy + self.rng.choice([-3, 3]))
            self._next_action("moves")
            self.view_pos = start.shifted(dx / PX_PER_SEED, dy / PX_PER_SEED)
            self._ask()
            self._mouse(view, QEvent.Type.MouseMove, anchor + QPointF(dx, dy), Qt.MouseButton.NoButton,
                        Qt.MouseButton.LeftButton)
            self._move_done(t0)
        self._mouse(view, QEvent.Type.MouseButtonRelease, anchor + QPointF(dx, dy), Qt.MouseButton.LeftButton,
                    Qt.MouseButton.NoButton)

    def direction_gesture(self, n: int) -> None:
        rows = self.E.list.rows
        row = self.rng.choice(rows)
        limit = self.E.limit
        shifts = self.shifts.setdefault(self.model, {})
        step = self.rng.choice([-1, 1]) * self.rng.uniform(0.02, 0.1) * limit
        for _ in range(n):
            t0 = now()
            cur = shifts.get(row.index, 0.0)
            v = round(min(limit, max(-limit, cur + step)), 2)
            if v == cur:
                step = -step
                v = round(min(limit, max(-limit, cur + step)), 2)
            self._next_action("moves")
            shifts[row.index] = v
            row.slider.setValue(v)
            got = float(row.slider.value())
            if got != v:
                self.notes["widget_rounding"] += 1
                shifts[row.index] = got
            self._move_done(t0)

    def ensure_directions(self) -> None:
        """Directions for the open model (once per model file: the panel keeps them): SeFa, 4, Start."""
        if self.E.ds is not None or self.model not in self.gens:
            return
        t0, D = now(), self.D
        self.activity = "setup"
        done = []
        D.discovery_finished.connect(done.append)
        D.method_box.setCurrentText("sefa")
        D.k_box.setValue(4)
        QTest.mouseClick(D.start_btn, Qt.MouseButton.LeftButton)
        if not self.wait_until(lambda: bool(done), 120):
            raise SystemExit("direction discovery did not finish")
        D.discovery_finished.disconnect(done.append)
        self.shifts[self.model] = {}
        self.notes["discoveries"] += 1
        self.stats["setup"]["wall_s"] += now() - t0

    def _item(self, path: str):
        ml = self.w.model_list
        for i in range(ml.topLevelItemCount()):
            head = ml.topLevelItem(i)
            for j in range(head.childCount()):
                if head.child(j).data(0, Qt.ItemDataRole.UserRole) == path:
                    return head.child(j)
        raise SystemExit(f"{path} is not in the model list")

    def _click_model(self, path: str) -> None:
        self._next_action("switches")
        self.model = self._intern(path)
        self.view_pos = SeedPos(float(self.P.seed_box.value()))     # a new model shows its first tile
        self._ask()
        ml, item = self.w.model_list, self._item(path)
        ml.scrollToItem(item)
        before = self._opens
        QTest.mouseClick(ml.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         ml.visualItemRect(item).center())
        if self._opens == before:                      # the click missed the row: pick it as a click would
            self.notes["click_fallbacks"] += 1
            ml.itemClicked.emit(item, 0)

    def _count_open(self, _path: str) -> None:
        self._opens += 1

    def switch(self, paths: list[str]) -> None:
        """Click the models' rows one after another (a quick pair: the first load is superseded), wait for the
        last to open and for every frame, and check them."""
        t0 = now()
        tab = self.w.tabs.currentIndex()
        for p in paths:
            self._click_model(p)
        if not self.wait_until(lambda: not self.w.loading and self.ctx.model is not None
                               and str(self.ctx.model.path) == self.model, 120):
            raise SystemExit(f"{Path(self.model).name} did not open: {self.w.banner.text()}")
        if self.w.tabs.currentIndex() != tab:
            self.notes["app_tab_jumps"] += 1
        self._seen_models.add(self.model)
        self._seen_tabs.add(self.w.tabs.currentIndex())
        self.settle()
        self.stats["switches"]["wall_s"] += now() - t0

    def change_tab(self, index: int) -> None:
        t0 = now()
        self._next_action("tabs")
        bar = self.w.tabs.tabBar()
        QTest.mouseClick(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, bar.tabRect(index).center())
        if self.w.tabs.currentIndex() != index:
            self.notes["click_fallbacks"] += 1
            self.w.tabs.setCurrentIndex(index)
        self._seen_tabs.add(self.w.tabs.currentIndex())
        if not self.wait_until(lambda: self.w.current_panel().is_ready(), 20):
            self.notes["tab_not_ready"] += 1
        self.wait(10)
        self.stats["tabs"]["wall_s"] += now() - t0

    # ------------------------------------------------------------ the plan
    def _pick(self, allowed: list[str], exclude: str | None) -> str:
        cands = [p for p in allowed if p != exclude] or allowed
        unseen = [p for p in cands if p not in self._seen_models]
        if unseen:                                    # every model opened early: first use is warm-up, not growth
            return unseen[0]
        self._k = getattr(self, "_k", -1) + 1
        return cands[self._k % len(cands)]

    def _stay(self, i: int) -> None:
        """Stay i of the tour: its switches (single clicks or quick pairs), its moves in between."""
        name, n_switch, n_moves = self._stays[i], self._sw[i], self._mv.get(i, 0)
        slider = name in SLIDER_TABS
        nxt = self._stays[i + 1] if i + 1 < len(self._stays) else None
        # a voxel model opens in the 3D tab: never where that takes a slider tab, or the next stay's tab, away;
        # and the model left open at the end must be an image generator if a slider stay comes before the next
        # switch
        voxel_ok = not slider and nxt != "3d"
        later = []
        for j in range(i + 1, len(self._stays)):
            later.append(self._stays[j])
            if self._sw[j]:
                break
        end_on_gen = any(s in SLIDER_TABS for s in later)
        groups, left = [], n_switch
        while left > 0:
            size = 2 if left >= 2 and self.rng.random() < 1 / 6 else 1
            groups.append(size)
            left -= size
        chunks = [n_moves * (j + 1) // (len(groups) + 1) - n_moves * j // (len(groups) + 1)
                  for j in range(len(groups) + 1)]
        everything = self.gens + self.voxels
        for j, todo in enumerate(chunks):
            if j:
                gens_only = not voxel_ok or (j == len(groups) and end_on_gen)
                paths = []
                if groups[j - 1] == 2:                  # a quick pair: the first load is superseded
                    paths.append(self._pick(self.gens if not voxel_ok else everything, self.model))
                    self.notes["quick_pairs"] += 1
                paths.append(self._pick(self.gens if gens_only else everything, paths[-1] if paths else self.model))
                self.switch(paths)
            todo += self._owed
            if todo and slider and self.model in self.gens:
                self._owed = 0
                self._gestures(name, todo)
            else:
                self._owed = todo

    def _gestures(self, tab: str, n: int) -> None:
        if tab == "directions":
            self.ensure_directions()
        while n > 0:
            g = min(n, self.rng.randint(6, 30))
            if tab == "directions":
                self.direction_gesture(g)
            elif self.rng.random() < 0.5:
                self.psi_gesture(g)
            else:
                self.drag_gesture(g)
            n -= g
            self._maybe_warm()
            if self.rng.random() < self.settle_p or n <= 0:
                t0 = now()
                self.settle()
                self.stats["moves"]["wall_s"] += now() - t0

    def _maybe_warm(self) -> None:
        if "warm" in self.rss:
            return
        done = {"moves": self.stats["moves"]["count"], "switches": self.stats["switches"]["count"],
                "tabs": self.stats["tabs"]["count"]}
        toured = len(self._seen_tabs) == self.w.tabs.count() or self.stats["tabs"]["count"] >= self._want["tabs"]
        opened = len(self._seen_models) == len(self.gens) + len(self.voxels) or \
            self.stats["switches"]["count"] >= self._want["switches"]
        if toured and opened and all(done[a] >= WARM_UP * self._want[a] for a in ACTIVITIES):
            self.settle()
            gc.collect()
            self.rss["warm"] = rss_bytes()
            self.rss["warm_at"] = dict(done)
            self.log(f"  warm-up done ({done}): RSS {mib(self.rss['warm'])}")

    def run(self, moves: int, switches: int, tabs: int) -> dict:
        self._want = {"moves": moves, "switches": switches, "tabs": tabs}
        self._seen_tabs, self._seen_models = set(), set()
        self.rss["start"] = rss_bytes()
        names = self.w.panel_names()
        t_start = now()
        if self.w.current_panel() is not self.P:
            self.w.select_panel("sampling")
        if self.ctx.model is None or str(self.ctx.model.path) not in self.gens:
            self.switch([self.gens[0]])
        self.model = self._intern(str(self.ctx.model.path))
        self.psi = self.P.psi()
        self._seen_models.add(self.model)
        self._seen_tabs.add(self.w.tabs.currentIndex())
        P = self.P                    # the grid on screen before the hooks: the bench's starting point
        self.reqlog[P.shown_grid_id] = (P.GRID_TAG, self.model, self.psi, self._grid_seeds(), 0)
        self.last_state["grid"] = (self.model, self.psi, self._grid_seeds())
        self.click_tile(0)
        self.settle()
        cur = names.index("sampling")
        self._stays = [names[cur]] + [names[(cur + i + 1) % len(names)] for i in range(tabs)]
        n = len(self._stays)
        self._sw = [switches * (i + 1) // n - switches * i // n for i in range(n)]
        slider_stays = [i for i, s in enumerate(self._stays) if s in SLIDER_TABS]
        k = len(slider_stays)
        self._mv = dict(zip(slider_stays, [moves * (i + 1) // k - moves * i // k for i in range(k)]))
        self._owed = 0
        last_report = now()
        for i, name in enumerate(self._stays):
            if i:
                self.change_tab(names.index(name))
            self._stay(i)
            self._maybe_warm()
            if os.environ.get("SOAK_DEBUG"):
                self.log(f"  stay {i} {name}: tabs seen {sorted(self._seen_tabs)}, models {len(self._seen_models)}, "
                         f"model {Path(self.model).stem}, RSS {mib(rss_bytes())}")
            if now() - last_report > 30:
                last_report = now()
                self.log(f"  {now() - t_start:6.0f} s: {self.stats['moves']['count']} moves, "
                         f"{self.stats['switches']['count']} switches, {self.stats['tabs']['count']} tabs, "
                         f"{sum(self.frames.values())} frames, {self.stale} stale, RSS {mib(rss_bytes())}")
        if self._owed:
            raise SystemExit(f"internal: {self._owed} moves were never made")
        t0 = now()
        self.activity = "setup"
        self.settle()
        self.stats["setup"]["wall_s"] += now() - t0
        gc.collect()
        self.rss["end"] = rss_bytes()
        self.rss.setdefault("warm", self.rss["start"])
        self.rss["peak"] = max(self.rss.get("peak", 0), self.rss["end"])
        growth = 100.0 * (self.rss["end"] / self.rss["warm"] - 1.0)
        return {"moves": self.stats["moves"]["count"], "switches": self.stats["switches"]["count"],
                "tabs": self.stats["tabs"]["count"], "stale": self.stale, "violations": list(self.violations),
                "frames": dict(self.frames), "activities": {a: dict(v) for a, v in self.stats.items()},
                "checks": dict(self.checks), "max_pixel_diff": self.max_diff, "notes": dict(self.notes),
                "rss": dict(self.rss), "rss_growth_pct": growth, "wall_s": now() - t_start,
                "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def soak(window, moves: int, switches: int, tabs: int, **kw) -> dict:
    """Run the soak on a shown MainWindow whose first model is open; the figures as a dict (see `Soak.run`)."""
    s = Soak(window, **kw)
    try:
        return s.run(moves, switches, tabs)
    finally:
        s.close()


def report(out: dict) -> list[str]:
    """Print the summary table; the reasons for a failing run (empty: it passed)."""
    rss = out["rss"]
    print(f"\n{'activity':<10} {'count':>7} {'wall s':>8} {'frames':>8} {'stale':>6}")
    for a in ACTIVITIES + ("setup",):
        v = out["activities"][a]
        print(f"{a:<10} {v['count']:>7} {v['wall_s']:>8.1f} {v['frames']:>8} {v['stale']:>6}")
    print(f"{'total':<10} {'':>7} {out['wall_s']:>8.1f} {sum(out['frames'].values()):>8} {out['stale']:>6}")
    print(f"frames shown: {out['frames']}; settle-point pixel checks: {out['checks']} "
          f"(max |diff| vs fresh render {out['max_pixel_diff']})")
    print(f"notes: {out['notes']}")
    print(f"RSS: start {mib(rss['start'])}, after warm-up {mib(rss['warm'])} (at {rss.get('warm_at')}), "
          f"end {mib(rss['end'])}, growth {out['rss_growth_pct']:+.2f} % (goal <= {GROWTH_GOAL:g} %), "
          f"peak {mib(rss['peak'])} (ru_maxrss {mib(out['maxrss'])})")
    for v in out["violations"][:20]:
        print(f"  stale: {v}")
    why = []
    if out["stale"]:
        why.append(f"{out['stale']} stale frame(s)")
    if out["rss_growth_pct"] > GROWTH_GOAL:
        why.append(f"RSS grew {out['rss_growth_pct']:.2f} % after warm-up (goal <= {GROWTH_GOAL:g} %)")
    return why


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moves", type=int, default=10_000)
    ap.add_argument("--switches", type=int, default=500)
    ap.add_argument("--tabs", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="500 moves, 25 switches, 20 tab changes")
    ap.add_argument("--gap-ms", type=int, default=5, help="event loop time after each move")
    ap.add_argument("--settle", type=float, default=0.5, help="share of gestures followed by a settle point")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.quick:
        args.moves, args.switches, args.tabs = 500, 25, 20
    tmp = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    os.environ.setdefault("GAN_STUDIO_HOME", str(tmp / "home"))            # no user models, no recent files
    os.environ.setdefault("GAN_STUDIO_SETTINGS", str(tmp / "settings.ini"))
    from gan_studio.gui.app import make_app
    from gan_studio.gui.main_window import MainWindow
    from gan_studio.gui.settings import Settings
    app = make_app()
    print(f"Qt platform {QGuiApplication.platformName()}, torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads), {os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"soak: {args.moves} slider moves, {args.switches} model switches, {args.tabs} tab changes "
          f"(gap {args.gap_ms} ms, settle after {args.settle:.0%} of gestures, seed {args.seed})")
    w = MainWindow(settings=Settings(tmp / "settings.ini"), device="cpu")
    w.resize(1200, 800)
    w.show()
    end = now() + 120
    while (w.loading or w.ctx.model is None or not w.panel("sampling").is_settled()) and now() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)
    if w.ctx.model is None:
        print("no model opened", file=sys.stderr)
        return 2
    print("models: " + ", ".join(Path(p).stem for p in w.model_list.paths()))
    out = soak(w, args.moves, args.switches, args.tabs, seed=args.seed, gap_ms=args.gap_ms, settle_p=args.settle,
               log=lambda s: print(s, flush=True))
    why = report(out)
    w.close()
    app.processEvents()
    if why:
        print("FAIL: " + "; ".join(why))
        return 1
    print("PASS: no stale frame, RSS growth within the goal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
