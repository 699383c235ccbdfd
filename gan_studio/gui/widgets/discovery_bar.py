"""The discovery controls of the directions panel: method, K, max steps, preset, Start / Stop, and progress
(a thin bar and one line: step, loss, accuracy against chance, learning-rate drops, elapsed time)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..theme import role_label

METHOD_TIPS = ("voynov: trained matrix A + reconstructor (Voynov & Babenko 2020) · ganspace: PCA (Härkönen "
               "et al. 2020) · sefa: closed-form factorization (Shen & Zhou 2021) · random, coordinate: baselines")


def duration(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _label(text: str, role: str = "") -> QLabel:
    return role_label(text, role)


class DiscoveryBar(QWidget):
    def __init__(self, methods, presets, tips: dict | None = None, parent: QWidget | None = None) -> None:
        tips = tips or {}
        super().__init__(parent)
        self.method_box = QComboBox()
        self.method_box.addItems(list(methods))
        self.method_box.setToolTip(METHOD_TIPS)
        self.k_box = QSpinBox()
        self.k_box.setRange(1, 512)
        self.k_box.setValue(32)
        self.k_box.setToolTip("Number of directions K (at most the latent size)")
        self.steps_box = QSpinBox()
        self.steps_box.setRange(1, 1_000_000)
        self.steps_box.setSingleStep(500)
        self.steps_box.setValue(presets["fast"].max_steps)
        self.steps_box.setToolTip("The step limit (voynov). Preset fast stops by itself when its accuracy has "
                                  "stopped improving; wide and paper train exactly this many steps. Raise it "
                                  "after a run and press Resume to train on")
        self.preset_box = QComboBox()
        for i, name in enumerate(presets):
            self.preset_box.addItem(name)
            self.preset_box.setItemData(i, tips.get(name, ""), Qt.ToolTipRole)
        self.preset_box.setCurrentText("fast")
        self.preset_box.setToolTip(" · ".join(f"{k}: {v}" for k, v in tips.items()))
        self.preset_box.currentTextChanged.connect(
            lambda name: self.steps_box.setValue(presets[name].max_steps))
        self.rca_box = QCheckBox("RCA at the end")
        self.rca_box.setChecked(True)
        self.rca_box.setToolTip("When a voynov run ends by itself, measure its RCA (protocol fast, 1-2 minutes "
                                "on a laptop CPU) and store it with the directions")
        self.start_btn, self.stop_btn = QPushButton("Start"), QPushButton("Stop")
        self.start_btn.setMinimumWidth(80)
        self.stop_btn.setToolTip("Stop after the current step, keeping the directions found so far")
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        self.progress_label = _label("", "subtle")
        # the progress line has a row of its own and never sets the bar's width: a long message must not widen
        # the Directions tab (the tabs share one minimum width, so every panel would reflow)
        self.progress_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._lay_out()

    def _lay_out(self) -> None:
        """The settings row above the Start / Stop row with the progress line and bar."""
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        for w in (_label("Method"), self.method_box, _label("  K"), self.k_box, _label("  Max steps"), self.steps_box,
                  _label("  Preset"), self.preset_box, self.rca_box):
            row.addWidget(w)
        row.addStretch(1)
        col = QVBoxLayout()
        col.setSpacing(2)
        col.addWidget(self.progress_label)
        col.addWidget(self.progress)
        run = QHBoxLayout()
        run.setSpacing(8)
        run.addWidget(self.start_btn)
        run.addWidget(self.stop_btn)
        run.addSpacing(6)
        run.addLayout(col, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addLayout(row)
        lay.addLayout(run)

    def show_text(self, text: str, busy: bool = False, fraction: float | None = None) -> None:
        """A message; busy: an indeterminate bar; fraction: a full (1) or empty (0) bar."""
        self.progress_label.setText(text)
        if busy:
            self.progress.setRange(0, 0)
        elif fraction is not None:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * fraction))

    def show_progress(self, p: dict) -> None:
        """A discovery step {"step", "total", "loss", "accuracy", "chance", "elapsed", "eta", "lr_drops"?} or an
        RCA step {"stage": "rendering" | "training", "step", "total"}."""
        self.progress.setRange(0, p["total"])
        self.progress.setValue(p["step"])
        if "accuracy" in p:
            self.progress_label.setText(discovery_text(p))
        elif p.get("stage") == "rendering":
            self.progress_label.setText(f"measuring RCA: rendering {p['step']:,} / {p['total']:,} image pairs")
        else:
            self.progress_label.setText(f"measuring RCA: training a fresh reconstructor, step {p['step']:,} / "
                                        f"{p['total']:,}")


def discovery_text(p: dict) -> str:
    """step, accuracy against chance, how the run is converging, time."""
    chance = f" (chance {p['chance']:.2f})" if "chance" in p else ""
    parts = [f"step {p['step']:,} / {p['total']:,}", f"accuracy {p['accuracy']:.2f}{chance}",
             f"loss {p['loss']:.3f}"]
    if "lr_drops" in p:                   # a run that stops when converged: its plateau, not an ETA
        parts.append(f"lr {p['lr']:.0e}, {p['lr_drops']} of {p['max_drops']} drops")
        parts.append(f"{duration(p['elapsed'])} elapsed")
    else:
        parts.append(f"{duration(p['elapsed'])} elapsed · ETA {duration(p['eta'])}")
    return " · ".join(parts)
