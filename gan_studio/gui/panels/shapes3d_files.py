"""What the 3D panel reads and writes: exports (STL / OBJ / PLY meshes, .npy grids, as the CLI writes them),
screenshots of the view, the Open… dialogs and drops. A mixin of `Shapes3DPanel` (its view, shape and context)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot

from ...engine.catalog import MODEL_SUFFIXES
from ...engine.errors import UserError
from ...engine.voxels_mesh import export_voxels
from ..dialogs import ask_open, ask_save
from ..file_drop import DropsOneFile

IMAGE_FILTER = ("Images and voxel grids (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.ppm *.pgm *.npy);;"
                "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.ppm *.pgm);;"
                "Voxel grids (*.npy);;All files (*)")
EXPORT_FILTERS = {
    "STL mesh (*.stl)": (".stl", False), "OBJ mesh (*.obj)": (".obj", False), "PLY mesh (*.ply)": (".ply", False),
    "Voxel grid, occupied cells (*.npy)": (".npy", False),
    "Voxel grid, probabilities (*.npy)": (".npy", True),
}


class ShapeFiles(DropsOneFile):
    """Files in and out of the 3D panel; every problem is a message in the window, never an exception."""

    def open_file(self, path: str | Path) -> None:
        """What a drop does: a model file opens as the voxel model, anything else as an input image/grid."""
        p = Path(path)
        self.open_model(p) if p.suffix.lower() in MODEL_SUFFIXES else self.open_image(p)

    @Slot()
    def _choose_b_image(self) -> None:
        path = ask_open(self, self.ctx.settings, "Choose B's image",
                        "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)")
        if path:
            self.controls.set_b(image=path)
            self._update_enabled()

    def export(self, path: str | Path, probabilities: bool = False) -> Path | None:
        """Write the shape on screen: .stl/.obj/.ply (the mesh style on screen) or .npy (bool grid at the
        threshold, or float probabilities). Problems: a message, None."""
        if self.view.grid is None:
            self.ctx.report_error("Nothing to export yet: no shape on screen")
            return None
        return self._write(lambda: export_voxels(self.view.grid, path, self.view.threshold, probabilities,
                                                 self.view.style), "Export failed", "Exported")

    def save_screenshot(self, path: str | Path) -> Path | None:
        return self._write(lambda: self.view.save_screenshot(path), "Screenshot failed", "Saved")

    def _write(self, fn, failed: str, done: str) -> Path | None:
        try:
            out = fn()
        except UserError as exc:
            self.ctx.report_error(f"{failed}: {exc}")
            return None
        self.ctx.report_done(f"{done} {Path(out).name}", out)
        return out

    # ------------------------------------------------------------ the window's menus (Panel)
    def save_image(self) -> bool:
        if self.view.grid is not None:
            self._screenshot_clicked()
        return self.view.grid is not None

    def export_result(self) -> bool:
        if self.view.grid is not None:
            self._export_clicked()
        return self.view.grid is not None

    def current_image(self):
        return self.view.image() if self.view.grid is not None else None

    def current_command(self) -> str:
        return self.stage.cli_label.text()

    def _stem(self) -> str:
        s = self.shape
        if s is None:
            return "shape"
        stem = {"seed": f"seed{s.seed}", "object": f"test{s.extra.get('index', '')}"}.get(s.source) or \
            Path(s.path or "shape").stem
        return stem + (f"-frame{self.stage.frame()}" if self.frames is not None else "")

    @Slot()
    def _export_clicked(self) -> None:
        path, chosen = ask_save(self, self.ctx.settings, "Export the shape", f"{self._stem()}.stl",
                                ";;".join(EXPORT_FILTERS))
        if not path:
            return
        suffix, probabilities = EXPORT_FILTERS.get(chosen, (Path(path).suffix.lower(), False))
        if Path(path).suffix.lower() not in (".stl", ".obj", ".ply", ".npy"):
            path += suffix
        self.export(path, probabilities)

    @Slot()
    def _screenshot_clicked(self) -> None:
        path, _ = ask_save(self, self.ctx.settings, "Save a picture of the 3D view", f"{self._stem()}.png",
                           "PNG image (*.png)", suffix=".png")
        if path:
            self.save_screenshot(path)

    @Slot()
    def _open_image_clicked(self) -> None:
        path = ask_open(self, self.ctx.settings, "Open an image (or a .npy voxel grid)", IMAGE_FILTER)
        if path:
            self.open_image(path)

    @Slot()
    def _open_model_clicked(self) -> None:
        path = ask_open(self, self.ctx.settings, "Open a 3D voxel model", "Model files (*.safetensors);;All files (*)")
        if path:
            self.open_model(path)

