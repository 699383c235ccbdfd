"""The directions panel's files (Save… / Load…, with their dialogs), its texts (the summary line, the end of a run,
the "same from the command line" line) and the directions kept for each model while another one is open."""
from __future__ import annotations

import shlex
from pathlib import Path

from PySide6.QtCore import Slot

from ...engine.errors import UserError
from ...engine.imaging import save_png, to_uint8
from ...engine.latent.directions import DirectionSet, load_directions, save_directions
from ...engine.latent.directions.layers import format_range
from ..dialogs import ask_open, ask_save
from ..state import model_ref

FILTER = "Directions (*.safetensors)"


def ask_path(panel, save: bool) -> str:
    """Ask where to save the panel's directions, or which file to load ('' when cancelled)."""
    ctx = panel.ctx
    if save:
        stem = Path(ctx.model.name).stem if ctx.model else "model"
        return ask_save(panel, ctx.settings, "Save directions", f"{stem}-{panel.ds.method}.safetensors", FILTER,
                        suffix=".safetensors")[0]
    return ask_open(panel, ctx.settings, "Load directions", f"{FILTER};;All files (*)")


def cli_hint(model, base, file: Path | None, shifts: dict[int, float], ds=None, G=None) -> str:
    """The `gan-studio sample` call that renders this edit (each shift with its layer range, if it has one)."""
    if base is None or base.seed is None or model is None:
        return "(the command line renders seeds: pick a grid tile in the Sampling tab)"
    if file is None:
        return "(save the directions to get the equivalent gan-studio sample call)"
    cmd = (f"gan-studio sample --model {model_ref(model)} --seed {base.seed} "
           f"--directions {shlex.quote(str(file))}")
    for k, eps in shifts.items():
        r = ds.layers.get(k) if ds is not None else None
        at = f"@{format_range(r, G)}" if r is not None else ""
        cmd += f" --shift {k}:{eps:g}{at}"
    return cmd + f" --out seed{base.seed}-edit.png"


def finished_text(job, ds, stopped: bool) -> str:
    """The progress line at the end of a discovery run."""
    if job.method != "voynov":
        return f"done: {ds.k} {ds.method} directions"
    status = ds.extra.get("convergence", {}).get("status", "stopped early" if stopped else "finished")
    acc = ds.extra.get("train_accuracy")
    acc = f" · accuracy {acc:.2f} (chance {1 / ds.k:.2f})" if acc is not None else ""
    return f"{status} after {job.step:,} steps: {ds.k} voynov directions{acc}"


def summary(ds, file: Path | None) -> str:
    """What the shown direction set is, in one line: K, space, steps and convergence, RCA, flags, file."""
    parts = [f"{ds.k} in {ds.space}"]
    if ds.method == "voynov":
        status = ds.extra.get("convergence", {}).get("status")
        parts.append(f"{ds.steps:,} steps" + (f", {status}" if status else ""))
    parts.append(f"RCA {ds.rca:.3f}" if ds.rca is not None else "RCA not measured")
    parts += [f"{len(ds.starred)} starred"] if ds.starred else []
    parts += [f"{len(ds.hidden)} hidden"] if ds.hidden else []
    parts += [f"{len(ds.layers)} on layer ranges"] if ds.layers else []
    parts += [f"{len(ds.presets)} preset{'s' * (len(ds.presets) != 1)}"] if ds.presets else []
    parts += [file.name] if file else []
    return " · ".join(parts)


class KeptDirections:
    """The directions each model had when another one was opened (by model file; at most `size` models, the
    oldest forgotten first), with the slider range and shifts, so that switching back loses nothing."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._kept: dict[str, tuple] = {}

    @staticmethod
    def _key(model) -> str:
        return str(Path(model.path).resolve()) if model.path else f"id:{id(model.bundle)}"

    def keep(self, model, ds, file: Path | None, limit: float, shifts: dict[int, float]) -> None:
        key = self._key(model)
        self._kept.pop(key, None)
        self._kept[key] = (ds, file, limit, dict(shifts))
        while len(self._kept) > self.size:
            self._kept.pop(next(iter(self._kept)))

    def take(self, model) -> tuple | None:
        """(ds, file, limit, shifts) kept for this model file, or None; it stays kept until replaced."""
        return self._kept.get(self._key(model))

    def __contains__(self, model) -> bool:
        return self._key(model) in self._kept


class DirectionFiles:
    """The directions panel's Save… / Load… (a mixin of DirectionsPanel: it uses the panel's ds, file, editor,
    bar and ctx)."""

    def save_to(self, path: str | Path) -> Path | None:
        if self.ds is None:
            self.ctx.report_error("Nothing to save: discover or load directions first")
            return None
        try:
            out = save_directions(path, self.ds)
        except (UserError, OSError) as exc:
            self.ctx.report_error(f"Could not save the directions: {exc}")
            return None
        self.file = out
        self._update_set_label()
        self.editor.request_edit()                       # refreshes the CLI line, which names the file
        self.ctx.report_done(f"Saved {self.ds.k} directions to {Path(out).name}", out)
        return out

    def load_from(self, path: str | Path) -> DirectionSet | None:
        """Load a directions file made for the open model; anything else is one error message, no change."""
        if self._G is None:
            self.ctx.report_error("Open an image generator before loading directions")
            return None
        try:
            ds = load_directions(path, self._G)
        except UserError as exc:
            self.ctx.report_error(f"Could not load {Path(path).name}: {exc}")
            return None
        except OSError as exc:
            self.ctx.report_error(f"Could not read {Path(path).name}: {exc.strerror or exc}")
            return None
        if self._task == "discover":
            self._abandon_task()                         # its result would replace the loaded file
            self.bar.show_text("discovery stopped: a file was loaded")
        self.set_directions(ds)
        self.file, self._ds_seq = Path(path), 0
        self._update_set_label()
        self.editor.request_edit()
        self.ctx.status.emit(f"Loaded {ds.k} {ds.method} directions from {Path(path).name}")
        return ds

    # ------------------------------------------------------------ the window's menus (Panel)
    def save_image(self) -> bool:
        """The edited sample (as the Edit page shows it)."""
        img = self.editor.edited_image
        if img is None:
            return False
        name = f"{Path(self.ctx.model.name).stem if self.ctx.model else 'model'}-edited.png"
        path = ask_save(self, self.ctx.settings, "Save the edited image", name, "PNG images (*.png)",
                        suffix=".png")[0]
        if path:
            try:
                out = save_png(path, img, 4)
            except UserError as exc:
                self.ctx.report_error(str(exc))
            else:
                self.ctx.report_done(f"Saved {out.name}", out)
        return True

    def export_result(self) -> bool:
        """Save the directions."""
        if self.ds is not None:
            self._save_clicked()
        return self.ds is not None

    def current_image(self):
        img = self.editor.edited_image
        return None if img is None else to_uint8(img[None])[0]

    def current_command(self) -> str:
        return self.editor.edit.cli_label.text()

    @Slot()
    def _save_clicked(self) -> None:
        path = ask_path(self, save=True) if self.ds is not None else ""
        if path:
            self.save_to(path)

    @Slot()
    def _load_clicked(self) -> None:
        path = ask_path(self, save=False)
        if path:
            self.load_from(path)
