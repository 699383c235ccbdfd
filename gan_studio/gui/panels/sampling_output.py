"""What the sampling panel writes out: PNGs of the grid and of the large view, and the `gan-studio sample` command
lines that write the same images (a mixin of SamplingPanel: it uses the panel's widgets and state)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot

from ...engine.errors import UserError
from ...engine.imaging import save_grid, save_png
from ...engine.latent.codes import code_flags
from ..dialogs import ask_save
from ..state import LoadedModel, model_ref
from ..widgets.export_bar import saved_message


def sample_command(model: LoadedModel, seed: int, n: int, psi: float, cols: int, scale: int, out: str,
                   drs: bool = False, codes: dict | None = None) -> str:
    """The `gan-studio sample` call that writes the same images."""
    cmd = f"gan-studio sample --model {model_ref(model)}{' --drs' if drs else ''} --seed {seed}"
    cmd += code_flags(codes or {})
    cmd += f" --n {n} --cols {cols}" if n > 1 else ""
    cmd += f" --truncation {psi:g}" if psi != 1.0 else ""
    return cmd + (f" --scale {scale}" if scale != 1 else "") + f" --out {out}"


class SamplingOutputs:
    """Saving and the command lines, for SamplingPanel."""

    @Slot()
    def _update_cli(self) -> None:
        m, psi, scale = self.ctx.model, self.psi(), self.side.scale()
        if m is None or not self.grid_latents:
            self.side.set_commands([])
            return
        drs = self.shown_grid_id < 0
        lines = [sample_command(m, self.seed_box.value(), self.grid.count(), psi, self.grid.cols, 1,
                                "grid.png", drs=drs, codes=None if drs else self.codes())]
        seed = self.latent.seed_text if self.latent is not None else None    # '7', or fractional: '7.35'
        if seed is not None:
            lines.append(sample_command(m, seed, 1, psi, 1, scale, f"seed{seed}.png", codes=self.latent.codes))
        elif self.latent is not None and self.latent.source == "projection" and self.projection.command():
            lines.append(self.projection.command())
        elif self.latent is not None and self.latent.source in ("guide", "arithmetic"):    # sampling_guide.py
            lines += [c for c in [getattr(self, self.latent.source).command()] if c]
        self.side.set_commands(self.text.commands(lines, self.latent, scale))     # with --text (sampling_text.py)

    # ------------------------------------------------------------ saving
    def save_selected(self, path: str | Path, scale: int = 1) -> Path | None:
        if self.view_image is None:
            self.ctx.report_error("Nothing to save: no sample is selected")
            return None
        return self._save(lambda: save_png(path, self.view_image, scale))

    def save_grid(self, path: str | Path, scale: int = 1) -> Path | None:
        if self.grid_images is None:
            self.ctx.report_error("Nothing to save: the grid has not been rendered")
            return None
        return self._save(lambda: save_grid(path, self.grid_images, ncols=self.grid.cols, scale=scale))

    def _save(self, write) -> Path | None:
        try:
            out = write()
        except UserError as exc:
            self.ctx.report_error(str(exc))
            return None
        self.ctx.report_done(saved_message(out)[0], out)
        return out

    def _ask_path(self, title: str, name: str) -> str:
        return ask_save(self, self.ctx.settings, title, name, "PNG images (*.png)", suffix=".png")[0]

    def _model_stem(self) -> str:
        return Path(self.ctx.model.name).stem if self.ctx.model else "sample"

    @Slot()
    def _save_image_clicked(self) -> None:
        if self.latent is None:
            return
        tag = f"seed{self.latent.seed_text}" if self.latent.seed_text is not None else self.latent.source
        path = self._ask_path("Save image", f"{self._model_stem()}-{tag}.png")
        if path:
            self.save_selected(path, self.side.scale())

    # ------------------------------------------------------------ the window's menus (Panel)
    def save_image(self) -> bool:
        if self.latent is None or self.view_image is None:
            return False
        self._save_image_clicked()
        return True

    def export_result(self) -> bool:
        if self.grid_images is None:
            return False
        self._save_grid_clicked()
        return True

    def current_image(self):
        return self.side.image.image()

    def current_command(self) -> str:
        return self.side.cli_label.text().split("\n\n")[-1]     # the large view's sample, else the grid

    @Slot()
    def _save_grid_clicked(self) -> None:
        seeds = self.seeds()
        path = self._ask_path("Save grid", f"{self._model_stem()}-seeds{seeds[0]}-{seeds[-1]}.png")
        if path:
            self.save_grid(path, self.side.scale())
