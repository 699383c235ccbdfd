"""The drop mixin every window and panel shares: one local file opens, the rest are named, URLs are refused."""
from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from gan_studio.gui.file_drop import DropsOneFile
from gan_studio.gui.main_window import MainWindow
from gan_studio.gui.panels.shapes3d import Shapes3DPanel
from gan_studio.gui.panels.translate import TranslatePanel


class _Target(DropsOneFile, QWidget):
    drop_what = "picture"

    def __init__(self):
        super().__init__()
        self.setAcceptDrops(True)
        self.opened, self.notices = [], []

    def open_file(self, path):
        self.opened.append(path)

    def drop_notice(self, text):
        self.notices.append(text)


def _send(widget, urls):
    mime = QMimeData()
    mime.setUrls(urls)
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    enter.ignore()
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    drop.ignore()
    QApplication.sendEvent(widget, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_several_files_open_the_first_and_name_it(qtbot, tmp_path):
    w = _Target()
    qtbot.addWidget(w)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert _send(w, [QUrl.fromLocalFile(str(a)), QUrl.fromLocalFile(str(b))]) == (True, True)
    assert w.opened == [str(a)]
    assert w.notices == ["Opened a.png; drop one picture at a time"]


def test_one_file_opens_without_a_message(qtbot, tmp_path):
    w = _Target()
    qtbot.addWidget(w)
    assert _send(w, [QUrl.fromLocalFile(str(tmp_path / "x.npy"))]) == (True, True)
    assert w.opened == [str(tmp_path / "x.npy")] and w.notices == []


def test_web_links_are_refused_and_open_nothing(qtbot):
    w = _Target()
    qtbot.addWidget(w)
    assert _send(w, [QUrl("https://example.org/chair.png")]) == (False, False)
    assert w.opened == [] and w.notices == []


def test_the_window_and_the_file_panels_share_it():
    for cls in (MainWindow, Shapes3DPanel, TranslatePanel):
        assert issubclass(cls, DropsOneFile)
        assert cls.dropEvent is DropsOneFile.dropEvent
    assert MainWindow.drop_what == "model file"
