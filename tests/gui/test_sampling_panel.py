"""The sampling panel: the grid is the CLI's seeds S..S+N-1, selection, truncation, latest-wins display."""
from __future__ import annotations

import torch
from PySide6.QtCore import Qt

from gan_studio.engine.latent.sampling import generate, seeds_latents, synthesize
from gan_studio.engine.latent.state import Latent
from tests.gui.conftest import wait_settled


def _generator(window):
    return window.ctx.model.generator()


def test_grid_fills_with_distinct_nonblank_images(window):
    panel = window.panel("sampling")
    assert window.current_panel() is panel and panel.is_ready()
    n = panel.grid.count()
    imgs = panel.grid_images
    assert panel.grid.image_count() == n and imgs.shape[0] == n
    assert all(imgs[i].std() > 0.02 for i in range(n)), "a blank tile"
    flat = imgs.flatten(1)
    dists = torch.cdist(flat, flat) + torch.eye(n) * 1e9
    assert dists.min() > 1e-3, "two tiles are the same image"
    assert [panel.grid.caption(i) for i in range(n)] == [str(s) for s in panel.seeds()]
    assert window.ctx.model.name in window.windowTitle()


def test_clicking_a_tile_selects_it_and_shows_its_seed(window, qtbot):
    panel = window.panel("sampling")
    rect = panel.grid.tile_rect(5)
    qtbot.mouseClick(panel.grid, Qt.MouseButton.LeftButton, pos=rect.center())
    seed = panel.seeds()[5]
    assert panel.grid.selected() == 5
    assert panel.latent.seed == seed and panel.side.title.text() == f"seed {seed}"
    assert torch.equal(panel.view_image, panel.grid_images[5]) and panel.side.image.has_image()
    qtbot.keyClick(panel.grid, Qt.Key.Key_Right)      # arrow keys move the selection
    assert panel.grid.selected() == 6 and panel.latent.seed == seed + 1


def test_resample_changes_seeds_and_images(window, qtbot):
    panel = window.panel("sampling")
    seeds, imgs = panel.seeds(), panel.grid_images.clone()
    qtbot.mouseClick(panel.resample_btn, Qt.MouseButton.LeftButton)
    wait_settled(qtbot, panel)
    assert panel.seeds() != seeds
    assert (panel.grid_images - imgs).abs().max() > 1e-2


def test_typed_seed_renders_the_cli_seeds_exactly(window, qtbot):
    panel = window.panel("sampling")
    panel.seed_box.selectAll()
    qtbot.keyClicks(panel.seed_box, "1234")
    qtbot.keyClick(panel.seed_box, Qt.Key.Key_Return)
    wait_settled(qtbot, panel)
    n = panel.grid.count()
    assert panel.seeds() == list(range(1234, 1234 + n))
    G = _generator(window)
    want = generate(G, seeds_latents(range(1234, 1234 + n), G.z_dim), truncation_psi=1.0)
    assert (panel.grid_images - want).abs().max() <= 1e-5
    panel.set_psi(0.7)
    wait_settled(qtbot, panel)
    want = generate(G, seeds_latents(range(1234, 1234 + n), G.z_dim), truncation_psi=panel.psi())
    assert abs(panel.psi() - 0.7) < 1e-6 and (panel.grid_images - want).abs().max() <= 1e-5


def test_truncation_zero_makes_all_tiles_equal(window, qtbot):
    panel = window.panel("sampling")
    panel.set_psi(0.0)
    wait_settled(qtbot, panel)
    imgs = panel.grid_images
    assert (imgs - imgs[0:1]).abs().max() <= 1e-6


def test_grid_shape_is_adjustable(window, qtbot):
    panel = window.panel("sampling")
    panel.set_grid_shape(2, 3)
    wait_settled(qtbot, panel)
    assert panel.grid.count() == 6 and panel.grid_images.shape[0] == 6 and len(panel.seeds()) == 6


def test_latest_wins_under_a_burst_of_requests(window, qtbot):
    panel = window.panel("sampling")
    shown: list[int] = []
    panel.grid_shown.connect(shown.append)
    for s in range(100):
        panel.seed_box.setValue(500 + s)
    last = panel.pending_grid_id
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] == last, timeout=30_000)
    assert shown == sorted(set(shown)), "a stale grid was shown after a newer one"
    assert panel.seeds()[0] == 599 and panel.grid.caption(0) == "599"
    G = _generator(window)
    want = generate(G, seeds_latents(panel.seeds(), G.z_dim))
    assert (panel.grid_images - want).abs().max() <= 1e-5


def test_set_latent_shows_any_latent_in_the_large_view(window, qtbot):
    panel = window.panel("sampling")
    G = _generator(window)
    ws = G.mapping(seeds_latents([77], G.z_dim), truncation_psi=0.5)
    lat = Latent(ws=ws, source="direction", info={"direction": 3, "step": 1.5})
    with qtbot.waitSignal(panel.view_shown, timeout=30_000):
        window.ctx.show_latent(lat)
    assert panel.latent is lat and panel.grid.selected() == -1
    assert panel.side.title.text() == lat.label() == "direction (direction 3, step 1.5)"
    assert (panel.view_image - synthesize(G, ws)[0]).abs().max() <= 1e-5
    # a seed latent that is on the grid just selects its tile
    panel.set_latent(Latent.from_seed(panel.seeds()[2], G.z_dim))
    assert panel.grid.selected() == 2 and panel.side.title.text() == f"seed {panel.seeds()[2]}"


def test_a_render_error_is_shown_and_the_panel_keeps_working(window, qtbot):
    panel = window.panel("sampling")
    G = _generator(window)
    panel.set_latent(Latent(z=torch.zeros(1, G.z_dim + 1), source="file", info={"file": "wrong.npy"}))
    qtbot.waitUntil(lambda: window.banner.kind() == "error", timeout=30_000)
    assert "shape" in window.banner.text()
    panel.set_first_seed(42)
    wait_settled(qtbot, panel)
    assert panel.seeds()[0] == 42


def test_save_selected_and_grid(window, tmp_path):
    from PIL import Image
    panel = window.panel("sampling")
    h = panel.grid_images.shape[-1]
    one = panel.save_selected(tmp_path / "one.png", scale=4)
    assert Image.open(one).size == (4 * h, 4 * h)
    grid = panel.save_grid(tmp_path / "grid.png", scale=1)
    cols = panel.grid.cols
    assert Image.open(grid).size[0] == cols * (h + 2) + 2
    assert panel.save_selected(tmp_path) is None            # a folder: one clear error, no traceback
    assert window.banner.kind() == "error" and str(tmp_path) in window.banner.text()


def test_the_shown_cli_command_writes_the_same_grid(window, qtbot, tmp_path):
    import os
    import shlex
    import subprocess
    import sys

    import numpy as np
    from PIL import Image
    panel = window.panel("sampling")
    panel.set_grid_shape(2, 3)
    panel.set_psi(0.8)
    panel.set_first_seed(31)
    wait_settled(qtbot, panel)
    cmd = shlex.split(panel.side.cli_label.text().split("\n\n")[0])
    assert cmd[:2] == ["gan-studio", "sample"] and cmd[cmd.index("--seed") + 1] == "31"
    cmd[cmd.index("--out") + 1] = str(tmp_path / "cli.png")
    r = subprocess.run([sys.executable, "-m", "gan_studio.cli.main"] + cmd[1:], capture_output=True, text=True,
                       timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stderr
    gui = np.asarray(Image.open(panel.save_grid(tmp_path / "gui.png")), dtype=int)
    cli = np.asarray(Image.open(tmp_path / "cli.png"), dtype=int)
    assert gui.shape == cli.shape and np.abs(gui - cli).max() <= 1
