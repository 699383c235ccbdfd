"""The directions panel on a style generator: a layer-range chooser per slider row (not on the DCGAN) that the
edit, the chart and the saved file follow; named presets saved, applied in one click, exported and imported."""
from __future__ import annotations

import json

import pytest
import torch
from PySide6.QtCore import Qt

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.latent.directions import apply_shifts, discover, load_directions, save_directions
from gan_studio.engine.latent.sampling import synthesize
from gan_studio.engine.latent.state import Latent
from tests.conftest import make_tiny_bundle
from tests.engine.test_stylegan import make_tiny_style_bundle
from tests.gui.test_directions_panel import _discover

T = 30_000


def _panel(qtbot, tmp_path, model_path):
    from gan_studio.gui.panels.directions import DirectionsPanel
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.state import AppContext, LoadedModel
    ctx = AppContext(Settings(tmp_path / "settings.ini"))
    p = DirectionsPanel(ctx)
    qtbot.addWidget(p)
    p.resize(1200, 800)
    p.show()
    ctx.set_model(LoadedModel(load_bundle(model_path), model_path))
    ctx.select_latent(Latent.from_seed(5, p._G.z_dim))
    return p, ctx


@pytest.fixture
def panel(qtbot, tmp_path):
    p, ctx = _panel(qtbot, tmp_path, make_tiny_style_bundle(tmp_path / "style.safetensors"))
    yield p
    ctx.shutdown()


def _want(panel, shifts, layers=None):
    G = panel._G
    _, ws = apply_shifts(G, panel.ds, z=panel.editor.base.z, shifts=shifts, layers=layers)
    return synthesize(G, ws)[0]


def _settle(qtbot, panel):
    qtbot.waitUntil(panel.editor.is_settled, timeout=T)


def test_range_choosers_only_for_a_style_model(panel, qtbot, tmp_path):
    _discover(qtbot, panel, "sefa")
    rows = panel.editor.list.rows
    assert panel.ds.space == "w" and all(r.range_box is not None and r.range_box.isVisible() for r in rows)
    box = rows[0].range_box
    assert box.value() == (0, 8) and box.preset() == "all"
    dc, ctx = _panel(qtbot, tmp_path / "dc", make_tiny_bundle(tmp_path / "dc.safetensors"))
    try:
        _discover(qtbot, dc, "sefa")
        assert dc.ds.space == "z" and len(dc.editor.list.rows) == 4
        assert all(r.range_box is None for r in dc.editor.list.rows)
    finally:
        ctx.shutdown()


def test_changing_a_range_rerenders_the_edit_and_the_chart(panel, qtbot, tmp_path):
    _discover(qtbot, panel, "sefa")
    ed = panel.editor
    panel.save_to(tmp_path / "d.safetensors")                           # the command-line line names the file
    ed.list.set_shift(1, 3.0)
    _settle(qtbot, panel)
    every = ed.edited_image.clone()
    assert (every - _want(panel, {1: 3.0})).abs().max() <= 1e-5
    box = ed.list.rows[1].range_box
    box.preset_box.setCurrentText("fine")
    box.preset_box.activated.emit(box.preset_box.currentIndex())        # what a user's choice emits
    _settle(qtbot, panel)
    assert panel.ds.layers == {1: (5, 8)} and box.value() == (5, 8)
    fine = ed.edited_image.clone()
    assert (fine - _want(panel, {1: 3.0}, {1: (5, 8)})).abs().max() <= 1e-5
    assert (fine - every).abs().max() > 1e-3, "the range did not change the image"
    box.end_box.setValue(5)                                             # custom: ws 5 only
    _settle(qtbot, panel)
    assert panel.ds.layers == {1: (5, 6)} and box.preset() == "custom"
    assert (ed.edited_image - _want(panel, {1: 3.0}, {1: (5, 6)})).abs().max() <= 1e-5
    assert "--shift 1:3@5 " in ed.edit.cli_label.text()
    ed.setCurrentWidget(ed.chart)
    qtbot.waitUntil(ed.chart_settled, timeout=T)
    lim, s = panel.range_box.value(), ed.chart.steps_box.value()
    assert (ed.chart_images[1 * s + s - 1] - _want(panel, {1: lim}, {1: (5, 6)})).abs().max() <= 1e-5
    sent = ed.send_to_sample_view()
    changed = [i for i in range(8) if (sent.ws[0, i] - ed.base.to_ws(panel._G)[0, i]).abs().max() > 0]
    assert changed == [5] and sent.info["layers"] == {1: "5"}


def test_ranges_and_presets_are_saved_with_the_directions(panel, qtbot, tmp_path):
    _discover(qtbot, panel, "sefa")
    rows = panel.editor.list.rows
    rows[2].range_box.set_preset("coarse")
    panel.editor.list.set_shift(2, 2.0)
    assert panel.editor.presets.save_preset("chunky") is not None
    out = panel.save_to(tmp_path / "d.safetensors")
    disk = load_directions(out, panel._G)
    assert disk.layers == {2: (0, 3)} and [p.name for p in disk.presets] == ["chunky"]
    assert disk.presets[0].shifts == {2: 2.0} and disk.presets[0].layers == {2: (0, 3)}
    _discover(qtbot, panel, "random")
    assert panel.ds.layers == {} and panel.editor.list.rows[2].range_box.preset() == "all"
    panel.load_from(out)
    assert panel.editor.list.rows[2].range_box.value() == (0, 3)
    assert panel.editor.presets.names() == ["chunky"] and "1 preset" in panel.set_info.text()


def test_save_a_preset_then_apply_it_restores_the_sliders(panel, qtbot):
    _discover(qtbot, panel, "sefa")
    ed, bar = panel.editor, panel.editor.presets
    assert not bar.combo.isEnabled() and bar.save_btn.isEnabled()
    ed.list.rows[3].star_btn.click()
    ed.list.rows[1].range_box.set_preset("middle")
    ed.list.rows[1].name_edit.setText("thickness")
    ed.list.rows[1].name_edit.editingFinished.emit()
    ed.list.set_shift(1, 2.5)
    ed.list.set_shift(0, -1.0)
    preset = bar.save_preset("bold")
    assert preset.shifts == {0: -1.0, 1: 2.5, 3: 0.0} and preset.layers == {1: (3, 5)} and preset.starred == [3]
    _settle(qtbot, panel)
    saved_image = ed.edited_image.clone()
    qtbot.mouseClick(ed.edit.reset_all_btn, Qt.MouseButton.LeftButton)     # now change everything
    ed.list.set_shift(2, 4.0)
    ed.list.rows[1].range_box.set_preset("all")
    ed.list.rows[3].star_btn.click()
    ed.list.rows[1].name_edit.setText("other")
    ed.list.rows[1].name_edit.editingFinished.emit()
    _settle(qtbot, panel)
    assert (ed.edited_image - saved_image).abs().max() > 1e-3
    bar.combo.setCurrentIndex(0)
    bar.combo.activated.emit(0)                                           # one click on the preset
    _settle(qtbot, panel)
    assert ed.list.shifts() == {0: -1.0, 1: 2.5}
    assert ed.list.rows[1].range_box.value() == (3, 5) and panel.ds.layers == {1: (3, 5)}
    assert ed.list.rows[3].is_starred() and panel.ds.starred == [3]
    assert ed.list.rows[1].name_edit.text() == "thickness" and panel.ds.names[1] == "thickness"
    assert (ed.edited_image - saved_image).abs().max() <= 1e-6
    assert bar.delete("bold") and bar.names() == [] and not bar.export_btn.isEnabled()


def test_apply_widens_the_slider_range_for_big_amounts(panel, qtbot):
    from gan_studio.engine.latent.directions.presets import Preset, add_preset
    _discover(qtbot, panel, "sefa")
    add_preset(panel.ds, Preset("far", {0: 50.0}))
    panel.editor.presets.refresh()
    assert panel.editor.presets.apply("far")
    assert panel.range_box.value() >= 50.0 and panel.editor.list.shifts() == {0: 50.0}


def test_export_then_import_and_refuse_other_generators(panel, qtbot, tmp_path):
    _discover(qtbot, panel, "sefa")
    ed, bar = panel.editor, panel.editor.presets
    ed.list.rows[2].range_box.set_preset("fine")
    ed.list.set_shift(2, -3.0)
    bar.save_preset("fine stroke")
    panel.save_to(tmp_path / "mine.safetensors")
    out = bar.export_to("fine stroke", tmp_path / "fine.json")
    doc = json.loads(out.read_text())
    assert doc["directions_file"] == "mine.safetensors" and doc["preset"]["shifts"][0]["layers"] == [5, 8]
    bar.delete("fine stroke")
    qtbot.mouseClick(ed.edit.reset_all_btn, Qt.MouseButton.LeftButton)
    ed.list.rows[2].range_box.set_preset("all")
    assert bar.import_from(out) is not None
    _settle(qtbot, panel)
    assert bar.names() == ["fine stroke"] and ed.list.shifts() == {2: -3.0} and panel.ds.layers == {2: (5, 8)}
    assert (ed.edited_image - _want(panel, {2: -3.0})).abs().max() <= 1e-5
    errors = []
    panel.ctx.error.connect(errors.append)
    other_model = make_tiny_style_bundle(tmp_path / "other-style.safetensors", seed=7)
    G2 = load_bundle(other_model).generator()
    other = save_directions(tmp_path / "theirs.safetensors", next(p for p in discover(G2, "sefa", 4)
                                                                  if "result" in p)["result"])
    their_preset = tmp_path / "theirs.json"
    from gan_studio.engine.latent.directions.presets import export_preset, make_preset
    theirs = load_directions(other)
    export_preset(their_preset, theirs, make_preset(theirs, "x", {0: 1.0}), str(other))
    before = panel.editor.list.shifts()
    assert bar.import_from(their_preset) is None
    assert errors and "another generator" in errors[-1] and "theirs.safetensors" in errors[-1]
    assert panel.editor.list.shifts() == before and bar.names() == ["fine stroke"]
    torch.manual_seed(0)
    mine_again = load_directions(tmp_path / "mine.safetensors")
    mine_again.directions = torch.randn_like(mine_again.directions)       # other directions, same generator
    export_preset(tmp_path / "other-dirs.json", mine_again, make_preset(mine_again, "y", {0: 1.0}))
    assert bar.import_from(tmp_path / "other-dirs.json") is None and "other directions" in errors[-1]
    (tmp_path / "junk.json").write_text("not json at all")
    assert bar.import_from(tmp_path / "junk.json") is None and "not a readable preset file" in errors[-1]


def test_a_long_summary_never_widens_the_tab(panel, qtbot, tmp_path):
    """The set bar's summary (count, space, RCA, ranges, presets, file name) is elided, so the tab keeps to the
    window: at 1280 x 800 the full summary of a ranged, preset-holding file once pushed Save… off screen."""
    _discover(qtbot, panel, "random")
    panel.editor.list.rows[0].range_box.set_preset("coarse")
    panel.editor.presets.save_preset("a preset")
    panel.layout().activate()
    before = panel.minimumSizeHint().width()
    path = tmp_path / ("directions of a very long and descriptive name " * 3).replace(" ", "_")
    assert panel.save_to(path.with_suffix(".safetensors")) is not None
    assert path.name in panel.set_info.text()
    panel.layout().activate()
    assert panel.minimumSizeHint().width() <= before < 1040      # 1,040 px: the tab's room at 1280 x 800
