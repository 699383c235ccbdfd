"""GUI test fixtures: headless Qt, throwaway settings and model folders, and one small generator per session."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")   # before any Qt import

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = ROOT / "resources"
MNIST = Path(os.environ.get("GAN_STUDIO_SHARED_DATA", ROOT.parent / "shared" / "data")) / "mnist"


def _shipped_generator() -> Path | None:
    """The shipped model the app opens first, if it is an image generator."""
    from gan_studio.engine.catalog import default_model
    entry = default_model()
    return entry.path if entry is not None and entry.kind == "image-generator" else None


def _train_small(out: Path) -> Path:
    """~120 non-saturating steps of a narrow DCGAN (MNIST if present, else the tiny disc images)."""
    from gan_studio.engine.training.loop import TrainConfig, train
    data = MNIST
    if not (MNIST / "train-images-idx3-ubyte.gz").is_file():
        import numpy as np
        yy, xx = np.mgrid[:28, :28]
        rng = np.random.default_rng(0)
        imgs = np.zeros((512, 28, 28), np.uint8)
        for i in range(len(imgs)):
            cy, cx, r = rng.uniform(8, 20, 2).tolist() + [rng.uniform(3, 7)]
            imgs[i][(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = 255
        data = out.with_suffix(".npz")
        np.savez(data, images=imgs, labels=np.arange(len(imgs)) % 10)
    cfg = TrainConfig(data=str(data), arch="dcgan", arch_config={"width": 16, "z_dim": 32}, loss="ns",
                      steps=120, batch=32, seed=0, checkpoint_every=10**6, sample_every=10**6, device="cpu")
    for _ in train(cfg, out, command="tests/gui fixture"):
        pass
    return out


@pytest.fixture(scope="session")
def gui_model(tmp_path_factory) -> Path:
    """A shipped image generator when there is one, else a small one trained for this session."""
    given = os.environ.get("GAN_STUDIO_GUI_TEST_MODEL")     # e.g. a model trained once, for quick reruns
    if given:
        return Path(given)
    shipped = _shipped_generator()
    if shipped is not None:
        return shipped
    return _train_small(tmp_path_factory.mktemp("gui-model") / "gui-small.safetensors")


@pytest.fixture
def other_model(tmp_path) -> Path:
    """A second, different generator (random weights, z_dim 16) for switching models."""
    from tests.conftest import make_tiny_bundle
    return make_tiny_bundle(tmp_path / "other" / "other-tiny.safetensors", seed=3)


@pytest.fixture
def gui_env(tmp_path, monkeypatch, gui_model) -> Path:
    """Isolated folders: settings file, user models, and a 'shipped' folder holding a copy of gui_model."""
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    shutil.copy(gui_model, shipped / gui_model.name)
    monkeypatch.setenv("GAN_STUDIO_RESOURCES", str(shipped))
    monkeypatch.setenv("GAN_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GAN_STUDIO_SETTINGS", str(tmp_path / "settings.ini"))
    return tmp_path


def wait_loaded(qtbot, window, timeout: int = 30_000) -> None:
    qtbot.waitUntil(lambda: not window.loading and window.ctx.model is not None, timeout=timeout)


def wait_settled(qtbot, panel, timeout: int = 30_000) -> None:
    """Until the grid on screen is the newest one requested."""
    qtbot.waitUntil(panel.is_settled, timeout=timeout)


def open_in_sampling(window, qtbot, path, timeout: int = 60_000):
    """Open the model file `path` in the window; wait for it to load and the Sampling tab to settle; that panel."""
    window.open_path(path)
    qtbot.waitUntil(lambda: not window.loading and window.ctx.model.path == path.resolve(), timeout=timeout)
    panel = window.panel("sampling")
    wait_settled(qtbot, panel)
    return panel


@pytest.fixture
def window(qtbot, gui_env, gui_model):
    from gan_studio.gui.main_window import MainWindow
    from gan_studio.gui.settings import Settings
    w = MainWindow(settings=Settings(gui_env / "settings.ini"), device="cpu", model=str(gui_model))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    wait_loaded(qtbot, w)
    wait_settled(qtbot, w.panel("sampling"))
    yield w
    w.close()


# ---------------------------------------------------------------- leak check (every GUI test)
# Like napari's make_napari_viewer and pyvistaqt's check_gc: a test fails when a window, a worker thread or a
# VTK object it made outlives it. Mark a test `allow_leaks` only with a reason in its docstring.

def _is_vtk(obj) -> bool:
    try:
        if isinstance(obj, type):                       # instances only: classes come with imports
            return False
        return type(obj).__module__.startswith(("vtkmodules", "pyvista")) and hasattr(obj, "GetReferenceCount")
    except Exception:                                   # objects half torn down
        return False


def _vtk_objects() -> list:
    """Every live VTK / pyvista object (after a collection)."""
    import gc
    import sys
    import warnings
    if "vtkmodules" not in sys.modules:
        return []
    gc.collect()
    with warnings.catch_warnings():                     # touching deprecated objects (torch's) warns
        warnings.simplefilter("ignore")
        return [o for o in gc.get_objects() if _is_vtk(o)]


def _vtk_ids() -> set[int]:
    return {id(o) for o in _vtk_objects()}


def _windows(app) -> set:
    return {w for w in app.topLevelWidgets() if w.isWindow() and not w.isHidden()
            or type(w).__module__.startswith("gan_studio")}


def _py_threads() -> set:
    """Python threads, less the _DummyThread entries that Qt threads leave once they run Python code (those are
    checked through live_workers)."""
    import threading
    return {t for t in threading.enumerate() if not isinstance(t, threading._DummyThread)}


def _flush(app) -> None:
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent
    for _ in range(3):
        app.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture(autouse=True)
def leak_check(request, qapp):
    """After the test (and after qtbot closed its widgets): no new window, no running worker, no new VTK object."""
    import time

    from gan_studio.gui.workers import live_workers
    if request.node.get_closest_marker("allow_leaks"):
        yield
        return
    _flush(qapp)
    windows, threads, vtk = _windows(qapp), _py_threads(), _vtk_ids()
    running = set(live_workers())                       # a test fails for its own leaks only
    yield
    deadline = time.monotonic() + float(os.environ.get("GAN_STUDIO_LEAK_WAIT_S", "10"))
    while (set(live_workers()) - running or _py_threads() - threads) and time.monotonic() < deadline:
        _flush(qapp)
        time.sleep(0.02)
    _flush(qapp)
    problems = [f"window {type(w).__name__} {w.windowTitle()!r}" for w in _windows(qapp) - windows]
    problems += [f"worker thread {type(w).__name__} still running" for w in set(live_workers()) - running]
    problems += [f"thread {t.name!r} still alive" for t in _py_threads() - threads]
    problems += sorted({f"VTK object {type(o).__name__}" for o in _vtk_objects() if id(o) not in vtk})
    for w in _windows(qapp) - windows:                  # don't let one leak fail every later test
        w.close()
        w.deleteLater()
    _flush(qapp)
    assert not problems, "left behind by the test:\n  " + "\n  ".join(problems)
