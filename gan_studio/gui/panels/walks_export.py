"""The walks panel's outputs, for WalksPanel: exporting the walk (GIF / MP4 / PNG frames, in the background with
the export bar) and what the window's menus do in this tab (save the frame on screen, export the walk)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot

from ...engine.export import FORMATS
from ...engine.jobs.walks import export_walk
from ..dialogs import ask_save

EXPORT_FILTERS = {"gif": "Animated GIF (*.gif)", "mp4": "MP4 video (*.mp4)", "png": "PNG frames (*.png)"}


class WalkExports:
    def export(self, path: str | Path, fps: float | None = None, scale: int | None = None) -> bool:
        """Start writing every frame to `path` (.gif, .mp4, or NAME.png for PNG frames) in the background;
        `export_finished` tells when it is done."""
        path, error = Path(path), ""
        if self.export_bar.is_running():
            error = "an export is already running"
        elif self.ws is None:
            error = "the walk is not ready yet"
        elif path.suffix.lower() not in FORMATS:
            error = f"{path.name}: give a .gif, .mp4 or .png name"
        if error:
            self.ctx.report_error(f"Cannot export: {error}")
            return False
        fps, scale = fps or self.export_bar.fps(), scale or self.export_bar.scale()
        self.export_bar.run(self.ctx.tasks, str(path), self.ws.shape[0], export_walk, self._G, self.ws, str(path),
                            fps, scale)
        return True

    @Slot()
    def cancel_export(self) -> None:
        self.export_bar.cancel()

    @Slot(str)
    def _export_finished(self, path: str) -> None:
        if path:
            self.ctx.report_done(self.export_bar.message, self.export_bar.reveal_path)
        else:
            self.ctx.status.emit(self.export_bar.message)
        self.export_finished.emit(path)

    @Slot(str)
    def _export_clicked(self, fmt: str) -> None:
        stem = Path(self.ctx.model.name).stem if self.ctx.model else "walk"
        path, _ = ask_save(self, self.ctx.settings, "Export the walk", f"{stem}-walk.{fmt}", EXPORT_FILTERS[fmt],
                           suffix=f".{fmt}")
        if path:
            self.export(path)

    def save_image(self) -> bool:               # the window's menus (Panel): the frame on screen, the walk
        img = self.current_image()
        path = "" if img is None else ask_save(self, self.ctx.settings, "Save this frame", "frame.png",
                                               "PNG images (*.png)", suffix=".png")[0]
        if path and img.save(path):
            self.ctx.report_done(f"Saved {Path(path).name}", path)
        return img is not None

    def export_result(self) -> bool:
        ok = self.export_bar.buttons["gif"].isEnabled() and not self.export_bar.is_running()
        if ok:
            self._export_clicked("gif")
        return ok

    def current_image(self):
        return self.player.view.image()

