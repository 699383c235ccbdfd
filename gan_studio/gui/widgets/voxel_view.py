"""The 3D panel's views: `VoxelView` shows a voxel grid as a mesh in a pyvistaqt `QtInteractor` (rotate, zoom),
and `InputView` shows the encoder's input image beside it.

The interactor is made on the first show, never earlier: Qt's offscreen platform (the headless test suite)
has no OpenGL widgets, and a window that never shows the 3D tab pays nothing. Where no interactor can be
made, the view falls back to a static shaded picture from the project's own renderer (engine/data/views.py)
and says why. Rendering is on demand (`auto_update=False`): every change calls `render()` once.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedLayout, QVBoxLayout, QWidget

from ...engine.errors import UserError
from ...engine.voxels_mesh import build_mesh
from .. import theme

log = logging.getLogger(__name__)

NO_GL_PLATFORMS = ("offscreen", "minimal", "vnc", "linuxfb")
SOLID_COLOUR = "#c9ced8"
BACKGROUND, BACKGROUND_TOP = "#1b1c1f", "#34373d"
CMAP = "viridis"
BAR_TITLE, BAR_WIDTH, BAR_X = "P(occupied)", 0.06, 0.86   # the probability scale: its title, width, left edge
BAR_TITLE_HALF_PX = 50      # half the title's width at 14 pt plus a margin (measured: ~86 px for "P(occupied)")
STATIC_SIZE = 256           # the fallback picture, pixels (the splat renderer: ~5-30 ms at this size)


def corner_max(grid: np.ndarray, points: np.ndarray) -> np.ndarray:
    """For points in voxel units (cell i spans [i, i+1]), the largest probability of the 2×2×2 voxel centres
    around each point: (P,) float32. An isosurface point sits where the interpolated probability equals the
    threshold, so this tells how sure the model is of the solid next to it."""
    padded = np.pad(grid, 1)                                             # centre of cell i at padded i + 1
    base = np.floor(points + 0.5).astype(np.int64)                       # (P, 3) lower corner, padded index
    base = np.clip(base, 0, np.array(padded.shape) - 2)
    best = np.zeros(len(points), np.float32)
    for dx in (0, 1):
        for dy in (0, 1):
            for dz in (0, 1):
                best = np.maximum(best, padded[base[:, 0] + dx, base[:, 1] + dy, base[:, 2] + dz])
    return best


def shape_mesh(grid: np.ndarray, threshold: float, style: str):
    """The mesh the view shows: engine `build_mesh`, with an "occupancy" array worth colouring by (the cell's
    probability for cubes; the nearest voxels' largest probability for the smooth isosurface)."""
    mesh = build_mesh(grid, threshold, style)
    if style == "smooth" and mesh.n_points:
        mesh.point_data["occupancy"] = corner_max(grid, np.asarray(mesh.points))
    return mesh


def bar_x(view_px: int) -> float:
    """The scale's left edge (a fraction of the view's width) where its title, centred over the bar, still ends
    inside a view `view_px` wide: BAR_X in a wide view, further left in a narrow one (at 1,024 px the title was
    cut at the right edge)."""
    return min(BAR_X, 1.0 - BAR_WIDTH / 2 - BAR_TITLE_HALF_PX / max(int(view_px), 1))


def _why_no_gl() -> str:
    name = QGuiApplication.platformName()
    if name in NO_GL_PLATFORMS:
        return f"the Qt platform '{name}' has no OpenGL widgets"
    return ""


class VoxelView(QWidget):
    """A voxel grid as a mesh: cubes or a smooth isosurface at a threshold, optionally coloured by probability."""

    rendered = Signal()     # after each picture of a new grid / threshold / style is on its way to the screen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(300, 260)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.plotter = None                 # the QtInteractor, once made
        self._window = None                 # the top-level window it lives in
        self.unavailable = ""               # why there is no interactor ("" while untried or when there is one)
        self._tried = False
        self.grid: np.ndarray | None = None
        self.mesh = None                    # the pyvista mesh on screen (None: nothing shown)
        self.threshold, self.style, self.colour = 0.5, "cubes", True
        self._pending_reset = True
        self._auto_camera = True            # the camera follows resizes until the user moves it
        self.message = QLabel("")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setProperty("role", "subtle")
        self.message.setStyleSheet(f"background: {theme.CANVAS.name()};")
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self._holder = QWidget()
        self._holder_lay = QVBoxLayout(self._holder)
        self._holder_lay.setContentsMargins(0, 0, 0, 0)
        self.note = QLabel("")
        self.note.setProperty("role", "subtle")
        self.note.setWordWrap(True)
        self.note.hide()
        self._stack = QStackedLayout()
        self._stack.addWidget(self.message)
        self._stack.addWidget(self._holder)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addLayout(self._stack, 1)
        lay.addWidget(self.note)
        self._placeholder = ""
        self.clear("")

    # ------------------------------------------------------------ the interactor
    @property
    def interactive(self) -> bool:
        return self.plotter is not None

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._window is None:                    # closing the window lets go of GL and VTK (shutdown)
            self._window = self.window()
            self._window.installEventFilter(self)
        remesh = self.grid is not None and self.mesh is None   # let go of when the window closed (shutdown)
        if remesh:
            self._remesh()
        if not self._tried:
            self.ensure_interactor()                # draws
        elif remesh:
            self._redraw()

    def ensure_interactor(self) -> bool:
        """Make the QtInteractor (once). False, with `unavailable` set, where it cannot be made."""
        if self._tried:
            return self.plotter is not None
        self._tried = True
        self.unavailable = _why_no_gl()
        if self.unavailable:
            self._redraw()
            return False
        try:
            import pyvista as pv
            from pyvistaqt import QtInteractor
            plotter = QtInteractor(self._holder, auto_update=False, off_screen=False)
        except Exception as exc:                # no GL context, no VTK build for this platform ...
            log.exception("the 3D view could not be made")
            first = str(exc).strip().splitlines()
            self.unavailable = f"the 3D view could not start ({first[0][:200] if first else type(exc).__name__})"
            self._redraw()
            return False
        plotter.setAcceptDrops(False)           # drops go to the panel (images), not pyvista's mesh reader
        plotter.set_background(BACKGROUND, top=BACKGROUND_TOP)
        plotter.add_axes(color="white", line_width=2)
        box = pv.ImageData(dimensions=(2, 2, 2), spacing=(32, 32, 32)).outline()
        plotter.add_mesh(box, color="#6b7079", line_width=1, name="bounds", reset_camera=False, render=False,
                         pickable=False)
        self._holder_lay.addWidget(plotter)
        self.plotter = plotter
        plotter.installEventFilter(self)
        self._pending_reset = True
        self._redraw()
        return True

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if obj is self._window and kind == QEvent.Type.Close and event.isAccepted():
            self.shutdown()
        elif obj is self.plotter:
            if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.Wheel, QEvent.Type.KeyPress):
                self._auto_camera = False           # the user moves the camera: leave it where they put it
            elif kind == QEvent.Type.Resize:
                for bar in self.plotter.scalar_bars.values():   # the scale's title stays inside the view
                    bar.SetPosition(bar_x(self.plotter.width()), bar.GetPosition()[1])
                if self._auto_camera:
                    self._reset_camera()            # keep the whole grid in view while the view resizes
        return False

    def shutdown(self) -> None:
        """Close the interactor (its GL resources) and let go of the mesh before the window goes away; a later show
        makes them again from the grid, which stays."""
        if self._window is not None:
            self._window.removeEventFilter(self)
            self._window = None
        self.mesh = None
        plotter, self.plotter = self.plotter, None
        if plotter is None:
            return
        try:
            plotter.close()
        except Exception:                       # pragma: no cover - teardown is best effort
            log.exception("closing the 3D view")
        plotter.setParent(None)
        plotter.deleteLater()
        self._tried = False
        self._stack.setCurrentWidget(self.message)

    # ------------------------------------------------------------ showing
    def clear(self, message: str) -> None:
        """Show no shape, only `message`."""
        self.grid, self.mesh = None, None
        self._placeholder = message
        if self.plotter is not None:
            self.plotter.remove_actor("shape", render=False)
            self.plotter.remove_actor("note", render=False)
            self._remove_scalar_bars()
        self.message.setPixmap(QPixmap())
        self.message.setToolTip("")
        self.message.setText(message)
        self._stack.setCurrentWidget(self.message)

    def show_grid(self, grid: np.ndarray, threshold: float | None = None, style: str | None = None,
                  colour: bool | None = None, reset_camera: bool = False) -> None:
        """Show `grid` (X, Y, Z) probabilities; None arguments keep the current setting."""
        self.grid = np.asarray(grid, dtype=np.float32)
        if threshold is not None:
            self.threshold = float(threshold)
        if style is not None:
            self.style = style
        if colour is not None:
            self.colour = bool(colour)
        self._pending_reset = self._pending_reset or reset_camera
        self._remesh()
        self._redraw()

    def set_options(self, threshold: float | None = None, style: str | None = None,
                    colour: bool | None = None) -> None:
        """Change threshold / style / colouring of the grid on screen (rebuilds the mesh when needed)."""
        rebuild = (threshold is not None and float(threshold) != self.threshold) or \
            (style is not None and style != self.style)
        self.threshold = self.threshold if threshold is None else float(threshold)
        self.style = style or self.style
        recolour = colour is not None and bool(colour) != self.colour
        self.colour = self.colour if colour is None else bool(colour)
        if self.grid is None or not (rebuild or recolour):
            return
        if rebuild:
            self._remesh()
        self._redraw()

    def _remesh(self) -> None:
        self.mesh = shape_mesh(self.grid, self.threshold, self.style)

    def n_cells(self) -> int:
        return int(self.mesh.n_cells) if self.mesh is not None else 0

    def reset_camera(self) -> None:
        if self.plotter is not None:
            self._reset_camera()
            self.plotter.render()

    def _reset_camera(self) -> None:
        self._auto_camera = True
        p = self.plotter
        p.view_isometric(render=False)
        p.camera.up = (0.0, 0.0, 1.0)
        p.reset_camera(render=False, bounds=(0, 32, 0, 32, 0, 32))
        aspect = p.width() / max(1, p.height())      # VTK fits the height: a narrow view needs to zoom out
        p.camera.zoom(0.93 * min(1.0, aspect / 0.85))

    def _remove_scalar_bars(self) -> None:
        for title in list(self.plotter.scalar_bars.keys()):
            self.plotter.remove_scalar_bar(title, render=False)

    def _redraw(self) -> None:
        if self.unavailable:
            self.note.setText(f"Static preview, not interactive: {self.unavailable}.")
            self.note.show()
        if self.grid is None or self.mesh is None:
            self._stack.setCurrentWidget(self.message)
            return
        if self.plotter is None and not self._tried:
            return                              # drawn on the first show, once the interactor exists
        if self.plotter is None:
            self._draw_static()
        else:
            self._draw_interactive()
        self.rendered.emit()

    def _draw_interactive(self) -> None:
        p = self.plotter
        p.remove_actor("shape", render=False)
        p.remove_actor("note", render=False)
        self._remove_scalar_bars()
        if self.mesh.n_points:
            smooth = self.style == "smooth"
            kw = dict(name="shape", reset_camera=False, render=False, smooth_shading=smooth,
                      specular=0.25 if smooth else 0.1, ambient=0.15)
            if self.colour:
                p.add_mesh(self.mesh, scalars="occupancy", cmap=CMAP, clim=(0.0, 1.0),
                           preference="cell" if not smooth else "point",
                           scalar_bar_args=dict(title=BAR_TITLE, vertical=True, color="white",
                                                position_x=bar_x(p.width()), position_y=0.2, height=0.6,
                                                width=BAR_WIDTH,
                                                n_labels=6, fmt="%.1f", title_font_size=14, label_font_size=12),
                           **kw)
            else:
                p.add_mesh(self.mesh, color=SOLID_COLOUR, show_scalar_bar=False, **kw)
        else:
            p.add_text(f"Empty at threshold {self.threshold:.2f}: lower it", position="upper_left", font_size=9,
                       color="white", name="note")
        if self._pending_reset:
            self._reset_camera()
            self._pending_reset = False
        self._stack.setCurrentWidget(self._holder)
        p.render()

    def _draw_static(self) -> None:
        """No interactor: a shaded picture from the project's renderer, and why it is not interactive."""
        from ...engine.data.views import render_voxels
        img = render_voxels(self.grid, 45.0, 25.0, STATIC_SIZE, threshold=self.threshold)    # (S, S) in [0, 1]
        pix = np.ascontiguousarray((img * 255).round().astype(np.uint8))
        qimg = QImage(pix.data, pix.shape[1], pix.shape[0], pix.shape[1], QImage.Format.Format_Grayscale8).copy()
        self.message.setPixmap(QPixmap.fromImage(qimg))
        self._stack.setCurrentWidget(self.message)

    # ------------------------------------------------------------ pictures
    def image(self) -> QImage:
        """The 3D view as it is on screen (the rendered frame for the interactor)."""
        if self.plotter is not None:
            self.plotter.render()
            return self.plotter.grabFramebuffer()
        return self.message.grab().toImage()

    def save_screenshot(self, path: str | Path) -> Path:
        path = Path(path)
        if path.suffix.lower() != ".png":
            raise UserError(f"screenshots are PNG files: {path.name!r} does not end in .png")
        if self.grid is None:
            raise UserError("no shape on screen to take a picture of")
        img = self.image()
        if img.isNull():
            raise UserError("the 3D view has no picture yet")
        from ...engine.bundle import atomic_write
        try:
            return atomic_write(path, lambda tmp: _save_png(img, tmp))
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


def _save_png(img: QImage, tmp: str) -> None:
    if not img.save(tmp, "PNG"):
        raise OSError(f"Qt could not write {tmp}")


class InputView(QLabel):
    """The image the encoder sees (a (S, S) float view in [0, 1]), scaled up without smoothing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setProperty("role", "subtle")
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setStyleSheet(f"background: {theme.CANVAS.name()}; border: 1px solid #3a3d42; color: #c4c8cf; "
                           "padding: 6px;")                     # light text: the canvas is dark in both themes
        self.pixels: np.ndarray | None = None
        self.set_view(None, "")

    def sizeHint(self) -> QSize:
        return QSize(200, 200)

    def set_view(self, view: np.ndarray | None, message: str = "") -> None:
        """`view`: (H, W) floats in [0, 1], or None to show `message` instead."""
        if view is None:
            self.pixels = None
            self.setPixmap(QPixmap())
            self.setText(message)
            return
        self.pixels = np.ascontiguousarray((np.clip(view, 0, 1) * 255).round().astype(np.uint8))
        self.setText("")
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self.pixels is None:
            return
        h, w = self.pixels.shape
        img = QImage(self.pixels.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
        side = max(16, min(self.width(), self.height()) - 8)
        self.setPixmap(QPixmap.fromImage(img).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                                     Qt.TransformationMode.FastTransformation))
