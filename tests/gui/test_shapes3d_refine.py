"""The 3D tab's refinement control: the steps box (off by default, its cost beside it) refines images and test
objects as `VoxelModel.reconstruct(view, refine=N)` does, redoes the shape on screen when changed, and the
command line carries --refine."""
from __future__ import annotations

import numpy as np
from PIL import Image

from tests.gui.test_shapes3d_panel import _hand_made_grid, _show, engine_model, voxel_model, win3d  # noqa: F401

SHOT = "/tmp/shot-3d-refine.png"


def test_refine_steps_reconstruct_as_the_engine_and_cost_is_shown(win3d, qtbot, tmp_path, engine_model):  # noqa: F811
    from gan_studio.engine.data.views import render_voxels
    from gan_studio.engine.image_input import load_view
    window, panel = win3d
    c = panel.controls
    assert c.refine_spin.value() == 0 and c.refine_cost.text() == "encoder only" and c.refine_spin.isEnabled()
    assert "ms a step" in c.refine_spin.toolTip()
    img = (render_voxels(_hand_made_grid() > 0.5, 30, 20, 96, style="lines") * 255).astype(np.uint8)
    Image.fromarray(255 - img).save(tmp_path / "drawing.png")                 # dark lines on white paper
    plain = _show(qtbot, panel, panel.open_image, tmp_path / "drawing.png")
    assert "refine" not in plain.extra and "--refine" not in panel.command_line()
    with qtbot.waitSignal(panel.shape_shown, timeout=120_000) as sig:
        c.refine_spin.setValue(3)                                             # the shape on screen, refined
    shape = sig.args[0]
    view = load_view(tmp_path / "drawing.png", engine_model.image_size)
    np.testing.assert_allclose(shape.probs, engine_model.reconstruct(view, refine=3), atol=1e-5)
    assert shape.extra["refine"] == 3 and shape.extra["refine_ms"] > 0
    assert "refined 3 steps" in panel.stage.input_caption.text() and "s a shape" in c.refine_cost.text()
    assert " --refine 3 " in panel.command_line()
    qtbot.wait(300)                                                           # the layout settles
    window.grab().save(SHOT)
