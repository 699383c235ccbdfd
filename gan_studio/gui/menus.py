"""The main window's menu bar and shortcuts, and the status-bar line that says how a long job ended.

File: Open model… (Ctrl+O), Open recent, Save image… (Ctrl+S), Export… (Ctrl+E), Quit (Ctrl+Q).
Edit: Copy image (Ctrl+Shift+C), Copy command line (Ctrl+Alt+C).
View: one tab per Ctrl+1…7, Show model list (Ctrl+B), Full screen (F11), Reset layout.
Help: Keyboard shortcuts (F1), About GAN Studio.

What Save image / Export / Copy do depends on the tab: each panel answers through Panel.save_image(), export(),
current_image() and current_command() (panels/base.py); a tab with nothing to offer says so in the status bar.
"""
from __future__ import annotations

import platform
from html import escape
from pathlib import Path

import numpy as np
from PySide6.QtCore import QUrl, Slot
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QMessageBox, QSizePolicy

DONE_SHOWN_MS = 20000


def _action(window: QMainWindow, menu: QMenu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    act = QAction(text, window)
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut))
    if tip:
        act.setStatusTip(tip)
    act.triggered.connect(slot)
    menu.addAction(act)
    return act


def to_qimage(pixels: np.ndarray) -> QImage:
    """(H, W, C) uint8, C 1 or 3 (or 4), as a QImage that owns its bytes."""
    px = np.ascontiguousarray(pixels)
    if px.ndim == 3 and px.shape[2] == 1:
        px = np.ascontiguousarray(px[:, :, 0])
    h, w = px.shape[:2]
    if px.ndim == 2:
        fmt, bpl = QImage.Format.Format_Grayscale8, w
    elif px.shape[2] == 4:
        fmt, bpl = QImage.Format.Format_RGBA8888, 4 * w
    else:
        fmt, bpl = QImage.Format.Format_RGB888, 3 * w
    return QImage(px.data, w, h, bpl, fmt).copy()


class DoneLabel(QLabel):
    """The status bar's "what ended, and where it went" line: the path is a link that reveals the file in the
    file manager (its folder is opened)."""

    def __init__(self) -> None:
        super().__init__("")
        self.setContentsMargins(10, 0, 10, 0)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setOpenExternalLinks(False)
        self.linkActivated.connect(self.reveal)
        self.path = ""

    def show_done(self, message: str, path: str = "") -> None:
        self.path = path
        link = f' — <a href="{escape(path)}">show in folder</a>' if path else ""
        self.setText(f"✓ {escape(message)}{link}")
        self.setToolTip(path or message)

    @Slot(str)
    def reveal(self, path: str) -> None:
        p = Path(path)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(p if p.is_dir() else p.parent)))


class Menus:
    """Builds the menu bar of a MainWindow and carries out its actions."""

    def __init__(self, window) -> None:
        self.w = window
        self.actions: dict[str, QAction] = {}
        bar = window.menuBar()
        self._file(bar.addMenu("&File"))
        self._edit(bar.addMenu("&Edit"))
        self._view(bar.addMenu("&View"))
        self._help(bar.addMenu("&Help"))

    def _add(self, key: str, menu: QMenu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        self.actions[key] = _action(self.w, menu, text, slot, shortcut, tip)
        return self.actions[key]

    # ------------------------------------------------------------ menus
    def _file(self, m: QMenu) -> None:
        self._add("open", m, "&Open model…", self.w.choose_file, "Ctrl+O",
                  "Open a model file (.safetensors, .pt, .pth, .pkl) — or drop one on the window")
        self.recent_menu = m.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        m.addSeparator()
        self._add("save", m, "&Save image…", self.save_image, "Ctrl+S",
                  "Save the current tab's image (the sample, the mixing figure, the 3D view…)")
        self._add("export", m, "&Export…", self.export, "Ctrl+E",
                  "Export the current tab's result (a walk as GIF/MP4, a shape as a mesh, the directions…)")
        m.addSeparator()
        self._add("quit", m, "&Quit", self.w.close, "Ctrl+Q")

    def _edit(self, m: QMenu) -> None:
        self._add("copy_image", m, "Copy &image", self.copy_image, "Ctrl+Shift+C",
                  "Copy the current tab's image to the clipboard")
        self._add("copy_command", m, "Copy &command line", self.copy_command, "Ctrl+Alt+C",
                  "Copy the gan-studio command that makes the same result")

    def _view(self, m: QMenu) -> None:
        for i, name in enumerate(self.w.panel_names()):
            title = self.w.panel(name).title
            self._add(f"tab_{name}", m, title, lambda _=False, n=name: self.w.select_panel(n),
                      f"Ctrl+{i + 1}" if i < 9 else None)
        m.addSeparator()
        act = self._add("sidebar", m, "Show model &list", self.w.set_sidebar_visible, "Ctrl+B")
        act.setCheckable(True)
        act.setChecked(True)
        act = self._add("fullscreen", m, "&Full screen", self.toggle_full_screen, "F11")
        act.setCheckable(True)
        self._add("reset_layout", m, "&Reset layout", self.w.reset_layout,
                  tip="Back to the default window size, model list width and first tab")

    def _help(self, m: QMenu) -> None:
        self._add("shortcuts", m, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self._add("about", m, "&About GAN Studio", self.show_about)

    @Slot()
    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.w.settings.recent_files()
        for path in files:
            act = self.recent_menu.addAction(Path(path).name, lambda p=path: self.w.open_path(p))
            act.setStatusTip(path)
        if not files:
            self.recent_menu.addAction("(no recent models)").setEnabled(False)

    # ------------------------------------------------------------ actions
    def _nothing(self, what: str) -> None:
        self.w.statusBar().showMessage(f"The {self.w.current_panel().title} tab has {what}", 5000)

    @Slot()
    def save_image(self) -> None:
        if not self.w.current_panel().save_image():
            self._nothing("no image to save")

    @Slot()
    def export(self) -> None:
        if not self.w.current_panel().export_result():
            self._nothing("nothing to export")

    @Slot()
    def copy_image(self) -> None:
        px = self.w.current_panel().current_image()
        img = px if isinstance(px, QImage) or px is None else to_qimage(px)
        if img is None or img.isNull():
            return self._nothing("no image to copy")
        QGuiApplication.clipboard().setImage(img)
        self.w.statusBar().showMessage(f"Copied the image ({img.width()}×{img.height()})", 4000)

    @Slot()
    def copy_command(self) -> None:
        cmd = self.w.current_panel().current_command().strip()
        if not cmd.startswith("gan-studio"):
            return self._nothing("no command line for what it shows")
        QGuiApplication.clipboard().setText(cmd)
        self.w.statusBar().showMessage("Copied the command line", 4000)

    @Slot(bool)
    def toggle_full_screen(self, on: bool) -> None:
        self.w.showFullScreen() if on else self.w.showNormal()

    def shortcut_rows(self) -> list[tuple[str, str]]:
        rows = [(a.text().replace("&", ""), a.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
                for a in self.actions.values() if not a.shortcut().isEmpty()]
        return rows + [("Resample the grid (Sampling)", "Ctrl+R"), ("Drop a model file", "on the window")]

    @Slot()
    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td>{escape(t)}</td><td>&nbsp;&nbsp;<b>{escape(k)}</b></td></tr>"
                       for t, k in self.shortcut_rows())
        QMessageBox.information(self.w, "Keyboard shortcuts", f"<table>{rows}</table>")

    def about_text(self) -> str:
        import PySide6
        import torch

        from .. import __version__
        try:
            import vtk
            vtk_v = vtk.vtkVersion.GetVTKVersion()
        except Exception:            # noqa: BLE001 - the 3D stack is optional for this line
            vtk_v = "not installed"
        return (f"GAN Studio {__version__}\n\nExplore what generative adversarial networks have learned.\n\n"
                f"Python {platform.python_version()} · torch {torch.__version__} · PySide6 {PySide6.__version__} · "
                f"numpy {np.__version__} · VTK {vtk_v}\nDevice: {self.w.ctx.device} "
                f"(asked: {self.w.ctx.device_request}) · {platform.system()} {platform.machine()}")

    @Slot()
    def show_about(self) -> None:
        QMessageBox.about(self.w, "About GAN Studio", self.about_text())
