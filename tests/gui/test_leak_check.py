"""The GUI leak check itself: it fails a test that leaves a window, a running worker or a VTK object behind."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LEAKY = '''
import threading

from PySide6.QtWidgets import QMainWindow, QWidget

kept = []
gate = threading.Event()


def test_leaves_a_window(qapp):
    w = QMainWindow()
    w.setWindowTitle("left open")
    w.show()
    kept.append(w)


def test_leaves_a_worker(qapp):
    from gan_studio.gui.workers import TaskWorker
    w = TaskWorker(gate.wait, 60)
    kept.append(w)
    w.start()


def test_leaves_a_vtk_object(qapp):
    from vtkmodules.vtkCommonCore import vtkPoints
    kept.append(vtkPoints())


def test_tidy(qtbot):
    w = QWidget()
    qtbot.addWidget(w)
    w.show()


def test_zz_release(qapp):
    gate.set()
    for w in kept:
        if hasattr(w, "wait"):
            w.wait(10_000)
    kept.clear()
'''


@pytest.mark.slow
def test_the_leak_check_fails_tests_that_leave_things_behind(tmp_path):
    (tmp_path / "conftest.py").write_text("from tests.gui.conftest import leak_check  # noqa: F401\n")
    (tmp_path / "test_leaky.py").write_text(LEAKY)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), "GAN_STUDIO_LEAK_WAIT_S": "0.5"}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                          str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    text = out.stdout + out.stderr
    assert "ERROR test_leaky.py::test_leaves_a_window" in text, text
    assert "window QMainWindow 'left open'" in text
    assert "ERROR test_leaky.py::test_leaves_a_worker" in text and "worker thread TaskWorker still running" in text
    assert "ERROR test_leaky.py::test_leaves_a_vtk_object" in text and "VTK object vtkPoints" in text
    assert "test_tidy ERROR" not in text and "ERROR test_leaky.py::test_tidy" not in text
    assert re.search(r"5 passed(, \d+ warnings?)?, 3 errors", text), text
