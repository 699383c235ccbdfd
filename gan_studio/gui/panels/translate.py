"""The Translate panel (issue 23): an image-to-image model (pix2pix, CycleGAN, DiscoGAN, DualGAN, SRResNet /
SRGAN: bundle kind "translation-model", engine/translation) turns an input image into its output, live.

Inputs: an image file (Open image…, or dropped on the panel), the Sampling tab's large view (Use the sample view:
fitted to the model's input; a model trained with a named transform gets the sample through that transform, so a
sampled digit becomes its strokes), or the drawing canvas (pen and eraser) for a model whose input can be drawn
(`Translator.drawable`: white strokes on black, the pen as wide as the training strokes). Every change of the
input asks for a translation in the app's `LatestQueue`: off the UI thread, the latest request wins.

What is shown follows the model's kind: paired (input -> output), cycle (input -> translation -> round trip, with
an A -> B / B -> A switch) and super-resolution (input, bicubic and the model's output side by side at one zoom).
The translation model is this panel's own: a model opened in the main window's list shows here when it is a
translation model, and the panel keeps its model when the window opens an image generator (whose large view
then feeds "Use the sample view").
"""
from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QWidget

from ...engine.errors import not_a_file
from ...engine.imaging import to_uint8
from ...engine.translation import Translator
from ..state import AppContext, LoadedModel
from ..widgets.translate_controls import FAMILY_NAMES, KIND, TranslateControls
from ..widgets.translate_stage import TranslateStage
from ..workers import LatestQueue
from .base import Panel, controls_beside
from .translate_files import TranslateFiles
from .translate_jobs import (
    Input,
    Translation,
    adopt_job,
    open_job,
    read_input_job,
    sample_input_job,
    shape_text,
    translate_job,
)

CONTROLS_WIDTH = 270
KIND_WORDS = {"image-generator": "an image generator", "voxel-model": "a 3D voxel model"}
NO_MODEL = ("This tab shows image-to-image models (pix2pix, CycleGAN, DiscoGAN, DualGAN, SRResNet / SRGAN: kind "
            "translation-model). Choose one under MODEL, Open… a file, or train one with gan-studio "
            "train-translation --recipe pix2pix --data … --out ….")


def family_name(t: Translator) -> str:
    return FAMILY_NAMES.get(t.family, t.family)


def _pixels(x):
    """(C, H, W) in [-1, 1] -> (H, W, C) uint8."""
    return to_uint8(x[None])[0]


class TranslatePanel(TranslateFiles, Panel):
    name, title = "translate", "Translate"
    model_ready = Signal(object)          # the Translator now in use
    translated = Signal(object)           # the Translation now on screen

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.translator: Translator | None = None
        self.model_path: str | None = None
        self.direction = "a2b"
        self.input: Input | None = None       # the last input that did not come from the pen
        self.result: Translation | None = None
        self._started = False
        self.jobs = LatestQueue(ctx.tasks, self)
        self.jobs.finished.connect(self._job_finished)
        self.jobs.failed.connect(self._job_failed)
        self.controls, self.stage = TranslateControls(), TranslateStage()
        self.canvas = self.stage.canvas
        self._layout()
        self._connect()
        self.setAcceptDrops(True)
        self._show_kind()

    def _layout(self) -> None:
        controls_beside(self, self.controls, self.stage, CONTROLS_WIDTH)

    def _connect(self) -> None:
        c = self.controls
        c.chooser.chosen.connect(self.open_model)
        c.chooser.open_clicked.connect(self._open_model_clicked)
        c.open_image_clicked.connect(self._open_image_clicked)
        c.sample_clicked.connect(self.use_sample_view)
        c.direction_changed.connect(self.set_direction)
        c.save_clicked.connect(self._save_clicked)
        c.save_input_clicked.connect(self._save_input_clicked)
        c.tools.idClicked.connect(lambda _i: setattr(self.canvas, "tool", c.tool()))
        c.width_box.valueChanged.connect(lambda v: setattr(self.canvas, "width_px", float(v)))
        c.clear_btn.clicked.connect(self.canvas.clear)
        c.undo_btn.clicked.connect(self.canvas.undo)
        c.zoom_slider.valueChanged.connect(self.stage.zoom.set_zoom)
        self.stage.zoom.zoom_changed.connect(c.zoom_slider.setValue)
        self.canvas.changed.connect(self._drawn)

    # ------------------------------------------------------------ models
    def open_model(self, path: str | Path) -> bool:
        """Open a translation model file in the background (a bad file or another kind: one message)."""
        p = Path(path).expanduser()
        if not p.is_file():
            self.ctx.report_error(not_a_file(p))
            return False
        self._submit_model(open_job, str(p.resolve()), self.ctx.device, name=p.name)
        return True

    def _submit_model(self, fn, *args, name: str) -> None:
        self.jobs.cancel("translate")
        self.jobs.cancel("input")
        self.jobs.submit("model", fn, *args)
        self.ctx.status.emit(f"Opening {name}…")

    def on_model_changed(self, model: LoadedModel | None) -> None:
        """The main window opened `model`: use it when it is a translation model; otherwise keep ours and say so."""
        if model is not None and model.kind == KIND:
            path = str(model.path.resolve()) if model.path else f"<{model.name}>"
            if self.translator is not None and self.translator.bundle is model.bundle:
                self._set_ready(self.result is not None)
                return
            self._submit_model(adopt_job, path, model.bundle, self.ctx.device, name=model.name)
            return
        self._show_note()
        if self.translator is not None or (self._started and not self.jobs.busy("model")):
            self._set_ready(True)

    def on_device_changed(self, device) -> None:
        t = self.translator
        if t is not None and t.device != device:
            self._submit_model(adopt_job, self.model_path, t.bundle, device, name=t.name)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            self.controls.chooser.refresh()
            if self.translator is None and not self.jobs.busy("model"):
                path = self.controls.chooser.first()
                if path:
                    self.open_model(path)
                else:
                    self._set_ready(True)          # the empty state is what there is to show

    def _model_ready(self, path: str, t: Translator) -> None:
        same = self.translator is not None and self.translator.bundle is t.bundle
        was = self.translator.domains[0] if self.translator is not None and self.direction == "a2b" else None
        self.translator, self.model_path = t, path
        self.controls.chooser.set_model(path, t)
        previous = None if same else self.input
        if not same:
            self.direction = "a2b"
            self.controls.set_direction("a2b")
            self.result, self.input = None, None
            self._reset_input()
        self._show_kind()
        self.model_ready.emit(t)
        self.ctx.status.emit(f"Translation model {t.name} ready")
        self.request()
        self._carry_input(previous, was == t.domains[0])

    def _carry_input(self, previous: Input | None, same_domain: bool) -> None:
        """The sample view that fed the last model feeds the new one too (through its own transform), and so does
        an image file when the new model takes the same domain (SRGAN and SRResNet are compared on one input); a
        drawing or an array was made for the last model."""
        if previous is None:
            return
        if previous.source == "file" and previous.path and same_domain:
            self.open_image(previous.path)
        elif previous.source == "sample" and self.ctx.selected_image is not None:
            self.use_sample_view()

    # ------------------------------------------------------------ what is shown
    def drawable(self) -> bool:
        """Can the current input be drawn (the model's domain A is a drawing and we translate from A)?"""
        t = self.translator
        return t is not None and t.drawable and self.direction == "a2b"

    def _show_kind(self) -> None:
        t = self.translator
        kind = None if t is None else t.kind
        self.controls.set_kind(kind, self.drawable(), t.domains if t is not None else ("A", "B"))
        self.stage.set_kind(kind, self.drawable())
        self.controls.draw_note.setText(self._draw_note() if self.drawable() else "")
        self._captions()
        self._show_note()
        self._update_enabled()

    def _draw_note(self) -> str:
        t = self.translator
        made = f" ({t.transform} of {t.domains[1]})" if t.transform else ""
        pen = f"; the pen is {t.pen_width:g} px wide, as in training" if t.pen_width else ""
        return f"White on black, like the {t.domains[0]}{made} the model learnt from{pen}"

    def _captions(self) -> None:
        t = self.translator
        if t is None:
            self.stage.heading.setText("Translate")
            self.stage.clear_outputs("")
            self.stage.set_kind(None)
            return
        a, b = t.domains if self.direction == "a2b" else t.domains[::-1]
        shape_in, shape_out = t.shapes(self.direction)
        arrow = "A → B" if self.direction == "a2b" else "B → A"
        self.stage.heading.setText(f"{t.name} · {family_name(t)} · {a} → {b}")
        self.stage.set_captions(f"Input · {a} · {shape_text(shape_in)}",
                                f"{arrow} · {b} · {shape_text(shape_out)}",
                                f"Round trip → {a} · {shape_text(shape_in)}" if t.kind == "cycle" else "")

    def _show_note(self) -> None:
        """The line under the heading: what this tab shows when the app's model is not ours."""
        m, t = self.ctx.model, self.translator
        if m is not None and m.kind != KIND and t is not None:
            what = KIND_WORDS.get(m.kind, f"a {m.kind}")
            self.stage.note.setText(f"The app's model {m.name} is {what}: this tab keeps translating with "
                                    f"{t.name}; “Use the sample view” takes {m.name}'s large view.")
        elif t is None:
            self.stage.note.setText(NO_MODEL)
        else:
            self.stage.note.setText("")

    def _reset_input(self) -> None:
        """A blank canvas of the current input shape (ink white, paper black), the pen as the model's."""
        t = self.translator
        shape = t.shapes(self.direction)[0]
        self.canvas.set_shape(shape, ink=1.0, paper=-1.0)
        self.controls.width_box.setValue(float(t.pen_width or 1.0))    # no training pen (edges …): 1 px lines
        self.stage.clear_outputs("Draw on the input: the translation appears here" if self.drawable()
                                 else "Open or drop an image, or use the sample view")

    # ------------------------------------------------------------ inputs
    @Slot(str)
    def set_direction(self, direction: str) -> None:
        """A -> B or B -> A (cycle models). The sample view is taken again as the other generator's input (through
        the training transform only for A); a file or a drawing stays when it fits the other generator, else the
        file is read again at its shape and a drawing starts blank."""
        t = self.translator
        if t is None or direction == self.direction or direction not in t.directions:
            return
        old_shape = t.shapes(self.direction)[0]
        self.direction = direction
        self.controls.set_direction(direction)
        self._show_kind()
        source = self.input.source if self.input is not None else ""
        if source == "sample" and self.ctx.selected_image is not None:     # the sample again, for the other generator
            self.use_sample_view()
            return
        if t.shapes(direction)[0] != old_shape:
            self._reset_input()
            if source in ("file", "array"):
                self.open_image(self.input.path)
                return
        self.request()

    def open_image(self, path: str | Path) -> bool:
        """Translate an image file (fitted to the input) or a .npy array (its exact shape); one message if bad."""
        if self.translator is None:
            self.ctx.report_error("Open an image-to-image model first (the chooser at the top of the Translate tab)")
            return False
        self.jobs.submit("input", read_input_job, self.translator, str(path), self.direction)
        return True

    @Slot()
    def use_sample_view(self) -> bool:
        """Translate the Sampling tab's large view (the app's image generator's current image)."""
        if self.translator is None:
            self.ctx.report_error("Open an image-to-image model first (the chooser at the top of the Translate tab)")
            return False
        image = getattr(self.ctx, "selected_image", None)
        self.jobs.submit("input", sample_input_job, self.translator, image, self.direction)
        return True

    def _input_ready(self, inp: Input) -> None:
        self.input = inp
        self.canvas.set_image(inp.image.numpy())
        self.request()

    @Slot()
    def _drawn(self) -> None:
        if self.canvas.is_empty():                 # cleared: what comes next is a drawing of its own
            self.input = None
        elif self.input is not None and self.input.source != "drawing":
            self.input = Input(self.input.image, "drawing", self.input.path, f"a drawing over {self.input.note}")
        self.controls.undo_btn.setEnabled(self.canvas.can_undo())
        self.request()

    def request(self) -> None:
        """Translate what the canvas holds (latest wins); nothing while it is blank."""
        t = self.translator
        if t is None:
            return
        if self.canvas.is_empty():
            self.result = None
            self.stage.clear_outputs("Draw on the input: the translation appears here" if self.drawable()
                                     else "Open or drop an image, or use the sample view")
            self.stage.info.setText("")                 # no time or source, no command line: nothing shown
            self.controls.cli_label.setText("")
            self._update_enabled()
            self._set_ready(True)
            return
        self.jobs.submit("translate", translate_job, t, torch.from_numpy(self.canvas.image()), self.direction)

    # ------------------------------------------------------------ results
    def _show_result(self, r: Translation) -> None:
        self.result, t, s = r, self.translator, self.stage
        if t.kind == "sr":
            up = f"×{t.upscale_factor}"
            s.zoom.set_images([_pixels(r.input), _pixels(r.bicubic), _pixels(r.output)],
                              [f"Input · {shape_text(r.input.shape)}", f"Bicubic {up} · {shape_text(r.bicubic.shape)}",
                               f"{family_name(t)} {up} · {shape_text(r.output.shape)}"])
        else:
            s.output_view.set_pixels(_pixels(r.output))
            s.recon_view.set_pixels(None if r.recon is None else _pixels(r.recon))
        source = self.input.note if self.input is not None else f"a drawing ({self.canvas.drawn_pixels()} px inked)"
        s.info.setText(f"{r.seconds * 1000:.0f} ms on {t.device} · from {source}")
        self.controls.cli_label.setText(self.command_line())
        self._update_enabled()
        self._set_ready(True)
        self.translated.emit(r)

    @Slot(str, object)
    def _job_finished(self, kind: str, value) -> None:
        if kind == "model":
            self._model_ready(*value)
        elif kind == "input":
            self._input_ready(value)
        elif kind == "translate":
            self._show_result(value)

    @Slot(str, str)
    def _job_failed(self, kind: str, message: str) -> None:
        if kind == "model":
            self.controls.chooser.select(self.model_path)
            self.ctx.report_error(f"Could not open the translation model: {message}")
            if self.translator is None:
                self._set_ready(True)
        elif kind == "input":
            self.ctx.report_error(f"Cannot use this input: {message}")
        elif kind == "translate":
            self.ctx.report_error(f"Translation failed: {message}")
        self._update_enabled()

    def _update_enabled(self) -> None:
        self.controls.update_enabled(self.translator is not None, self.result is not None,
                                     not self.canvas.is_empty())
        self.controls.undo_btn.setEnabled(self.canvas.can_undo())
