"""The 3D panel's stage: a heading and stats, the encoder's input beside the 3D view, the interpolation's frame
bar, the display bar (threshold, debounced; cubes or smooth; colour by probability), camera / screenshot / export
buttons and the equivalent command line. Display changes go straight to the view; `display_changed` follows."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..theme import double_slider, role_label
from .shape_guess import ShapeGuess
from .voxel_view import InputView, VoxelView

THRESHOLD_DEBOUNCE_MS = 150
PLAY_INTERVAL_MS = 120
CHECKED_STYLE = "QPushButton:checked { background: #2d69af; color: white; }"


def _tool(text: str, tip: str, checkable: bool = False) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    b.setCheckable(checkable)
    return b


def _button(text: str, tip: str = "") -> QPushButton:
    b = QPushButton(text)
    if tip:
        b.setToolTip(tip)
    return b


def _column(*items, margins=(0, 0, 0, 0)) -> QVBoxLayout:
    """Widgets and layouts stacked; an int is spacing, a (widget, stretch) pair stretches."""
    lay = QVBoxLayout()
    lay.setContentsMargins(*margins)
    for item in items:
        if isinstance(item, int):
            lay.addSpacing(item)
        elif isinstance(item, tuple):
            lay.addWidget(*item) if isinstance(item[0], QWidget) else lay.addLayout(*item)
        elif isinstance(item, QWidget):
            lay.addWidget(item)
        else:
            lay.addLayout(item)
    return lay


class ShapeStage(QWidget):
    """What the 3D panel shows. The panel puts grids in `view` and text in the labels."""

    display_changed = Signal()        # threshold / style / colour applied to the view
    frame_changed = Signal(int)       # the interpolation frame asked for (slider or player)
    back_clicked = Signal()           # end the interpolation
    truth_toggled = Signal(bool)
    screenshot_clicked = Signal()
    export_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = role_label("—", "heading")
        self.stats = role_label("", "subtle")
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view = VoxelView()
        self._default = 0.5                 # the model's threshold for the shape on screen (↺ goes back to it)
        self.cli_label = role_label("", "subtle")
        self.cli_label.setWordWrap(True)
        self.cli_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.cli_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cli_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.cli_label.setMinimumHeight(2 * self.cli_label.fontMetrics().lineSpacing() + 2)   # the view keeps its size
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(THRESHOLD_DEBOUNCE_MS)
        self._player = QTimer(self)
        self._player.setInterval(PLAY_INTERVAL_MS)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self._build_input_column())
        row.addLayout(_column((self.view, 1), self._build_frame_bar()), 1)
        self.setLayout(_column(self.heading, self.stats, 4, (row, 1), 6, self._build_display_bar(), 2,
                               self._build_buttons(), self.cli_label, margins=(8, 0, 0, 0)))
        self._connect()

    def _build_input_column(self) -> QWidget:
        self.input_view = InputView()
        self.input_caption = role_label("", "subtle")
        self.input_caption.setWordWrap(True)
        self.input_caption.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.truth_check = QCheckBox("Show the true shape")
        self.truth_check.setToolTip("Show the test object's real voxels instead of the reconstruction")
        self.truth_check.setVisible(False)
        side = QWidget()
        side.setFixedWidth(168)
        self.guess = ShapeGuess()              # the voxel classifier's guess for the shape on screen
        lay = _column(role_label("INPUT", "section"), self.input_view, self.input_caption, self.truth_check,
                      self.guess, margins=(0, 0, 8, 0))
        lay.addStretch(1)
        side.setLayout(lay)
        return side

    def _build_frame_bar(self) -> QWidget:
        self.play_btn = _tool("▶", "Play the interpolation", checkable=True)
        self.frame_slider = QSlider(Qt.Orientation.Horizontal)
        self.frame_slider.setRange(0, 0)
        self.frame_label = role_label("", "subtle")
        self.frame_label.setMinimumWidth(90)
        self.back_btn = _tool("✕", "End the interpolation: back to shape A")
        self.frame_bar = QWidget()
        fb = QHBoxLayout(self.frame_bar)
        fb.setContentsMargins(0, 0, 0, 0)
        for w, stretch in ((self.play_btn, 0), (self.frame_slider, 1), (self.frame_label, 0), (self.back_btn, 0)):
            fb.addWidget(w, stretch)
        self.frame_bar.setVisible(False)
        return self.frame_bar

    def _build_display_bar(self) -> QHBoxLayout:
        self.threshold_slider = double_slider(
            0.01, 0.99, 0.5, "Occupancy threshold: cells more likely than this are solid", min_width=150)
        self.threshold_reset = _tool("↺", "Back to the model's threshold")
        self.cubes_btn = _button("Cubes", "One cube per occupied voxel")
        self.smooth_btn = _button("Smooth", "A smooth surface through the threshold (flying edges)")
        self.style_group = QButtonGroup(self)
        for i, b in enumerate((self.cubes_btn, self.smooth_btn)):
            b.setCheckable(True)
            b.setStyleSheet(CHECKED_STYLE)
            self.style_group.addButton(b, i)
        self.cubes_btn.setChecked(True)
        self.colour_check = QCheckBox("Colour by probability")
        self.colour_check.setChecked(True)
        self.colour_check.setToolTip("Colour the surface by the model's occupancy probability (scale on the right)")
        style = QHBoxLayout()
        style.setSpacing(0)
        style.addWidget(self.cubes_btn)
        style.addWidget(self.smooth_btn)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Threshold"))
        bar.addWidget(self.threshold_slider, 1)
        bar.addWidget(self.threshold_reset)
        bar.addSpacing(14)
        bar.addLayout(style)
        return bar

    def _build_buttons(self) -> QHBoxLayout:
        self.reset_camera_btn = _button("Reset camera")
        self.screenshot_btn = _button("Screenshot…", "Save the 3D view as a PNG")
        self.export_btn = _button("Export…",
                                  "Save the shape on screen as an STL, OBJ or PLY mesh, or a .npy voxel grid")
        bar = QHBoxLayout()
        bar.addWidget(self.reset_camera_btn)
        bar.addSpacing(14)
        bar.addWidget(self.colour_check)         # here, not in the display bar: the 3D tab fits a 1024 px window
        bar.addStretch(1)
        bar.addWidget(self.screenshot_btn)
        bar.addWidget(self.export_btn)
        return bar

    def _connect(self) -> None:
        self._debounce.timeout.connect(self._apply_threshold)
        self._player.timeout.connect(self._play_tick)
        self.threshold_slider.valueChanged.connect(lambda *_: self._debounce.start())   # one mesh once it rests
        self.threshold_reset.clicked.connect(lambda: self.set_threshold(self._default))
        self.style_group.idClicked.connect(lambda _id: self._apply(style=self.style()))
        self.colour_check.toggled.connect(lambda on: self.view.set_options(colour=on))
        self.truth_check.toggled.connect(self.truth_toggled)
        self.frame_slider.valueChanged.connect(self.frame_changed)
        self.play_btn.toggled.connect(self._play_toggled)
        self.back_btn.clicked.connect(self.back_clicked)
        self.reset_camera_btn.clicked.connect(lambda: self.view.reset_camera())
        self.screenshot_btn.clicked.connect(self.screenshot_clicked)
        self.export_btn.clicked.connect(self.export_clicked)

    # ------------------------------------------------------------ display
    def threshold(self) -> float:
        return round(float(self.threshold_slider.value()), 2)

    def style(self) -> str:
        return "smooth" if self.smooth_btn.isChecked() else "cubes"

    def set_style(self, style: str) -> None:
        (self.smooth_btn if style == "smooth" else self.cubes_btn).setChecked(True)
        self._apply(style=self.style())

    def set_threshold(self, value: float, default: bool = False) -> None:
        """Set the threshold now (no debounce); `default`: it is also the model's, which ↺ goes back to."""
        self._set_slider(value)
        if default:
            self._default = self.threshold()
        self._apply_threshold()

    def follow_default(self, value: float) -> None:
        """The model's threshold for the next shape (its random shapes and its reconstructions may differ): the
        slider takes it, applied by the next `show_grid`, unless the user has moved it off the last default."""
        if self.threshold() == self._default:
            self._set_slider(value)
        self._default = round(float(value), 2)

    def _set_slider(self, value: float) -> None:
        self.threshold_slider.blockSignals(True)
        self.threshold_slider.setValue(float(value))
        self.threshold_slider.blockSignals(False)
        self._debounce.stop()

    def show_grid(self, grid, reset_camera: bool = False) -> None:
        """Show `grid` with the display settings of the bar."""
        self.view.show_grid(grid, self.threshold(), self.style(), self.colour_check.isChecked(),
                            reset_camera=reset_camera)

    @Slot()
    def _apply_threshold(self) -> None:
        self._apply(threshold=self.threshold())

    def _apply(self, **options) -> None:
        self.view.set_options(**options)
        self.display_changed.emit()

    # ------------------------------------------------------------ frames
    def show_frames(self, n: int) -> None:
        """An interpolation of `n` frames: the bar appears at frame 0 (no `frame_changed`)."""
        self.frame_slider.blockSignals(True)
        self.frame_slider.setRange(0, n - 1)
        self.frame_slider.setValue(0)
        self.frame_slider.blockSignals(False)
        self.frame_bar.setVisible(True)

    def hide_frames(self) -> None:
        self.play_btn.setChecked(False)
        self.frame_bar.setVisible(False)

    def frame(self) -> int:
        return self.frame_slider.value()

    @Slot(bool)
    def _play_toggled(self, on: bool) -> None:
        self.play_btn.setText("⏸" if on else "▶")
        if on and self.frame_bar.isVisibleTo(self):
            self._player.start()
        else:
            self._player.stop()

    @Slot()
    def _play_tick(self) -> None:
        if not self.frame_bar.isVisibleTo(self):
            return self.play_btn.setChecked(False)
        self.frame_slider.setValue((self.frame_slider.value() + 1) % (self.frame_slider.maximum() + 1))

    def stop_playing(self) -> None:
        self._player.stop()

    def update_enabled(self) -> None:
        has_shape = self.view.grid is not None
        for w in (self.export_btn, self.screenshot_btn, self.reset_camera_btn):
            w.setEnabled(has_shape)
