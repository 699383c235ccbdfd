"""Your own image in the Sampling tab: "Project an image…" finds the latent whose image is nearest it
(engine/latent/projection.py), in the background, showing the reconstruction as it improves in the large view.

The space (z, or w / w+ for a style generator) and the number of steps are chosen beside the button. Stop keeps
the latent reached so far. The result is a Latent with source "projection" that becomes the current sample, so
walks, directions and style mixing take it like any other; its command line is `gan-studio project …`.
"""
from __future__ import annotations

import shlex
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QWidget

from ...engine.errors import UserError
from ...engine.image_input import load_target
from ...engine.imaging import to_uint8
from ...engine.latent.perceptual import FEATURES
from ...engine.latent.projection import DEFAULT_STEPS, SPACES, default_space, is_style, project
from ..dialogs import ask_open
from ..state import AppContext, LoadedModel, model_ref
from ..workers import LatestQueue

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp *.tif *.tiff *.gif);;All files (*)"


WEIGHTS_FILTER = "Weights (*.pth *.pt *.safetensors *.bin);;All files (*)"
VGG_ITEM = "VGG weights…"


def project_command(model: LoadedModel, image: str, space: str, steps: int, features: str = "auto",
                    lpips: str | None = None) -> str:
    cmd = (f"gan-studio project --model {model_ref(model)} --image {shlex.quote(image)} --space {space} "
           f"--steps {steps}")
    cmd += f" --features {shlex.quote(features)}" if features != "auto" else ""
    cmd += f" --lpips {shlex.quote(lpips)}" if lpips else ""
    return cmd + f" --out {shlex.quote(Path(image).stem + '-latent.npy')}"


def _run(G, target, space: str, steps: int, info: dict, features: str = "auto", critic=None,
         lpips: str | None = None):
    """In a worker: the engine's projection generator (stopping it stops the optimisation at the next step)."""
    return project(G, target, space=space, steps=steps, info=info, features=features, critic=critic, lpips=lpips)


class ProjectionControl(QObject):
    """The button, the space and steps boxes, and the progress row (shown while a projection runs)."""

    projected = Signal(object)       # the Latent found (also when stopped: the one reached so far)

    def __init__(self, ctx: AppContext, panel) -> None:
        super().__init__(panel)
        self.ctx, self.panel = ctx, panel
        self.button = QPushButton("Project an image…")
        self.button.setToolTip("Find the latent whose image is nearest a picture of yours (GAN inversion); "
                               "then walk, edit or mix it like any sample")
        self.space_box = QComboBox()
        self.space_box.setToolTip("z: the input latent; w: one style vector; w+: one per layer (closest, "
                                  "least editable)")
        self.steps_box = QSpinBox()
        self.steps_box.setRange(10, 5000)
        self.steps_box.setSingleStep(50)
        self.steps_box.setValue(DEFAULT_STEPS)
        self.steps_box.setSuffix(" steps")
        self.features_box = QComboBox()
        self.features_box.addItems([*FEATURES, VGG_ITEM])
        self.features_box.setToolTip("The perceptual term of the loss: auto (lenet-mnist for MNIST-like models, else "
                                     "the model's critic), lenet-mnist, critic, pixels only, or your own VGG weights "
                                     "file (torchvision's vgg16), optionally with LPIPS' linear weights")
        self.features_box.activated.connect(self._features_chosen)
        self._vgg, self._lpips = None, None
        self.progress = QProgressBar()
        self.progress.setFixedHeight(16)
        self.label = QLabel("")
        self.label.setProperty("role", "subtle")
        self.stop_btn = QPushButton("Stop")
        self.bar = QWidget()                          # the progress row, visible while running
        row = QHBoxLayout(self.bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.progress, 1)
        row.addWidget(self.stop_btn)
        self.bar.setVisible(False)
        self.jobs = LatestQueue(ctx.tasks, self)
        self.jobs.progress.connect(self._on_progress)
        self.jobs.finished.connect(self._on_done)
        self.jobs.failed.connect(lambda _k, msg: self._end(f"Projection failed: {msg}", error=True))
        self.button.clicked.connect(self._clicked)
        self.stop_btn.clicked.connect(self.stop)
        self._G, self._image, self._last = None, "", None
        self.set_model(None)

    # ------------------------------------------------------------ model
    def set_model(self, model: LoadedModel | None) -> None:
        self.jobs.cancel(stop=True)
        self.bar.setVisible(False)
        self._G = model.generator() if model is not None and model.is_image_generator else None
        self.space_box.clear()
        if self._G is not None:
            spaces = SPACES if is_style(self._G) else ("z",)
            self.space_box.addItems(list(spaces))
            self.space_box.setCurrentText(default_space(self._G))
        self._critic = model.bundle.networks.get("critic") if self._G is not None else None
        for w in (self.button, self.space_box, self.steps_box, self.features_box):
            w.setEnabled(self._G is not None)

    def features(self) -> str:
        """The --features value chosen: a name of FEATURES or the VGG weights file."""
        if self.features_box.currentIndex() == len(FEATURES):
            return self._vgg or "auto"
        return self.features_box.currentText()

    def set_vgg(self, vgg: str | None, lpips: str | None = None) -> None:
        """Use the VGG weights file `vgg` (with LPIPS' linear weights `lpips`) as the perceptual term."""
        self._vgg, self._lpips = vgg, (lpips if vgg else None)
        name = Path(vgg).name if vgg else ""
        if vgg:
            self.features_box.setItemText(len(FEATURES), f"VGG: {name}" + (" + LPIPS" if lpips else ""))
        self.features_box.setCurrentIndex(len(FEATURES) if vgg else 0)

    @Slot(int)
    def _features_chosen(self, index: int) -> None:
        if index != len(FEATURES):
            return
        vgg = ask_open(self.panel, self.ctx.settings, "VGG weights for the perceptual loss (e.g. vgg16-397923af.pth)",
                       WEIGHTS_FILTER, kind="weights")
        if not vgg:
            self.set_vgg(self._vgg, self._lpips)      # cancelled: keep what was chosen before
            return
        lpips = ask_open(self.panel, self.ctx.settings, "LPIPS linear weights for it (vgg.pth; Cancel: none)",
                         WEIGHTS_FILTER, kind="weights")
        self.set_vgg(vgg, lpips or None)

    def is_running(self) -> bool:
        return self.jobs.busy("project")

    # ------------------------------------------------------------ running
    @Slot()
    def _clicked(self) -> None:
        path = ask_open(self.panel, self.ctx.settings, "Project an image into the model", IMAGE_FILTER, kind="image")
        if path:
            self.start(path)

    def start(self, path: str | Path, space: str | None = None, steps: int | None = None) -> bool:
        """Project the image file at `path`; False (with the reason shown) when it cannot start."""
        if self._G is None:
            self.ctx.report_error("Open an image generator first: projection finds a latent of a 2-D model")
            return False
        if space is not None:
            self.space_box.setCurrentText(space)
        if steps is not None:
            self.steps_box.setValue(steps)
        try:
            target = load_target(path, self._G.image_shape)
        except UserError as exc:
            self.ctx.report_error(str(exc))
            return False
        self._image, self._last = str(path), None
        space, steps = self.space_box.currentText(), self.steps_box.value()
        self.progress.setRange(0, steps)
        self.progress.setValue(0)
        self.label.setText(f"Projecting {Path(path).name} into {space}…")
        self.bar.setVisible(True)
        self.button.setEnabled(False)
        features = self.features()
        lpips = self._lpips if features == self._vgg else None
        self.jobs.submit("project", _run, self._G, target, space, steps, {"image": str(path)}, features,
                         self._critic, lpips)
        return True

    @Slot()
    def stop(self) -> None:
        """Stop at the next step; the latent reached so far becomes the sample."""
        self.jobs.cancel(stop=True)
        last = self._last
        self._end("Projection stopped" + (f" at step {last.step}" if last is not None else ""))
        if last is not None and self._G is not None:
            latent = last.latents(self._G.num_ws, {"image": self._image, "stopped_at": last.step})[0]
            self._deliver(latent)

    @Slot(str, object)
    def _on_progress(self, _kind: str, step) -> None:
        self._last = step
        self.progress.setValue(step.step)
        loss = step.losses.get("total", next(iter(step.losses.values()), 0.0))
        self.label.setText(f"{Path(self._image).name}: step {step.step} / {step.total} · loss {loss:.4f}")
        side = self.panel.side
        side.image.set_pixels(to_uint8(step.image[:1])[0])     # the reconstruction as it improves
        side.title.setText(f"projecting {Path(self._image).name}")

    @Slot(str, object)
    def _on_done(self, _kind: str, value) -> None:
        step = value if value is not None else self._last     # the generator's last item carries the result
        latent = step.result if step is not None and step.done else None
        if latent is None:
            self._end("Projection ended without a result", error=True)
            return
        self._end(f"Projected {Path(self._image).name} into {latent.info.get('space')}: "
                  f"loss {latent.info.get('loss', 0):.4f}")
        self._deliver(latent)

    def _deliver(self, latent) -> None:
        self.panel.set_latent(latent)
        self.projected.emit(latent)

    def _end(self, message: str, error: bool = False) -> None:
        self.bar.setVisible(False)
        self.button.setEnabled(self._G is not None)
        (self.ctx.report_error if error else self.ctx.status.emit)(message)

    def command(self) -> str:
        m = self.ctx.model
        features = self.features()
        lpips = self._lpips if features == self._vgg else None
        return project_command(m, self._image, self.space_box.currentText(), self.steps_box.value(), features,
                               lpips) if m is not None and self._image else ""
