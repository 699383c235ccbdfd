"""Issue 24 in the Training tab: every family is offered with its own losses and options (ProGAN's phases, BEGAN's
γ, EBGAN's margin, MRGAN's λ's), its settings reach the TrainConfig and the command line, and its control curves
(ProGAN's resolution and α, BEGAN's M and k_t) get their own plot; a short ProGAN run shows them live."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from gan_studio.engine.training.families import losses_for, options_for
from gan_studio.gui.widgets.loss_curves import LossCurves

T = 120_000


@pytest.fixture
def panel(window):
    return window.select_panel("training")


def _losses(f) -> list[str]:
    return [f.loss_box.itemText(i) for i in range(f.loss_box.count())]


FAMILIES = [("progan", "wgan-gp", {"fade_steps", "stable_steps", "drift", "ema_beta"}),
            ("dcgan-ae", "began", {"gamma", "lambda_k", "k0"}),
            ("dcgan-ae", "ebgan", {"margin", "pull_away"}),
            ("dcgan-enc", "mrgan", {"lambda_geometric", "lambda_mode", "manifold_diffusion"}),
            ("lapgan", "ns", set())]


def test_each_family_with_its_losses_and_options(panel):
    f = panel.form
    archs = [f.arch_box.itemText(i) for i in range(f.arch_box.count())]
    for arch, loss, options in FAMILIES:
        assert arch in archs
        f.arch_box.setCurrentText(arch)
        assert _losses(f) == losses_for(arch)
        f.loss_box.setCurrentText(loss)
        shown = set(f.family_opts.boxes)      # exactly the engine's options, the paper's among them
        assert shown == {o.name for o in options_for(arch, loss)} and options <= shown, arch
        assert f.family_opts.isHidden() == (not shown), arch
        cfg = f.config("cpu")
        assert (cfg.arch, cfg.loss, cfg.options, cfg.lr, cfg.n_critic) == (arch, loss, {}, None, None)
        f.arch_box.setCurrentText("dcgan")               # back to the zoo: its losses, no family options
        assert "began" not in _losses(f) and f.family_opts.isHidden()


def test_family_settings_reach_the_config_and_the_command_line(panel):
    f = panel.form
    f.arch_box.setCurrentText("progan")
    assert f.lr_box.value() == pytest.approx(1e-3) and f.n_critic_box.value() == 1      # ProGAN's, not wgan-gp's
    f.family_opts.set_value("fade_steps", 300)
    assert f.config("cpu").options == {"fade_steps": 300}
    assert """--options '{"fade_steps": 300}'""" in panel.cli.text()
    f.arch_box.setCurrentText("dcgan-ae")
    f.loss_box.setCurrentText("began")
    f.family_opts.set_value("gamma", 0.7)
    assert f.config("cpu").options == {"gamma": pytest.approx(0.7)} and f.lr_box.value() == pytest.approx(1e-3)
    f.arch_box.setCurrentText("dcgan-enc")
    f.family_opts.set_value("manifold_diffusion", True)
    assert f.config("cpu").options == {"manifold_diffusion": True}


def test_control_curves_get_their_own_plot(qtbot):
    curves = LossCurves()
    qtbot.addWidget(curves)
    curves.add(1, {"d_loss": 1.0, "g_loss": 0.5})
    assert curves.aux_plot.isHidden()
    curves.add(2, {"d_loss": 1.0, "resolution": 14.0, "alpha": 0.5})
    curves.flush()
    assert not curves.aux_plot.isHidden() and "resolution" not in curves.series
    assert curves.aux_title() == "14 px · α 0.50 (fade-in)" and "fade-in α" in curves.legend_entries()
    curves.clear()
    curves.add(1, {"d_loss": 0.2, "k_t": 0.01, "convergence": 0.15})
    assert curves.aux_title() == "M 0.150 · k_t 0.0100" and "convergence M" in curves.legend_entries()
    curves.clear()
    assert curves.aux_plot.isHidden() and curves.aux_title() == ""


@pytest.mark.slow
def test_a_progan_run_shows_its_growth_live(panel, qtbot, tiny_dataset):
    f = panel.form
    f.set_data_path(str(tiny_dataset))
    qtbot.waitUntil(lambda: panel.data_info is not None, timeout=T)
    f.arch_box.setCurrentText("progan")
    f._size_boxes["z_dim"].setValue(8)
    f._size_boxes["channel_max"].setValue(8)
    f.family_opts.set_value("fade_steps", 2)
    f.family_opts.set_value("stable_steps", 1)
    for box, value in ((f.batch_box, 8), (f.steps_box, 3), (f.sample_box, 1), (f.ckpt_box, 3), (f.fid_box, 0)):
        box.setValue(value)
    with qtbot.waitSignal(panel.finished, timeout=T) as sig:
        qtbot.mouseClick(panel.start_btn, Qt.MouseButton.LeftButton)
    assert sig.args == ["done"]
    panel.curves.flush()
    assert panel.curves.series["alpha"].seen == 3 and panel.curves.latest["resolution"] == 7.0
    assert panel.curves.aux_title() == "7 px · α 1.00 (stable)" and not panel.curves.aux_plot.isHidden()
    assert panel.grid.image_count() == 64
