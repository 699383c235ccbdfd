"""Dropping files from the desktop: one file opens, the others are named in a message, never opened silently.

A mixin of a QWidget that calls `setAcceptDrops(True)`. A drop opens with `open_dropped(path)`, by default the
widget's `open_file`; the message goes to `drop_notice(text)`, by default the window's info line (`ctx.info`).
"""
from __future__ import annotations

from pathlib import Path


def local_paths(event) -> list[str]:
    """The local files a drag or drop event carries (URLs that are not local files are left out)."""
    return [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]


class DropsOneFile:
    drop_what = "file"            # what the message asks for one at a time ("drop one file at a time")

    def dragEnterEvent(self, event) -> None:
        if local_paths(event):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        paths = local_paths(event)
        if not paths:
            return
        event.acceptProposedAction()
        self.open_dropped(paths[0])
        if len(paths) > 1:
            self.drop_notice(f"Opened {Path(paths[0]).name}; drop one {self.drop_what} at a time")

    def open_dropped(self, path: str) -> None:
        self.open_file(path)

    def drop_notice(self, text: str) -> None:
        self.ctx.info.emit(text)
