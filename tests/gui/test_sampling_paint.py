"""iGAN-style painting in the Sampling tab (issue 20): strokes on the canvas become a constraint, candidates that
obey them come back live (latest wins), a chosen candidate becomes the current sample, "Walk to it" fills the
Walks tab."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from tests.gui.conftest import wait_settled

T = 120_000


def test_strokes_give_candidates_that_obey_them_and_one_becomes_the_sample(window, qtbot):
    panel = window.select_panel("sampling")
    wait_settled(qtbot, panel)
    panel.select_tile(1)
    qtbot.waitUntil(lambda: panel.view_image is not None, timeout=T)
    start = panel.latent
    control = panel.paint
    win = control.open()
    try:
        qtbot.waitExposed(win)
        canvas = win.canvas
        r = canvas.image_rect()
        shown = []
        control.candidates_shown.connect(shown.append)
        # ink down the middle, no ink over the left third: a drag with the mouse, as a user paints
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         QPoint(r.center().x(), r.top() + r.height() // 5))
        for i in range(1, 11):
            QTest.mouseMove(canvas, QPoint(r.center().x(), r.top() + r.height() // 5 + i * r.height() // 18))
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           QPoint(r.center().x(), r.top() + r.height() * 3 // 4))
        win.brushes.button(1).click()                                   # "no ink"
        canvas.radius = 2.0
        QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         QPoint(r.left() + r.width() // 6, r.center().y()))
        assert canvas.stroked_pixels() > 10 and (canvas.target[:, canvas.mask > 0] > 0).any()
        qtbot.waitUntil(lambda: bool(shown) and not control.jobs.busy(), timeout=T)
        step = shown[-1]
        strokes = canvas.strokes()
        m = strokes.mask > 0
        cand_err = ((step.images[:, :, m] - strokes.target[:, m]) ** 2).mean()
        base_err = ((panel.view_image[:, m] - strokes.target[:, m]) ** 2).mean()
        assert cand_err < 0.5 * base_err                                # the candidates obey the strokes
        assert win.candidates.image_count() == len(control.shown) >= 1
        assert control.shown[0].source == "paint"
        win.candidates.tile_clicked.emit(0)
        assert panel.latent is control.shown[0] and win.walk_btn.isEnabled()
        walks = window.panel("walks")
        win.walk_btn.click()
        assert window.current_panel() is walks and walks.keys.count() == 2
        assert walks.keys.latents()[0] is start and walks.keys.latents()[1] is control.shown[0]
    finally:
        win.close()
