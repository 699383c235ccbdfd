"""Opening a model in another format (an NVlabs network pickle): say what the file holds, and offer to keep a
converted copy in the user's model folder, so the next launch opens it directly (no pickle read again)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from ..engine.bundle import Bundle, load_bundle, save_imported
from ..engine.errors import UserError
from ..engine.models.nvlabs.importer import summary

SAVE, ONCE, CANCEL = "save", "once", "cancel"


def import_text(path: Path, bundle: Bundle, dest: Path) -> str:
    src = (bundle.meta.get("config") or {}).get("source") or {}
    return (f"{path.name} is a network pickle of {src.get('original_code', 'NVlabs code')}. It was read without "
            f"running anything from it.\n\n{summary(bundle.meta)}\n\nSave a converted copy as\n{dest}\n"
            f"so that it opens directly next time (float32, {src.get('bytes', 0) / 1e6:.1f} MB source)?")


def ask_import(parent: QWidget, path: Path, bundle: Bundle, dest: Path) -> str:
    """SAVE (convert and open the copy), ONCE (open it without saving) or CANCEL."""
    box = QMessageBox(QMessageBox.Icon.Question, "Import a network pickle", import_text(path, bundle, dest),
                      QMessageBox.StandardButton.NoButton, parent)
    save = box.addButton("Save and open", QMessageBox.ButtonRole.AcceptRole)
    once = box.addButton("Open without saving", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save)
    box.exec()
    return SAVE if box.clickedButton() is save else ONCE if box.clickedButton() is once else CANCEL


def convert_and_load(bundle: Bundle, dest: Path, seq: int):
    """Runs in a worker thread: write the converted copy, then load it: (seq, path, bundle or None, error, None)."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        save_imported(bundle, dest)
        return seq, dest, load_bundle(dest), "", None
    except UserError as exc:
        return seq, dest, None, str(exc), None
    except OSError as exc:
        return seq, dest, None, f"{dest}: cannot write the converted copy ({exc.strerror or exc})", None
