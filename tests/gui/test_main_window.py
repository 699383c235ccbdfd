"""The main window: models in and out (bad files, drops, TorchScript trust), settings, device, screenshots."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from gan_studio.gui.main_window import PANELS, MainWindow
from gan_studio.gui.settings import Settings
from tests.gui.conftest import wait_loaded, wait_settled


def _drop(window, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    ev = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    window.dropEvent(ev)


class _Hostile:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _wait_error(qtbot, window) -> str:
    qtbot.waitUntil(lambda: not window.loading and window.banner.kind() == "error", timeout=30_000)
    return window.banner.text()


def test_panels_are_tabs_and_info_shows_provenance(window):
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [p.title for p in PANELS]
    info = window.select_panel("INFO")
    assert window.current_panel() is info and info.is_ready()
    meta = window.ctx.model.bundle.meta
    assert info.heading.text() == window.ctx.model.name
    fields = info.fields()
    assert fields["Model/Architecture"] == meta["arch"]
    assert fields["Training/Command"] == meta["training"]["command"]
    assert info.tree.topLevelItemCount() == len(meta)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_bad_files_show_an_error_and_the_app_lives(window, qtbot, tmp_path, other_model):
    good = window.ctx.model
    marker = tmp_path / "pwned"
    (tmp_path / "noise.safetensors").write_bytes(os.urandom(4096))
    (tmp_path / "noise.pt").write_bytes(os.urandom(4096))
    torch.save({"w": _Hostile(str(marker))}, tmp_path / "hostile.pt")
    with open(tmp_path / "raw.pth", "wb") as fh:
        pickle.dump(_Hostile(str(marker)), fh)
    (tmp_path / "notes.txt").write_text("hello")
    for name in ("noise.safetensors", "noise.pt", "hostile.pt", "raw.pth", "notes.txt"):
        window.banner.dismiss()
        _drop(window, tmp_path / name)
        msg = _wait_error(qtbot, window)
        assert name in msg and "Traceback" not in msg
        assert window.ctx.model is good, "a bad file replaced the open model"
    assert not marker.exists(), "a hostile pickle ran code"
    window.banner.dismiss()
    assert not window.open_path(tmp_path / "missing.safetensors") and "no such file" in window.banner.text()
    # still usable: a good file loads, the error goes away, the grid renders with the new model
    _drop(window, other_model)
    qtbot.waitUntil(lambda: window.ctx.model is not good and not window.loading, timeout=30_000)
    assert window.banner.kind() != "error"
    panel = window.panel("sampling")
    wait_settled(qtbot, panel)
    assert panel.grid_images.shape[0] == panel.grid.count()
    assert window.ctx.model.generator().z_dim == 16


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript_opens_only_after_confirmation(window, qtbot, tmp_path, monkeypatch):
    class Scripted(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.z_dim = 8
            self.lin = torch.nn.Linear(8, 28 * 28)

        def forward(self, z):
            return torch.tanh(self.lin(z)).view(-1, 1, 28, 28)

    path = tmp_path / "scripted.pt"
    torch.jit.script(Scripted()).save(str(path))
    asked = []
    monkeypatch.setattr(window, "confirm_trust", lambda p: asked.append(p) or False)
    good = window.ctx.model
    assert not window.open_path(path)
    assert asked == [path] and window.ctx.model is good and "not opened" in window.banner.text()
    monkeypatch.setattr(window, "confirm_trust", lambda p: asked.append(p) or True)
    assert window.open_path(path)
    wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: window.ctx.model is not good, timeout=30_000)
    assert window.ctx.model.bundle.meta["source_format"] == "torchscript"
    wait_settled(qtbot, window.panel("sampling"))


def test_settings_persist_across_windows(qtbot, gui_env, gui_model, other_model):
    path = gui_env / "persist.ini"
    w1 = MainWindow(settings=Settings(path), model=str(other_model))
    qtbot.addWidget(w1)
    wait_loaded(qtbot, w1)
    w1.resize(720, 520)          # within the offscreen screen (800x600)
    w1.close()
    s = Settings(path)
    assert s.last_model == str(other_model.resolve())
    assert s.recent_files()[0] == str(other_model.resolve())
    w2 = MainWindow(settings=Settings(path))           # no --model: the last model comes back
    qtbot.addWidget(w2)
    wait_loaded(qtbot, w2)
    assert w2.ctx.model.path == other_model.resolve()
    assert (w2.width(), w2.height()) == (720, 520)
    assert str(other_model.resolve()) in w2.model_list.paths()
    w2.close()


def test_first_shipped_model_opens_when_nothing_is_remembered(qtbot, gui_env, gui_model):
    w = MainWindow(settings=Settings(gui_env / "fresh.ini"))
    qtbot.addWidget(w)
    wait_loaded(qtbot, w)
    assert w.ctx.model.path == (gui_env / "shipped" / gui_model.name).resolve()
    assert w.ctx.model.path.as_posix() in w.model_list.paths()
    w.close()


def test_recent_files_keep_at_most_ten(gui_env):
    s = Settings(gui_env / "recent.ini")
    for i in range(13):
        s.add_recent(gui_env / f"m{i}.safetensors")
    files = s.recent_files()
    assert len(files) == 10 and files[0].endswith("m12.safetensors")


def test_device_picker_rerenders(window, qtbot):
    panel = window.panel("sampling")
    before = panel.shown_grid_id
    window.device_box.setCurrentText("auto")
    window.device_box.setCurrentText("cpu")
    wait_settled(qtbot, panel)
    assert panel.shown_grid_id > before and "cpu" in window.device_label.text()


def test_screenshot_job_waits_for_the_render(qtbot, gui_env, gui_model, tmp_path):
    from gan_studio.gui.app import ScreenshotJob
    w = MainWindow(settings=Settings(gui_env / "shot.ini"), model=str(gui_model))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.select_panel("sampling")
    w.show()
    job = ScreenshotJob(w, tmp_path / "shot.png")
    with qtbot.waitSignal(job.finished, timeout=60_000) as sig:
        pass
    assert sig.args == [0], job.message
    assert w.panel("sampling").is_ready() and Image.open(tmp_path / "shot.png").size == (1200, 800)


def test_screenshot_job_fails_cleanly_without_a_model(qtbot, gui_env, tmp_path):
    from gan_studio.gui.app import ScreenshotJob
    w = MainWindow(settings=Settings(gui_env / "shot.ini"), model=str(tmp_path / "missing.safetensors"))
    qtbot.addWidget(w)
    job = ScreenshotJob(w, tmp_path / "x.png")
    with qtbot.waitSignal(job.finished, timeout=60_000) as sig:
        pass
    assert sig.args == [1] and "missing.safetensors" in job.message and not (tmp_path / "x.png").exists()


def test_run_gui_screenshot_end_to_end(gui_env, gui_model, tmp_path):
    """The real entry point in a fresh process (app.exec() must not run inside the pytest-qt app)."""
    import subprocess
    import sys
    out = tmp_path / "info.png"
    cmd = [sys.executable, "-m", "gan_studio.gui.app", "--screenshot", str(out), "--panel", "Info",
           "--model", str(gui_model), "--device", "cpu"]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert Image.open(out).size == (1200, 800)
    r = subprocess.run(cmd[:-6] + ["--panel", "nope"], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 2 and "no panel 'nope'" in r.stderr and "Traceback" not in r.stderr
