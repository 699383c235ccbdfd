"""Widgets that must not clip or cover (issue 21, findings 5, 8, 9): grid captions under the image, the export
bar's outcome line, the loss legend above the curves; and the first samples of a training run at step 0."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QFontMetrics

from gan_studio.gui.widgets.export_bar import ElidedLabel, human_size, png_frame_paths, saved_message
from gan_studio.gui.widgets.image_grid import ImageGrid
from gan_studio.gui.widgets.loss_curves import LossCurves


def _grid(qtbot, w: int, h: int, n: int = 16, cols: int = 4, caption: str = "seed {}") -> ImageGrid:
    g = ImageGrid(n // cols, cols)
    qtbot.addWidget(g)
    g.resize(w, h)
    g.show()
    px = np.zeros((n, 28, 28, 1), np.uint8)
    g.set_images(px, [caption.format(i) for i in range(n)])
    return g


def test_captions_sit_under_the_digits_never_over_them(qtbot):
    g = _grid(qtbot, 600, 640)
    for i in range(g.count()):
        tile, cap = g.tile_rect(i), g.caption_rect(i)
        assert cap.height() > 0 and not tile.intersects(cap) and cap.top() == tile.bottom() + 1
        assert g.shown_caption(i) == f"seed {i}"
        assert g.index_at(cap.center()) == i                              # a click on the caption picks the tile
    assert not g.tile_rect(0).intersects(g.tile_rect(1)) and not g.caption_rect(0).intersects(g.tile_rect(4))


def test_long_captions_are_elided_to_their_cell_and_tiny_cells_drop_them(qtbot):
    g = _grid(qtbot, 420, 460, caption="seed 123456789 · class 7 · ψ 0.70 · {}")
    fm_width = QFontMetrics(g.caption_font())
    for i in range(g.count()):
        text = g.shown_caption(i)
        assert text.endswith("…") and fm_width.horizontalAdvance(text) <= g.caption_rect(i).width()
    g.resize(150, 150)                                                   # cells below MIN_CAPTION_SIDE
    assert g.caption_rect(0).height() == 0 and g.shown_caption(0) == ""
    assert g.caption(0).startswith("seed 123456789")                      # still the tooltip's text


def test_an_export_says_what_it_wrote_and_how_big(tmp_path):
    gif = tmp_path / "walk.gif"
    gif.write_bytes(b"x" * 1234567)
    assert saved_message(gif) == ("Saved walk.gif (1.2 MB)", gif)
    frames = png_frame_paths(tmp_path / "walk.png", 3)
    assert [f.name for f in frames] == ["walk_0000.png", "walk_0001.png", "walk_0002.png"]
    for f in frames:
        f.write_bytes(b"y" * 500)
    text, reveal = saved_message(tmp_path / "walk.png", 3)
    assert text == "Saved 3 PNG frames walk_0000.png … walk_0002.png (1.5 KB)" and reveal == frames[0]
    assert human_size(999) == "999 bytes" and human_size(2_500_000_000) == "2.5 GB"


def test_the_outcome_line_elides_instead_of_widening_its_row(qtbot):
    label = ElidedLabel("Saved " + "a-very-long-file-name-" * 20 + ".gif (1.2 MB)")
    qtbot.addWidget(label)
    label.resize(200, 20)
    assert label.minimumSizeHint().width() == 0
    shown = label.shown_text()
    assert "…" in shown and label.fontMetrics().horizontalAdvance(shown) <= 200
    assert label.toolTip() == label.text()                               # the whole text on hover


def test_the_loss_legend_names_every_curve_in_full_above_the_plot(qtbot):
    c = LossCurves()
    qtbot.addWidget(c)
    c.resize(420, 260)
    c.show()
    c.add(1, {"d_loss": 0.1, "g_loss": 0.2, "penalty": 0.3, "wasserstein": 0.4})
    assert c.legend_entries() == ["critic loss", "generator loss", "penalty", "Wasserstein estimate"]
    assert "Wasserstein estimate" in c.legend.text()                      # not "Wasserstein estima"
    assert c.legend.geometry().bottom() < c.loss_plot.geometry().top() + 1   # over the plot, not on it
    c.clear()
    assert c.legend.text() == ""


def test_a_training_run_shows_samples_from_its_first_step(tmp_path, tiny_dataset):
    from gan_studio.engine.training.loop import TrainConfig, train
    cfg = TrainConfig(data=str(tiny_dataset), arch="dcgan", arch_config={"width": 8, "z_dim": 16}, loss="ns",
                      steps=3, batch=16, seed=0, sample_every=10**6, checkpoint_every=10**6, device="cpu")
    progress = list(train(cfg, tmp_path / "m.safetensors"))
    assert [p.step for p in progress] == [1, 2, 3]
    assert [p.samples is not None for p in progress] == [True, False, True]        # the first step and the last
    assert progress[0].samples.shape[0] == 64 and progress[0].diversity is not None
    assert (tmp_path / "m.samples.png").is_file()
