"""What every panel is: a widget over the shared AppContext, shown as one tab of the main window.

To add a panel: subclass `Panel` in its own file (set `name` and `title`, build widgets in __init__,
react in `on_model_changed` / `on_device_changed`), then add the class to `main_window.PANELS`.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QScrollArea, QWidget

from ..state import AppContext, LoadedModel


class Panel(QWidget):
    name = "panel"          # lower-case id for --panel and MainWindow.panel()
    title = "Panel"         # tab text
    ready_changed = Signal(bool)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._ready = False
        ctx.model_changed.connect(self._model_changed)
        ctx.device_changed.connect(self._device_changed)

    @Slot(object)
    def _model_changed(self, model: LoadedModel | None) -> None:
        self._set_ready(False)
        self.on_model_changed(model)

    @Slot(object)
    def _device_changed(self, device) -> None:
        self.on_device_changed(device)

    def on_model_changed(self, model: LoadedModel | None) -> None:
        """Override: show this model (None: no model open)."""

    def on_device_changed(self, device) -> None:
        """Override: re-render on the new device if needed."""

    # What the window's menus do in this tab (File ▸ Save image… / Export… (export_result), Edit ▸ Copy image /
    # Copy command):
    # a panel overrides those it has; False / None / "" means "nothing here" (the window says so).
    def save_image(self) -> bool:
        """Ask where to save this tab's image and save it; False when the tab has none."""
        return False

    def export_result(self) -> bool:
        """Export this tab's result (a walk, a mesh, directions…); False when there is nothing to export."""
        return False

    def current_image(self):
        """The image this tab shows: (H, W, C) uint8 or a QImage, at its own resolution; None when there is none."""
        return None

    def current_command(self) -> str:
        """The gan-studio command line that makes what this tab shows ("" when there is none)."""
        label = getattr(self, "cli_label", None)
        return label.text() if label is not None else ""

    def is_ready(self) -> bool:
        """True once the panel shows the current model (e.g. its first render arrived)."""
        return self._ready

    def _set_ready(self, ready: bool) -> None:
        if ready != self._ready:
            self._ready = ready
            self.ready_changed.emit(ready)

    def _request_stop(self) -> bool:
        """For a panel running one background task as `self._worker`, with a `self.stop_btn`: ask the task to
        stop after its current step, set `self._stopping` and disable Stop. False when no task runs."""
        if self._worker is None:
            return False
        self._worker.stop()
        self._stopping = True
        self.stop_btn.setEnabled(False)
        return True


def controls_beside(panel: QWidget, controls: QWidget, stage: QWidget, width: int | None = None,
                    min_width: int = 0) -> QScrollArea:
    """The house layout of a panel with a form: `controls` in a column of fixed `width` that scrolls vertically,
    `stage` beside it taking the rest. Without `width`, the column is the whole form (its minimum size hint, at
    least `min_width`) plus the scroll bar, so the form is never clipped. Returns the scroll area."""
    scroll = QScrollArea()
    scroll.setWidget(controls)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    if width is None:
        width = max(controls.minimumSizeHint().width(), min_width) + scroll.verticalScrollBar().sizeHint().width() + 4
    scroll.setFixedWidth(width)
    lay = QHBoxLayout(panel)
    lay.setContentsMargins(8, 8, 8, 8)
    lay.addWidget(scroll)
    lay.addWidget(stage, 1)
    return scroll
