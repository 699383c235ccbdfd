"""Interactivity in a real app window: slider change -> new image painted, and a playing walk's frame rate.

    python bench/interactive_latency.py [--model M]... [--changes 500] [--gap-ms 10] [--play-seconds 4]

For each shipped image generator (or each --model), a MainWindow is opened (QT_QPA_PLATFORM=offscreen unless
a display is set) and measured:

- walks scrubber: `changes` scrubber moves to frames never rendered before, one after another (the next one
  `gap-ms` after the previous image was painted — a drag at ~60-100 events/s); latency = setValue() until
  the view's paintEvent has finished painting that frame. Then the same moves again (frames cached).
- sampling ψ slider: the same for the truncation slider, until the large view shows the re-rendered sample.
- a fast drag (one scrubber move per ms): latest wins — the shown frames only move forwards, the last is shown.
- latent drag: dragging the sampling tab's large image through fractional seeds, each move a new latent.
- a playing walk at the top speed (60 fps), uncached (2000-frame walk) and cached (a 120-frame loop).

Where the time goes: ui = the slider's own slots up to submit; queue = submit until the render worker starts;
render = engine render in the worker (synthesis + uint8 pixels); deliver = worker emit until the GUI slot
runs; slot = the panel's result slot (less convert = QImage conversion); wait = until Qt delivers the paint
event; paint = the view's paintEvent. These add up to the total.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch  # noqa: E402
from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402

from gan_studio.engine.catalog import list_models  # noqa: E402
from gan_studio.gui.app import make_app  # noqa: E402
from gan_studio.gui.main_window import MainWindow  # noqa: E402
from gan_studio.gui.settings import Settings  # noqa: E402

STAGES = ("ui", "queue", "render", "deliver", "slot", "convert", "wait", "paint")
now = time.perf_counter


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


class PaintProbe(QObject):
    """Event filter that runs the watched widget's paintEvent itself, to time exactly when painting ends."""

    def __init__(self, widget, on_paint) -> None:
        super().__init__(widget)
        self.on_paint = on_paint
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            t = now()
            obj.paintEvent(event)
            self.on_paint(t, now())
            return True
        return False


def spin(app, cond, timeout: float = 60.0) -> None:
    end = now() + timeout
    while not cond():
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        if now() > end:
            raise SystemExit("timed out waiting for the app")


class Instruments:
    """Timestamps along the path: render start/end in the worker, the GUI slot, QImage conversion."""

    def __init__(self, window, slot_owner, slot_name: str, converters: list) -> None:
        self.rec: dict = {}
        r = window.ctx.renderer._renderer
        real_render = r.render

        def timed_render(req):
            t = now()
            res = real_render(req)
            res.extra["t_render"] = (t, now())
            return res
        r.render = timed_render
        real_submit = window.ctx.renderer.submit

        def timed_submit(req):
            self.rec["t_submit"] = now()
            return real_submit(req)
        window.ctx.renderer.submit = timed_submit
        real_slot = getattr(slot_owner, slot_name)

        def timed_slot(result):
            self.rec.setdefault("t_slot", now())
            self.rec.setdefault("t_render", result.extra.get("t_render"))
            real_slot(result)
            self.rec["t_slot_end"] = now()
        setattr(slot_owner, slot_name, timed_slot)
        for owner, name in converters:
            self._wrap_converter(owner, name)

    def _wrap_converter(self, owner, name: str) -> None:
        real = getattr(owner, name)

        def timed(*args):
            t = now()
            real(*args)
            self.rec["convert"] = self.rec.get("convert", 0.0) + now() - t
        setattr(owner, name, timed)


class ChangeLoop(QObject):
    """Makes changes one after another; each waits until its image is painted, then `gap_ms`."""

    def __init__(self, app, widget, inst: Instruments, change, is_shown, n: int, gap_ms: int) -> None:
        super().__init__()
        self.app, self.inst, self.change, self.is_shown = app, inst, change, is_shown
        self.n, self.gap_ms, self.i, self.rows = n, gap_ms, -1, []
        self.loop = QEventLoop()
        self.probe = PaintProbe(widget, self._painted)

    def run(self, timeout_s: float = 300) -> list[dict]:
        QTimer.singleShot(0, self._next)
        QTimer.singleShot(int(timeout_s * 1000), self.loop.quit)
        self.loop.exec()
        self.probe.on_paint = lambda *a: None
        return self.rows

    def _next(self) -> None:
        self.i += 1
        if self.i >= self.n:
            return self.loop.quit()
        self.inst.rec = {}
        self.t0 = now()
        self.change(self.i)
        self.t_ui = now()

    def _painted(self, t_start: float, t_end: float) -> None:
        rec = self.inst.rec
        if self.i < 0 or self.i >= self.n or "done" in rec or not self.is_shown(self.i):
            return
        rec["done"] = True
        self.rows.append(self._row(rec, t_start, t_end))
        QTimer.singleShot(self.gap_ms, self._next)

    def _row(self, rec: dict, t_start: float, t_end: float) -> dict:
        row = {"total": t_end - self.t0, "paint": t_end - t_start, "convert": rec.get("convert", 0.0)}
        if rec.get("t_render"):                           # rendered (not a cache hit)
            rs, re_ = rec["t_render"]
            row.update(ui=rec["t_submit"] - self.t0, queue=rs - rec["t_submit"], render=re_ - rs,
                       deliver=rec["t_slot"] - re_, slot=rec["t_slot_end"] - rec["t_slot"] - row["convert"],
                       wait=t_start - rec["t_slot_end"])
        else:                                             # a cache hit: shown from the scrubber's own slot
            row.update(ui=self.t_ui - self.t0 - row["convert"], wait=t_start - self.t_ui)
        return row


def report(title: str, rows: list[dict], skip: int = 20) -> None:
    rows = rows[skip:] if len(rows) > 2 * skip else rows
    tot = [r["total"] * 1e3 for r in rows]
    print(f"  {title}: n={len(rows)}  p50 {pct(tot, .5):.2f} ms  p95 {pct(tot, .95):.2f} ms  "
          f"p99 {pct(tot, .99):.2f} ms  max {max(tot):.2f} ms")
    parts = []
    for s in STAGES:
        xs = [r[s] * 1e3 for r in rows if s in r]
        if xs:
            parts.append(f"{s} {statistics.median(xs):.3f}/{pct(xs, .95):.2f}")
    print("    where (median/p95 ms): " + ", ".join(parts))


def open_window(app, model: str) -> MainWindow:
    tmp = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    w = MainWindow(settings=Settings(tmp / "settings.ini"), device="cpu", model=model)
    w.resize(1200, 800)
    w.show()
    spin(app, lambda: w.ctx.model is not None and not w.loading)
    if not w.ctx.model.is_image_generator:
        raise SystemExit(f"{model} is a {w.ctx.model.kind}, not an image generator")
    return w


def set_walk(app, panel, seeds: str, frames: int) -> None:
    panel.options.frames_box.setValue(frames)
    panel.keys.clear()
    panel.add_seeds(seeds)
    spin(app, lambda: panel.ws is not None and panel.shown_frame == panel.player.frame())


def bench_scrubber(app, w, n: int, gap_ms: int) -> None:
    panel = w.select_panel("walks")
    set_walk(app, panel, "1,2,3,4", 2000)
    inst = Instruments(w, panel, "_frame_rendered", [(panel.player.view, "set_pixels")])
    frames = [(i * 3) % 2000 for i in range(1, n + 21)]          # a drag: each move lands on a new frame
    change = lambda i: panel.player.scrubber.setValue(frames[i])  # noqa: E731
    shown = lambda i: panel.shown_frame == frames[i]             # noqa: E731
    report("walks scrubber, new frames", ChangeLoop(app, panel.player.view, inst, change, shown, len(frames),
                                                     gap_ms).run())
    report("walks scrubber, cached frames", ChangeLoop(app, panel.player.view, inst, change, shown, len(frames),
                                                        gap_ms).run())


def bench_psi(app, w, n: int, gap_ms: int) -> None:
    panel = w.select_panel("sampling")
    spin(app, panel.is_settled)
    panel.select_tile(5)
    inst = Instruments(w, panel, "_grid_rendered", [(panel.grid, "set_images"), (panel.side.image, "set_pixels")])
    values = [0.5 + 0.01 * ((i * 7) % 97) for i in range(n + 21)]   # never the same value twice in a row
    state = {}

    def change(i):
        panel.psi_slider.setValue(values[i])
        state["rid"] = panel.pending_grid_id
    shown = lambda i: panel.is_settled() and panel.shown_grid_id >= state["rid"]   # noqa: E731
    rows = ChangeLoop(app, panel.side.image, inst, change, shown, len(values), gap_ms).run()
    report(f"sampling ψ slider ({panel.grid.count()}-sample grid + large view)", rows)


def bench_latent_drag(app, w, n: int, gap_ms: int) -> None:
    """Dragging the sampling tab's large image through latent space (panels/sampling_drag.py): `n` mouse moves of
    3 px (0.03 seed) each, every one a fractional seed never rendered before; latency = the drag's move signal
    until the large view has painted that position. Then a burst (one move per ms): latest wins, ends on the
    last position."""
    from gan_studio.engine.latent.drag import SeedPos
    panel = w.select_panel("sampling")
    spin(app, panel.is_settled)
    panel.select_tile(5)
    view = panel.side.image
    inst = Instruments(w, panel, "_view_rendered", [(view, "set_pixels")])
    start = SeedPos.snapped(*panel.side.position())
    view.drag_started.emit()
    target = {}

    def change(i):
        target["pos"] = start.shifted(3 * (i + 1) / 100.0)
        view.drag_moved.emit(3.0 * (i + 1), 0.0)
    shown = lambda i: panel.latent is not None and panel.latent.position == target["pos"]   # noqa: E731
    rows = ChangeLoop(app, view, inst, change, shown, n + 20, gap_ms).run()
    report(f"latent drag on the large view (fractional seeds from {start.text()})", rows)
    moves = {"i": 0}
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)

    def move():
        for _ in range(4):
            moves["i"] += 1
            view.drag_moved.emit(-2.0 * moves["i"], 1.0 * moves["i"])
            if moves["i"] >= 400:
                return timer.stop()
    timer.timeout.connect(move)
    t0 = now()
    timer.start(1)
    spin(app, lambda: moves["i"] >= 400)
    dt = now() - t0
    last = panel.drag.position
    spin(app, lambda: panel.latent is not None and panel.latent.position == last)
    view.drag_finished.emit()
    print(f"  latent drag burst: 400 moves in {dt * 1e3:.0f} ms ({400 / dt:.0f}/s), ends on {last.text()}: "
          f"{panel.latent.position == last}")


def check_fast_drag(app, w, n: int = 500) -> None:
    """Scrubber moves in bursts of 4 every millisecond (faster than render + paint): latest wins, frames shown
    in order, the last move shown."""
    panel = w.select_panel("walks")
    set_walk(app, panel, "5,6,7", 2000)
    shown: list[int] = []
    panel.frame_shown.connect(shown.append)
    moves = {"i": 0}
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)

    def move():                                   # 4 moves per tick: a burst of mouse events
        for _ in range(4):
            moves["i"] += 1
            panel.player.scrubber.setValue(moves["i"])
            if moves["i"] >= n:
                return timer.stop()
    timer.timeout.connect(move)
    t0 = now()
    timer.start(1)
    spin(app, lambda: moves["i"] >= n)
    dt = now() - t0
    spin(app, lambda: panel.shown_frame == n)
    ordered = all(a < b for a, b in zip(shown, shown[1:]))
    print(f"  fast drag: {n} moves in {dt * 1e3:.0f} ms ({n / dt:.0f}/s), {len(shown)} frames shown, in order: "
          f"{ordered}, last shown = last move: {shown[-1] == n}")
    panel.frame_shown.disconnect(shown.append)


def measure_play(app, panel, seconds: float) -> tuple[float, int, bool]:
    """(painted frames per second, frames the clock advanced, frames only went forwards)."""
    painted: list[int] = []

    def on_paint(_t0, _t1):
        if panel.shown_frame >= 0 and (not painted or painted[-1] != panel.shown_frame):
            painted.append(panel.shown_frame)
    probe = PaintProbe(panel.player.view, on_paint)
    panel.player.set_fps(60)
    start_frame = panel.player.frame()
    panel.player.play()
    t0 = now()
    spin(app, lambda: now() - t0 >= seconds, timeout=seconds + 30)
    panel.player.pause()
    dt = now() - t0
    probe.on_paint = lambda *a: None
    n = panel.player.count()
    steps = [(b - a) % n for a, b in zip(painted, painted[1:])]
    return len(painted) / dt, (panel.player.frame() - start_frame) % n, all(s > 0 for s in steps)


def bench_play(app, w, seconds: float) -> None:
    panel = w.select_panel("walks")
    set_walk(app, panel, "8,9,10", 2000)
    panel.cache.clear()
    fps, advanced, forwards = measure_play(app, panel, seconds)
    print(f"  playing at 60 fps, new frames: {fps:.1f} frames painted/s (clock advanced {advanced} frames in "
          f"{seconds:g} s; never backwards: {forwards})")
    set_walk(app, panel, "8,9,10", 120)
    for i in range(120):                                   # one pass renders and caches every frame
        panel.player.set_frame(i)
        spin(app, lambda i=i: panel.shown_frame == i)
    fps, _, forwards = measure_play(app, panel, seconds)
    print(f"  playing at 60 fps, cached 120-frame loop: {fps:.1f} frames painted/s (never backwards: {forwards})")


def compare_views(app, n: int = 500) -> None:
    """Paint cost of PixelView and a pyqtgraph ImageItem for a 28x28 frame shown at ~600 px (set + repaint)."""
    import numpy as np
    import pyqtgraph as pg

    from gan_studio.gui.widgets.pixel_view import PixelView
    frames = [(np.random.default_rng(i).random((28, 28, 1)) * 255).astype(np.uint8) for i in range(32)]
    pv = PixelView()
    gv = pg.GraphicsLayoutWidget()
    vb = gv.addViewBox(lockAspect=True, invertY=True)
    item = pg.ImageItem(axisOrder="row-major")
    vb.addItem(item)
    for wdg in (pv, gv):
        wdg.resize(600, 600)
        wdg.show()
    item.setImage(frames[0][..., 0], levels=(0, 255))
    vb.autoRange()
    app.processEvents()

    def pixel_view(i):
        pv.set_pixels(frames[i % 32])
        pv.repaint()

    def image_item(i):
        item.setImage(frames[i % 32][..., 0], levels=(0, 255), autoLevels=False)
        gv.viewport().repaint()
    for name, fn in (("PixelView", pixel_view), ("pyqtgraph ImageItem", image_item)):
        ts = []
        for i in range(n):
            t = now()
            fn(i)
            ts.append((now() - t) * 1e3)
        print(f"  {name}: set + repaint p50 {pct(ts, .5):.3f} ms, p95 {pct(ts, .95):.3f} ms")
    pv.close()
    gv.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", help="model name or path (default: every shipped image generator)")
    ap.add_argument("--changes", type=int, default=500, help="slider changes measured per scenario (>= 500)")
    ap.add_argument("--gap-ms", type=int, default=10, help="pause after each painted image before the next change")
    ap.add_argument("--play-seconds", type=float, default=4.0)
    ap.add_argument("--switch-interval", type=float, default=None, help="sys.setswitchinterval (s), to experiment")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: views,scrubber,psi,drag,latent,play")
    args = ap.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    app = make_app()
    names = args.model or [str(e.path) for e in list_models() if e.shipped and e.kind == "image-generator"]
    if not names:
        raise SystemExit("no shipped image generator in resources/: pass --model FILE")
    print(f"Qt platform {QGuiApplication.platformName()}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"GIL switch interval {sys.getswitchinterval() * 1e3:g} ms")
    skip = set(args.skip.split(","))
    if "views" not in skip:
        print("paint cost of the candidate views:")
        compare_views(app)
    for name in names:
        w = open_window(app, name)
        G = w.ctx.model.generator()
        print(f"\n== {w.ctx.model.name}: {w.ctx.model.bundle.meta.get('arch')}, image {tuple(G.image_shape)}, "
              f"{sum(p.numel() for p in G.parameters()):,} parameters")
        for part, fn in (("scrubber", lambda w=w: bench_scrubber(app, w, args.changes, args.gap_ms)),
                         ("psi", lambda w=w: bench_psi(app, w, args.changes, args.gap_ms)),
                         ("drag", lambda w=w: check_fast_drag(app, w)),
                         ("latent", lambda w=w: bench_latent_drag(app, w, args.changes, args.gap_ms)),
                         ("play", lambda w=w: bench_play(app, w, args.play_seconds))):
            if part not in skip:
                fn()
        w.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
