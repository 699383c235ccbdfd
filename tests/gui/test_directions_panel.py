"""The directions panel: discovery in the background (progress, curves, stop within a step, resume), sliders that
edit the selected sample exactly like the engine, the chart, names/stars/hidden through files, wrong files."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.latent.directions import apply_shifts, discover, load_directions, save_directions
from gan_studio.engine.latent.sampling import synthesize
from gan_studio.engine.latent.state import Latent
from gan_studio.engine.metrics.rca import RCABudget
from tests.conftest import make_tiny_bundle
from tests.gui.conftest import wait_loaded, wait_settled

T = 30_000


@pytest.fixture
def model_path(tmp_path):
    return make_tiny_bundle(tmp_path / "tiny.safetensors")


@pytest.fixture
def panel(qtbot, tmp_path, model_path):
    from gan_studio.gui.panels.directions import DirectionsPanel
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.state import AppContext, LoadedModel
    ctx = AppContext(Settings(tmp_path / "settings.ini"))
    p = DirectionsPanel(ctx)
    qtbot.addWidget(p)
    p.resize(1100, 800)
    p.show()
    ctx.set_model(LoadedModel(load_bundle(model_path), model_path))
    ctx.select_latent(Latent.from_seed(5, p._G.z_dim))        # what the sampling view would publish
    p.rca_budget = RCABudget(steps=10, batch=8, eval_pairs=64, train_pairs=64)     # the RCA at the end: tiny
    yield p
    ctx.shutdown()


def _discover(qtbot, panel, method: str, k: int = 4):
    panel.method_box.setCurrentText(method)
    panel.k_box.setValue(k)
    with qtbot.waitSignal(panel.discovery_finished, timeout=T) as sig:
        qtbot.mouseClick(panel.start_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(panel.editor.is_settled, timeout=T)
    return sig.args[0]


def _stop_after(qtbot, panel, n: int) -> int:
    """Let discovery run to at least n steps, press Stop; returns the trainer's step when Stop was pressed."""
    qtbot.waitUntil(lambda: len(panel.history) >= n, timeout=T)
    at_stop = panel.job.step
    with qtbot.waitSignal(panel.discovery_finished, timeout=T):
        qtbot.mouseClick(panel.stop_btn, Qt.MouseButton.LeftButton)
    return at_stop


def _expected(panel, shifts):
    G, lat = panel._G, panel.editor.base
    kind, t = apply_shifts(G, panel.ds, z=lat.z, shifts=shifts)
    ws = G.mapping(t) if kind == "z" else t
    return synthesize(G, ws)[0]


def test_voynov_shows_progress_and_curves_and_stops_within_one_step(panel, qtbot):
    panel.method_box.setCurrentText("voynov")
    panel.k_box.setValue(4)
    panel.steps_box.setValue(10_000)
    assert panel.curves.isVisible() and panel.start_btn.text() == "Start"
    qtbot.mouseClick(panel.start_btn, Qt.MouseButton.LeftButton)
    assert not panel.start_btn.isEnabled() and panel.stop_btn.isEnabled()
    qtbot.waitUntil(lambda: len(panel.history) >= 3 and panel.curves.point_count() >= 3, timeout=T)
    qtbot.waitUntil(lambda: "chance 0.25" in panel.bar.progress_label.text(), timeout=T)
    assert "0 of 2 drops" in panel.bar.progress_label.text()      # preset fast: it stops when converged
    assert panel.bar.progress.maximum() == 10_000 and panel.bar.progress.value() >= 1
    assert [s for s, _, _ in panel.history] == list(range(1, len(panel.history) + 1))
    at_stop = _stop_after(qtbot, panel, 4)
    stopped_at = panel.job.step
    assert at_stop <= stopped_at <= at_stop + 1, "Stop took more than one step"
    qtbot.wait(400)
    assert panel.job.step == stopped_at and panel.history[-1][0] == stopped_at, "steps went on after Stop"
    ds = panel.ds
    assert ds is not None and ds.method == "voynov" and ds.k == 4 and ds.steps == stopped_at
    assert len(panel.editor.list.rows) == 4 and panel.start_btn.text() == "Resume"
    assert panel.start_btn.isEnabled() and not panel.stop_btn.isEnabled()


def test_a_run_that_ends_by_itself_is_labelled_and_its_rca_measured(panel, qtbot, tmp_path):
    panel.method_box.setCurrentText("voynov")
    panel.k_box.setValue(4)
    panel.steps_box.setValue(5)                                  # the step limit comes before any plateau
    assert panel.rca_box.isChecked()
    with qtbot.waitSignal(panel.rca_measured, timeout=T) as sig:
        qtbot.mouseClick(panel.start_btn, Qt.MouseButton.LeftButton)
    ds = panel.ds
    assert ds.extra["convergence"]["status"] == "not converged" and ds.rca == sig.args[0]
    text = panel.bar.progress_label.text()
    assert text.startswith("not converged after 5 steps") and "RCA" in text and "chance 0.25" in text
    assert "not converged" in panel.set_info.text() and "RCA" in panel.set_info.text()
    out = panel.save_to(tmp_path / "d.safetensors")
    again = load_directions(out, panel._G)
    assert again.rca == ds.rca and again.extra["convergence"]["status"] == "not converged"
    assert panel.start_btn.text() == "Start"                   # the step limit is reached: nothing to resume
    panel.steps_box.setValue(8)
    assert panel.start_btn.text() == "Resume"
    panel.rca_box.setChecked(False)
    with qtbot.waitSignal(panel.discovery_finished, timeout=T):
        panel.start()
    qtbot.wait(300)
    assert panel._worker is None and panel.ds.steps == 8          # no RCA run followed


def test_start_again_resumes_the_same_run(panel, qtbot):
    panel.method_box.setCurrentText("voynov")
    panel.k_box.setValue(4)
    panel.steps_box.setValue(10_000)
    panel.start()
    first = _stop_after(qtbot, panel, 3)
    n = panel.job.step
    job, trainer = panel.job, panel.job.trainer
    panel.editor.list.rows[0].name_edit.setText("kept")
    panel.editor.list.rows[0].name_edit.editingFinished.emit()
    qtbot.mouseClick(panel.start_btn, Qt.MouseButton.LeftButton)       # "Resume"
    qtbot.waitUntil(lambda: len(panel.history) >= n + 2, timeout=T)
    _stop_after(qtbot, panel, n + 2)
    assert panel.job is job and job.trainer is trainer and first <= n
    assert [s for s, _, _ in panel.history] == list(range(1, len(panel.history) + 1)), "the step count restarted"
    assert panel.ds.steps == job.step > n and panel.ds.names[0] == "kept"
    panel.k_box.setValue(3)                                             # another K: a fresh run
    assert panel.start_btn.text() == "Start"


def test_sefa_gives_sliders_that_edit_the_sample_exactly(panel, qtbot):
    ds = _discover(qtbot, panel, "sefa")
    assert ds.method == "sefa" and len(panel.editor.list.rows) == 4 and not panel.curves.isVisible()
    ed = panel.editor
    assert (ed.original_image - _expected(panel, {})).abs().max() <= 1e-5
    assert (ed.edited_image - ed.original_image).abs().max() == 0
    assert panel.range_box.value() == pytest.approx(6 * ds.shift_scale)
    ed.list.set_shift(1, 2.5)
    qtbot.waitUntil(ed.is_settled, timeout=T)
    assert (ed.edited_image - ed.original_image).abs().max() > 1e-2, "the slider did not change the image"
    assert (ed.edited_image - _expected(panel, {1: 2.5})).abs().max() <= 1e-5
    ed.list.set_shift(3, -4.0)
    qtbot.waitUntil(ed.is_settled, timeout=T)
    assert (ed.edited_image - _expected(panel, {1: 2.5, 3: -4.0})).abs().max() <= 1e-5
    qtbot.mouseClick(ed.list.rows[1].reset_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(ed.is_settled, timeout=T)
    assert ed.list.shifts() == {3: -4.0}
    qtbot.mouseClick(ed.edit.reset_all_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(ed.is_settled, timeout=T)
    assert ed.list.shifts() == {} and (ed.edited_image - ed.original_image).abs().max() == 0


def test_edits_follow_the_selected_sample_and_go_back_to_the_sample_view(panel, qtbot):
    _discover(qtbot, panel, "random")
    ed, G = panel.editor, panel._G
    panel.ctx.select_latent(Latent.from_seed(11, G.z_dim))
    qtbot.waitUntil(ed.is_settled, timeout=T)
    assert ed.base.seed == 11 and ed.edit.base_title.text() == "seed 11"
    assert (ed.original_image - _expected(panel, {})).abs().max() <= 1e-5
    ed.list.set_shift(0, 3.0)
    qtbot.waitUntil(ed.is_settled, timeout=T)
    with qtbot.waitSignal(panel.ctx.latent_requested, timeout=T) as sig:
        qtbot.mouseClick(ed.edit.send_btn, Qt.MouseButton.LeftButton)
    sent = sig.args[0]
    assert sent.source == "direction" and sent.info == {"shifts": {0: 3.0}}
    assert (synthesize(G, G.mapping(sent.z))[0] - ed.edited_image).abs().max() <= 1e-5
    panel.ctx.select_latent(sent)                       # the sampling view now shows our edit
    assert ed.base.seed == 11, "our own edit became the new base (shifts would apply twice)"


def test_chart_is_k_rows_by_s_columns_of_shifted_images(panel, qtbot):
    ds = _discover(qtbot, panel, "sefa")
    ed = panel.editor
    ed.setCurrentWidget(ed.chart)
    qtbot.waitUntil(ed.chart_settled, timeout=T)
    chart, s = ed.chart.chart, ed.chart.steps_box.value()
    assert (chart.rows, chart.cols) == (4, 9) == (4, s) and ed.chart_images.shape[0] == 36
    assert chart.image(3, 8) is not None and chart.row_label(2) == "2 · direction 2"
    lim = panel.range_box.value()
    assert (ed.chart_images[2 * 9 + 4] - ed.original_image).abs().max() <= 1e-5      # the middle column: ε = 0
    assert (ed.chart_images[2 * 9 + 8] - _expected(panel, {2: lim})).abs().max() <= 1e-5
    assert (ed.chart_images[0] - _expected(panel, {0: -lim})).abs().max() <= 1e-5
    ed.list.rows[1].hide_btn.click()
    ed.chart.steps_box.setValue(5)
    qtbot.waitUntil(lambda: ed.chart_settled() and chart.cols == 5, timeout=T)
    assert (chart.rows, chart.cols) == (3, 5) and ds.hidden == [1]
    assert chart.row_label(1) == "2 · direction 2"


def test_names_stars_and_hidden_persist_through_save_and_load(panel, qtbot, tmp_path):
    _discover(qtbot, panel, "random")
    rows = panel.editor.list.rows
    rows[2].name_edit.setFocus()
    rows[2].name_edit.selectAll()
    qtbot.keyClicks(rows[2].name_edit, "stroke width")
    qtbot.keyClick(rows[2].name_edit, Qt.Key.Key_Return)
    qtbot.mouseClick(rows[1].star_btn, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(rows[3].hide_btn, Qt.MouseButton.LeftButton)
    assert not rows[3].isVisible() and rows[2].isVisible()
    panel.editor.edit.show_hidden.setChecked(True)
    assert rows[3].isVisible()
    panel.editor.edit.starred_first.setChecked(True)
    assert panel.editor.list.order()[0] == 1
    out = panel.save_to(tmp_path / "dirs.safetensors")
    on_disk = load_directions(out, panel._G)
    assert on_disk.names[2] == "stroke width" and on_disk.starred == [1] and on_disk.hidden == [3]
    _discover(qtbot, panel, "coordinate")                       # something else on screen
    assert panel.ds.names[2] == "direction 2"
    ds = panel.load_from(out)
    assert ds is panel.ds and ds.method == "random" and panel.file == out
    rows = panel.editor.list.rows
    assert rows[2].name_edit.text() == "stroke width" and rows[1].is_starred() and rows[3].is_hidden()
    assert not rows[0].is_starred() and "random" in panel.set_label.text()


def test_measure_rca_runs_in_the_background_and_stores_it(panel, qtbot):
    ds = _discover(qtbot, panel, "random")
    panel.rca_budget = RCABudget(steps=10, batch=8, eval_pairs=64, train_pairs=64)
    with qtbot.waitSignal(panel.rca_measured, timeout=T) as sig:
        assert panel.measure_rca()
        assert not panel.rca_btn.isEnabled() and panel.stop_btn.isEnabled()
    assert ds.rca == sig.args[0] and 0.0 <= ds.rca <= 1.0 and "RCA" in panel.set_info.text()


def test_in_the_app_discovery_leaves_sampling_usable_and_wrong_files_are_one_error(
        qtbot, tmp_path, monkeypatch, model_path):
    from gan_studio.gui.main_window import MainWindow
    from gan_studio.gui.settings import Settings
    monkeypatch.setenv("GAN_STUDIO_RESOURCES", str(tmp_path / "shipped"))
    monkeypatch.setenv("GAN_STUDIO_HOME", str(tmp_path / "home"))
    w = MainWindow(settings=Settings(tmp_path / "app.ini"), device="cpu", model=str(model_path))
    qtbot.addWidget(w)
    w.show()
    wait_loaded(qtbot, w)
    sampling = w.panel("sampling")
    wait_settled(qtbot, sampling)
    panel = w.select_panel("directions")
    assert panel.editor.base is not None and panel.editor.base.seed == sampling.seeds()[0]
    panel.method_box.setCurrentText("voynov")
    panel.k_box.setValue(4)
    panel.steps_box.setValue(10_000)
    panel.start()
    qtbot.waitUntil(lambda: len(panel.history) >= 1, timeout=T)
    sampling.set_first_seed(300)                                # the sampling panel renders meanwhile
    wait_settled(qtbot, sampling)
    assert sampling.seeds()[0] == 300 and panel._worker is not None
    _stop_after(qtbot, panel, 2)
    before = panel.ds
    other = make_tiny_bundle(tmp_path / "other.safetensors", seed=3)
    other_dirs = next(p for p in discover(load_bundle(other).generator(), "random", 4) if "result" in p)["result"]
    wrong = save_directions(tmp_path / "other-dirs.safetensors", other_dirs)
    assert panel.load_from(wrong) is None
    assert w.banner.kind() == "error" and "another generator" in w.banner.text()
    assert panel.ds is before and panel.file is None
    assert panel.load_from(model_path) is None and "not directions" in w.banner.text()
    sampling.set_first_seed(400)                                # the app lives on
    wait_settled(qtbot, sampling)
    w.close()


def test_the_apps_rca_is_the_clis_default_protocol(qtbot, tmp_path):
    """Start's 'RCA at the end' and Measure RCA score with `gan-studio rca`'s default protocol, so the app and the
    CLI report the same figure for one file (the app once used the slower-to-converge width-4 budget)."""
    import argparse

    from gan_studio.cli.commands_walk import _rca_args
    from gan_studio.engine.metrics.rca import BUDGETS
    from gan_studio.gui.panels.directions import DirectionsPanel
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.state import AppContext
    ctx = AppContext(Settings(tmp_path / "settings.ini"))
    p = DirectionsPanel(ctx)
    qtbot.addWidget(p)
    sp = argparse.ArgumentParser()
    _rca_args(sp)
    cli_default = sp.parse_args(["--model", "m", "--directions", "d"]).protocol
    assert p.rca_budget == BUDGETS[cli_default] and p.rca_budget.width == 8 and p.rca_budget.train_pairs > 65_536
    ctx.shutdown()
