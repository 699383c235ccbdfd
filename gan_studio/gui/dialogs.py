"""File dialogs that remember their folders: saves start where the last save went (settings "paths/save_dir"),
opens where the last file came from ("paths/open_dir"). One place, so every panel behaves the same."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from .settings import Settings

SAVE_DIR, OPEN_DIR = "paths/save_dir", "paths/open_dir"


def ask_save(parent: QWidget, settings: Settings, title: str, name: str, filters: str,
             suffix: str = "") -> tuple[str, str]:
    """(path, chosen filter) of a save dialog starting at the last save folder with file `name`; ("", "") when
    cancelled. `suffix` (".png") is added to a path typed without it."""
    folder = Path(str(settings.value(SAVE_DIR, str(Path.home()))))
    path, chosen = QFileDialog.getSaveFileName(parent, title, str(folder / name), filters)
    if not path:
        return "", ""
    settings.set_value(SAVE_DIR, str(Path(path).parent))
    if suffix and not path.lower().endswith(suffix.lower()):
        path += suffix
    return path, chosen


def ask_open(parent: QWidget, settings: Settings, title: str, filters: str) -> str:
    """The file chosen in an open dialog starting at the last open folder ("" when cancelled)."""
    folder = str(settings.value(OPEN_DIR, str(Path.home())))
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, filters)
    if path:
        settings.set_value(OPEN_DIR, str(Path(path).parent))
    return path
