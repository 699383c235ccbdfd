"""What the Translate panel reads and writes: the Open… dialogs, drops (a model file opens as the translation
model, anything else is an input image), Save output… / Save input… (PNG at the model's own size), the window's
menus, and the command line that makes the output. A mixin of `TranslatePanel` (its context, canvas, result)."""
from __future__ import annotations

import shlex
from pathlib import Path

import torch
from PySide6.QtCore import Slot

from ...engine.catalog import MODEL_SUFFIXES, cli_ref
from ...engine.errors import UserError
from ...engine.imaging import save_png
from ..dialogs import ask_open, ask_save
from ..file_drop import DropsOneFile

IMAGE_FILTER = ("Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.ppm *.pgm);;"
                "Arrays of the input's exact shape (*.npy);;All files (*)")


class TranslateFiles(DropsOneFile):
    """Files in and out of the Translate panel; every problem is one message in the window, never an exception."""

    def open_file(self, path: str | Path) -> None:
        """What a drop does: a model file opens as the translation model, anything else as the input."""
        p = Path(path)
        self.open_model(p) if p.suffix.lower() in MODEL_SUFFIXES else self.open_image(p)

    def save_output(self, path: str | Path) -> Path | None:
        if self.result is None:
            self.ctx.report_error("Nothing to save yet: no translation on screen")
            return None
        return self._write(path, self.result.output, "output")

    def save_input(self, path: str | Path) -> Path | None:
        if self.canvas.is_empty():
            self.ctx.report_error("Nothing to save yet: the input is blank")
            return None
        return self._write(path, torch.from_numpy(self.canvas.image()), "input")

    def _write(self, path: str | Path, image: torch.Tensor, what: str) -> Path | None:
        try:
            out = save_png(path, image)
        except UserError as exc:
            self.ctx.report_error(f"Could not save the {what}: {exc}")
            return None
        self.ctx.report_done(f"Saved the {what} as {Path(out).name}", out)
        return out

    def command_line(self, out: str = "translated.png") -> str:
        """The CLI call that makes the output on screen from its input file ('' before there is one). An input
        that is no image file (a drawing, the sample view, an array) is named input.png: Save input… writes it."""
        t, inp = self.translator, self.input
        if t is None or self.result is None:
            return ""
        from_file = inp is not None and inp.source == "file"
        image = inp.path if from_file else "input.png"
        parts = ["gan-studio", "translate", "--model", cli_ref(t.path), "--image", shlex.quote(str(image))]
        if self.direction != "a2b":
            parts += ["--direction", self.direction]
        line = " ".join(parts + (["--fit"] if from_file else []) + ["--out", out])
        return line if from_file else line + "\n# input.png: the input on screen (Save input…)"

    def _stem(self) -> str:
        inp = self.input
        base = Path(inp.path).stem if inp is not None and inp.path else "drawing"
        return f"{base}-{self.translator.name if self.translator else 'translated'}"

    # ------------------------------------------------------------ the window's menus (Panel)
    def save_image(self) -> bool:
        if self.result is not None:
            self._save_clicked()
        return self.result is not None

    def current_image(self):
        return None if self.result is None else ((self.result.output.clamp(-1, 1) + 1) * 127.5).round().to(
            torch.uint8).permute(1, 2, 0).numpy()

    def current_command(self) -> str:
        return self.command_line()

    # ------------------------------------------------------------ dialogs
    @Slot()
    def _save_clicked(self) -> None:
        path, _ = ask_save(self, self.ctx.settings, "Save the translation", f"{self._stem()}.png",
                           "PNG image (*.png)", suffix=".png")
        if path:
            self.save_output(path)

    @Slot()
    def _save_input_clicked(self) -> None:
        path, _ = ask_save(self, self.ctx.settings, "Save the input", "input.png", "PNG image (*.png)", suffix=".png")
        if path:
            self.save_input(path)

    @Slot()
    def _open_image_clicked(self) -> None:
        path = ask_open(self, self.ctx.settings, "Open an image to translate", IMAGE_FILTER)
        if path:
            self.open_image(path)

    @Slot()
    def _open_model_clicked(self) -> None:
        path = ask_open(self, self.ctx.settings, "Open an image-to-image model",
                        "Model files (*.safetensors);;All files (*)", kind="model")
        if path:
            self.open_model(path)
