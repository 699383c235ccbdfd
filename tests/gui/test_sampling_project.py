"""Your own image in the Sampling tab (issue 20): Project an image… runs in the background with its progress,
the result becomes the current sample (a "projection" Latent, walks and directions take it), Stop keeps what it
reached, and a bad file is one message."""
from __future__ import annotations

from gan_studio.engine.imaging import save_png
from gan_studio.engine.latent.sampling import generate, seeds_latents, synthesize
from tests.gui.conftest import wait_settled

T = 120_000


def _target(window, tmp_path, seed: int = 321):
    G = window.ctx.model.generator()
    img = generate(G, seeds_latents([seed], G.z_dim))[0]
    return save_png(tmp_path / "mine.png", img, 1), img, G


def test_a_projection_becomes_the_current_sample(window, qtbot, tmp_path):
    path, target, G = _target(window, tmp_path)
    panel = window.select_panel("sampling")
    wait_settled(qtbot, panel)
    control = panel.projection
    steps = []
    control.jobs.progress.connect(lambda _k, s: steps.append(s.step))
    shown_latents = []
    panel.view_shown.connect(shown_latents.append)
    with qtbot.waitSignal(control.projected, timeout=T) as sig:
        assert control.start(path, steps=40)
        assert control.bar.isVisible() and not control.button.isEnabled()
    latent = sig.args[0]
    assert latent.source == "projection" and latent.info["image"] == str(path) and steps[-1] == 40
    qtbot.waitUntil(lambda: latent in shown_latents, timeout=T)                # its render has landed
    shown = panel.view_image
    diff = (shown - synthesize(G, latent.to_ws(G))[0]).abs().max().item()
    assert diff <= 1e-4, diff                                                  # the view renders the latent
    random_err = ((generate(G, seeds_latents([7], G.z_dim))[0] - target) ** 2).mean()
    assert ((shown - target) ** 2).mean() < 0.5 * random_err                  # nearer than a random sample
    assert "projection of mine.png" in panel.side.title.text()
    assert "gan-studio project --model" in panel.side.cli_label.text()
    assert not control.bar.isVisible() and control.button.isEnabled()
    assert window.ctx.selected_latent is latent                                # walks / directions follow it


def test_stop_keeps_the_latent_reached_and_bad_files_are_one_message(window, qtbot, tmp_path):
    path, _, _ = _target(window, tmp_path)
    panel = window.select_panel("sampling")
    control = panel.projection
    got = []
    control.projected.connect(got.append)
    assert control.start(path, steps=5000)
    qtbot.waitUntil(lambda: control._last is not None and control._last.step >= 3, timeout=T)
    control.stop()
    assert got and got[0].source == "projection" and got[0].info["stopped_at"] >= 3
    qtbot.waitUntil(lambda: not control.is_running() and control.button.isEnabled(), timeout=T)
    bad = tmp_path / "not-an-image.png"
    bad.write_bytes(b"this is text")
    assert not control.start(bad)
    assert window.banner.kind() == "error" and "\n" not in window.banner.text().strip()
    assert not control.bar.isVisible()


def test_nearest_training_images_of_the_sample_open_in_their_own_window(window, qtbot, tmp_path, tiny_dataset,
                                                                        gui_env):
    """A sample that is a training image (here: the search is run on a dataset holding the sample itself) has
    itself as its nearest neighbour at distance ~0 in both spaces."""
    import shutil

    import numpy as np

    from gan_studio.engine.imaging import to_uint8
    from tests.gui.conftest import RESOURCES
    shutil.copy(RESOURCES / "lenet-mnist.safetensors", gui_env / "shipped")        # the feature network
    panel = window.select_panel("sampling")
    wait_settled(qtbot, panel)
    panel.select_tile(3)
    qtbot.waitUntil(lambda: panel.view_image is not None, timeout=T)
    own = to_uint8(panel.view_image[None])[0, 2:30, 2:30, 0] if panel.view_image.shape[-1] == 32 else \
        to_uint8(panel.view_image[None])[0, :, :, 0]
    data = np.load(tiny_dataset)
    images = np.concatenate([data["images"][:150], own[None]])
    path = tmp_path / "with-sample.npz"
    np.savez(path, images=images, labels=np.arange(len(images)) % 10)
    control = panel.neighbours
    shown = []
    control.shown.connect(shown.append)
    assert control.start(str(path)) and not control.button.isEnabled()
    qtbot.waitUntil(lambda: bool(shown) or window.banner.kind() == "error", timeout=T)
    assert shown, window.banner.text()
    win = shown[0]
    try:
        rows = 2 if panel.view_image.shape[0] == 1 else 1
        assert win.grid.rows == rows and win.grid.image_count() == rows * 6
        first = win.grid.caption(1)
        assert f"· #{len(images) - 1} " in first and "gan-studio neighbours" in win.note.text()
        assert control.button.isEnabled() and window.ctx.settings.value("neighbours/data") == str(path)
        # the whole model: its samples against these training images, with held-out images of the same kind
        held_out = tmp_path / "held-out.npz"
        np.savez(held_out, images=data["images"][150:256], labels=np.arange(106) % 10)
        results = []
        control.checked.connect(results.append)
        assert control.check_model(n=40, test=str(held_out), n_test=None)
        qtbot.waitUntil(lambda: bool(results) or window.banner.kind() == "error", timeout=T)
        assert results, window.banner.text()
        r = results[0]
        assert r["verdict"] in ("ok", "memorised") and r["n"] == 40 and "verdict:" in win.verdict.text()
        assert win.check_btn.isEnabled()
    finally:
        win.close()


def test_features_choice_with_your_own_vgg_weights(window, qtbot, tmp_path, monkeypatch):
    import torch

    from gan_studio.gui.panels import sampling_project
    from tests.engine.test_vgg_features import _vgg_file
    _, vgg = _vgg_file(tmp_path)
    torch.save({f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1) for k, c in enumerate([4, 8, 16, 32, 32])},
               tmp_path / "lin.pth")
    path, _, _ = _target(window, tmp_path)
    panel = window.select_panel("sampling")
    control = panel.projection
    assert control.features() == "auto" and control.features_box.isEnabled()
    answers = iter([str(vgg), str(tmp_path / "lin.pth")])           # the two file dialogs: VGG, then LPIPS
    monkeypatch.setattr(sampling_project, "ask_open", lambda *a, **k: next(answers))
    control.features_box.setCurrentIndex(control.features_box.count() - 1)
    control._features_chosen(control.features_box.count() - 1)
    assert control.features() == str(vgg) and "VGG: vgg.pth + LPIPS" in control.features_box.currentText()
    seen = []
    real = sampling_project.project
    monkeypatch.setattr(sampling_project, "project", lambda *a, **k: (seen.append(k), real(*a, **k))[1])
    control._image = str(path)
    assert f"--features {vgg} --lpips {tmp_path / 'lin.pth'}" in control.command()
    control.features_box.setCurrentText("pixels")
    assert control.features() == "pixels" and "--features pixels" in control.command()
    monkeypatch.setattr(sampling_project, "ask_open", lambda *a, **k: "")    # a cancelled dialog keeps the VGG
    control._features_chosen(control.features_box.count() - 1)
    assert control.features() == str(vgg)
    with qtbot.waitSignal(control.projected, timeout=T) as sig:
        assert control.start(path, steps=10)
    assert sig.args[0].source == "projection" and seen
    assert seen[0]["features"] == str(vgg) and seen[0]["lpips"] == str(tmp_path / "lin.pth")
