"""Dragging through latent space on the sampling panel's large view (panels/sampling_drag.py): a mouse drag moves a
fractional seed continuously, latest wins, the last image is the engine's render of the final position, a plain
click does nothing, the fractional seed box, and the same on both shipped models and an imported NVlabs pickle."""
from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gan_studio.engine.latent.drag import STRIDE, SeedPos
from gan_studio.engine.latent.sampling import synthesize
from gan_studio.engine.latent.state import Latent
from tests.engine.test_nvlabs import FIX, needs_fix
from tests.gui.conftest import RESOURCES, wait_loaded, wait_settled

T = 60_000
SHIPPED = ["mnist-wgan-gp", "mnist-stylegan2"]
LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def _engine_image(G, pos: SeedPos, psi: float = 1.0, codes: dict | None = None) -> torch.Tensor:
    return synthesize(G, Latent.from_position(pos, G.z_dim, codes).to_ws(G, truncation_psi=psi))[0]


def _shown(panel, pos: SeedPos) -> bool:
    """The large view shows `pos`, and no newer view is on its way."""
    pending = panel._pending_view
    return panel.latent is not None and panel.latent.position == pos and (pending is None or
                                                                            pending[1] is panel.latent)


class Drag:
    """A left-button drag on the large view: press at the centre, move past the drag distance (where the drag
    begins, so offsets count from there), then to offsets (dx, dy) from that point."""

    def __init__(self, panel) -> None:
        self.view = panel.side.image
        self.c = self.view.image_rect().center()
        self.d = QApplication.startDragDistance() + 1
        QTest.mousePress(self.view, LEFT, NONE, self.c)
        QTest.mouseMove(self.view, self.c + QPoint(self.d, 0))
        self.last = QPoint(self.d, 0)

    def move(self, dx: int, dy: int = 0) -> None:
        self.last = QPoint(self.d + dx, dy)
        QTest.mouseMove(self.view, self.c + self.last)

    def release(self) -> None:
        QTest.mouseRelease(self.view, LEFT, NONE, self.c + self.last)


def _open_shipped(qtbot, gui_env, name: str):
    from gan_studio.gui.main_window import MainWindow
    from gan_studio.gui.settings import Settings
    path = RESOURCES / f"{name}.safetensors"
    if not path.is_file():
        pytest.fail(f"the shipped model {path} is missing")
    w = MainWindow(settings=Settings(gui_env / "settings.ini"), device="cpu", model=str(path))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    wait_loaded(qtbot, w)
    panel = w.panel("sampling")
    wait_settled(qtbot, panel)
    return w, panel


@pytest.fixture(params=SHIPPED)
def shipped_window(request, qtbot, gui_env):
    w, panel = _open_shipped(qtbot, gui_env, request.param)
    yield w, panel
    w.close()


def _drag_through(qtbot, window, panel, psi: float = 1.0):
    """Drag from tile 5 in 40 steps of 4 px right and 1 px down, each shown before the next; then check."""
    G = window.ctx.model.generator()
    panel.set_psi(psi)
    wait_settled(qtbot, panel)
    panel.select_tile(5)
    seed = panel.seeds()[5]
    assert window.ctx.selected_latent.seed == seed and panel.side.position() == (seed, 0.0)
    zs = [panel.latent.z]
    drag = Drag(panel)
    for i in range(1, 41):
        drag.move(4 * i, i)
        pos = SeedPos.snapped(seed + 0.04 * i, 0.01 * i)
        qtbot.waitUntil(lambda pos=pos: _shown(panel, pos), timeout=T)
        zs.append(panel.latent.z)
        assert window.ctx.selected_latent.seed == seed, "a frame shown mid-drag was selected"
    drag.release()
    final = SeedPos(round(seed + 1.6, 2), 0.4)
    assert panel.latent.source == "frac" and panel.latent.position == final
    assert panel.side.title.text() == f"seed ({final.x:.2f}, 0.40)" and panel.side.position() == (final.x, 0.4)
    assert window.ctx.selected_latent is panel.latent                       # walks and edits start here now
    assert (panel.view_image - _engine_image(G, final, psi)).abs().max() <= 1e-5
    assert f"--seed {final.text()} " in panel.side.cli_label.text()
    z = torch.cat(zs)
    steps = (z[1:] - z[:-1]).norm(dim=1)
    jump = (Latent.from_seed(seed, G.z_dim).z - Latent.from_seed(seed + 1, G.z_dim).z).norm()
    assert steps.max() < 0.15 * jump, "the latent jumped during the drag"
    assert (z[-1] - z[0]).norm() > 0.5 * jump, "the drag did not move the latent"
    return final


def test_drag_moves_the_latent_continuously_on_both_shipped_models(shipped_window, qtbot):
    window, panel = shipped_window
    _drag_through(qtbot, window, panel, psi=0.7)
    walks = window.select_panel("walks")
    assert walks.add_current_sample() is panel.latent                       # a walk keyframe from the drag


def test_a_fast_drag_is_latest_wins_and_ends_on_the_engine_render(window, qtbot):
    panel = window.panel("sampling")
    G = window.ctx.model.generator()
    panel.select_tile(0)
    seed = panel.seeds()[0]
    shown: list[Latent] = []
    panel.view_shown.connect(shown.append)
    drag = Drag(panel)
    for i in range(1, 301):                                  # 300 moves, none waited for
        drag.move(i)
    drag.release()
    final = SeedPos.snapped(seed + 3.0)
    qtbot.waitUntil(lambda: _shown(panel, final), timeout=T)
    xs = [lat.position.x for lat in shown]
    assert xs == sorted(xs) and len(set(xs)) == len(xs), "an older position was shown after a newer one"
    assert 1 < len(shown) <= 300 and panel.latent.seed == seed + 3          # an integer seed again: its tile
    assert panel.grid.selected() == 3 and panel.side.title.text() == f"seed {seed + 3}"
    assert (panel.view_image - _engine_image(G, final)).abs().max() <= 1e-5
    assert window.ctx.selected_latent is panel.latent


def test_a_plain_click_does_not_drag(window, qtbot):
    panel = window.panel("sampling")
    panel.select_tile(2)
    before, view = panel.latent, panel.side.image
    requests = window.ctx.renderer.newest_id(panel.VIEW_TAG)
    shown: list = []
    panel.view_shown.connect(shown.append)
    c = view.image_rect().center()
    QTest.mouseClick(view, LEFT, NONE, c)
    QTest.mousePress(view, LEFT, NONE, c)                   # a wiggle under the drag distance is a click too
    QTest.mouseMove(view, c + QPoint(QApplication.startDragDistance() - 2, 1))
    QTest.mouseRelease(view, LEFT, NONE, c + QPoint(QApplication.startDragDistance() - 2, 1))
    qtbot.wait(200)
    assert shown == [] and panel.latent is before and panel.grid.selected() == 2
    assert window.ctx.renderer.newest_id(panel.VIEW_TAG) == requests and not panel.drag.active
    assert panel.side.title.text() == f"seed {panel.seeds()[2]}"
    drag = Drag(panel)                                      # the right button, or no image: no drag
    drag.release()
    QTest.mousePress(view, Qt.MouseButton.RightButton, NONE, c)
    QTest.mouseMove(view, c + QPoint(60, 0))
    QTest.mouseRelease(view, Qt.MouseButton.RightButton, NONE, c + QPoint(60, 0))
    qtbot.wait(100)
    assert panel.latent is before


def test_the_seed_box_takes_fractions(window, qtbot):
    panel = window.panel("sampling")
    G = window.ctx.model.generator()
    box = panel.side.x_box
    with qtbot.waitSignal(panel.view_shown, timeout=T):
        box.setValue(7.5)
    assert panel.latent.position == SeedPos(7.5) and panel.grid.selected() == -1
    assert panel.side.title.text() == "seed 7.50" and "--seed 7.5 " in panel.side.cli_label.text()
    assert (panel.view_image - _engine_image(G, SeedPos(7.5))).abs().max() <= 1e-5
    assert (panel.view_image - panel.grid_images[7]).abs().max() > 1e-3       # a blend, not seed 7
    assert window.ctx.selected_latent is panel.latent
    with qtbot.waitSignal(panel.view_shown, timeout=T):
        panel.side.y_box.setValue(1.0)                        # the second dimension: seed 7.5 + STRIDE
    assert panel.latent.position == SeedPos(7.5, 1.0)
    want = _engine_image(G, SeedPos(7.5 + STRIDE))
    assert (panel.view_image - want).abs().max() <= 1e-5
    panel.side.y_box.setValue(0.0)
    box.setValue(panel.seeds()[4])                           # a whole seed of the grid: its tile
    qtbot.waitUntil(lambda: panel.grid.selected() == 4, timeout=T)
    assert panel.latent.seed == panel.seeds()[4] and torch.equal(panel.view_image, panel.grid_images[4])
    assert panel.seed_box.value() == panel.seeds()[0]         # the grid's first seed stays an integer box
    panel.select_tile(9)                                     # a tile click moves the box
    assert panel.side.position() == (panel.seeds()[9], 0.0)


def _coded_model(path):
    """A conditional InfoGAN with random weights."""
    from gan_studio.engine.bundle import save_bundle
    from gan_studio.engine.models import build
    cfg = {"z_dim": 16, "width": 8, "img_resolution": 28, "img_channels": 1, "num_classes": 10, "info_cat": 4,
           "info_cont": 2}
    torch.manual_seed(1)
    G, D = build("dcgan", "generator", cfg).eval(), build("dcgan", "critic", cfg).eval()
    meta = {"kind": "image-generator", "arch": "dcgan", "config": G.cfg.to_dict(), "name": "coded",
            "z_dim": G.z_dim, "image_shape": list(G.image_shape), **G.code_layout.describe()}
    return save_bundle(path, {"generator": G, "critic": D}, meta)


def test_a_drag_keeps_the_chosen_class(window, qtbot, tmp_path):
    path = _coded_model(tmp_path / "coded.safetensors")
    window.open_path(path)
    qtbot.waitUntil(lambda: not window.loading and window.ctx.model.path == path.resolve(), timeout=T)
    panel = window.panel("sampling")
    wait_settled(qtbot, panel)
    panel.code_controls.class_box.setCurrentIndex(3 + 1)      # class 3 for every tile
    wait_settled(qtbot, panel)
    panel.select_tile(1)
    drag = Drag(panel)
    drag.move(50)
    drag.release()
    final = SeedPos.snapped(panel.seeds()[1] + 0.5)
    qtbot.waitUntil(lambda: _shown(panel, final), timeout=T)
    G = window.ctx.model.generator()
    assert panel.latent.codes == {"class": 3} and panel.side.title.text().endswith("class 3")
    assert (panel.view_image - _engine_image(G, final, codes={"class": 3})).abs().max() <= 1e-5
    assert "--class 3" in panel.side.cli_label.text().split("\n\n")[-1]


@needs_fix
@pytest.mark.parametrize("name", ["stylegan2-ada-32-rgb", "stylegan3-t-32-rgb"])
def test_drag_on_an_imported_nvlabs_model(window, qtbot, monkeypatch, name):
    from gan_studio.gui import import_dialog
    monkeypatch.setattr(window, "confirm_import", lambda *a: import_dialog.ONCE)
    path = FIX / f"{name}.pkl"
    window.open_path(path)
    qtbot.waitUntil(lambda: not window.loading and window.ctx.model.path == path.resolve(), timeout=T)
    panel = window.panel("sampling")
    wait_settled(qtbot, panel)
    _drag_through(qtbot, window, panel)
