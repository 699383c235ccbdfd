"""What the voxel classifier (`voxnet-modelnet10`) takes the shape on screen for: its top three classes with
their probabilities, under the input image in the 3D panel's left column. The panel computes the guess in its
job queue (engine.metrics.voxel_features.guess_shape, a few ms) and puts the result here."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..theme import role_label

BAR_WIDTH = 60                       # px of a 100 % bar


def _row(name: str, p: float, first: bool) -> str:
    name = name.replace("_", " ")
    weight = "600" if first else "400"
    bar = max(1, round(BAR_WIDTH * p))
    return (f"<tr><td style='font-weight:{weight}; padding-right:6px'>{name}</td>"
            f"<td align='right' style='padding-right:6px'>{p:.0%}</td>"
            f"<td><table cellspacing='0' cellpadding='0'><tr><td width='{bar}' height='8' bgcolor='#2d69af'>"
            f"</td></tr></table></td></tr>")


class ShapeGuess(QWidget):
    """A section title and the classifier's top guesses (or a one-line note where there is none)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = role_label("LOOKS LIKE", "section")
        self.label = QLabel("")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.top: list[tuple[str, float]] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 6, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.title)
        lay.addWidget(self.label)
        self.setVisible(False)

    def set_guess(self, guess: dict) -> None:
        """`guess`: engine.metrics.voxel_features.guess_shape's dict."""
        if not guess["top"]:
            self.set_message("Nothing to recognise: the shape is empty at this threshold")
            return
        self.top = list(guess["top"])
        rows = "".join(_row(c, p, i == 0) for i, (c, p) in enumerate(self.top))
        self.label.setText(f"<table cellspacing='0' cellpadding='1'>{rows}</table>")
        acc = guess.get("test_accuracy")
        self.setToolTip(f"What the {guess['classifier']} voxel classifier takes the voxels above the threshold "
                        f"for (a 3D CNN trained on ModelNet10"
                        + (f", {acc:.1%} right on its test objects" if acc is not None else "") + ")")
        self.setVisible(True)

    def set_message(self, text: str) -> None:
        self.top = []
        self.label.setText(text)
        self.setToolTip("")
        self.setVisible(bool(text))

    def clear(self) -> None:
        self.set_message("")

    def text(self) -> str:
        """The guess as plain text, e.g. 'chair 87% · table 8% · desk 3%' ('' when there is none)."""
        return " · ".join(f"{c.replace('_', ' ')} {p:.0%}" for c, p in self.top)
