"""The 3D panel's "looks like" label: the voxel classifier's top three guesses for the grid on screen, the same
as the engine's (guess_shape) for a seed, after a threshold change and for a test object's true shape; without
the classifier file a note in its place and no error box."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from gan_studio.engine.data.voxels import CLASSES
from gan_studio.engine.metrics.features import get_extractor
from gan_studio.engine.metrics.shapes3d import guess_shape
from tests.conftest import RESOURCES
from tests.gui import test_shapes3d_panel as panel_tests
from tests.gui.test_shapes3d_panel import TIMEOUT, _show

# the 3D panel tests' fixtures: the shipped voxel model (or a fresh one), and the main window on the 3D tab
voxel_model, engine_model, win3d = panel_tests.voxel_model, panel_tests.engine_model, panel_tests.win3d

CLASSIFIER = RESOURCES / "voxnet-modelnet10.safetensors"


@pytest.fixture(autouse=True)
def shipped_classifier(gui_env):
    """The shipped classifier in the test's 'shipped' folder (GAN_STUDIO_RESOURCES), loaded afresh."""
    if not CLASSIFIER.is_file():
        pytest.fail(f"the shipped voxel classifier {CLASSIFIER} is missing")
    shutil.copy(CLASSIFIER, gui_env / "shipped" / CLASSIFIER.name)
    get_extractor.cache_clear()
    yield gui_env / "shipped" / CLASSIFIER.name
    get_extractor.cache_clear()


def _shown_guess(qtbot, panel, grid: np.ndarray, threshold: float) -> list[tuple[str, float]]:
    """Wait until the label shows the engine's guess for `grid` at `threshold`; that guess."""
    want = guess_shape(grid, threshold)["top"]
    qtbot.waitUntil(lambda: panel.stage.guess.top == want, timeout=TIMEOUT)
    return want


def test_the_guess_for_a_seed_is_the_engines_and_follows_the_threshold(win3d, qtbot, engine_model):
    window, panel = win3d
    shape = _show(qtbot, panel, panel.show_seed, 3)
    guess = panel.stage.guess
    top = _shown_guess(qtbot, panel, shape.probs, panel.view.threshold)
    assert guess.isVisible() and len(top) == 3 and all(c in CLASSES for c, _ in top)
    assert top[0][1] >= top[1][1] >= top[2][1] and sum(p for _, p in top) <= 1 + 1e-6
    assert guess.text().startswith(f"{top[0][0].replace('_', ' ')} {top[0][1]:.0%}")
    assert "voxnet-modelnet10" in guess.toolTip() and "right on its test objects" in guess.toolTip()
    panel.stage.set_threshold(0.2)                                   # more voxels: the guess is asked again
    _shown_guess(qtbot, panel, shape.probs, 0.2)
    path = "/tmp/gan_studio_3d_guess.png"
    assert window.grab().save(path)                                  # looked at: the label under the input


def test_an_empty_shape_gets_no_guess_and_the_next_shape_gets_one(win3d, qtbot, engine_model, tmp_path):
    """An empty grid (here a .npy of zeros) once got a class from the classifier: it names one for nothing."""
    window, panel = win3d
    assert guess_shape(np.zeros((32, 32, 32), np.float32), 0.5)["top"] == []
    np.save(tmp_path / "nothing.npy", np.zeros((32, 32, 32), np.float32))
    _show(qtbot, panel, panel.open_image, tmp_path / "nothing.npy")
    qtbot.waitUntil(lambda: "Nothing to recognise" in panel.stage.guess.label.text(), timeout=TIMEOUT)
    assert panel.stage.guess.top == [] and panel.stage.guess.text() == "" and panel.stage.guess.isVisible()
    shape = _show(qtbot, panel, panel.show_seed, 3)
    assert len(_shown_guess(qtbot, panel, shape.probs, panel.view.threshold)) == 3


def test_the_guess_for_a_test_objects_true_shape(win3d, qtbot):
    window, panel = win3d
    if panel.data_dir is None:
        pytest.skip("ModelNet10 32³ is not on this machine (../shared/data/modelnet10_vox32)")
    qtbot.waitUntil(lambda: panel.tests is not None, timeout=TIMEOUT)
    shape = _show(qtbot, panel, panel.show_test_object, 7)
    _shown_guess(qtbot, panel, shape.probs, panel.view.threshold)
    panel.stage.truth_check.setChecked(True)
    top = _shown_guess(qtbot, panel, shape.truth.astype(np.float32), panel.view.threshold)
    assert top[0][0] == shape.extra["class"]                         # the classifier knows the real chair / bed


def test_without_the_classifier_a_note_takes_its_place(win3d, qtbot, shipped_classifier):
    window, panel = win3d
    shipped_classifier.unlink()
    get_extractor.cache_clear()
    errors = []
    panel.ctx.error.connect(errors.append)
    _show(qtbot, panel, panel.show_seed, 5)
    qtbot.waitUntil(lambda: "No classifier's guess" in panel.stage.guess.label.text(), timeout=TIMEOUT)
    assert panel.stage.guess.top == [] and "train-voxel-classifier" in panel.stage.guess.label.text()
    assert errors == []
