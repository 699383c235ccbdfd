"""A frame player: a large crisp view, Play/Pause, speed, a frame scrubber and a frame counter.

It knows nothing about rendering: it says which frame it wants (`frame_changed`) and shows the pixels it is
given (`show_image`). Playing follows the clock: at speed F fps, frame = start + F·elapsed, so a slow render
skips frames instead of slowing the animation down.
"""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QStyle, QVBoxLayout, QWidget

from ...engine.jobs.walks import DEFAULT_FPS
from .pixel_view import PixelView


class WalkPlayer(QWidget):
    frame_changed = Signal(int)     # the frame now wanted (scrubber drag, a play tick, or set_frame)
    playing_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = PixelView("Add two or more keyframes")
        self.play_btn = QPushButton("Play")
        self.play_btn.setCheckable(True)
        self.play_btn.setShortcut(Qt.Key.Key_Space)
        self.play_btn.setToolTip("Play / pause (Space)")
        self.play_btn.setMinimumWidth(84)
        self.scrubber = QSlider(Qt.Orientation.Horizontal)
        self.scrubber.setRange(0, 0)
        self.scrubber.setToolTip("Frame scrubber (arrow keys step one frame)")
        self.counter = QLabel("0 / 0")
        self.counter.setToolTip("Frame shown / last frame")
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.counter.setMinimumWidth(self.counter.fontMetrics().horizontalAdvance("0000 / 0000") + 6)
        self.speed_box = QSpinBox()
        self.speed_box.setRange(1, 60)
        self.speed_box.setValue(DEFAULT_FPS)
        self.speed_box.setSuffix(" fps")
        self.speed_box.setToolTip("Playback speed")
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._t0, self._f0 = 0.0, 0
        self._set_play_icon(False)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.play_btn)
        row.addWidget(self.scrubber, 1)
        row.addWidget(self.counter)
        row.addWidget(self.speed_box)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view, 1)
        lay.addLayout(row)
        self.play_btn.toggled.connect(self._play_toggled)
        self.scrubber.valueChanged.connect(self._scrubbed)
        self.speed_box.valueChanged.connect(self._speed_changed)
        self.timer.timeout.connect(self._tick)

    # ------------------------------------------------------------ frames
    def count(self) -> int:
        return self.scrubber.maximum() + 1 if self.scrubber.isEnabled() else 0

    def frame(self) -> int:
        return self.scrubber.value()

    def set_count(self, n: int) -> None:
        """Frames in the walk (0: nothing to play)."""
        self.scrubber.blockSignals(True)
        self.scrubber.setRange(0, max(0, n - 1))
        self.scrubber.setPageStep(max(1, n // 10))
        self.scrubber.blockSignals(False)
        self.scrubber.setEnabled(n > 0)
        self.play_btn.setEnabled(n > 1)
        if n <= 1:
            self.pause()
        self._restart_clock()
        self._update_counter()

    def set_frame(self, i: int) -> None:
        self.scrubber.setValue(i)

    def show_image(self, pixels: np.ndarray | None) -> None:
        """pixels (H, W, C) uint8 of the frame on screen."""
        self.view.set_pixels(pixels)

    def set_placeholder(self, text: str) -> None:
        self.view.set_placeholder(text)

    # ------------------------------------------------------------ playing
    def is_playing(self) -> bool:
        return self.timer.isActive()

    def play(self) -> None:
        self.play_btn.setChecked(True)

    def pause(self) -> None:
        self.play_btn.setChecked(False)

    def fps(self) -> int:
        return self.speed_box.value()

    def set_fps(self, fps: int) -> None:
        self.speed_box.setValue(fps)

    @Slot(bool)
    def _play_toggled(self, on: bool) -> None:
        on = on and self.count() > 1
        if on == self.timer.isActive():
            return
        if on:
            self._restart_clock()
            self.timer.start(max(1, int(1000 / self.fps()) // 2))      # tick at twice the frame rate
        else:
            self.timer.stop()
            self.play_btn.setChecked(False)
        self._set_play_icon(on)
        self.playing_changed.emit(on)

    def _set_play_icon(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_btn.setIcon(self.style().standardIcon(icon))
        self.play_btn.setText("Pause" if playing else "Play")

    def _restart_clock(self) -> None:
        self._t0, self._f0 = time.perf_counter(), self.frame()

    @Slot()
    def _speed_changed(self) -> None:
        self._restart_clock()
        if self.timer.isActive():
            self.timer.setInterval(max(1, int(1000 / self.fps()) // 2))

    @Slot()
    def _tick(self) -> None:
        n = self.count()
        if n < 2:
            return self.pause()
        i = (self._f0 + int((time.perf_counter() - self._t0) * self.fps())) % n
        if i != self.frame():
            self.scrubber.blockSignals(True)          # a tick is not a user scrub: keep the clock running
            self.scrubber.setValue(i)
            self.scrubber.blockSignals(False)
            self._update_counter()
            self.frame_changed.emit(i)

    @Slot(int)
    def _scrubbed(self, i: int) -> None:
        self._restart_clock()                         # playing continues from where the user put it
        self._update_counter()
        self.frame_changed.emit(i)

    def _update_counter(self) -> None:
        n = self.count()
        self.counter.setText(f"{self.frame()} / {max(0, n - 1)}")
