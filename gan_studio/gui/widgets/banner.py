"""An inline message bar (errors and notices) that never blocks: the app keeps working under it."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from .. import theme


class MessageBanner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kind = ""
        self._icon = QLabel()
        self._label = QLabel()
        self._label.setWordWrap(True)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 6, 6, 6)
        lay.addWidget(self._icon)
        lay.addWidget(self._label, 1)
        lay.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self.hide()

    def show_error(self, message: str) -> None:
        self._show("error", "⚠", message, theme.ERROR_BG, theme.ERROR_FG, timeout_ms=0)

    def show_info(self, message: str, timeout_ms: int = 8000) -> None:
        self._show("info", "ℹ", message, theme.INFO_BG, theme.INFO_FG, timeout_ms)

    def _show(self, kind: str, icon: str, message: str, bg: str, fg: str, timeout_ms: int) -> None:
        self._kind = kind
        self._icon.setText(icon)
        self._label.setText(message)
        self.setStyleSheet(f"MessageBanner {{ background: {bg}; border-radius: 4px; }} "
                           f"QLabel {{ color: {fg}; }} QToolButton {{ color: {fg}; }}")
        self._timer.stop()
        if timeout_ms:
            self._timer.start(timeout_ms)
        self.show()

    def dismiss(self) -> None:
        self._timer.stop()
        self._kind = ""
        self.hide()

    def kind(self) -> str:
        """'error', 'info', or '' when hidden."""
        return self._kind

    def text(self) -> str:
        return self._label.text() if self._kind else ""
