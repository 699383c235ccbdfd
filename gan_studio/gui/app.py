"""Starting the GUI: `run_gui(args)` (called by `gan-studio gui`), and the screenshot mode used by docs and CI.

args: screenshot (str | None), panel (str | None), model (str | None), device (str), trust_code (bool).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import QApplication

from ..engine.errors import UserError
from ..engine.render import warm_up
from .main_window import MainWindow
from .settings import APP, ORG, Settings
from .theme import apply_theme

SCREENSHOT_TIMEOUT_S = 60.0


def make_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), themed, with torch warmed up so the first render does not stall."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or [sys.argv[0]])
    app.setOrganizationName(ORG)
    app.setApplicationName(APP)
    app.setApplicationDisplayName("GAN Studio")
    apply_theme(app)
    warm_up()
    return app


class ScreenshotJob(QObject):
    """Waits (polling the event loop, never sleeping in it) until the shown panel is ready, then saves
    `window.grab()` and quits with 0; quits with 1 and a message on a load/render error or a timeout."""

    def __init__(self, app: QApplication, window: MainWindow, path: str | Path,
                 timeout_s: float = SCREENSHOT_TIMEOUT_S) -> None:
        super().__init__(window)
        self.app, self.window, self.path = app, window, Path(path)
        self.deadline = time.monotonic() + timeout_s
        self.timeout_s = timeout_s
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
            return self._fail(w.banner.text())
        elif w.ctx.model is None:
            return self._fail("no model to show: no shipped model was found; pass --model FILE")
        if time.monotonic() > self.deadline:
            self._fail(f"the {w.current_panel().name} panel did not render within {self.timeout_s:.0f} s")

    def _save(self) -> None:
        self.timer.stop()
        self.app.processEvents()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.window.grab().save(str(self.path), "PNG"):
            return self._fail(f"cannot write {self.path}")
        print(f"wrote {self.path}")
        self.window.close()
        self.app.exit(0)

    def _fail(self, message: str) -> None:
        self.timer.stop()
        print(f"gan-studio gui: error: {message}", file=sys.stderr)
        self.window.close()
        self.app.exit(1)


def run_gui(args) -> int:
    screenshot = getattr(args, "screenshot", None)
    panel = getattr(args, "panel", None)
    app = make_app()
    settings_tmp = None
    if screenshot and not os.environ.get("GAN_STUDIO_SETTINGS"):
        # reproducible screenshots that leave the user's settings alone
        settings_tmp = tempfile.TemporaryDirectory(prefix="gan-studio-shot-")
        settings = Settings(Path(settings_tmp.name) / "settings.ini")
    else:
        settings = Settings()
    window = MainWindow(settings=settings, device=getattr(args, "device", None) or "auto",
                        trust_code=bool(getattr(args, "trust_code", False)), model=getattr(args, "model", None))
    try:
        if panel:
            window.select_panel(panel)
    except UserError as exc:
        window.close()
        print(f"gan-studio gui: error: {exc}", file=sys.stderr)
        return 2
    if screenshot:
        window.resize(1200, 800)
        window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        window.show()
        job = ScreenshotJob(app, window, screenshot)  # noqa: F841  (kept alive by its parent)
        code = app.exec()
        if settings_tmp is not None:
            settings_tmp.cleanup()
        return code
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
