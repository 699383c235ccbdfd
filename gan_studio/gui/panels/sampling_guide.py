""""Make it a …" in the Sampling tab: a classifier steers the large view's latent towards a chosen class
(plug-and-play sampling, engine/latent/guide.py), in the background, latest wins. The chain shows live in its own
window (a frame every few steps, with p(class)) and in the large view; where it ends becomes the current sample (a
"guide" Latent: walks, directions and mixing take it). Stop keeps the latent reached so far.

The classifier is the shipped lenet-mnist for MNIST-like models (one channel, at most 64 px), or a file of yours
(`gan-studio train-classifier`'s output) chosen with the chooser's last item, "Classifier…"; without one the button
is off and its tooltip says why. A style generator's chain runs in w (measured: nearer the digits than in z), others in
z. `add_steering` puts this control and latent arithmetic (sampling_arithmetic.py) on one row of the panel.
"""
from __future__ import annotations

import shlex

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QComboBox, QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...engine.errors import UserError
from ...engine.imaging import to_uint8
from ...engine.latent import guide as g
from ...engine.latent.state import Latent
from ...engine.models.codes import layout_of
from ..dialogs import ask_open
from ..state import AppContext, LoadedModel, model_ref
from ..widgets.image_grid import ImageGrid
from ..workers import LatestQueue

EVERY = 10                                   # a chain frame every EVERY steps
FRAME_COLS = 8
TIP = ("Move the large view's latent until a classifier calls its image the chosen class (plug-and-play sampling, "
       "PPGN-style); the chain shows live")
OTHER = "Classifier…"                        # the chooser's last item: a `train-classifier` file of yours
FILTER = "Classifiers (*.safetensors);;All files (*)"


def _chain(G, net, klass: int, start, given: str, space: str, psi: float, seed: int, steps: int):
    """In a worker: the engine's chain for one latent (closing it stops the chain). The noise seed is the start's
    seed, as `sample --seed S --guide-class K` draws it, so the command line gives the same image."""
    return g.guide_chain(G, net, klass, start, space=space, every=EVERY, psi=psi, given=given, seed=seed,
                         steps=steps)


class GuideWindow(QDialog):
    """The chain so far: one tile every EVERY steps, captioned "step: p(class)"."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Make it a … — the chain")
        rows = (g.GUIDE_STEPS // EVERY) // FRAME_COLS + 1
        self.frames = ImageGrid(rows, FRAME_COLS)
        self.frames.clear("Choose a class: the chain appears here")
        self.status = QLabel("")
        self.status.setProperty("role", "subtle")
        self.status.setWordWrap(True)
        self.stop_btn = QPushButton("Stop")
        self.stop_btn.setToolTip("Stop the chain: the latent reached so far becomes the sample")
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.stop_btn)
        lay = QVBoxLayout(self)
        lay.addWidget(self.frames, 1)
        lay.addLayout(bottom)
        self.resize(640, 260)


class GuideControl(QObject):
    """The "Make it a …" button and class chooser of a SamplingPanel (its parent), the chain window."""

    guided = Signal(object)                  # the Latent where a chain ended (or was stopped)

    def __init__(self, ctx: AppContext, panel) -> None:
        super().__init__(panel)
        self.ctx, self.panel = ctx, panel
        self.button = QPushButton("Make it a …")
        self.button.setToolTip(TIP)
        self.class_box = QComboBox()
        self.class_box.setToolTip(f"The class to make of the large view's sample; {OTHER}: guide with a classifier "
                                  "you trained (gan-studio train-classifier)")
        self.class_box.setMinimumContentsLength(3)
        self.jobs = LatestQueue(ctx.tasks, self)
        self.jobs.progress.connect(self._on_progress)
        self.jobs.finished.connect(self._on_done)
        self.jobs.failed.connect(lambda _k, msg: self.ctx.report_error(f"Guided sampling failed: {msg}"))
        self.button.clicked.connect(self.start)
        self.class_box.activated.connect(self._class_chosen)
        self.window: GuideWindow | None = None
        self.net, self.start_latent, self.last, self.frames = None, None, None, []
        self.classifier: str | None = None   # a file chosen with OTHER (None: the shipped lenet-mnist)
        self.steps = g.GUIDE_STEPS           # the chain's length
        ctx.model_changed.connect(self.set_model)
        self.set_model(ctx.model)

    @Slot(object)
    def set_model(self, model: LoadedModel | None) -> None:
        self.jobs.cancel(stop=True)
        self.classifier = None
        G = model.generator() if model is not None and model.is_image_generator else None
        self._use(G, None)
        if self.window is not None:
            self.window.close()

    def _use(self, G, path: str | None) -> bool:
        """Guide with the classifier file `path` (None: the shipped one, where it fits G); False when it cannot."""
        self.net, reason = None, "Open an image generator first"
        if G is not None and layout_of(G) is not None:
            reason = "A conditional model already takes its class: choose it with the class chooser above"
        elif G is not None:
            try:
                self.net, reason = g.load_classifier(G, path), ""
            except UserError as exc:
                reason = str(exc)
        self.class_box.clear()
        self.class_box.addItems([*(g.class_names(self.net) if self.net is not None else []), OTHER])
        self.button.setEnabled(self.net is not None)
        self.class_box.setEnabled(G is not None and layout_of(G) is None)
        self.button.setToolTip(reason or TIP)
        return self.net is not None

    def set_classifier(self, path: str | None) -> bool:
        """Guide with the classifier in file `path` (None: the shipped one); an unusable file is one message."""
        if self._use(self.panel._G, path):
            self.classifier = path
            return True
        self.ctx.report_error(f"Cannot guide with {path}: {self.button.toolTip()}")
        self._use(self.panel._G, self.classifier)              # keep the one before
        return False

    def space(self) -> str:
        return g.default_space(self.panel._G) if self.panel._G is not None else "z"

    @Slot(int)
    def _class_chosen(self, index: int) -> None:
        if index == self.class_box.count() - 1:               # OTHER: a classifier file
            path = ask_open(self.panel, self.ctx.settings, "A classifier to guide with (gan-studio "
                            "train-classifier's .safetensors)", FILTER, kind="weights")
            if path:
                self.set_classifier(path)
            else:
                self.class_box.setCurrentIndex(0)
            return
        if self.window is not None and self.window.isVisible():
            self.start()                     # a new class while the window is open: the newest chain wins

    @Slot()
    def start(self, klass: int | None = None) -> bool:
        """Start a chain from the large view's latent towards `klass` (None: the chosen class)."""
        G, view = self.panel._G, self.panel.latent
        if self.net is None or G is None or view is None:
            self.ctx.report_error("Guided sampling needs an MNIST-like generator and a sample in the large view")
            return False
        if klass is not None:
            self.class_box.setCurrentIndex(int(klass))
        klass = min(self.class_box.currentIndex(), self.net.cfg.num_classes - 1)
        space = self.space()
        if view.z is not None:
            start, given = view.z, "z"
        else:
            start, given = view.ws[:, 0], "w"
            if space != "w":
                start, given = view.ws[:, 0], "z"          # a one-layer generator: its ws are its z
        self.start_latent, self.last, self.frames = view, None, []
        self.jobs.cancel(stop=True)
        self.jobs.submit("guide", _chain, G, self.net, klass, start, given, space, self.panel.psi(), view.seed or 0,
                         self.steps)
        self._show_window(klass, view)
        return True

    def _show_window(self, klass: int, view: Latent) -> None:
        if self.window is None:
            self.window = GuideWindow(self.panel.window())
            self.window.stop_btn.clicked.connect(self.stop)
        self.window.frames.clear(f"Making {view.label()} a {klass}…")
        self.window.status.setText(f"From {view.label()} towards class {klass} ({self.space()}, "
                                   f"{self.steps} steps)")
        self.window.stop_btn.setEnabled(True)
        self.window.show()
        self.window.raise_()

    def is_running(self) -> bool:
        return self.jobs.busy("guide")

    @Slot()
    def stop(self) -> None:
        self.jobs.cancel(stop=True)
        if self.last is not None:
            self._deliver(self.last, stopped=True)

    @Slot(str, object)
    def _on_progress(self, _kind: str, step) -> None:
        self.last = step
        self.frames.append((to_uint8(step.images[:1])[0], f"{step.step}: {step.probs[0].item():.2f}"))
        w = self.window
        if w is not None:
            pix, caps = zip(*self.frames)
            w.frames.set_images(np.stack(pix), list(caps))
            w.status.setText(f"step {step.step} / {step.total} · p({step.klass}) {step.probs[0].item():.3f} · "
                             f"{step.elapsed:.1f} s")
        side = self.panel.side
        side.image.set_pixels(to_uint8(step.images[:1])[0])          # the chain, live in the large view
        side.title.setText(f"making it a {step.klass}: step {step.step}")

    @Slot(str, object)
    def _on_done(self, _kind: str, _value) -> None:
        if self.last is not None and self.last.done:      # the chain's last item came as progress
            self._deliver(self.last)

    def _deliver(self, step, stopped: bool = False) -> None:
        G = self.panel._G
        info = {"class": step.klass, "p": round(step.probs[0].item(), 4), "steps": step.step, "space": step.space}
        if stopped:
            info["stopped"] = True
        latent = (Latent(z=step.latents[:1].clone(), source="guide", info=info) if step.space == "z"
                  else Latent(ws=step.ws(G)[:1], source="guide", info=info))
        if self.window is not None:
            self.window.stop_btn.setEnabled(False)
            self.window.status.setText(f"{'Stopped' if stopped else 'Done'} at step {step.step}: "
                                       f"p({step.klass}) {step.probs[0].item():.3f}")
        self.panel.set_latent(latent)
        self.guided.emit(latent)

    def command(self) -> str:
        """The CLI line that guides the large view's seed (when it is a seed)."""
        m, view = self.ctx.model, self.start_latent
        if m is None or view is None or view.seed is None:
            return ""
        psi = self.panel.psi()
        return (f"gan-studio sample --model {model_ref(m)} --seed {view.seed} --guide-class "
                f"{self.class_box.currentIndex()} --guide-space {self.space()}"
                + (f" --guide-classifier {shlex.quote(self.classifier)}" if self.classifier else "")
                + (f" --guide-steps {self.steps}" if self.steps != g.GUIDE_STEPS else "")
                + (f" --truncation {psi:g}" if psi != 1.0 else "") + f" --out {shlex.quote('guided.png')}")

    def close(self) -> None:
        if self.window is not None:
            self.window.close()


def add_steering(panel, layout: QVBoxLayout) -> None:
    """Build "Make it a …" and latent arithmetic for `panel` and lay them out as one row of `layout`."""
    from .sampling_arithmetic import ArithmeticControl
    panel.guide = GuideControl(panel.ctx, panel)
    panel.arithmetic = ArithmeticControl(panel.ctx, panel)
    row = QHBoxLayout()
    for w in (panel.guide.button, panel.guide.class_box, panel.arithmetic.button):
        row.addWidget(w)
    row.addStretch(1)
    layout.addLayout(row)
