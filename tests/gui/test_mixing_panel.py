"""The style-mixing panel: the paper's figure, layer controls, latest-wins background rendering, sending a cell."""
from __future__ import annotations

import threading

import pytest
import torch
from PySide6.QtCore import Qt

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.latent.mixing import mix_ws
from gan_studio.engine.latent.sampling import generate, seeds_latents, synthesize
from gan_studio.engine.latent.state import Latent
from tests.conftest import make_tiny_bundle
from tests.engine.test_stylegan import make_tiny_style_bundle


def _panel(qtbot, path):
    from gan_studio.gui.panels.mixing import MixingPanel
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.state import AppContext, LoadedModel
    ctx = AppContext(Settings(path.with_suffix(".ini")))
    panel = MixingPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1000, 760)
    panel.show()
    ctx.set_model(LoadedModel(load_bundle(path), path))
    qtbot.waitUntil(panel.is_settled, timeout=20_000)
    yield panel
    ctx.shutdown()


@pytest.fixture
def panel(qtbot, tmp_path):
    yield from _panel(qtbot, make_tiny_style_bundle(tmp_path / "style.safetensors"))


@pytest.fixture
def dc_panel(qtbot, tmp_path):
    yield from _panel(qtbot, make_tiny_bundle(tmp_path / "dc.safetensors"))


def _settle(qtbot, panel):
    qtbot.waitUntil(panel.is_settled, timeout=20_000)


def test_the_figure_has_source_row_column_and_mixes(panel):
    G = panel.ctx.model.generator()
    assert panel.is_ready() and panel.view.rows == 4 and panel.view.cols == 4 and panel.view.image_count() == 16
    assert [b.text() for b in panel.layer_boxes] == [f"{i} · {r} px" for i, r in
                                                     enumerate([4, 8, 8, 16, 16, 32, 32, 32])]
    assert panel.preset_box.currentText() == "coarse" and panel.layers() == [0, 1, 2]
    g = panel.grid
    assert (g.row_images - generate(G, seeds_latents([1, 2, 3], G.z_dim))).abs().max() <= 1e-5
    assert (g.col_images - generate(G, seeds_latents([4, 5, 6], G.z_dim))).abs().max() <= 1e-5
    assert panel.view.caption(1).startswith("↓ seed 4") and panel.view.caption(4) == "seed 1 →"
    assert "--rows 1,2,3 --cols 4,5,6 --layers coarse" in panel.cli_label.text()


def test_layers_none_and_all_give_the_sources(panel, qtbot):
    panel.set_preset("none")
    _settle(qtbot, panel)
    assert all((panel.grid.cells[:, j] - panel.grid.row_images).abs().max() <= 1e-5 for j in range(3))
    panel.set_preset("all")
    _settle(qtbot, panel)
    assert all((panel.grid.cells[i] - panel.grid.col_images).abs().max() <= 1e-5 for i in range(3))


def test_presets_range_and_checkboxes_agree(panel, qtbot):
    panel.set_preset("fine")
    assert [b.isChecked() for b in panel.layer_boxes] == [False] * 5 + [True] * 3
    assert panel.range_edit.text() == "5-7"
    panel.layer_boxes[0].setChecked(True)
    assert panel.layers() == [0, 5, 6, 7] and panel.preset_box.currentText() == "custom"
    assert panel.range_edit.text() == "0,5-7"
    panel.range_edit.setText("3-4")
    panel.range_edit.editingFinished.emit()
    assert panel.preset_box.currentText() == "middle" and panel.layers() == [3, 4]
    panel.range_edit.setText("2-99")
    panel.range_edit.editingFinished.emit()
    assert panel.layers() == [3, 4] and "out of range" in panel.status_label.text()
    _settle(qtbot, panel)
    assert panel.grid.layers == [3, 4]


def test_clicking_a_cell_sends_a_mix_to_the_sample_view(panel, qtbot):
    sent = []
    panel.ctx.latent_requested.connect(sent.append)
    rect = panel.view.tile_rect(2 * 4 + 3)                 # figure row 2, column 3: row seed 2, column seed 6
    qtbot.mouseClick(panel.view, Qt.MouseButton.LeftButton, pos=rect.center())
    assert len(sent) == 1
    lat = sent[0]
    assert lat.source == "mix" and lat.z is None and lat.ws.shape == (1, 8, 16)
    assert lat.info["row"] == "seed 2" and lat.info["col"] == "seed 6" and lat.info["layers"] == "0-2"
    G = panel.ctx.model.generator()
    want = mix_ws(G.mapping(seeds_latents([2], 16)), G.mapping(seeds_latents([6], 16)), [0, 1, 2])
    assert (lat.ws - want).abs().max() <= 1e-6
    assert (synthesize(G, lat.ws)[0] - panel.grid.cells[1, 2]).abs().max() <= 1e-5
    panel.click_tile(2)                                     # a column source goes as it is
    assert sent[-1].seed == 5


def test_truncation_zero_and_the_cutoff(panel, qtbot):
    panel.psi_slider.setValue(0.0)
    _settle(qtbot, panel)
    tiles = torch.cat([panel.grid.row_images, panel.grid.col_images, panel.grid.cells.flatten(0, 1)])
    assert (tiles - tiles[:1]).abs().max() <= 1e-5
    panel.cutoff_slider.setValue(3)
    _settle(qtbot, panel)
    assert panel.cutoff() == 3 and (panel.grid.row_images[0] - panel.grid.row_images[1]).abs().max() > 1e-3
    assert "--truncation 0 --cutoff 3" in panel.cli_label.text()


def test_noise_modes(panel, qtbot):
    const = panel.grid.cells.clone()
    panel.noise_box.setCurrentText("none")
    _settle(qtbot, panel)
    assert (panel.grid.cells - const).abs().max() > 1e-3 and "--noise none" in panel.cli_label.text()


def test_sources_from_typed_seeds_and_the_sample_view(panel, qtbot):
    assert not panel.add_col_btn.isEnabled()
    panel.ctx.show_latent(Latent.from_seed(42, 16))           # what the sample view shows now
    assert panel.add_col_btn.isEnabled()
    qtbot.mouseClick(panel.add_col_btn, Qt.MouseButton.LeftButton)
    _settle(qtbot, panel)
    assert panel.view.cols == 5 and panel.shown_cols[-1].seed == 42 and panel.cli_label.text() == ""
    panel.set_sources("7", "8-9")
    _settle(qtbot, panel)
    assert [lat.seed for lat in panel.shown_rows] == [7] and [lat.seed for lat in panel.shown_cols] == [8, 9, 42]
    panel.clear_added()
    panel.set_sources("1,x", "2")
    assert "bad seed list" in panel.status_label.text()


def test_rendering_is_latest_wins_and_off_the_ui_thread(panel, qtbot, monkeypatch):
    import gan_studio.engine.jobs.mixing as mod  # where the panel's render job calls it
    threads, real = [], mod.render_mixing

    def spy(*a, **kw):
        threads.append(threading.current_thread())
        return real(*a, **kw)

    monkeypatch.setattr(mod, "render_mixing", spy)
    shown = []
    panel.grid_shown.connect(shown.append)
    seqs = [panel.request_grid() for _ in range(6)]
    panel.set_preset("fine")
    _settle(qtbot, panel)
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert len(threads) <= 3 and shown[-1] == panel._seq > seqs[-1]     # intermediate requests were dropped
    assert panel.grid.layers == [5, 6, 7]


def test_single_ws_generator_says_it_has_no_style_layers(dc_panel, qtbot):
    """A DCGAN-like model (one ws) would only repeat the column images: the tab says why instead (issue 21, 7)."""
    p = dc_panel
    assert p.is_ready() and p.grid is None and p.view.image_count() == 0
    assert "has no style layers" in p.view.placeholder() and "StyleGAN" in p.view.placeholder()
    assert not any(w.isEnabled() for w in (p.rows_edit, p.cols_edit, p.picker, p.psi_slider, p.save_btn))
    assert p.current_image() is None and not p.save_image()        # File > Save image: nothing to save
