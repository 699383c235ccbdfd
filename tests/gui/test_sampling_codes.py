"""The sampling panel with a conditional InfoGAN: class and category choosers and code sliders re-render the grid
and the large view like `sample --class K --code NAME=VALUE`; the training form's Conditional / InfoGAN boxes."""
from __future__ import annotations

import pytest
import torch

from gan_studio.engine.latent.codes import apply_codes
from gan_studio.engine.latent.sampling import generate, seeds_latents, synthesize
from tests.conftest import save_random_model
from tests.gui.conftest import open_in_sampling, wait_settled

T = 60_000
CODED = {"z_dim": 16, "width": 8, "img_resolution": 28, "img_channels": 1,
         "num_classes": 10, "info_cat": 4, "info_cont": 2}


@pytest.fixture
def coded_model(tmp_path):
    """A conditional InfoGAN with random weights (non-trivial batch-norm statistics)."""
    return save_random_model(tmp_path / "coded.safetensors", "dcgan", CODED, 1, "coded",
                             lambda G: G.code_layout.describe())


def _expected(G, seeds, codes, psi=1.0):
    ws = G.mapping(seeds_latents(seeds, G.z_dim), truncation_psi=psi)
    return synthesize(G, apply_codes(G, ws, codes))


def test_plain_models_show_no_code_controls(window):
    assert not window.panel("sampling").code_controls.isVisibleTo(window)


def test_class_chooser_and_sliders_rerender_grid_and_view(window, qtbot, coded_model):
    panel = open_in_sampling(window, qtbot, coded_model)
    ctl, G = panel.code_controls, window.ctx.model.generator()
    assert ctl.isVisibleTo(window) and len(ctl.sliders) == 2
    assert [ctl.class_box.itemText(i) for i in range(ctl.class_box.count())] == ["per seed"] + list("0123456789")
    assert ctl.cat_box.count() == 5
    per_seed = panel.grid_images.clone()
    assert torch.allclose(per_seed, generate(G, seeds_latents(panel.seeds(), G.z_dim)), atol=1e-5)

    ctl.class_box.setCurrentIndex(3 + 1)                     # class 3 for every tile
    wait_settled(qtbot, panel)
    assert panel.codes() == {"class": 3} and all(lat.codes == {"class": 3} for lat in panel.grid_latents)
    assert torch.allclose(panel.grid_images, _expected(G, panel.seeds(), {"class": 3}), atol=1e-5)
    assert (panel.grid_images - per_seed).abs().max() > 1e-3
    qtbot.waitUntil(lambda: panel.latent is not None and panel.latent.codes == {"class": 3}, timeout=T)
    assert "class 3" in panel.side.title.text() and "--class 3" in panel.side.cli_label.text()
    assert window.ctx.selected_latent.codes == {"class": 3}      # walks and direction edits start from it

    before = panel.grid_images.clone()
    ctl.sliders[0].slider.setValue(1.5)                      # moving a slider fixes its code
    wait_settled(qtbot, panel)
    assert panel.codes() == {"class": 3, "c0": 1.5}
    assert torch.allclose(panel.grid_images, _expected(G, panel.seeds(), {"class": 3, "c0": 1.5}), atol=1e-5)
    assert (panel.grid_images - before).abs().max() > 1e-3
    qtbot.waitUntil(lambda: panel.latent.codes == {"class": 3, "c0": 1.5}, timeout=T)
    assert "--code c0=1.5" in panel.side.cli_label.text()

    ctl.cat_box.setCurrentIndex(2 + 1)
    wait_settled(qtbot, panel)
    assert panel.codes() == {"class": 3, "cat": 2, "c0": 1.5}
    ctl.reset()
    wait_settled(qtbot, panel)
    assert panel.codes() == {} and torch.allclose(panel.grid_images, per_seed, atol=1e-6)


def test_a_latent_sent_from_elsewhere_takes_the_chosen_codes(window, qtbot, coded_model):
    from gan_studio.engine.latent.state import Latent
    panel = open_in_sampling(window, qtbot, coded_model)
    G = window.ctx.model.generator()
    panel.set_latent(Latent(ws=G.mapping(seeds_latents([99], G.z_dim)), source="walk", info={"frame": 2}))
    qtbot.waitUntil(lambda: panel.latent is not None and panel.latent.source == "walk", timeout=T)
    panel.code_controls.class_box.setCurrentIndex(7 + 1)
    qtbot.waitUntil(lambda: panel.latent.codes == {"class": 7} and panel.latent.source == "walk", timeout=T)
    want = _expected(G, [99], {"class": 7})[0]
    qtbot.waitUntil(lambda: torch.allclose(panel.view_image, want, atol=1e-5), timeout=T)


def test_training_form_conditional_and_infogan_boxes(window):
    panel = window.select_panel("training")
    f = panel.form
    f.set_data_path("/data/mnist")
    assert not f.config("cpu").conditional and not f.config("cpu").info
    f.code_boxes["conditional"].setChecked(True)
    f.code_boxes["info"].setChecked(True)
    cfg = f.config("cpu")
    assert cfg.conditional and cfg.info
    assert "--conditional --info" in panel.cli.text()
    f.set_running(True)
    assert not f.code_boxes["info"].isEnabled()
    f.set_running(False)
