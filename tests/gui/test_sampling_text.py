"""The Sampling tab's caption box for text-to-image models: hidden for other models; typing a caption renders the
grid's seeds with it (as `sample --text` does); an unknown word is named in red and the grid keeps its caption;
"Walk" sends both captions at the large view's seed to the Walks tab."""
from __future__ import annotations

import pytest
import torch

from gan_studio.engine.data.captions import VOCAB
from gan_studio.engine.latent.sampling import seeds_latents
from gan_studio.engine.latent.text import caption_images
from tests.conftest import save_random_model
from tests.gui.conftest import open_in_sampling

T = 60_000
TINY = {"width": 8, "z_dim": 16, "embed_dim": 8, "text_dim": 16, "cond_dim": 8, "vocab": list(VOCAB)}


@pytest.fixture
def text_model(tmp_path):
    """A gan-cls model with random weights (non-trivial batch-norm statistics)."""
    return save_random_model(tmp_path / "captions.safetensors", "gan-cls", TINY, 2, "captions",
                             lambda G: {"value_range": [-1, 1]})


def test_caption_box_is_only_for_text_models(window):
    assert not window.panel("sampling").text.isVisibleTo(window)


@pytest.mark.slow
def test_typed_caption_renders_the_grid_and_unknown_words_are_named(window, qtbot, text_model):
    panel = open_in_sampling(window, qtbot, text_model)
    box, G = panel.text, window.ctx.model.generator()
    assert box.isVisibleTo(window)
    seeds = panel.seeds()
    box.set_text("a thin upright 4")
    qtbot.waitUntil(lambda: panel.is_settled() and panel.grid_latents[0].source == "text", timeout=T)
    want = caption_images(G, "a thin upright 4", seeds_latents(seeds, G.z_dim))
    assert torch.allclose(panel.grid_images, want, atol=1e-5)
    cli = panel.side.cli_label.text()
    assert f'--text "a thin upright 4" --seed {seeds[0]} --n {len(seeds)}' in cli and "--out seed" in cli
    assert not box.message.isVisibleTo(window)
    assert panel.side.title.text().startswith('"a thin upright 4"')
    shown = panel.shown_grid_id
    box.set_text("a purple 4")
    assert box.message.isVisibleTo(window) and "purple" in box.message.text() and "known words: 0, 1" in \
        box.message.toolTip()
    qtbot.wait(50)
    assert panel.shown_grid_id == shown and box.caption == "a thin upright 4"      # the last good caption stays
    box.set_text("")
    qtbot.waitUntil(lambda: panel.is_settled() and panel.grid_latents[0].source == "seed", timeout=T)
    with qtbot.waitSignal(window.ctx.walk_requested, timeout=T) as sig:
        box.box.setText("a thick 7")
        box._apply()
        box.walk_box.setText("a wide 1")
        box.walk_btn.click()
    a, b = sig.args[0]
    assert (a.info["text"], b.info["text"]) == ("a thick 7", "a wide 1") and a.info["seed"] == b.info["seed"]
