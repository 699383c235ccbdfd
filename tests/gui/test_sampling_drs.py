"""The sampling panel's rejection-sampling mode: the checkbox, accepted seeds per tile, the calibration folder."""
from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import Qt

from gan_studio.engine.bundle import load_bundle, save_bundle
from gan_studio.engine.latent.drs import burn_in, drs_sample
from gan_studio.engine.latent.drs_calibration import (
    FINETUNE,
    Calibration,
    calibration_key,
    critic_of,
    load_calibration,
    save_calibration,
)
from gan_studio.engine.latent.sampling import generate, seeds_latents
from gan_studio.gui.panels.sampling_drs import DATA_KEY, DRSControl
from tests.conftest import make_tiny_bundle
from tests.gui.conftest import wait_loaded, wait_settled

T = 60_000


def _calibrate_open_model(window) -> Calibration:
    """Store a calibration for the open model, as `sample --drs --data` would have."""
    b = window.ctx.model.bundle
    cal = Calibration(1.13, -0.87, "logistic-fit", "mnist", "train", 2000, 0.75,
                      calibration_key(b.generator(), critic_of(b)))
    save_calibration(cal, b.name)
    return cal


def _open(window, qtbot, path) -> None:
    window.open_path(path)
    qtbot.waitUntil(lambda: not window.loading and window.ctx.model.path == path.resolve(), timeout=T)


def _image_folder(path, n=60):
    from PIL import Image
    path.mkdir()
    yy, xx = np.mgrid[:28, :28]
    for i in range(n):
        img = np.zeros((28, 28), np.uint8)
        img[(yy - 14) ** 2 + (xx - 10 - i % 9) ** 2 < 25] = 255
        Image.fromarray(img).save(path / f"{i:03d}.png")
    return path


def test_drs_fills_the_grid_with_accepted_seeds_and_keeps_them_per_tile(window, qtbot):
    panel = window.panel("sampling")
    cal = _calibrate_open_model(window)
    assert panel.drs.checkbox.isEnabled() and "critic" in panel.drs.checkbox.toolTip()
    panel.set_first_seed(40)
    wait_settled(qtbot, panel)
    panel.drs.burn_in_n = 500
    panel.drs.checkbox.setChecked(True)
    wait_settled(qtbot, panel, timeout=T)
    n, seeds = panel.grid.count(), panel.seeds()
    assert len(seeds) == n == panel.grid_images.shape[0] and seeds == sorted(seeds) and seeds[0] >= 40
    assert seeds[-1] > 40 + n - 1                                     # some seeds were rejected
    assert [panel.grid.caption(i) for i in range(n)] == [str(s) for s in seeds]
    assert "accepted" in panel.drs.status.text() and "%" in panel.drs.status.text()
    G, b = window.ctx.model.generator(), window.ctx.model.bundle
    assert (panel.grid_images - generate(G, seeds_latents(seeds, G.z_dim))).abs().max() <= 1e-5
    want = drs_sample(G, critic_of(b), cal, 40, n, burn=burn_in(G, critic_of(b), cal, n=500))
    assert want.seeds == seeds                                        # the CLI's `sample --drs` answer
    qtbot.mouseClick(panel.grid, Qt.MouseButton.LeftButton, pos=panel.grid.tile_rect(3).center())
    assert panel.latent.seed == seeds[3] and panel.side.title.text() == f"seed {seeds[3]}"
    assert torch.equal(panel.view_image, panel.grid_images[3])
    assert "--drs --seed 40" in panel.side.cli_label.text()        # (with its default burn-in of 2000)
    panel.drs.checkbox.setChecked(False)                              # back to the plain seeds S..S+N-1
    wait_settled(qtbot, panel)
    assert panel.seeds() == list(range(40, 40 + n)) and "--drs" not in panel.side.cli_label.text()


def test_drs_checkbox_is_off_for_a_model_without_critic(window, qtbot, tmp_path):
    from gan_studio.engine.models import build
    cfg = {"z_dim": 8, "img_resolution": 28, "img_channels": 1, "width": 8}
    path = save_bundle(tmp_path / "gonly.safetensors", {"generator": build("dcgan", "generator", cfg).eval()},
                       {"kind": "image-generator", "arch": "dcgan", "config": cfg, "name": "gonly"})
    _open(window, qtbot, path)
    panel = window.panel("sampling")
    wait_settled(qtbot, panel)
    assert not panel.drs.checkbox.isEnabled() and "no critic" in panel.drs.checkbox.toolTip()


def test_drs_asks_for_the_data_folder_once_then_remembers(window, qtbot, tmp_path, monkeypatch):
    model = make_tiny_bundle(tmp_path / "tiny-wgan.safetensors")      # no NS loss: its critic needs a fit
    folder = str(_image_folder(tmp_path / "real"))
    asked = []
    monkeypatch.setattr(DRSControl, "pick_data_dir", lambda self: asked.append(1) or folder)
    _open(window, qtbot, model)
    panel = window.panel("sampling")
    wait_settled(qtbot, panel)
    panel.drs.percentile, panel.drs.burn_in_n = 50.0, 300             # a random critic: keep it quick
    panel.drs.finetune_steps = 20
    panel.drs.checkbox.setChecked(True)
    wait_settled(qtbot, panel, timeout=T)
    assert asked == [1] and window.ctx.settings.value(DATA_KEY) == folder
    b = load_bundle(model)
    stored = load_calibration(calibration_key(b.generator(), critic_of(b)), FINETUNE, critic_of(b))
    assert stored.data == folder and stored.steps == 20                 # the fine-tuned critic, as the CLI's
    assert "critic fine-tuned on" in panel.drs.status.text()
    panel.drs.checkbox.setChecked(False)
    wait_settled(qtbot, panel)
    panel.drs.checkbox.setChecked(True)
    wait_settled(qtbot, panel, timeout=T)
    assert asked == [1] and panel.shown_grid_id < 0


def test_drs_without_a_folder_or_with_a_bad_one_is_a_message_not_a_crash(window, qtbot, tmp_path, monkeypatch):
    model = make_tiny_bundle(tmp_path / "tiny-wgan.safetensors")
    answers = ["", str(tmp_path)]                                     # cancel, then a folder with no images
    monkeypatch.setattr(DRSControl, "pick_data_dir", lambda self: answers.pop(0))
    _open(window, qtbot, model)
    panel = window.panel("sampling")
    wait_settled(qtbot, panel)
    panel.drs.checkbox.setChecked(True)
    qtbot.waitUntil(lambda: not panel.drs.checkbox.isChecked(), timeout=T)
    assert "needs real images" in panel.drs.status.text()
    with qtbot.waitSignal(window.ctx.error, timeout=T) as sig:
        panel.drs.checkbox.setChecked(True)
    assert "Rejection sampling failed" in sig.args[0] and "holds no images" in sig.args[0]
    assert window.banner.kind() == "error" and not panel.drs.checkbox.isChecked()
    assert not window.ctx.settings.value(DATA_KEY)                    # forgotten: asked again next time
    wait_settled(qtbot, panel)
    assert panel.seeds() == list(range(panel.seed_box.value(), panel.seed_box.value() + panel.grid.count()))
    wait_loaded(qtbot, window)
