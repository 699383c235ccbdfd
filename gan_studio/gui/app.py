"""Starting the GUI: `run_gui(args)` (called by `gan-studio gui`), and the screenshot mode used by docs and CI.

args: screenshot (str | None), panel (str | None), model (str | None), device (str), trust_code (bool).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, QtMsgType, Signal, Slot, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from ..engine.device import choose_device
from ..engine.errors import UserError
from ..engine.render import warm_up
from .main_window import PANELS, MainWindow
from .settings import APP, ORG, Settings
from .theme import apply_theme

SCREENSHOT_TIMEOUT_S = 60.0


def _qt_message(mode: QtMsgType, context, message: str) -> None:
    if "propagateSizeHints" in message:     # the offscreen platform's harmless complaint
        return
    sys.stderr.write(f"qt: {message}\n")


def _excepthook(exc_type, exc, tb) -> None:
    """A bug in a slot must not go unseen or take the app down: log it, and show it in the window."""
    traceback.print_exception(exc_type, exc, tb)
    first = str(exc).strip().splitlines()
    message = f"Unexpected error: {exc_type.__name__}: {first[0][:300] if first else ''}"
    for w in QApplication.topLevelWidgets():
        if isinstance(w, MainWindow) and w.isVisible():
            w.show_error(message)


def make_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), themed, with torch warmed up so the first render does not stall."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or [sys.argv[0]])
    app.setOrganizationName(ORG)
    app.setApplicationName(APP)
    app.setApplicationDisplayName("GAN Studio")
    apply_theme(app)
    qInstallMessageHandler(_qt_message)
    warm_up()
    return app


class ScreenshotJob(QObject):
    """Waits (polling the event loop, never sleeping in it) until the shown panel is ready, then saves
    `window.grab()` as PNG and emits `finished(0)`; on a load/render error or a timeout it emits
    `finished(1)` with the reason in `message`. The window is closed either way."""

    finished = Signal(int)

    def __init__(self, window: MainWindow, path: str | Path, timeout_s: float = SCREENSHOT_TIMEOUT_S) -> None:
        super().__init__(window)
        self.window, self.path = window, Path(path)
        self.deadline = time.monotonic() + timeout_s
        self.timeout_s = timeout_s
        self.code: int | None = None
        self.message = ""
        self.timer = QTimer(self)
        self.timer.setInterval(50)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    @Slot()
    def _poll(self) -> None:
        w = self.window
        if w.loading:
            pass
        elif w.current_panel().is_ready():
            return self._save()
        elif w.banner.kind() == "error":
            return self._finish(1, w.banner.text())
        elif w.ctx.model is None:
            return self._finish(1, "no model to show: no shipped model was found; pass --model FILE")
        if time.monotonic() > self.deadline:
            self._finish(1, f"the {w.current_panel().name} panel did not render within {self.timeout_s:.0f} s")

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.window.grab().save(str(self.path), "PNG"):
            return self._finish(1, f"cannot write {self.path}")
        self._finish(0, f"wrote {self.path}")

    def _finish(self, code: int, message: str) -> None:
        self.timer.stop()
        self.code, self.message = code, message
        self.window.close()
        self.finished.emit(code)


def _check_args(device: str, panel: str | None) -> None:
    """Usage errors, before any window opens (the CLI exits 2 for these)."""
    choose_device(device)
    names = {n for cls in PANELS for n in (cls.name, cls.title.lower())}
    if panel and panel.strip().lower() not in names:
        raise UserError(f"no panel {panel!r} (panels: {', '.join(cls.name for cls in PANELS)})")


def _screenshot(app: QApplication, window: MainWindow, path: str) -> int:
    window.resize(1200, 800)
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    window.show()
    job = ScreenshotJob(window, path)
    job.finished.connect(app.exit)
    app.exec()
    if job.code == 0:
        print(job.message)
    else:
        print(f"gan-studio gui: error: {job.message or 'the window closed before the screenshot'}",
              file=sys.stderr)
    return job.code if job.code is not None else 1


def run_gui(args) -> int:
    screenshot, panel = getattr(args, "screenshot", None), getattr(args, "panel", None)
    device = getattr(args, "device", None) or "auto"
    try:
        _check_args(device, panel)
    except UserError as exc:
        print(f"gan-studio gui: error: {exc}", file=sys.stderr)
        return 2
    app = make_app()
    with tempfile.TemporaryDirectory(prefix="gan-studio-") as tmp:
        # screenshots are reproducible and leave the user's settings alone (unless GAN_STUDIO_SETTINGS is set)
        own = screenshot and not os.environ.get("GAN_STUDIO_SETTINGS")
        settings = Settings(Path(tmp) / "settings.ini") if own else Settings()
        window = MainWindow(settings=settings, device=device, trust_code=bool(getattr(args, "trust_code", False)),
                            model=getattr(args, "model", None))
        if panel:
            window.select_panel(panel)
        if screenshot:
            return _screenshot(app, window, screenshot)
        sys.excepthook = _excepthook
        window.show()
        return app.exec()


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(prog="python -m gan_studio.gui.app")
    ap.add_argument("--screenshot")
    ap.add_argument("--panel")
    ap.add_argument("--model")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--trust-code", action="store_true")
    sys.exit(run_gui(ap.parse_args()))
