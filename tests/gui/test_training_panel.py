"""The training panel: a run in the background with live curves and samples, Pause that really holds the worker,
Resume, Stop that saves a model listed at once (and opens in the sampling tab), resume / rename of an existing
output, closing the window mid-run, divergence and bad datasets as messages, periodic FID, decimated curves."""
from __future__ import annotations

import math
import shutil
import threading
import time

import pytest
from PySide6.QtCore import Qt

from gan_studio.engine.bundle import read_metadata
from gan_studio.engine.registry import ARCHITECTURES, LOSSES, REGULARIZERS
from gan_studio.engine.training.families import losses_for
from gan_studio.gui.widgets.loss_curves import MAX_POINTS, Decimator, LossCurves
from gan_studio.gui.workers import PauseGate
from tests.gui.conftest import RESOURCES, wait_loaded

T = 120_000          # generous: the test machine may be busy


def _setup(qtbot, panel, data, steps=100_000, sample_every=2, checkpoint_every=3, fid_every=0):
    """A tiny, fast run: dcgan width 8, z 16, batch 16, the non-saturating loss (one critic step)."""
    f = panel.form
    f.set_data_path(str(data))
    qtbot.waitUntil(lambda: panel.data_info is not None, timeout=T)
    f.arch_box.setCurrentText("dcgan")
    f._size_boxes["width"].setValue(8)
    f._size_boxes["z_dim"].setValue(16)
    f.loss_box.setCurrentText("ns")
    for box, value in ((f.batch_box, 16), (f.steps_box, steps), (f.sample_box, sample_every),
                       (f.ckpt_box, checkpoint_every), (f.fid_box, fid_every)):
        box.setValue(value)


@pytest.fixture
def panel(window):
    return window.select_panel("training")


def test_form_lists_the_registries_and_prefills_loss_defaults(panel):
    f = panel.form
    assert [f.loss_box.itemText(i) for i in range(f.loss_box.count())] == losses_for("dcgan")   # no family's own
    assert [f.reg_box.itemText(i) for i in range(f.reg_box.count())] == REGULARIZERS.names()
    archs = [f.arch_box.itemText(i) for i in range(f.arch_box.count())]
    assert archs == [n for n in ARCHITECTURES.names() if ARCHITECTURES.get(n).kind == "image-generator"]
    for name in losses_for("dcgan"):
        f.loss_box.setCurrentText(name)
        spec = f.spec()
        assert f.reg_box.currentText() == LOSSES.get(name).reg
        assert f.lr_box.value() == pytest.approx(spec.lr) and f.n_critic_box.value() == spec.n_critic
        assert f.loss_box.toolTip() == LOSSES.get(name).description
        cfg = f.config("cpu")                       # untouched defaults are left to the engine
        assert (cfg.loss, cfg.lr, cfg.n_critic, cfg.reg, cfg.reg_weight) == (name, None, None, None, None)
    f.loss_box.setCurrentText("wgan-gp")
    f.lr_box.setValue(3e-4)
    f.reg_box.setCurrentText("r1")
    f.reg_weight.setValue(2.5)
    cfg = f.config("cpu")
    assert (cfg.reg, cfg.reg_weight) == ("r1", 2.5)
    assert "--reg r1 --reg-weight 2.5" in panel.cli.text()
    assert f.arch_config()["width"] == 32 and f.arch_config()["z_dim"] == 64       # dcgan: a CPU-sized default


def test_samples_show_at_step_0_and_the_command_line_follows_the_dataset(panel, window, qtbot, tiny_dataset):
    """Issue 21, findings 3 and 4: the fixed-seed grid appears before the first "Samples every" step, and the
    command line and the prompt follow a dataset chosen with Browse (not only a typed one)."""
    assert panel.status.text().startswith("Choose a dataset")
    _setup(qtbot, panel, tiny_dataset, sample_every=10**6)
    assert f"--data {tiny_dataset}" in panel.cli.text() and "--data ''" not in panel.cli.text()
    assert panel.status.text() == f"Press Start to train on {tiny_dataset.name}"
    assert panel.form.out_path() in panel.cli.text()
    qtbot.mouseClick(panel.start_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.samples_shown >= 1, timeout=T)
    assert panel.grid.image_count() == 64
    with qtbot.waitSignal(panel.finished, timeout=T):
        qtbot.mouseClick(panel.stop_btn, Qt.MouseButton.LeftButton)


def test_time_left_reads_as_a_duration_not_a_clock():
    from gan_studio.gui.panels.training import time_left
    assert time_left(1291) == "about 21 min 31 s left"
    assert time_left(42) == "about 42 s left" and time_left(3 * 3600 + 5 * 60) == "about 3 h 05 min left"


def test_start_pause_resume_stop_saves_a_listed_model(panel, window, qtbot, tiny_dataset):
    _setup(qtbot, panel, tiny_dataset)
    out = panel.form.out_path()
    assert out.endswith(".safetensors") and "discs-dcgan-ns" in out
    qtbot.mouseClick(panel.start_btn, Qt.MouseButton.LeftButton)
    assert panel._worker is not None and not panel.start_btn.isEnabled()
    # live: the loss curves get points and the fixed-seed grid fills
    qtbot.waitUntil(lambda: panel.curves.point_count() >= 3 and panel.samples_shown >= 1, timeout=T)
    assert set(panel.curves.series) >= {"d_loss", "g_loss"}
    assert panel.grid.image_count() == 64
    assert "step" in panel.progress.format() and "left" in panel.progress.format()
    # Pause holds the worker between two steps: the step count stands still
    qtbot.mouseClick(panel.pause_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.paused, timeout=T)
    held = panel.step
    qtbot.wait(1500)
    assert panel.step == held and panel.paused and panel.pause_btn.text() == "Resume"
    assert "paused" in panel.progress.format()
    qtbot.mouseClick(panel.pause_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.step >= held + 3, timeout=T)
    assert not panel.paused
    # Stop: the generator closes, the checkpoint is written, the model is listed at once
    with qtbot.waitSignal(panel.finished, timeout=T) as sig:
        qtbot.mouseClick(panel.stop_btn, Qt.MouseButton.LeftButton)
    assert sig.args == ["stopped"]
    assert "left" not in panel.progress.format()               # no time left shown once it has stopped
    assert "Training stopped" in window.done_label.text() and "show in folder" in window.done_label.text()
    path = panel.job.out
    assert path.is_file() and read_metadata(path)["training"]["step"] >= held + 3
    assert str(path.resolve()) in window.model_list.paths()
    assert panel.start_btn.isEnabled() and not panel.stop_btn.isEnabled()
    # ... and opens in the sampling tab
    qtbot.mouseClick(panel.open_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.ctx.model is not None and window.ctx.model.path == path.resolve(), timeout=T)
    assert window.current_panel() is window.panel("sampling")


def test_existing_output_resumes_or_takes_a_new_name(panel, window, qtbot, tiny_dataset, monkeypatch):
    _setup(qtbot, panel, tiny_dataset, steps=4)
    with qtbot.waitSignal(panel.finished, timeout=T) as sig:
        assert panel.start()
    assert sig.args == ["done"]
    path = panel.job.out
    assert read_metadata(path)["training"]["step"] == 4 and str(path.resolve()) in window.model_list.paths()
    panel.form.steps_box.setValue(6)
    monkeypatch.setattr(panel, "ask_existing", lambda p: "resume")
    with qtbot.waitSignal(panel.finished, timeout=T):
        assert panel.start()
    assert panel.job.out == path and read_metadata(path)["training"]["step"] == 6
    monkeypatch.setattr(panel, "ask_existing", lambda p: "rename")
    with qtbot.waitSignal(panel.finished, timeout=T):
        assert panel.start()
    assert panel.job.out != path and panel.job.out.stem == path.stem + "-2"
    assert str(panel.job.out.resolve()) in window.model_list.paths()
    monkeypatch.setattr(panel, "ask_existing", lambda p: "cancel")
    assert not panel.start()


def test_closing_the_window_while_paused_saves_the_checkpoint(qtbot, gui_env, gui_model, tiny_dataset):
    from gan_studio.gui.main_window import MainWindow
    from gan_studio.gui.settings import Settings
    w = MainWindow(settings=Settings(gui_env / "settings.ini"), device="cpu", model=str(gui_model))
    qtbot.addWidget(w)
    w.show()
    wait_loaded(qtbot, w)
    panel = w.select_panel("training")
    _setup(qtbot, panel, tiny_dataset, checkpoint_every=1000)
    assert panel.start()
    qtbot.waitUntil(lambda: panel.step >= 3, timeout=T)
    panel.toggle_pause()
    qtbot.waitUntil(lambda: panel.paused, timeout=T)
    path, step = panel.job.out, panel.step
    assert not path.exists()                          # no checkpoint yet (every 1000 steps)
    w.close()                                         # stops the paused worker: the generator saves
    assert path.is_file() and read_metadata(path)["training"]["step"] == step


def test_divergence_is_a_message_and_the_app_lives(panel, window, qtbot, tiny_dataset, monkeypatch):
    from gan_studio.engine.training.recipes import RECIPES
    recipe = RECIPES.get("image-generator")
    real_step = recipe.train_step
    calls = {"n": 0}

    def step(self, batches):
        calls["n"] += 1
        losses = real_step(self, batches)
        return losses if calls["n"] <= 4 else {k: math.nan for k in losses}

    monkeypatch.setattr(recipe, "train_step", step)
    _setup(qtbot, panel, tiny_dataset, checkpoint_every=2)
    with qtbot.waitSignal(panel.finished, timeout=T) as sig:
        assert panel.start()
    assert sig.args == ["failed"]
    msg = window.banner.text()
    assert window.banner.kind() == "error" and "diverged" in msg and "Traceback" not in msg
    assert str(panel.job.out.resolve()) in window.model_list.paths()       # the last good checkpoint
    assert panel.start_btn.isEnabled() and panel._worker is None


def test_bad_datasets_are_messages(panel, window, qtbot, tmp_path):
    panel.form.set_data_path(str(tmp_path / "nowhere"))
    assert not panel.start()
    assert window.banner.kind() == "error" and "does not exist" in window.banner.text()
    qtbot.waitUntil(lambda: "does not exist" in panel.form.data_info.text(), timeout=T)
    window.banner.dismiss()
    notes = tmp_path / "notes.txt"
    notes.write_text("not images")
    panel.form.set_data_path(str(notes))
    qtbot.waitUntil(lambda: "not a dataset" in panel.form.data_info.text(), timeout=T)
    with qtbot.waitSignal(panel.finished, timeout=T) as sig:
        assert panel.start()
    assert sig.args == ["failed"] and "not a dataset" in window.banner.text()
    assert panel.start_btn.isEnabled()


def test_periodic_fid_is_plotted(panel, qtbot, tiny_dataset, gui_env):
    if not (RESOURCES / "lenet-mnist.safetensors").is_file():
        pytest.skip("the lenet-mnist feature network is not shipped")
    shutil.copy(RESOURCES / "lenet-mnist.safetensors", gui_env / "shipped")
    _setup(qtbot, panel, tiny_dataset, steps=6, checkpoint_every=3, fid_every=3)
    panel.check_data(str(tiny_dataset))                     # re-check now that the features exist
    qtbot.waitUntil(lambda: panel.data_info is not None and panel.form.fid_box.isEnabled(), timeout=T)
    panel.form.fid_n_box.setValue(100)
    with qtbot.waitSignals([panel.finished, panel.fid_measured], timeout=T):
        assert panel.start()
    qtbot.waitUntil(lambda: len(panel.fid.results) >= 2 and not panel.fid.busy(), timeout=T)
    steps = [s for s, _ in panel.fid.results]
    assert steps == [3, 6] and all(v >= 0 and math.isfinite(v) for _, v in panel.fid.results)
    panel.curves.flush()
    assert panel.curves.fid_count() == 2


def test_fid_is_off_for_data_lenet_cannot_judge(panel, qtbot, tmp_path):
    import numpy as np
    np.savez(tmp_path / "rgb.npz", images=np.zeros((20, 16, 16, 3), np.uint8))
    panel.form.set_data_path(str(tmp_path / "rgb.npz"))
    qtbot.waitUntil(lambda: panel.data_info is not None, timeout=T)
    assert not panel.form.fid_box.isEnabled() and panel.fid_every() == 0
    assert "FID" in panel.form.fid_box.toolTip()


def test_curves_are_decimated(qtbot):
    d = Decimator(100)
    for i in range(10_000):
        d.add(i, float(i % 2))                             # alternating 0, 1: the bins average to 0.5
    xs, ys = d.data()
    assert len(xs) <= 100 and xs == sorted(xs) and all(y == pytest.approx(0.5) for y in ys[:-1])
    curves = LossCurves()
    qtbot.addWidget(curves)
    for i in range(20_000):
        curves.add(i, {"d_loss": 1.0, "g_loss": -1.0})
    curves.flush()
    assert 0 < curves.point_count() <= MAX_POINTS and curves.series["d_loss"].seen == 20_000


def test_pause_gate_clock_stands_still_while_held():
    gate = PauseGate()
    gate.pause()
    t = threading.Thread(target=gate.wait)
    t.start()
    while gate._since is None:                               # until the thread holds
        time.sleep(0.001)
    a = gate.clock()
    time.sleep(0.05)
    assert gate.clock() == a                                 # paused time is not counted
    gate.resume()
    t.join(5)
    assert not t.is_alive() and gate.clock() > a


def test_training_time_comes_from_the_given_clock(tiny_dataset, tmp_path):
    """The panel passes its worker's pause-aware clock to the engine: elapsed, ETA and the recorded seconds use
    it (a clock that stands still, as during a pause, adds nothing)."""
    from gan_studio.engine.training.loop import TrainConfig, train
    cfg = TrainConfig(data=str(tiny_dataset), arch_config={"width": 8, "z_dim": 16}, loss="ns", steps=3, batch=16,
                      checkpoint_every=3, sample_every=3, device="cpu")
    out = tmp_path / "clocked.safetensors"
    progress = [p for p in train(cfg, out, command="test", clock=lambda: 42.0) if p.step]
    assert [p.elapsed for p in progress] == [0.0, 0.0, 0.0] and progress[-1].eta == 0.0
    assert read_metadata(out)["training"]["seconds"] == 0.0


def test_the_critic_gap_is_called_a_wasserstein_estimate_only_for_wgan_losses(qtbot):
    curves = LossCurves()
    qtbot.addWidget(curves)
    assert curves.label("wasserstein") == "Wasserstein estimate"
    curves.wasserstein_loss = False
    assert curves.label("wasserstein") == "critic gap (real − fake)"
    assert curves.label("d_loss") == "critic loss"
