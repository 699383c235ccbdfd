"""File dialogs that remember one folder per kind of file (models, images, videos, directions, meshes, data…):
a dialog for a kind starts where the last file of that kind was opened or saved; a kind never used yet starts
in the folder used last for anything, so dialogs never jump back to HOME once a folder has been chosen. One
place, so every panel behaves the same.

Kinds are inferred from the dialog's file filters (or named with `kind=`); settings keys are "paths/<kind>_dir"
plus "paths/last_dir" for the most recent folder of any kind.
"""
from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from .settings import Settings

LAST_DIR = "paths/last_dir"
WORDS = (("preset", "preset"), ("direction", "directions"), ("dataset", "data"))   # a filter's words first
KINDS = {                          # kind -> suffixes that name it in a filter
    "model": (".safetensors", ".pt", ".pth", ".pkl", ".ts"),
    "video": (".gif", ".mp4", ".webm", ".avi"),
    "mesh": (".stl", ".obj", ".ply", ".vtk", ".vtp"),
    "image": (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"),
    "array": (".npy", ".npz"),
    "data": ("-ubyte", ".idx"),
}


def kind_of(filters: str, name: str = "") -> str:
    """The kind of file a dialog is for: named in its first filter's words ("Direction presets (*.json)"), else
    the kind of the first suffix listed there (or of the proposed file name): e.g. "image"."""
    first = filters.split(";;")[0].lower()
    words = first.split("(")[0]
    for word, kind in WORDS:
        if word in words:
            return kind
    globs = re.findall(r"\*([^\s)*]+)", first) + [Path(name).suffix.lower()]
    for suffix in globs:
        for kind, suffixes in KINDS.items():
            if any(suffix == s or (not s.startswith(".") and s in suffix) for s in suffixes):
                return kind
    return "file"


def start_folder(settings: Settings, kind: str) -> Path:
    """Where a dialog for `kind` opens: that kind's last folder, else the last folder of any kind, else HOME
    (a folder that has gone since falls back the same way)."""
    for key in (f"paths/{kind}_dir", LAST_DIR):
        v = settings.value(key, "")
        if v and Path(str(v)).is_dir():
            return Path(str(v))
    return Path.home()


def remember(settings: Settings, kind: str, path: str | Path, folder: bool = False) -> None:
    """Remember the folder of a chosen file (or the chosen folder itself) for its kind and as the last one."""
    where = str(Path(path) if folder else Path(path).parent)
    settings.set_value(f"paths/{kind}_dir", where)
    settings.set_value(LAST_DIR, where)


def ask_save(parent: QWidget, settings: Settings, title: str, name: str, filters: str,
             suffix: str = "", kind: str | None = None) -> tuple[str, str]:
    """(path, chosen filter) of a save dialog starting at the folder of this kind of file with file `name`;
    ("", "") when cancelled. `suffix` (".png") is added to a path typed without it."""
    kind = kind or kind_of(filters, name)
    path, chosen = QFileDialog.getSaveFileName(parent, title, str(start_folder(settings, kind) / name), filters)
    if not path:
        return "", ""
    if suffix and not path.lower().endswith(suffix.lower()):
        path += suffix
    remember(settings, kind, path)
    return path, chosen


def ask_open(parent: QWidget, settings: Settings, title: str, filters: str, kind: str | None = None) -> str:
    """The file chosen in an open dialog starting at the folder of this kind of file ("" when cancelled)."""
    kind = kind or kind_of(filters)
    path, _ = QFileDialog.getOpenFileName(parent, title, str(start_folder(settings, kind)), filters)
    if path:
        remember(settings, kind, path)
    return path


def ask_folder(parent: QWidget, settings: Settings, title: str, kind: str = "data") -> str:
    """A folder chosen in a folder dialog that starts at the last folder of this kind ("" when cancelled)."""
    path = QFileDialog.getExistingDirectory(parent, title, str(start_folder(settings, kind)))
    if path:
        remember(settings, kind, path, folder=True)
    return path
