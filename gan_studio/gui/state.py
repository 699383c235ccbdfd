"""The app's shared state, seen by every panel: the open model, the device, the render worker.

Panels get one `AppContext` and react to its signals; they never reach into the main window.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from PySide6.QtCore import QObject, Signal

from ..engine.bundle import Bundle
from ..engine.catalog import cli_ref
from ..engine.device import choose_device
from ..engine.errors import UserError
from .settings import Settings
from .workers import RenderWorker, TaskPool


@dataclass
class LoadedModel:
    bundle: Bundle
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.bundle.name

    @property
    def kind(self) -> str:
        return self.bundle.kind

    @property
    def is_image_generator(self) -> bool:
        return self.kind == "image-generator"

    def generator(self):
        """The image generator (EMA weights when present), in eval mode, on the CPU."""
        return self.bundle.generator().eval()


def model_ref(model: LoadedModel) -> str:
    """How the CLI names this model: its catalogue name, else its path."""
    return cli_ref(model.path)


class AppContext(QObject):
    model_changed = Signal(object)      # LoadedModel | None
    device_changed = Signal(object)     # torch.device
    error = Signal(str)                 # a message for the user (the window shows a banner)
    info = Signal(str)                  # a non-error notice
    status = Signal(str)                # a transient status-bar message
    latent_requested = Signal(object)   # a Latent to show in the sampling view
    latent_selected = Signal(object)    # the Latent now shown in the sampling view's large view
    models_changed = Signal()           # a model file appeared or changed on disk: refresh the model list
    open_requested = Signal(str)        # open this model file (a panel made it) and show it
    voxel_model_changed = Signal(object)    # the 3D voxel model now in use (engine VoxelModel), or None
    walk_requested = Signal(object)     # walk through these Latents (a list): the Walks tab takes them as keyframes
    done = Signal(str, str)             # a long job ended: (what happened, the file or folder it wrote or "")

    def __init__(self, settings: Settings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or Settings()
        self.renderer = RenderWorker(self)
        self.tasks = TaskPool(self)
        self.model: LoadedModel | None = None
        self.voxel_model = None             # the 3D tab's VoxelModel: its own slot, so the image panels keep theirs
        self.voxel_model_path: str | None = None
        self.selected_latent = None         # the sampling view's current Latent (walk keyframes, edits start here)
        self.selected_image = None          # its image, (C, H, W) float in [-1, 1] (the Translate tab's input)
        self.device: torch.device = torch.device("cpu")
        self.device_request = "auto"

    def set_model(self, model: LoadedModel | None) -> None:
        self.model = model
        self.selected_latent = self.selected_image = None
        self.model_changed.emit(model)

    def set_voxel_model(self, path: str | None, model) -> None:
        """The voxel model the 3D tab shows (chosen there, or opened in the main list)."""
        self.voxel_model, self.voxel_model_path = model, path
        self.voxel_model_changed.emit(model)

    def set_device(self, request: str) -> str:
        """Choose the render device; returns the fallback message ('' when the request was honoured)."""
        try:
            choice = choose_device(request)
        except UserError as exc:
            self.report_error(str(exc))
            return str(exc)
        self.device_request = request
        self.device = choice.device
        if choice.message:
            self.info.emit(choice.message)
        self.device_changed.emit(choice.device)
        return choice.message

    def report_error(self, message: str) -> None:
        self.error.emit(message)

    def report_done(self, message: str, path: str | Path = "") -> None:
        """A long job (export, save, training, discovery) ended: the window says so in its status bar, with the
        output's path as a link that reveals it in the file manager."""
        self.done.emit(message, str(path) if path else "")

    def show_latent(self, latent) -> None:
        self.latent_requested.emit(latent)

    def select_latent(self, latent, image=None) -> None:
        """Called by the sampling view when its large view shows `latent` (its image: (C, H, W) in [-1, 1])."""
        self.selected_latent, self.selected_image = latent, image
        self.latent_selected.emit(latent)

    def shutdown(self) -> None:
        self.renderer.stop()
        self.tasks.shutdown()
