"""What the app remembers between runs: last model, recent files, window geometry.

Stored with QSettings in an INI file, engine/paths.py's settings_path(): on Linux the file QSettings("GAN Studio",
"gan-studio") always used (~/.config/GAN Studio/gan-studio.conf). A test or a portable run points it elsewhere
with a file path (constructor argument, or the GAN_STUDIO_SETTINGS environment variable), and the user's own
settings stay untouched.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from ..engine.paths import settings_path

ORG, APP = "GAN Studio", "gan-studio"
MAX_RECENT = 10


class Settings:
    def __init__(self, path: str | os.PathLike | None = None) -> None:
        given = path or os.environ.get("GAN_STUDIO_SETTINGS")
        self.q = QSettings(str(given or settings_path()), QSettings.Format.IniFormat)
        if not given:
            _carry_over_native(self.q)

    # ------------------------------------------------------------ models
    @property
    def last_model(self) -> str | None:
        v = self.q.value("models/last")
        return str(v) if v else None

    @last_model.setter
    def last_model(self, path: str | None) -> None:
        self.q.setValue("models/last", str(path) if path else "")
        self.q.sync()

    def recent_files(self) -> list[str]:
        v = self.q.value("models/recent") or []
        if isinstance(v, str):          # QSettings returns a lone string for a one-element list
            v = [v]
        return [str(p) for p in v if p][:MAX_RECENT]

    def add_recent(self, path: str | os.PathLike) -> list[str]:
        path = str(Path(path).expanduser().resolve())
        files = [path] + [p for p in self.recent_files() if p != path]
        self.q.setValue("models/recent", files[:MAX_RECENT])
        self.q.sync()
        return files[:MAX_RECENT]

    def remove_recent(self, path: str) -> None:
        self.q.setValue("models/recent", [p for p in self.recent_files() if p != path])
        self.q.sync()

    # ------------------------------------------------------------ window
    def geometry(self) -> QByteArray | None:
        v = self.q.value("window/geometry")
        return v if isinstance(v, QByteArray) and not v.isEmpty() else None

    def set_geometry(self, geometry: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.sync()

    def value(self, key: str, default=None):
        v = self.q.value(key)
        return default if v is None else v

    def set_value(self, key: str, value) -> None:
        self.q.setValue(key, value)


def _carry_over_native(q: QSettings) -> None:
    """Once, into a new settings file: what QSettings(ORG, APP) kept where it is not that file (the Windows
    registry, a macOS plist), so no one loses their last model and recent files. On Linux it is that file."""
    if q.allKeys():
        return
    old = QSettings(ORG, APP)
    if Path(old.fileName()) == Path(q.fileName()):
        return
    for key in old.allKeys():
        q.setValue(key, old.value(key))
    q.sync()
