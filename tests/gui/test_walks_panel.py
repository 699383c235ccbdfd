"""The walks panel: keyframes, playing, scrubbing (latest wins, never starved), sending, exporting."""
from __future__ import annotations

import threading
import time

import pytest
import torch

from gan_studio.engine.latent.sampling import generate, seeds_latents, synthesize
from gan_studio.engine.latent.walks import walk_ws

TIMEOUT = 30_000


@pytest.fixture
def walks(window, qtbot):
    panel = window.select_panel("walks")
    qtbot.waitUntil(lambda: panel.ws is not None and panel.shown_frame == panel.player.frame(), timeout=TIMEOUT)
    return panel


def _set_seeds(panel, qtbot, text: str, frames: int | None = None):
    if frames:
        panel.options.frames_box.setValue(frames)
    panel.keys.clear()
    panel.add_seeds(text)
    qtbot.waitUntil(lambda: panel.ws is not None and panel.shown_frame == panel.player.frame(), timeout=TIMEOUT)


def _engine_frame(panel, G, i: int) -> torch.Tensor:
    s = panel.spec
    ws = walk_ws(G, s.keyframes, s.frames, s.method, s.loop, s.easing, s.psi)
    return synthesize(G, ws[i:i + 1])[0]


def test_typed_seed_keyframes_start_and_end_on_the_seed_images(walks, window, qtbot):
    walks.options.psi_slider.setValue(0.7)
    _set_seeds(walks, qtbot, "5,9", frames=30)
    assert [k.label() for k in walks.keys.latents()] == ["seed 5", "seed 9"]
    G = window.ctx.model.generator()
    walks.player.set_frame(0)
    qtbot.waitUntil(lambda: walks.shown_frame == 0, timeout=TIMEOUT)
    want = generate(G, seeds_latents([5, 9], G.z_dim), truncation_psi=walks.psi())
    assert (walks.frame_image - want[0]).abs().max() <= 1e-5
    walks.player.set_frame(29)
    qtbot.waitUntil(lambda: walks.shown_frame == 29, timeout=TIMEOUT)
    assert (walks.frame_image - want[1]).abs().max() <= 1e-5
    cli = walks.cli_label.text()
    assert "gan-studio walk" in cli and "--seeds 5,9" in cli and "--frames 30" in cli and "--truncation 0.7" in cli


def test_play_advances_frames_and_pause_stops_them(walks, qtbot):
    shown: list[int] = []
    walks.frame_shown.connect(shown.append)
    walks.player.set_fps(60)
    walks.player.play()
    assert walks.player.is_playing()
    qtbot.waitUntil(lambda: len(set(shown)) >= 6, timeout=TIMEOUT)
    walks.player.pause()
    assert not walks.player.is_playing()
    frame = walks.player.frame()
    qtbot.wait(100)                                   # a render in flight may still land
    settled = len(shown)
    qtbot.wait(300)
    assert walks.player.frame() == frame and len(shown) == settled


def test_a_burst_of_scrubber_changes_ends_on_the_last_frame(walks, window, qtbot):
    _set_seeds(walks, qtbot, "11,12,13", frames=400)
    G = window.ctx.model.generator()
    shown: list[int] = []
    walks.frame_shown.connect(shown.append)
    values = torch.randperm(400, generator=torch.Generator().manual_seed(0))[:100].tolist()
    for v in values:
        walks.player.scrubber.setValue(v)
    last = values[-1]
    qtbot.waitUntil(lambda: walks.shown_frame == last, timeout=TIMEOUT)
    qtbot.wait(50)
    assert walks.shown_frame == last and shown[-1] == last and len(shown) < len(values)   # frames were dropped
    assert (walks.frame_image - _engine_frame(walks, G, last)).abs().max() <= 1e-5


def test_a_burst_of_psi_changes_ends_on_the_last_value(walks, window, qtbot):
    walks.player.set_frame(17)
    for k in range(100):
        walks.options.psi_slider.setValue(0.4 + 0.005 * k)
    qtbot.waitUntil(lambda: walks.spec is not None and walks.spec.psi == walks.psi()
                    and walks.shown_frame == 17, timeout=TIMEOUT)
    assert abs(walks.psi() - 0.895) < 1e-6
    assert (walks.frame_image - _engine_frame(walks, window.ctx.model.generator(), 17)).abs().max() <= 1e-5


def test_a_slow_renderer_drops_frames_but_never_starves_the_view(walks, window, qtbot, monkeypatch):
    """Plain latest-wins would drop every result while ticks come faster than renders."""
    renderer = window.ctx.renderer._renderer
    real = renderer.render

    def slow(req):
        time.sleep(0.04)
        return real(req)
    monkeypatch.setattr(renderer, "render", slow)
    walks.cache.clear()
    shown: list[int] = []
    walks.frame_shown.connect(shown.append)
    walks.player.set_fps(60)
    walks.player.play()
    qtbot.waitUntil(lambda: len(set(shown)) >= 4, timeout=TIMEOUT)
    walks.player.pause()


def test_send_to_sample_view_and_add_current_sample(walks, window, qtbot):
    sampling = window.panel("sampling")
    walks.player.set_frame(7)
    qtbot.waitUntil(lambda: walks.shown_frame == 7, timeout=TIMEOUT)
    with qtbot.waitSignal(sampling.view_shown, timeout=TIMEOUT):
        lat = walks.send_to_sample_view()
    assert window.current_panel() is sampling and sampling.latent is lat
    assert lat.source == "walk" and lat.ws is not None and lat.info["frame"] == 7
    assert sampling.side.title.text() == lat.label() == "walk (seeds 1,2,3, frame 7)"
    assert (sampling.view_image - walks.frame_image).abs().max() <= 1e-5
    window.select_panel("walks")                       # the walk frame (a ws) becomes a keyframe
    assert walks.add_current_sample() is lat and walks.keys.latents()[-1] is lat
    qtbot.waitUntil(lambda: walks.ws is not None and walks.spec.keyframes[-1] is lat, timeout=TIMEOUT)
    assert "no command line" in walks.cli_label.text()
    walks.player.set_frame(walks.player.count() - 1)
    qtbot.waitUntil(lambda: walks.shown_frame == walks.player.count() - 1, timeout=TIMEOUT)
    assert (walks.frame_image - sampling.view_image).abs().max() <= 1e-5


def test_export_writes_a_gif_with_every_frame(walks, qtbot, tmp_path):
    from PIL import Image
    _set_seeds(walks, qtbot, "1,4", frames=24)
    out = tmp_path / "walk.gif"
    with qtbot.waitSignal(walks.export_finished, timeout=TIMEOUT) as sig:
        assert walks.export(out, fps=12, scale=2)
    assert sig.args == [str(out)] and out.is_file()
    with Image.open(out) as gif:
        assert gif.n_frames == 24 and gif.size == (2 * walks.frame_image.shape[-1],) * 2


def test_cancelling_an_export_leaves_no_file(walks, qtbot, tmp_path, monkeypatch):
    from gan_studio.engine.jobs import walks as walk_spec
    gate, calls = threading.Event(), []
    real = walk_spec.synthesize

    def gated(G, ws):                                 # worker thread: hold frame 5 until the test has cancelled
        calls.append(1)
        if len(calls) == 6:
            gate.wait(10)
        return real(G, ws)
    monkeypatch.setattr(walk_spec, "synthesize", gated)
    folder = tmp_path / "export"
    folder.mkdir()
    assert walks.export(folder / "cancelled.gif", scale=1)
    qtbot.waitUntil(lambda: walks.export_bar.progress.value() >= 5, timeout=TIMEOUT)
    with qtbot.waitSignal(walks.export_finished, timeout=TIMEOUT) as sig:
        walks.cancel_export()
        gate.set()
    assert sig.args == [""] and len(calls) < walks.ws.shape[0]
    assert list(folder.iterdir()) == []
    assert not walks.export_bar.is_running() and walks.export_bar.buttons["gif"].isEnabled()


def test_random_loop_and_bad_seeds(walks, window, qtbot):
    walks.options.source_box.setCurrentIndex(walks.options.source_box.findData("noise"))
    walks.options.loop_seed.setValue(21)
    qtbot.waitUntil(lambda: walks.spec is not None and walks.spec.random == "noise"
                    and walks.spec.random_seed == 21 and walks.shown_frame >= 0, timeout=TIMEOUT)
    assert not walks.keys.isEnabled()
    assert "--seeds 21 --random-loop noise" in walks.cli_label.text()
    walks.options.source_box.setCurrentIndex(0)
    assert walks.add_seeds("7-x") == [] and window.banner.kind() == "error"
    assert "1,2,5-8" in window.banner.text()


def test_the_shown_cli_command_makes_the_same_walk(walks, window, qtbot, tmp_path):
    import os
    import shlex
    import subprocess
    import sys

    import numpy as np
    opts = walks.options
    opts.method_box.setCurrentIndex(opts.method_box.findData("lerp"))
    opts.easing_box.setCurrentText("ease")
    opts.loop_check.setChecked(True)
    opts.psi_slider.setValue(0.8)
    _set_seeds(walks, qtbot, "3,8,4", frames=12)
    cmd = shlex.split(walks.cli_label.text())
    assert cmd[:2] == ["gan-studio", "walk"] and "--loop" in cmd and cmd[cmd.index("--method") + 1] == "lerp"
    cmd[cmd.index("--out") + 1] = str(tmp_path / "cli.npy")
    r = subprocess.run([sys.executable, "-m", "gan_studio.cli.main"] + cmd[1:], capture_output=True, text=True,
                       timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stderr
    cli = torch.from_numpy(np.load(tmp_path / "cli.npy"))
    gui = synthesize(window.ctx.model.generator(), walks.ws)
    assert cli.shape == gui.shape == (12, *gui.shape[1:]) and (cli - gui).abs().max() <= 1e-5


def test_keyframes_reorder_remove_and_clear(walks, qtbot):
    _set_seeds(walks, qtbot, "1,2,3,4")
    keys = walks.keys
    keys.list.setCurrentRow(0)
    keys.move_selected(1)                             # the down button
    assert [k.seed for k in keys.latents()] == [2, 1, 3, 4]
    from PySide6.QtCore import QModelIndex
    assert keys.list.model().moveRow(QModelIndex(), 3, QModelIndex(), 0)   # what a drag does
    assert [k.seed for k in keys.latents()] == [4, 2, 1, 3]
    qtbot.waitUntil(lambda: walks.spec is not None and [k.seed for k in walks.spec.keyframes] == [4, 2, 1, 3],
                    timeout=TIMEOUT)
    assert "--seeds 4,2,1,3" in walks.cli_label.text() and walks.heading.text() == "Seeds 4 → 2 → 1 → 3"
    keys.list.setCurrentRow(1)
    keys.remove_selected()
    assert [k.seed for k in keys.latents()] == [4, 1, 3]
    keys.clear()
    assert walks.ws is None and walks.player.count() == 0 and not walks.export_bar.buttons["gif"].isEnabled()
    assert walks.send_to_sample_view() is None
