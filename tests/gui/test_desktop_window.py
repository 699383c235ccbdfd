"""The window as a desktop app (issue 21): menus and shortcuts, the status line that says how a job ended, a
window that fits 1024 × 640 and never grows by itself, and the Directions tab's directions kept per model."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog

from gan_studio.gui import dialogs
from gan_studio.gui.dialogs import ask_open, ask_save, kind_of, start_folder
from gan_studio.gui.main_window import PANELS, MainWindow
from gan_studio.gui.settings import Settings
from tests.conftest import make_tiny_bundle
from tests.gui.conftest import wait_loaded, wait_settled

T = 60_000


def _pump(qtbot, ms: int = 50) -> None:
    qtbot.wait(ms)
    QApplication.processEvents()


# ---------------------------------------------------------------- file dialogs: one folder per kind
def test_kinds_come_from_the_filters_words_then_their_suffixes():
    assert kind_of("PNG images (*.png)") == "image"
    assert kind_of("Animated GIF (*.gif)") == "video" and kind_of("MP4 video (*.mp4)") == "video"
    assert kind_of("Directions (*.safetensors)") == "directions"          # the word wins over the suffix
    assert kind_of("Direction presets (*.json)") == "preset"
    assert kind_of("Model files (*.safetensors *.pt)") == "model"
    assert kind_of("STL (*.stl);;OBJ (*.obj)") == "mesh"
    assert kind_of("All files (*)", "walk.gif") == "video"                 # the proposed name when nothing else
    assert kind_of("All files (*)") == "file"


def test_each_kind_of_file_opens_where_the_last_one_went(tmp_path, monkeypatch):
    s = Settings(tmp_path / "s.ini")
    images, videos, gone = tmp_path / "images", tmp_path / "videos", tmp_path / "gone"
    for d in (images, videos, gone):
        d.mkdir()
    asked: list[str] = []

    def fake_save(_parent, _title, start, _filters):
        asked.append(start)
        folder = images if start.endswith(".png") else videos if start.endswith(".gif") else gone
        return str(folder / Path(start).name), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_save))
    monkeypatch.setattr(dialogs.Path, "home", classmethod(lambda cls: tmp_path / "home"))
    assert start_folder(s, "image") == tmp_path / "home"                   # nothing chosen yet: HOME
    assert ask_save(None, s, "t", "a.png", "PNG images (*.png)")[0] == str(images / "a.png")
    assert start_folder(s, "video") == images                               # a new kind: the last folder
    ask_save(None, s, "t", "w.gif", "Animated GIF (*.gif)")
    ask_save(None, s, "t", "b.png", "PNG images (*.png)")
    assert Path(asked[-1]).parent == images and start_folder(s, "video") == videos   # no alternating
    ask_save(None, s, "t", "x.npy", "Arrays (*.npy)")                       # remembered as gone/ ...
    gone.rmdir()                                                            # ... which then disappears
    assert start_folder(s, "array") == tmp_path / "home" or start_folder(s, "array").is_dir()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *_a: ("", "")))
    assert ask_open(None, s, "t", "PNG images (*.png)") == "" and start_folder(s, "image") == images   # cancel


# ---------------------------------------------------------------- menus and shortcuts
def test_menus_have_the_desktop_actions_and_shortcuts(window):
    acts = window.menus.actions
    bar = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert bar == ["File", "Edit", "View", "Help"]
    shortcuts = {k: acts[k].shortcut().toString() for k in ("open", "save", "quit", "copy_image", "copy_command",
                                                             "shortcuts")}
    assert shortcuts["open"] == "Ctrl+O" and shortcuts["save"] == "Ctrl+S" and shortcuts["quit"] == "Ctrl+Q"
    assert shortcuts["copy_image"] and shortcuts["copy_command"] and shortcuts["shortcuts"]
    for i, cls in enumerate(PANELS):
        assert acts[f"tab_{cls.name}"].shortcut().toString() == f"Ctrl+{i + 1}"
        acts[f"tab_{cls.name}"].trigger()
        assert window.current_panel().name == cls.name
    rows = dict(window.menus.shortcut_rows())
    assert rows["Save image…"] == "Ctrl+S" and "Ctrl+7" in rows.values()
    about = window.menus.about_text()
    assert "torch" in about and "PySide6" in about and "Device: cpu" in about


def test_save_copy_and_export_follow_the_tab(window, qtbot, tmp_path, monkeypatch):
    info = window.select_panel("info")
    assert info.current_image() is None
    window.menus.actions["save"].trigger()                                  # Ctrl+S where there is no image
    assert "no image to save" in window.statusBar().currentMessage()
    sampling = window.select_panel("sampling")
    sampling.select_tile(2)
    qtbot.waitUntil(lambda: sampling.view_image is not None, timeout=T)
    window.menus.actions["copy_command"].trigger()
    text = QGuiApplication.clipboard().text()
    assert text.startswith("gan-studio sample") and "--seed" in text
    window.menus.actions["copy_image"].trigger()
    img = QGuiApplication.clipboard().image()
    h, w = sampling.view_image.shape[1:]
    assert not img.isNull() and (img.width(), img.height()) == (w, h)        # the sample itself, not a screen grab
    out = tmp_path / "saved.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *_a: (str(out), "")))
    window.menus.actions["save"].trigger()
    assert out.is_file()
    assert "saved.png" in window.done_label.text() and "show in folder" in window.done_label.text()


def test_a_finished_job_says_where_its_file_went_and_the_link_reveals_it(window, tmp_path, monkeypatch):
    opened: list[QUrl] = []
    monkeypatch.setattr("gan_studio.gui.menus.QDesktopServices.openUrl", staticmethod(opened.append))
    f = tmp_path / "walk.gif"
    f.write_bytes(b"GIF89a")
    window.ctx.report_done("Saved walk.gif (6 bytes)", f)
    label = window.done_label
    assert "Saved walk.gif (6 bytes)" in label.text() and f'href="{f}"' in label.text()
    label.linkActivated.emit(str(f))
    assert [u.toLocalFile() for u in opened] == [str(tmp_path)]              # its folder, in the file manager
    window.ctx.report_done("Export cancelled")
    assert "href" not in label.text()


# ---------------------------------------------------------------- size: fits 1024 × 640, never grows by itself
def test_the_window_fits_1024_by_640_and_every_tab_fits_its_width(window, qtbot):
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 640
    window.resize(1024, 640)
    _pump(qtbot, 200)
    for cls in PANELS:
        panel = window.select_panel(cls.name)
        _pump(qtbot, 150)
        assert (window.width(), window.height()) == (1024, 640), cls.name
        viewport = window._scrolls[cls.name].viewport()
        assert panel.minimumSizeHint().width() <= viewport.width(), f"{cls.name} scrolls sideways at 1024 px"
    window.set_sidebar_visible(False)
    assert not window.sidebar.isVisible()
    window.reset_layout()
    assert window.sidebar.isVisible() and window.tabs.currentIndex() == 0


def test_discovery_does_not_resize_the_window_and_directions_are_kept_per_model(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_STUDIO_RESOURCES", str(tmp_path / "shipped"))
    monkeypatch.setenv("GAN_STUDIO_HOME", str(tmp_path / "home"))
    first = make_tiny_bundle(tmp_path / "first.safetensors")
    second = make_tiny_bundle(tmp_path / "second.safetensors", seed=3)
    w = MainWindow(settings=Settings(tmp_path / "app.ini"), device="cpu", model=str(first))
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    wait_loaded(qtbot, w)
    wait_settled(qtbot, w.panel("sampling"))
    panel = w.select_panel("directions")
    sizes = set()
    panel.method_box.setCurrentText("voynov")
    panel.k_box.setValue(4)
    panel.steps_box.setValue(40)
    panel.bar.rca_box.setChecked(False)
    with qtbot.waitSignal(panel.discovery_finished, timeout=T):
        panel.start()
        while panel._worker is not None:
            _pump(qtbot, 20)
            sizes.add((w.width(), w.height()))
    _pump(qtbot, 200)
    sizes.add((w.width(), w.height()))
    assert sizes == {(1100, 700)}                                          # finding 1: it never widened
    found = panel.ds
    assert found is not None and found.k == 4
    w.open_path(second)
    qtbot.waitUntil(lambda: w.ctx.model is not None and w.ctx.model.path == second, timeout=T)
    assert panel.ds is None and "kept" in w.banner.text() and "first" in w.banner.text()
    assert panel.editor.chart.status.text() == ""                          # no stale "4 directions × 9 shifts"
    w.open_path(first)
    qtbot.waitUntil(lambda: w.ctx.model is not None and w.ctx.model.path == first, timeout=T)
    qtbot.waitUntil(lambda: panel.ds is not None, timeout=T)
    assert panel.ds is found and "kept while another model was open" in panel.bar.progress_label.text()
    assert len(panel.editor.list.rows) == 4                               # its sliders are back
    w.close()


@pytest.mark.parametrize("size", [(1024, 640), (1920, 1080)])
def test_every_tab_renders_at_laptop_and_desktop_sizes(window, qtbot, size, tmp_path):
    """A grab of every tab at both sizes (what the issue's screenshots are made from): nothing blank or clipped
    to nothing, and the window keeps the size it was given."""
    window.resize(*size)
    _pump(qtbot, 200)
    for cls in PANELS:
        window.select_panel(cls.name)
        _pump(qtbot, 150)
        img = window.grab().toImage()
        assert (img.width(), img.height()) == size and (window.width(), window.height()) == size
        colours = {img.pixel(x, y) for x in range(0, size[0], 37) for y in range(0, size[1], 29)}
        assert len(colours) > 8, f"{cls.name} looks empty at {size}"
