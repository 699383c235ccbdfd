"""Opening an NVlabs network pickle in the app: what it holds is shown, a converted copy goes to the user's
model folder (and is what opens next time), and the tabs work on it."""
from __future__ import annotations

import pytest

from gan_studio.engine.bundle import read_metadata
from gan_studio.engine.latent.sampling import images_for_seeds
from gan_studio.gui import import_dialog
from tests.engine.test_nvlabs import FIX, needs_fix
from tests.gui.conftest import wait_loaded, wait_settled
from tests.gui.test_main_window import _drop

pytestmark = needs_fix
SG2 = FIX / "stylegan2-ada-32-rgb.pkl"


def _answer(monkeypatch, window, answer):
    asked = []

    def confirm(path, bundle, dest):
        asked.append((path, dest, import_dialog.import_text(path, bundle, dest)))
        return answer
    monkeypatch.setattr(window, "confirm_import", confirm)
    return asked


def _wait_model(qtbot, window, pred):
    qtbot.waitUntil(lambda: not window.loading and window.ctx.model is not None and pred(window.ctx.model),
                    timeout=60_000)


def test_drop_a_pickle_save_converted_copy_then_reopen_it(window, qtbot, monkeypatch, gui_env):
    asked = _answer(monkeypatch, window, import_dialog.SAVE)
    _drop(window, SG2)
    _wait_model(qtbot, window, lambda m: m.path.suffix == ".safetensors" and m.path.stem == SG2.stem)
    (path, dest, text), = asked
    assert path == SG2 and dest == gui_env / "home" / "models" / f"{SG2.stem}.safetensors" and dest.is_file()
    assert "32×32" in text and "without running" in text and "G_ema → generator_ema" in text
    assert read_metadata(dest)["config"]["source"]["roles"] == {"generator_ema": "G_ema", "critic": "D"}
    assert window.ctx.model.path == dest.resolve() and window.ctx.model.bundle.meta["arch"] == "stylegan2-ada"
    wait_settled(qtbot, window.panel("sampling"))
    asked.clear()
    window.open_path(SG2)                       # the converted copy is found: no question, no second copy
    wait_loaded(qtbot, window)
    _wait_model(qtbot, window, lambda m: m.path == dest.resolve())
    assert asked == [] and sorted(p.name for p in dest.parent.iterdir()) == [dest.name]


@pytest.mark.parametrize("answer", [import_dialog.ONCE, import_dialog.CANCEL])
def test_open_once_or_cancel_writes_nothing(window, qtbot, monkeypatch, gui_env, answer):
    good = window.ctx.model
    asked = _answer(monkeypatch, window, answer)
    assert window.open_path(SG2)
    qtbot.waitUntil(lambda: len(asked) == 1 and not window.loading, timeout=60_000)
    if answer == import_dialog.ONCE:
        _wait_model(qtbot, window, lambda m: m.path == SG2.resolve())
        wait_settled(qtbot, window.panel("sampling"))
    else:
        assert window.ctx.model is good and "not opened" in window.banner.text()
    assert not (gui_env / "home" / "models").exists() or not any((gui_env / "home" / "models").iterdir())


def test_tabs_on_an_imported_model(window, qtbot, monkeypatch):
    _answer(monkeypatch, window, import_dialog.ONCE)
    window.open_path(SG2)
    _wait_model(qtbot, window, lambda m: m.path == SG2.resolve())
    G = window.ctx.model.bundle.generator()
    sampling = window.panel("sampling")
    wait_settled(qtbot, sampling)
    seeds = sampling.seeds()
    assert (sampling.grid_images - images_for_seeds(G, seeds)).abs().max() <= 1e-5
    sampling.drs.burn_in_n = 64                       # DRS with the imported discriminator (a logistic critic)
    assert sampling.drs.checkbox.isEnabled()
    sampling.drs.checkbox.setChecked(True)
    wait_settled(qtbot, sampling, timeout=120_000)
    assert "accepted" in sampling.drs.status.text() and len(sampling.seeds()) == len(seeds)
    sampling.drs.checkbox.setChecked(False)
    wait_settled(qtbot, sampling)
    mixing = window.select_panel("mixing")
    qtbot.waitUntil(mixing.is_ready, timeout=30_000)
    assert mixing.picker.resolutions == list(G.ws_resolutions) and len(G.ws_resolutions) == G.num_ws == 8
    fields = window.select_panel("info").fields()
    src = window.ctx.model.bundle.meta["config"]["source"]
    assert fields["Model/Source sha256"] == src["sha256"] and fields["Model/Networks from"].startswith("G_ema")
    assert fields["Model/Config"].startswith("NVlabs/stylegan2-ada-pytorch") and "channel_base=2048" in \
        fields["Model/Config"]


def test_sefa_sliders_on_an_imported_stylegan3(qtbot, tmp_path):
    from gan_studio.engine.bundle import load_bundle
    from gan_studio.engine.latent.directions import apply_shifts
    from gan_studio.engine.latent.sampling import synthesize
    from gan_studio.engine.latent.state import Latent
    from gan_studio.gui.panels.directions import DirectionsPanel
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.state import AppContext, LoadedModel
    from tests.gui.test_directions_panel import _discover
    path = FIX / "stylegan3-t-32-rgb.pkl"
    ctx = AppContext(Settings(tmp_path / "settings.ini"))
    panel = DirectionsPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    try:
        ctx.set_model(LoadedModel(load_bundle(path), path))
        ctx.select_latent(Latent.from_seed(5, panel._G.z_dim))
        ds = _discover(qtbot, panel, "sefa", k=3)
        assert ds.method == "sefa" and ds.k == 3 and len(panel.editor.list.rows) == 3
        panel.editor.list.set_shift(0, 3.0)
        qtbot.waitUntil(panel.editor.is_settled, timeout=60_000)
        kind, t = apply_shifts(panel._G, panel.ds, z=panel.editor.base.z, shifts={0: 3.0})
        want = synthesize(panel._G, panel._G.mapping(t) if kind == "z" else t)
        assert (panel.editor.edited_image - want[0]).abs().max() <= 1e-5
        assert (panel.editor.edited_image - panel.editor.original_image).abs().max() > 1e-3
    finally:
        ctx.shutdown()
