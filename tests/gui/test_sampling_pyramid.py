"""Issue 24: a LAPGAN sample's Laplacian pyramid in the app ("Pyramid…", only for LAPGAN models) and from the CLI
(`sample --pyramid`): the window shows the large view's sample taken apart, and follows the large view."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_studio.engine.imaging import to_uint8
from gan_studio.engine.latent.sampling import seeds_latents
from gan_studio.engine.models.lapgan import pyramid_figure
from tests.conftest import save_random_model
from tests.gui.conftest import open_in_sampling, wait_settled

LAP = {"w_dim": 8, "width": 8, "mlp_width": 32, "img_resolution": 28}


@pytest.fixture
def lap_model(tmp_path):
    return save_random_model(tmp_path / "lap.safetensors", "lapgan", LAP, 3, "lap")


def _tile(grid, i) -> np.ndarray:
    img = grid.image(i).convertToFormat(grid.image(i).Format.Format_Grayscale8)
    return np.array(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[:, :img.width()]


def test_pyramid_window_shows_the_large_views_levels_and_follows_it(window, qtbot, lap_model):
    assert not window.panel("sampling").pyramid.button.isVisibleTo(window)      # the shipped DCGAN has none
    panel = open_in_sampling(window, qtbot, lap_model)
    ctl, G = panel.pyramid, window.ctx.model.generator()
    assert ctl.button.isVisibleTo(window)
    panel.select_tile(2)
    wait_settled(qtbot, panel)
    assert ctl.open()
    grid = ctl.window.grid
    assert grid.cols == 2 * G.num_ws - 1 == 5 and grid.image_count() == 5
    assert [grid.caption(i) for i in range(5)] == ["7 px", "residual 14 px", "14 px", "residual 28 px", "28 px"]
    seed = panel.seeds()[2]
    want = to_uint8(pyramid_figure(G.pyramid(G.mapping(seeds_latents([seed], G.z_dim)))))
    assert np.abs(_tile(grid, 4).astype(int) - want[4, ..., 0]).max() <= 1        # the sample itself, last
    assert np.abs(_tile(grid, 1).astype(int) - want[1, ..., 0]).max() <= 1        # the 14 px residual
    before = _tile(grid, 4).copy()
    panel.select_tile(5)
    qtbot.waitUntil(lambda: not np.array_equal(_tile(grid, 4), before), timeout=10_000)
    shot = ctl.window.grab()
    assert not shot.isNull()
    shot.save("/tmp/pyramid_window.png")


def test_pyramid_button_hides_again_for_other_models(window, qtbot, lap_model, gui_model):
    open_in_sampling(window, qtbot, lap_model)
    panel = open_in_sampling(window, qtbot, gui_model)
    assert not panel.pyramid.button.isVisibleTo(window)


def test_cli_sample_pyramid(lap_model, tmp_path, capsys):
    from gan_studio.cli.main import main
    out = tmp_path / "p.npy"
    assert main(["sample", "--model", str(lap_model), "--seed", "4", "--n", "2", "--pyramid", "--out", str(out)]) == 0
    arr = np.load(out)
    assert arr.shape == (10, 1, 28, 28)
    from gan_studio.engine.bundle import load_bundle
    G = load_bundle(lap_model).networks["generator"]
    with torch.no_grad():
        want = pyramid_figure(G.pyramid(G.mapping(seeds_latents([4, 5], G.z_dim))))
    assert np.allclose(arr, want.numpy(), atol=1e-5)
    png = tmp_path / "p.png"
    assert main(["sample", "--model", str(lap_model), "--seed", "4", "--pyramid", "--out", str(png)]) == 0


def test_cli_pyramid_refuses_other_models(tiny_model, tmp_path, capsys):
    from gan_studio.cli.main import main
    out = str(tmp_path / "x.png")
    assert main(["sample", "--model", str(tiny_model), "--seed", "0", "--pyramid", "--out", out]) != 0
    err = capsys.readouterr().err
    assert "LAPGAN" in err and "Traceback" not in err
