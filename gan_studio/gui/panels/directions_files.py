"""The directions panel's file dialogs and its "same from the command line" line."""
from __future__ import annotations

import shlex
from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from ...engine.latent.directions.layers import format_range
from ..state import model_ref

FILTER = "Directions (*.safetensors)"


def ask_path(panel, save: bool) -> str:
    """Ask where to save the panel's directions, or which file to load ('' when cancelled)."""
    ctx = panel.ctx
    folder = str(ctx.settings.value("paths/directions_dir", str(Path.home())))
    if save:
        stem = Path(ctx.model.name).stem if ctx.model else "model"
        path, _ = QFileDialog.getSaveFileName(panel, "Save directions",
                                              str(Path(folder) / f"{stem}-{panel.ds.method}.safetensors"), FILTER)
        if path and not path.endswith(".safetensors"):
            path += ".safetensors"
    else:
        path, _ = QFileDialog.getOpenFileName(panel, "Load directions", folder, f"{FILTER};;All files (*)")
    if path:
        ctx.settings.set_value("paths/directions_dir", str(Path(path).parent))
    return path


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
