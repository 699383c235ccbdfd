"""Issue 25 in the Sampling tab: "Make it a …" (a classifier guides the large view's latent, the chain live, the
end becomes the sample; a newer class wins) and latent arithmetic (groups typed or clicked, the figure, the result
as the sample, A − B saved as a direction that reproduces the result)."""
from __future__ import annotations

import shlex
import shutil

import numpy as np
import pytest
import torch

from gan_studio.cli.main import main
from gan_studio.engine.latent import arithmetic as ar
from gan_studio.engine.latent.directions import apply_shifts, load_directions
from gan_studio.engine.latent.guide import class_log_probs, load_classifier
from gan_studio.engine.latent.sampling import synthesize
from tests.gui.conftest import RESOURCES, wait_settled

T = 120_000


@pytest.fixture
def with_classifier(gui_env):
    """The shipped classifier beside the shipped model, before the window opens (requested before `window`)."""
    shutil.copy(RESOURCES / "lenet-mnist.safetensors", gui_env / "shipped")


def test_make_it_a_class_runs_a_live_chain_and_the_newest_class_wins(with_classifier, window, qtbot, tmp_path):
    panel = window.select_panel("sampling")
    wait_settled(qtbot, panel)
    control = panel.guide
    control.steps = 50                                        # shorter than the default: a quick test
    assert control.button.isEnabled() and control.class_box.count() == 10 + 1       # + Classifier…
    panel.select_tile(0)
    qtbot.waitUntil(lambda: panel.view_image is not None, timeout=T)
    progress = []
    control.jobs.progress.connect(lambda _k, s: progress.append(s))
    assert control.start(2)
    control.class_box.setCurrentIndex(5)
    control.class_box.activated.emit(5)                      # another class while the chain runs: it wins
    with qtbot.waitSignal(control.guided, timeout=T) as sig:
        pass
    latent = sig.args[0]
    assert latent.source == "guide" and latent.info["class"] == 5 and not latent.info.get("stopped")
    assert progress[-1].done and progress[-1].klass == 5 and progress[0].step == 0
    assert control.window.frames.image_count() == len(control.frames) >= 2
    G = window.ctx.model.generator()
    net = load_classifier(G)
    with torch.no_grad():
        p = class_log_probs(net, synthesize(G, latent.to_ws(G)))[0, 5].exp().item()
    assert p > 0.5 and abs(p - latent.info["p"]) < 1e-3      # the sample is the chain's end, a 5 to the classifier
    assert "--guide-class 5" in control.command() and "--guide-steps 50" in control.command()
    qtbot.waitUntil(lambda: control.command() in panel.side.cli_label.text(), timeout=T)     # its render landed
    assert panel.latent is latent and "guide" in panel.side.title.text()
    out = tmp_path / "g.npy"                                  # the command line gives the same image
    assert main(shlex.split(control.command().replace("guided.png", str(out)))[1:]) == 0
    assert (torch.from_numpy(np.load(out))[0] - panel.view_image).abs().max() < 1e-4
    got = []
    control.guided.connect(got.append)
    progress.clear()
    assert control.start(1)
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=T)
    control.stop()                                            # Stop keeps the latent reached so far
    assert got and got[0].info["stopped"] and got[0].info["steps"] == progress[-1].step < 50
    qtbot.waitUntil(lambda: not control.is_running(), timeout=T)
    assert len(got) == 1                                      # the stopped chain delivers nothing more
    control.close()


def test_guide_is_off_without_a_classifier_until_one_is_chosen(window, qtbot, tmp_path):
    panel = window.select_panel("sampling")
    wait_settled(qtbot, panel)
    control = panel.guide
    assert not control.button.isEnabled() and control.class_box.count() == 1      # only Classifier…
    assert "lenet-mnist network is missing" in control.button.toolTip()
    model_file = str(window.ctx.model.bundle.path)
    assert not control.set_classifier(model_file)                                  # not a classifier: said
    assert window.banner.kind() == "error" and "holds no LeNet classifier" in window.banner.text()
    assert not control.button.isEnabled()
    mine = tmp_path / "mine.safetensors"
    shutil.copy(RESOURCES / "lenet-mnist.safetensors", mine)                      # as train-classifier writes
    assert control.set_classifier(str(mine)) and control.button.isEnabled()
    assert control.class_box.count() == 11
    panel.select_tile(0)
    qtbot.waitUntil(lambda: panel.view_image is not None, timeout=T)
    assert control.start(4)
    qtbot.waitUntil(lambda: control.last is not None, timeout=T)
    control.stop()
    assert f"--guide-classifier {mine}" in control.command()
    window.ctx.set_model(window.ctx.model)                   # another model: back to the shipped one
    assert control.classifier is None
    control.close()


def test_arithmetic_from_clicked_tiles_shows_the_figure_and_saves_a_direction(window, qtbot, tmp_path):
    panel = window.select_panel("sampling")
    wait_settled(qtbot, panel)
    control = panel.arithmetic
    win = control.open()
    seeds = panel.seeds()
    for index in (0, 1, 4, 1):                               # clicking a tile twice takes it out again
        panel.grid.tile_clicked.emit(index)
    assert win.edits[0].text() == f"{seeds[0]},{seeds[4]}"
    win.arm.button(1).setChecked(True)
    panel.grid.tile_clicked.emit(2)
    win.arm.button(2).setChecked(True)
    panel.grid.tile_clicked.emit(3)
    qtbot.waitUntil(lambda: control.result is not None and not control.jobs.busy(), timeout=T)
    res = control.result
    assert res.seeds == [[seeds[0], seeds[4]], [seeds[2]], [seeds[3]]]
    G = window.ctx.model.generator()
    want = ar.arithmetic(G, *res.seeds, space=res.space, psi=panel.psi()).result
    assert torch.allclose(res.result, want, atol=1e-6)
    assert win.figure.image_count() == 3 * 7 and "result" in win.figure.caption(2 * 7 + 6)
    assert win.show_btn.isEnabled() and win.save_btn.isEnabled()
    win.show_btn.click()
    qtbot.waitUntil(lambda: panel.latent is not None and panel.latent.source == "arithmetic", timeout=T)
    out = control.save_direction(str(tmp_path / "ab.safetensors"))
    ds = load_directions(out, G)
    c = ar.to_ws(G, res.means[2][None], res.space, panel.psi()) if res.space == "w" else res.means[2][None]
    kind, moved = apply_shifts(G, ds, **({"ws": c} if res.space == "w" else {"z": c}),
                               shifts={0: ds.extra["length"]})
    assert torch.allclose(moved.reshape(-1)[:res.result.numel()], res.result, atol=1e-5)
    directions = window.panel("directions")                  # its slider: the Directions tab takes the file
    loaded = directions.load_from(out)
    assert loaded is not None and loaded.method == "arithmetic" and directions.ds.k == 1
    assert directions.range_box.value() >= ds.extra["length"]       # the slider reaches A − B itself
    win.edits[1].setText("")                                  # an empty group: said, no result to use
    qtbot.waitUntil(lambda: "group B is empty" in win.status.text(), timeout=T)
    assert not win.show_btn.isEnabled()
    win.close()
