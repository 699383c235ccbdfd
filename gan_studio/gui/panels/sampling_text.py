"""The Sampling tab's caption box, shown only for text-to-image models (`--arch gan-cls`).

Typing a caption (e.g. "a thin upright 4") renders the grid's seeds S..S+N-1 with that caption, like
`gan-studio sample --model M --text CAPTION --seed S --n N` (the panel's command lines say so); an empty box gives
each seed its own digit ("a K", K from the seed). A word the model does not know is named in red under the box,
with the words it knows, and the grid keeps its last good caption. "Walk to" sends the large view's seed with
both captions to the Walks tab (engine/latent/text.py makes the latents: ws = [ψ·z, embedding(caption)]).
"""
from __future__ import annotations

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from ...engine.errors import UserError
from ...engine.latent.text import caption_latents, check_caption, default_caption, is_text_model
from ..state import model_ref
from ..theme import role_label

DEBOUNCE_MS = 200


class TextControl(QWidget):
    """Caption box + "walk to" box for SamplingPanel; `latents(seeds, psi)` gives the grid's latents (None when
    the model takes no text or the box is empty)."""

    changed = Signal()

    def __init__(self, panel, layout: QVBoxLayout) -> None:
        super().__init__()
        self.panel, self.ctx = panel, panel.ctx
        self.caption = ""                              # the last caption the model accepted
        self.box = QLineEdit()
        self.box.setPlaceholderText('Caption, e.g. "a thin upright 4" (empty: a digit per seed)')
        self.box.setClearButtonEnabled(True)
        self.walk_box = QLineEdit()
        self.walk_box.setPlaceholderText('…to caption, e.g. "a thick 7"')
        self.walk_btn = QPushButton("Walk")
        self.walk_btn.setToolTip("Walk the large view's seed from the caption to this one (Walks tab)")
        self.message = QLabel("")
        self.message.setWordWrap(False)
        self.message.setTextInteractionFlags(self.message.textInteractionFlags() | _selectable())
        self.message.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(role_label("Caption"))
        row.addWidget(self.box, 3)
        row.addWidget(role_label("   Walk to"))
        row.addWidget(self.walk_box, 2)
        row.addWidget(self.walk_btn)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(row)
        lay.addWidget(self.message)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._apply)
        self.box.textChanged.connect(self._timer.start)
        self.box.returnPressed.connect(self._apply)
        self.walk_btn.clicked.connect(self.walk)
        self.changed.connect(panel._controls_changed)
        self.ctx.model_changed.connect(self._model_changed)
        layout.addWidget(self)
        self._model_changed(self.ctx.model)

    # ------------------------------------------------------------ state
    def _generator(self):
        G = getattr(self.panel, "_G", None)
        return G if is_text_model(G) else None

    @Slot(object)
    def _model_changed(self, model) -> None:
        G = model.generator() if model is not None and model.is_image_generator else None
        self.setVisible(is_text_model(G))
        self.caption = ""
        self._apply_text(self.box.text(), G, emit=False)

    def set_text(self, text: str) -> None:
        """Type a caption and apply it at once (tests, the screenshot)."""
        self.box.setText(text)
        self._apply()

    @Slot()
    def _apply(self) -> None:
        self._timer.stop()
        model = self.ctx.model
        self._apply_text(self.box.text(), model.generator() if model is not None and model.is_image_generator
                         else None, emit=True)

    def _apply_text(self, text: str, G, emit: bool) -> None:
        if not is_text_model(G):
            return
        text = text.strip()
        try:
            accepted = check_caption(G, text) if text else ""
        except UserError as exc:
            self._show(str(exc), error=True)
            return
        self._show("")
        if accepted != self.caption:
            self.caption = accepted
            if emit:
                self.changed.emit()

    def _show(self, text: str, error: bool = False) -> None:
        """An error under the box (hidden otherwise: the command lines go to the panel's usual place)."""
        short, known, rest = text.partition(" (known words:")       # one line; the word list in the tooltip
        self.message.setText((short + (" — hover for the known words" if known else "")) if error else "")
        self.message.setToolTip(text if error else "")
        self.message.setStyleSheet("color: #d9534f;" if error else "")
        self.message.setProperty("error", error)
        self.message.setVisible(error)

    def command(self, caption: str, seed: int | None = None, n: int | None = None, scale: int = 1,
                out: str = "grid.png") -> str:
        """The `gan-studio sample` line that writes the grid (or one seed's image) shown for `caption`."""
        m, psi = self.ctx.model, self.panel.psi()
        seed = self.panel.seed_box.value() if seed is None else seed
        n = self.panel.grid.count() if n is None else n
        line = f'gan-studio sample --model {model_ref(m)} --text "{caption}" --seed {seed}'
        line += f" --n {n} --cols {self.panel.grid.cols}" if n > 1 else ""
        line += f" --truncation {psi:g}" if psi != 1.0 else ""
        return line + (f" --scale {scale}" if scale != 1 else "") + f" --out {out}"

    def commands(self, lines: list[str], latent, scale: int) -> list[str]:
        """The panel's command lines, with --text while a caption is shown (the grid's, the large view's)."""
        if self._generator() is None or self.ctx.model is None:
            return lines
        if self.caption and self.panel.grid_latents and self.panel.grid_latents[0].source == "text":
            lines = [self.command(self.caption)]
        if latent is not None and latent.source == "text":
            seed = latent.info["seed"]
            lines.append(self.command(latent.info["text"], seed, 1, scale, f"seed{seed}.png"))
        return lines

    def latents(self, seeds: list[int], psi: float):
        """The grid's latents for the accepted caption, or None (no text model, or an empty box)."""
        G = self._generator()
        if G is None or not self.caption:
            return None
        try:                                   # the caption was checked against this model, or the one before
            latents = caption_latents(G, self.caption, seeds, psi)
        except UserError as exc:
            self._show(str(exc), error=True)
            return None
        return latents

    # ------------------------------------------------------------ walks
    @Slot()
    def walk(self) -> None:
        """The large view's seed from the caption (or its digit) to the "walk to" caption, to the Walks tab."""
        G = self._generator()
        if G is None:
            return
        latent = self.panel.latent
        seed = latent.info.get("seed") if latent is not None else None
        seed = self.panel.seed_box.value() if seed is None else int(seed)
        try:
            target = check_caption(G, self.walk_box.text())
            start = self.caption or default_caption(G, seed)
            if not target:
                raise UserError("type the caption to walk to")
        except UserError as exc:
            self._show(str(exc), error=True)
            return
        a, b = (caption_latents(G, t, [seed], self.panel.psi())[0] for t in (start, target))
        self.ctx.walk_requested.emit([a, b])


def _selectable():
    from PySide6.QtCore import Qt
    return Qt.TextInteractionFlag.TextSelectableByMouse
