"""The Sampling and Walks tabs with a slow model (slow by measurement: a tiny generator that sleeps 0.15 s an
image) and with a real 256 px StyleGAN2: placeholders, then the grid painted part by part; a newer grid drops the
rest of an older one; a ψ drag renders the large view, then the grid when it rests; the status bar says how
long an image takes. A fast model keeps its one-shot grid."""
from __future__ import annotations

import re

import pytest
import torch
from PySide6.QtCore import QObject, QPoint, Slot

from gan_studio.engine.latent.sampling import generate, seeds_latents
from gan_studio.gui import theme
from tests.conftest import make_tiny_bundle
from tests.gui.conftest import wait_settled
from tests.gui.slow_model import SLOW_S, slow_loaded_model

T = 30_000


class _Recorder(QObject):
    """GUI-thread receiver of results and status messages; notes what the grid showed when each part landed."""

    def __init__(self, panel):
        super().__init__()
        self.panel, self.parts, self.status = panel, [], []

    @Slot(object)
    def on_result(self, r):
        if r.tag == self.panel.GRID_TAG:
            g = self.panel.grid
            self.parts.append((r.request_id, r.start, r.stop, g.image_count(), g.pending_count()))

    @Slot(str)
    def on_status(self, text):
        self.status.append(text)


def _recorded_to(qtbot, rec, request_id, n) -> None:
    """Until the recorder has seen the part that ends at tile `n` of request `request_id`. The panel's slot and the
    recorder's are separate queued calls of one signal: the panel can be settled, and wait_settled return, one event
    before the recorder sees the last part (a fresh-clone CI run recorded 5 of 6 parts)."""
    qtbot.waitUntil(lambda: any(p[0] == request_id and p[2] == n for p in rec.parts), timeout=T)


def _panel(qtbot, tmp_path, cls, rows=2, cols=3):
    from gan_studio.gui.settings import Settings
    from gan_studio.gui.state import AppContext
    settings = Settings(tmp_path / "settings.ini")
    settings.set_value("sampling/rows", rows)
    settings.set_value("sampling/cols", cols)
    ctx = AppContext(settings)
    panel = cls(ctx)
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    return ctx, panel


@pytest.fixture
def slow_sampling(qtbot, tmp_path):
    """A Sampling panel (2×3 grid) on a slow model, its first grid on screen: (panel, G, synthesis log, recorder)."""
    from gan_studio.gui.panels.sampling import SamplingPanel
    ctx, panel = _panel(qtbot, tmp_path, SamplingPanel)
    rec = _Recorder(panel)
    ctx.renderer.rendered.connect(rec.on_result)       # after the panel's own slot: sees what it painted
    ctx.status.connect(rec.on_status)
    model, G, log = slow_loaded_model(make_tiny_bundle(tmp_path / "slow.safetensors"))
    ctx.set_model(model)
    wait_settled(qtbot, panel, T)
    _recorded_to(qtbot, rec, panel.shown_grid_id, 6)
    yield panel, G, log, rec
    ctx.shutdown()


def _pixel(widget, point: QPoint):
    return widget.grab().toImage().pixelColor(point)


def test_a_slow_grid_shows_placeholders_then_fills_part_by_part(qtbot, slow_sampling):
    panel, G, log, rec = slow_sampling
    assert panel.is_slow() and panel.ctx.renderer.seconds_per_image(G) >= SLOW_S
    first = [p for p in rec.parts if p[0] == panel.shown_grid_id]
    assert [p[1:3] for p in first] == [(i, i + 1) for i in range(6)]             # the probe, then one at a time
    assert [p[3] for p in first] == [1, 2, 3, 4, 5, 6] and [p[4] for p in first] == [5, 4, 3, 2, 1, 0]
    rec.parts.clear()
    panel.set_first_seed(40)
    rid = panel.pending_grid_id
    g = panel.grid
    assert g.pending_count() == 6 and g.image_count() == 0, "no placeholders before the first part"
    assert [g.caption(i) for i in range(6)] == [str(40 + i) for i in range(6)]   # the new seeds at once
    corner = g.tile_rect(4).topLeft() + QPoint(4, 4)
    assert _pixel(g, corner) == theme.EMPTY_TILE
    qtbot.waitUntil(lambda: any(p[0] == rid and p[1] == 4 for p in rec.parts), timeout=T)
    assert _pixel(g, corner) != theme.EMPTY_TILE                                  # tile 4 painted as it landed
    wait_settled(qtbot, panel, T)
    _recorded_to(qtbot, rec, rid, 6)
    assert [p[3] for p in rec.parts if p[0] == rid] == [1, 2, 3, 4, 5, 6]
    assert max(log.batches) == 1                                                  # (before generate below)
    want = generate(G, seeds_latents(range(40, 46), G.z_dim))
    assert (panel.grid_images - want).abs().max() <= 1e-5 and g.pending_count() == 0


def test_the_status_bar_says_how_long_an_image_takes(qtbot, slow_sampling):
    panel, _G, _log, rec = slow_sampling
    parts = [s for s in rec.status if s.startswith("Rendering the grid")]
    assert re.fullmatch(r"Rendering the grid: 3 / 6 · 0\.\d\d s per image · 28×28", parts[2])
    assert re.fullmatch(r"Rendered 6 samples in \d+ ms · 0\.\d\d s per image · 28×28", rec.status[-1]) or \
        re.fullmatch(r"Rendered 6 samples in \d\.\d s · 0\.\d\d s per image · 28×28", rec.status[-1])


def test_a_newer_grid_drops_the_rest_of_an_older_one(qtbot, slow_sampling):
    panel, G, log, rec = slow_sampling
    painted = []
    real = panel.grid.set_tiles
    panel.grid.set_tiles = lambda start, px: painted.append((panel.fill.rid, start)) or real(start, px)
    rec.parts.clear()
    panel.set_first_seed(300)
    old = panel.pending_grid_id
    qtbot.waitUntil(lambda: any(p[0] == old for p in rec.parts), timeout=T)
    batches_before = log.count()
    panel.set_first_seed(500)
    new = panel.pending_grid_id
    assert new != old
    seen = len(painted)
    wait_settled(qtbot, panel, T)
    assert all(rid == new for rid, _ in painted[seen:]), "a part of the superseded grid was painted"
    assert [s for rid, s in painted if rid == new] == list(range(6))
    assert log.count() - batches_before <= 6 + 1, "the older grid went on rendering"
    assert [panel.grid.caption(i) for i in range(6)] == [str(500 + i) for i in range(6)]
    want = generate(G, seeds_latents(range(500, 506), G.z_dim))
    assert (panel.grid_images - want).abs().max() <= 1e-5


class _Submits:
    def __init__(self, renderer):
        self.tags, real = [], renderer.submit
        renderer.submit = lambda req: self.tags.append(req.tag) or real(req)


def test_a_psi_drag_previews_the_large_view_then_renders_the_grid_at_rest(qtbot, slow_sampling):
    panel, G, _log, rec = slow_sampling
    panel.select_tile(2)
    subs, views = _Submits(panel.ctx.renderer), []
    panel.view_shown.connect(views.append)
    old_grid = panel.grid_images.clone()
    for psi in (0.9, 0.8, 0.7, 0.6):                    # a drag: changes well inside the rest time
        panel.psi_slider.setValue(psi)
        qtbot.wait(20)
    assert set(subs.tags) == {panel.VIEW_TAG} and panel.rest.waiting()
    assert panel.grid.pending_count() == 0 and panel.grid.image_count() == 6      # the old grid stays meanwhile
    qtbot.waitUntil(lambda: bool(views), timeout=T)                              # the preview: the large view
    qtbot.waitUntil(lambda: panel.GRID_TAG in subs.tags, timeout=T)               # the drag rested
    assert subs.tags.count(panel.GRID_TAG) == 1
    wait_settled(qtbot, panel, T)
    want = generate(G, seeds_latents(panel.seeds(), G.z_dim), truncation_psi=0.6)
    assert (panel.grid_images - want).abs().max() <= 1e-5 and (panel.grid_images - old_grid).abs().max() > 1e-3
    assert (panel.view_image - want[2]).abs().max() <= 1e-5 and panel.latent.seed == panel.seeds()[2]
    assert any(re.fullmatch(rf"seed {panel.seeds()[2]}: 0\.\d\d s per image · 28×28", s) for s in rec.status)


def test_letting_the_slider_go_renders_the_grid_at_once(qtbot, slow_sampling):
    panel, _G, _log, _rec = slow_sampling
    subs = _Submits(panel.ctx.renderer)
    panel.psi_slider.setSliderDown(True)
    panel.psi_slider.setValue(0.5)
    assert panel.GRID_TAG not in subs.tags and panel.rest.waiting()
    panel.psi_slider.setSliderDown(False)               # emits sliderReleased
    assert subs.tags[-1] == panel.GRID_TAG and not panel.rest.waiting()
    wait_settled(qtbot, panel, T)


def test_a_fast_model_renders_its_grid_whole_without_placeholders(window, qtbot):
    panel = window.panel("sampling")
    assert not panel.is_slow()
    pendings, subs, rec = [], _Submits(window.ctx.renderer), _Recorder(panel)
    window.ctx.status.connect(rec.on_status)
    real = panel.grid.set_pending
    panel.grid.set_pending = lambda captions: pendings.append(captions) or real(captions)
    panel.select_tile(1)
    subs.tags.clear()
    panel.psi_slider.setValue(0.8)
    assert subs.tags == [panel.VIEW_TAG, panel.GRID_TAG]                          # both at once, as before
    wait_settled(qtbot, panel)
    panel.set_first_seed(77)
    wait_settled(qtbot, panel)
    assert pendings == [] and panel.grid.image_count() == panel.grid.count()
    shape, n = panel.grid_images.shape, panel.grid.count()
    grid_lines = [m for m in rec.status if m.startswith("Rendered")]     # other tabs may report meanwhile
    assert grid_lines and re.fullmatch(
        rf"Rendered {n} samples in \d+ ms · \d+\.\d ms per image · {shape[-1]}×{shape[-2]}", grid_lines[-1])
    assert window.statusBar().currentMessage() == rec.status[-1]          # what the main window shows


def test_a_walk_frame_does_not_wait_for_a_slow_grid(qtbot, tmp_path):
    """Walks on a slow model: a frame renders between the grid's parts, and the status bar gives its time."""
    from gan_studio.gui.panels.sampling import SamplingPanel
    from gan_studio.gui.panels.walks import WalksPanel
    ctx, sampling = _panel(qtbot, tmp_path, SamplingPanel, rows=3, cols=4)
    walks = WalksPanel(ctx)
    qtbot.addWidget(walks)
    rec = _Recorder(sampling)
    ctx.status.connect(rec.on_status)
    model, G, _log = slow_loaded_model(make_tiny_bundle(tmp_path / "slow.safetensors"))
    try:
        shown = []
        walks.frame_shown.connect(shown.append)
        ctx.set_model(model)
        qtbot.waitUntil(lambda: bool(shown), timeout=T)
        assert not sampling.is_settled(), "the frame waited for the whole 12-tile grid"
        assert any(re.fullmatch(r"Frame 0: 0\.\d\d s per frame · 28×28", s) for s in rec.status)
        wait_settled(qtbot, sampling, T)
    finally:
        ctx.shutdown()


@pytest.fixture(scope="module")
def stylegan_256(tmp_path_factory):
    """Our StyleGAN2 at 256 px RGB with random weights (narrow, so a CPU renders it in well under a second)."""
    from gan_studio.engine.bundle import save_bundle
    from gan_studio.engine.models import build
    torch.manual_seed(0)
    cfg = {"img_resolution": 256, "img_channels": 3, "channel_base": 2048, "channel_max": 64, "z_dim": 64,
           "w_dim": 64, "mapping_layers": 2}
    G, D = build("stylegan2", "generator", cfg).eval(), build("stylegan2", "critic", cfg).eval()
    meta = {"kind": "image-generator", "arch": "stylegan2", "config": G.cfg.to_dict(), "name": "sg2-256",
            "z_dim": G.z_dim, "image_shape": list(G.image_shape), "value_range": [-1, 1]}
    return save_bundle(tmp_path_factory.mktemp("sg2") / "sg2-256.safetensors", {"generator": G, "critic": D}, meta)


def test_a_256px_stylegan2_opens_and_renders_in_parts(window, qtbot, stylegan_256):
    from gan_studio.engine.render_plan import max_batch
    panel = window.panel("sampling")
    rec = _Recorder(panel)
    window.ctx.renderer.rendered.connect(rec.on_result)
    window.ctx.status.connect(rec.on_status)
    window.open_path(stylegan_256)
    qtbot.waitUntil(lambda: not window.loading and window.ctx.model.path == stylegan_256.resolve(), timeout=T)
    wait_settled(qtbot, panel, 60_000)
    _recorded_to(qtbot, rec, panel.shown_grid_id, 16)
    G = window.ctx.model.generator()
    assert panel.grid_images.shape == (16, 3, 256, 256) and panel.grid.image_count() == 16
    want = generate(G, seeds_latents(panel.seeds(), G.z_dim))
    assert (panel.grid_images - want).abs().max() <= 1e-5
    parts = [p for p in rec.parts if p[0] == panel.shown_grid_id]
    assert len(parts) >= 2 and parts[0][1:3] == (0, 1)                # a probe first: its speed was unknown
    assert max(b - a for _, a, b, _, _ in parts) <= max_batch((3, 256, 256))
    assert window.ctx.renderer.seconds_per_image(G, "cpu") is not None
    assert any(re.fullmatch(r"Rendered 16 samples in .* per image · 256×256", s) for s in rec.status)
