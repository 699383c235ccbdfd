"""The Translate tab (issue 23): drawing gives a live translation equal to the engine's, a cycle model shows the
input, its translation and the round trip with a direction switch, super-resolution shows input / bicubic / output
at their sizes with a shared zoom, the sample view and files feed it, bad inputs are one message, a latent model
leaves the tab saying what it shows, a translation model opened in the main list is routed here.

Random-weight translation models from the engine's `save_random_translator` (the real file format), so nothing
here depends on trained models; one test opens each shipped translation model when there is one.
"""
from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from gan_studio.cli.main import main
from gan_studio.engine.translation import save_random_translator
from tests.gui.conftest import wait_loaded

T = 60_000
RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def _shipped_translators() -> list[Path]:
    from gan_studio.engine.bundle import read_metadata
    from gan_studio.engine.errors import ModelFileError
    out = []
    for p in sorted(RESOURCES.glob("*.safetensors")):
        try:
            if read_metadata(p).get("kind") == "translation-model":
                out.append(p)
        except ModelFileError:
            continue
    return out


@pytest.fixture
def models(tmp_path) -> dict[str, Path]:
    d = tmp_path / "translators"
    return {"pix2pix": save_random_translator(d / "strokes2digits.safetensors", "pix2pix",
                                              domains=("strokes", "digits")),
            "cycle": save_random_translator(d / "cycle.safetensors", "cyclegan", domains=("thin", "thick"), seed=1),
            "sr": save_random_translator(d / "sr4.safetensors", "srgan", seed=2)}


def _panel(window, qtbot, path: Path):
    """The Translate tab with the model at `path` open in it (by its own chooser), settled."""
    panel = window.select_panel("translate")
    ready = []
    panel.model_ready.connect(ready.append)
    panel.open_model(path)
    qtbot.waitUntil(lambda: panel.translator is not None and panel.model_path == str(path.resolve())
                    and not panel.jobs.busy(), timeout=T)
    return panel


def _settle(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: not panel.jobs.busy(), timeout=T)


def _drag(canvas, points) -> None:
    """A left-button drag through image-pixel points, as a user draws."""
    r = canvas.image_rect()
    at = [QPoint(int(r.left() + x * r.width() / canvas.shape[2]), int(r.top() + y * r.height() / canvas.shape[1]))
          for x, y in points]
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at[0])
    for p in at[1:]:
        QTest.mouseMove(canvas, p)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at[-1])


def _shown(view) -> np.ndarray:
    """The pixels a PixelView / ZoomCompare tile holds, (H, W) gray uint8."""
    img = view.convertToFormat(view.Format.Format_Grayscale8)
    return np.array(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[:, :img.width()]


def test_drawing_gives_a_live_translation_equal_to_the_engines(window, qtbot, models):
    panel = _panel(window, qtbot, models["pix2pix"])
    t, canvas = panel.translator, panel.canvas
    assert t.drawable and canvas.editable() and panel.controls.draw_box.isVisible()
    assert canvas.shape == t.input_shape and panel.controls.width_box.value() == t.pen_width
    assert panel.result is None and not panel.stage.output_view.has_image()         # blank: nothing to translate
    shown = []
    panel.translated.connect(shown.append)
    _drag(canvas, [(8, 6), (20, 6), (14, 22)])                                     # a "7", white on black
    qtbot.waitUntil(lambda: bool(shown) and not panel.jobs.busy(), timeout=T)
    drawn = canvas.image()
    assert set(np.unique(drawn)) == {-1.0, 1.0} and canvas.drawn_pixels() > 30      # a binary 3 px pen
    want = t.translate(torch.from_numpy(drawn), "a2b")
    assert torch.equal(panel.result.input, torch.from_numpy(drawn))                # the latest drawing won
    assert torch.allclose(panel.result.output, want)
    expected = ((want.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)[0].numpy()
    assert np.array_equal(_shown(panel.stage.output_view.image()), expected)
    n = len(shown)
    panel.controls.tools.button(1).click()                                          # the eraser
    _drag(canvas, [(14, 6), (14, 22)])
    qtbot.waitUntil(lambda: len(shown) > n and not panel.jobs.busy(), timeout=T)
    assert canvas.drawn_pixels() < (np.abs(drawn + 1) > 0).sum()
    assert torch.allclose(panel.result.output, t.translate(torch.from_numpy(canvas.image())))
    panel.controls.clear_btn.click()
    assert canvas.is_empty() and panel.result is None
    panel.controls.undo_btn.click()
    _settle(qtbot, panel)
    assert canvas.drawn_pixels() > 0 and panel.result is not None                   # undo brings it back


def test_a_cycle_model_shows_three_images_and_the_direction_switch_swaps(window, qtbot, models, tmp_path):
    panel = _panel(window, qtbot, models["cycle"])
    t = panel.translator
    assert t.kind == "cycle" and panel.controls.direction_box.isVisible()
    src = np.zeros((40, 40), np.uint8)
    src[10:30, 15:25] = 255
    from PIL import Image
    Image.fromarray(src).save(tmp_path / "bar.png")
    panel.open_image(tmp_path / "bar.png")
    _settle(qtbot, panel)
    x = t.load_image(tmp_path / "bar.png")[0]                                     # the engine's reading of it
    r = panel.result
    assert torch.allclose(r.input, x) and torch.allclose(r.output, t.translate(x, "a2b"))
    assert torch.allclose(r.recon, t.round_trip(x, "a2b"), atol=1e-6)
    s = panel.stage
    assert s.output_view.has_image() and s.recon_view.has_image() and s.recon_view.isVisible()
    assert "thin" in s.input_caption.text() and "A → B · thick" in s.output_caption.text()
    assert "Round trip → thin" in s.recon_caption.text()
    panel.controls.directions.button(1).click()                                     # B -> A
    _settle(qtbot, panel)
    r = panel.result
    assert r.direction == "b2a" and torch.allclose(r.output, t.translate(x, "b2a"))
    assert torch.allclose(r.recon, t.round_trip(x, "b2a"), atol=1e-6)
    assert "thick" in s.input_caption.text() and "B → A · thin" in s.output_caption.text()
    line = panel.command_line()
    assert "--direction b2a" in line and f"--image {tmp_path / 'bar.png'} " in line and "--fit" in line
    saved = panel.save_output(tmp_path / "gui.png")
    argv = shlex.split(line.replace("translated.png", str(tmp_path / "cli.png")))[1:]
    assert main(argv) == 0                                                          # the line shown makes it too
    assert np.array_equal(np.asarray(Image.open(saved)), np.asarray(Image.open(tmp_path / "cli.png")))
    window.resize(1024, 640)                                                        # three columns fit sideways
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=T)
    assert panel.minimumSizeHint().width() <= window._scrolls["translate"].viewport().width()


def test_a_switch_between_domains_of_other_shapes_refits_the_input(window, qtbot, tmp_path):
    path = save_random_translator(tmp_path / "gray2rgb.safetensors", "cyclegan", config={"out_channels": 3},
                                  domains=("gray", "colour"))
    panel = _panel(window, qtbot, path)
    from PIL import Image
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[8:24, 8:24] = (255, 40, 0)
    Image.fromarray(rgb).save(tmp_path / "red.png")
    panel.open_image(tmp_path / "red.png")
    _settle(qtbot, panel)
    assert tuple(panel.result.input.shape) == (1, 28, 28) and tuple(panel.result.output.shape) == (3, 28, 28)
    panel.set_direction("b2a")                                    # colour -> gray: the file is read again in RGB
    _settle(qtbot, panel)
    r = panel.result
    assert r.direction == "b2a" and tuple(r.input.shape) == (3, 28, 28) and tuple(r.output.shape) == (1, 28, 28)
    assert r.input[0].max() > 0.9 and r.input[2].max() < -0.9 and tuple(r.recon.shape) == (3, 28, 28)
    panel.canvas.clear()                                          # a blank input: no translation shown
    panel.set_direction("a2b")
    _settle(qtbot, panel)
    assert panel.canvas.shape == (1, 28, 28) and panel.result is None


def test_super_resolution_shows_input_bicubic_and_output_at_their_sizes(window, qtbot, models, tmp_path):
    panel = _panel(window, qtbot, models["sr"])
    t = panel.translator
    assert t.kind == "sr" and t.upscale_factor == 4
    s = panel.stage
    assert s.zoom.isVisible() and not s.output_view.isVisible() and panel.controls.zoom_box.isVisible()
    rng = np.random.default_rng(0)
    np.save(tmp_path / "low.npy", rng.uniform(-1, 1, t.input_shape).astype(np.float32))
    panel.open_image(tmp_path / "low.npy")                                          # an array of the exact shape
    _settle(qtbot, panel)
    x = torch.from_numpy(np.load(tmp_path / "low.npy"))
    assert s.zoom.count() == 3
    sizes = [(s.zoom.image(i).width(), s.zoom.image(i).height()) for i in range(3)]
    assert sizes == [(7, 7), (28, 28), (28, 28)]
    assert torch.allclose(panel.result.bicubic, t.bicubic(x)) and torch.allclose(panel.result.output, t.translate(x))
    assert "Bicubic ×4" in s.zoom.caption(1) and "SRGAN ×4" in s.zoom.caption(2)
    panel.controls.zoom_slider.setValue(4)
    assert s.zoom.zoom == 4
    assert s.zoom.source_rect(s.zoom.image(0)).width() == pytest.approx(7 / 4)      # the same part of each image
    assert s.zoom.source_rect(s.zoom.image(2)).width() == pytest.approx(28 / 4)


def test_bad_inputs_are_one_clear_message(window, qtbot, models, tmp_path, gui_model):
    panel = _panel(window, qtbot, models["pix2pix"])
    errors = []
    window.ctx.error.connect(errors.append)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    panel.open_image(bad)
    qtbot.waitUntil(lambda: bool(errors), timeout=T)
    assert errors[-1].startswith("Cannot use this input: broken.png") and "\n" not in errors[-1]
    np.save(tmp_path / "rgb.npy", np.zeros((3, 28, 28), np.float32))
    panel.open_image(tmp_path / "rgb.npy")
    qtbot.waitUntil(lambda: len(errors) > 1, timeout=T)
    assert "takes 1-channel 28x28 images, not 3x28x28" in errors[-1] and "\n" not in errors[-1]
    assert window.banner.kind() == "error" and panel.result is None
    panel.open_model(gui_model)                                                     # a latent model, not ours
    qtbot.waitUntil(lambda: len(errors) > 2, timeout=T)
    assert "not a translation model" in errors[-1] and "\n" not in errors[-1]
    assert window.statusBar().currentMessage() == ""            # "Opening …" is gone once the error shows
    assert panel.translator is not None and panel.translator.family == "pix2pix"    # the tab keeps its model


def test_the_sample_view_feeds_the_model_and_a_latent_model_leaves_the_tab_saying_so(window, qtbot, models):
    sampling = window.panel("sampling")
    sampling.select_tile(1)
    qtbot.waitUntil(lambda: window.ctx.selected_image is not None, timeout=T)
    panel = _panel(window, qtbot, models["pix2pix"])
    gen = window.ctx.model
    assert gen.kind == "image-generator" and gen.name in panel.stage.note.text()
    assert panel.translator.name in panel.stage.note.text()                      # says what it shows
    panel.use_sample_view()
    _settle(qtbot, panel)
    t = panel.translator
    from gan_studio.engine.image_input import fit_pixels
    img = window.ctx.selected_image
    b = fit_pixels(((img + 1) / 2).permute(1, 2, 0).numpy(), t.output_shape)
    assert torch.equal(panel.result.input, t.derive_input(b)[0])                 # the sampled digit's strokes
    assert panel.input.source == "sample" and "strokes" in panel.stage.info.text()
    panel.open_model(models["sr"])                                  # the sample view follows, fitted to SR's input
    qtbot.waitUntil(lambda: panel.translator.kind == "sr" and panel.result is not None and not panel.jobs.busy(),
                    timeout=T)
    assert panel.input.source == "sample" and tuple(panel.result.input.shape) == panel.translator.input_shape


def test_the_sample_view_goes_through_the_transform_only_into_domain_a(window, qtbot, tmp_path):
    path = save_random_translator(tmp_path / "outlines.safetensors", "cyclegan", transform="edges",
                                  domains=("outlines", "digits"))
    window.panel("sampling").select_tile(2)
    qtbot.waitUntil(lambda: window.ctx.selected_image is not None, timeout=T)
    panel = _panel(window, qtbot, path)
    t = panel.translator
    assert t.drawable and panel.controls.width_box.value() == 1.0 and "edges of digits" in \
        panel.controls.draw_note.text()
    panel.use_sample_view()
    _settle(qtbot, panel)
    from gan_studio.engine.image_input import fit_pixels
    digit = fit_pixels(((window.ctx.selected_image + 1) / 2).permute(1, 2, 0).numpy(), t.output_shape)[0]
    assert torch.equal(panel.result.input, t.derive_input(digit))                 # A: the digit's outlines
    panel.set_direction("b2a")
    _settle(qtbot, panel)
    assert torch.equal(panel.result.input, digit) and panel.result.direction == "b2a"   # B: the digit itself
    assert torch.allclose(panel.result.output, t.translate(digit, "b2a"))


def test_a_translation_model_opened_in_the_list_is_routed_here_and_a_latent_one_keeps_it(window, qtbot, models,
                                                                                         gui_model, tmp_path):
    window.open_path(models["cycle"])
    qtbot.waitUntil(lambda: window.current_panel().name == "translate", timeout=T)
    panel = window.panel("translate")
    qtbot.waitUntil(lambda: panel.translator is not None and panel.translator.kind == "cycle", timeout=T)
    assert "image-to-image" in window.banner.text()
    errors = []
    window.ctx.error.connect(errors.append)
    panel.use_sample_view()                                   # the Sampling tab has nothing to show now
    qtbot.waitUntil(lambda: bool(errors), timeout=T)
    assert "the Sampling tab shows no image" in errors[-1] and "\n" not in errors[-1]
    src = tmp_path / "bar.png"
    from PIL import Image
    Image.fromarray(np.full((20, 20), 255, np.uint8)).save(src)
    panel.open_file(src)                                      # what a drop does with an image: the input
    _settle(qtbot, panel)
    assert panel.input.path == str(src) and panel.result is not None
    window.open_path(gui_model)
    wait_loaded(qtbot, window)
    qtbot.waitUntil(lambda: window.ctx.model.kind == "image-generator", timeout=T)
    assert panel.translator.kind == "cycle" and window.ctx.model.name in panel.stage.note.text()


@pytest.mark.parametrize("path", _shipped_translators(), ids=lambda p: p.stem)
def test_a_shipped_translation_model_translates_in_the_tab(window, qtbot, path):
    panel = _panel(window, qtbot, path)
    t = panel.translator
    window.panel("sampling").select_tile(0)
    qtbot.waitUntil(lambda: window.ctx.selected_image is not None, timeout=T)
    panel.use_sample_view()
    _settle(qtbot, panel)
    assert panel.result is not None and tuple(panel.result.output.shape) == t.shapes(panel.direction)[1]


@pytest.mark.parametrize("width, rows", [(3.0, 3), (1.0, 1)])
def test_the_pen_draws_lines_as_wide_as_the_training_strokes_wherever_the_pointer_runs(qtbot, width, rows):
    """The training strokes are a 1 px path dilated by 3 x 3 (edges: 1 px lines); a pen disc centred on the pointer
    itself made 2- or 3-px lines with bumps, depending on where between pixel centres the drag ran."""
    from gan_studio.gui.widgets.sketch_canvas import SketchCanvas
    canvas = SketchCanvas()
    qtbot.addWidget(canvas)
    canvas.set_shape((1, 28, 28), ink=1.0, paper=-1.0)
    canvas.width_px = width
    for y in (10.0, 10.25, 10.5, 10.99):                              # on a pixel edge, between, on a centre
        canvas.clear()
        canvas.stroke([(4.3, y), (20.7, y)])                          # horizontal
        ink = canvas.image()[0] > 0
        assert ink.sum(0)[5:20].tolist() == [rows] * 15 and ink.any(1).sum() == rows, y
        canvas.clear()
        canvas.stroke([(y, 4.3), (y, 20.7)])                          # vertical
        ink = canvas.image()[0] > 0
        assert ink.sum(1)[5:20].tolist() == [rows] * 15 and ink.any(0).sum() == rows, y


def test_the_input_follows_to_another_model_and_nothing_stale_stays_on_screen(window, qtbot, models, tmp_path):
    """SRGAN then SRResNet on one file without opening it again (the same input domain; the sample view follows
    to any model, as the existing tests show it fitted); a switch or Clear leaves no old time, source or command
    line; a drawing after Clear is a drawing, not one over the file."""
    from PIL import Image
    srresnet = save_random_translator(tmp_path / "srresnet4.safetensors", "srresnet", seed=4)
    Image.fromarray(np.eye(7, dtype=np.uint8) * 255).save(tmp_path / "diag.png")
    panel = _panel(window, qtbot, models["sr"])
    panel.open_image(tmp_path / "diag.png")
    _settle(qtbot, panel)
    assert "diag.png" in panel.stage.info.text() and "--model" in panel.controls.cli_label.text()
    panel.open_model(srresnet)
    qtbot.waitUntil(lambda: panel.translator.family == "srresnet" and panel.result is not None
                    and not panel.jobs.busy(), timeout=T)
    t = panel.translator
    x = t.load_image(tmp_path / "diag.png")[0]
    assert panel.input.path == str(tmp_path / "diag.png") and torch.allclose(panel.result.output, t.translate(x))
    assert "diag.png" in panel.stage.info.text() and "srresnet4" in panel.controls.cli_label.text()
    panel.open_model(models["pix2pix"])                              # strokes, not 7 px digits: a blank input
    qtbot.waitUntil(lambda: panel.translator.family == "pix2pix" and not panel.jobs.busy(), timeout=T)
    assert panel.canvas.is_empty() and panel.result is None and panel.input is None
    assert panel.stage.info.text() == "" and panel.controls.cli_label.text() == ""
    panel.open_image(tmp_path / "diag.png")
    _settle(qtbot, panel)
    panel.controls.clear_btn.click()
    _settle(qtbot, panel)
    assert panel.input is None and panel.stage.info.text() == "" and panel.controls.cli_label.text() == ""
    _drag(panel.canvas, [(8, 6), (20, 6), (14, 22)])
    _settle(qtbot, panel)
    assert "from a drawing (" in panel.stage.info.text() and "diag.png" not in panel.stage.info.text()
    panel.open_model(models["cycle"])                                # a drawing stays with the model it was for
    qtbot.waitUntil(lambda: panel.translator.kind == "cycle" and not panel.jobs.busy(), timeout=T)
    assert panel.canvas.is_empty() and panel.result is None
    assert panel.stage.info.text() == "" and panel.controls.cli_label.text() == ""


def test_the_chooser_line_names_the_family_as_its_paper_and_the_measured_figures():
    from types import SimpleNamespace

    from gan_studio.gui.widgets.translate_controls import TranslatorChooser
    bench = {"split": "test", "psnr": 21.07, "fid": 7.39}
    sr = SimpleNamespace(family="srgan", domains=("7 px digits", "28 px digits"), input_size=7, output_size=28,
                         meta={"training": {"step": 2000}, "metrics": {"bench_translation": bench}})
    line = TranslatorChooser.summary(None, sr)
    assert line == "SRGAN · 7 px digits → 28 px digits · 2,000 steps · PSNR 21.1 dB, FID 7.4 (test set)"
    cycle = SimpleNamespace(family="discogan", domains=("outlines", "digits"), input_size=28, output_size=28,
                            meta={"metrics": {"bench_translation": {"fid_a2b": 34.47}}})
    assert TranslatorChooser.summary(None, cycle) == ("DiscoGAN · outlines → digits · 28 px → 28 px · "
                                                      "untrained (random weights) · FID 34.5 A → B")
