"""The model list on the left: shipped models, the user's models, recent files."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, QSize, Qt, Signal, Slot
from PySide6.QtGui import QFont, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTreeWidget, QTreeWidgetItem, QWidget

from ...engine.catalog import ModelEntry

PATH_ROLE = Qt.ItemDataRole.UserRole
DETAIL_ROLE = Qt.ItemDataRole.UserRole + 1


def _describe(meta: dict) -> str:
    shape = meta.get("image_shape")
    parts = [meta.get("arch") or "?", meta.get("kind") or "?"]
    if shape:
        parts.append("×".join(map(str, shape)))
    steps = (meta.get("training") or {}).get("step")
    if steps:
        parts.append(f"{steps} steps")
    return " · ".join(str(p) for p in parts)


class _TwoLineDelegate(QStyledItemDelegate):
    """Model rows: the name, and under it a smaller grey line (arch · kind · shape)."""

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        size = super().sizeHint(option, index)
        if index.data(DETAIL_ROLE):
            return QSize(size.width(), int(option.fontMetrics.height() * 2.4) + 4)
        return QSize(size.width(), size.height() + 6)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index) -> None:
        detail = index.data(DETAIL_ROLE)
        if not detail:
            return super().paint(p, option, index)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        opt.widget.style().drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, p, opt.widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        r = opt.rect.adjusted(6, 3, -4, -3)
        fm = opt.fontMetrics
        p.save()
        p.setPen(opt.palette.highlightedText().color() if selected else opt.palette.text().color())
        p.drawText(QRect(r.left(), r.top(), r.width(), fm.height()), Qt.AlignmentFlag.AlignLeft,
                   fm.elidedText(text, Qt.TextElideMode.ElideRight, r.width()))
        small = QFont(opt.font)
        small.setPointSizeF(opt.font.pointSizeF() * 0.85)
        p.setFont(small)
        p.setPen(opt.palette.highlightedText().color() if selected else opt.palette.placeholderText().color())
        p.drawText(QRect(r.left(), r.top() + fm.height() + 1, r.width(), fm.height()), Qt.AlignmentFlag.AlignLeft,
                   p.fontMetrics().elidedText(detail, Qt.TextElideMode.ElideRight, r.width()))
        p.restore()


class ModelList(QTreeWidget):
    open_requested = Signal(str)   # a model file path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(10)
        self.setItemDelegate(_TwoLineDelegate(self))
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self._current = ""

    def populate(self, entries: list[ModelEntry], recent: list[str]) -> None:
        self.clear()
        known = {str(e.path.resolve()) for e in entries}
        self._group("Shipped models", [e for e in entries if e.shipped], "No shipped models found")
        self._group("My models", [e for e in entries if not e.shipped], None)
        recent_items = [p for p in recent if p not in known]
        if recent_items:
            head = self._head("Recent files")
            for p in recent_items:
                missing = not Path(p).exists()
                self._item(head, Path(p).name, p, p, "missing" if missing else str(Path(p).parent))
        self.expandAll()
        self.set_current(self._current)

    def _head(self, title: str) -> QTreeWidgetItem:
        head = QTreeWidgetItem(self, [title.upper()])
        head.setFlags(Qt.ItemFlag.ItemIsEnabled)
        f = QFont(self.font())
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 0.85)
        head.setFont(0, f)
        head.setForeground(0, self.palette().placeholderText())
        return head

    def _group(self, title: str, entries: list[ModelEntry], empty: str | None) -> None:
        if not entries and empty is None:
            return
        head = self._head(title)
        for e in entries:
            self._item(head, e.name, str(e.path), str(e.path), _describe(e.meta))
        if not entries and empty:
            note = QTreeWidgetItem(head, [empty])
            note.setFlags(Qt.ItemFlag.NoItemFlags)

    def _item(self, head: QTreeWidgetItem, name: str, path: str, tip: str, detail: str) -> None:
        item = QTreeWidgetItem(head, [name])
        item.setData(0, PATH_ROLE, str(Path(path).resolve()))
        item.setData(0, DETAIL_ROLE, detail)
        item.setToolTip(0, tip)

    def set_current(self, path: str | None) -> None:
        """Highlight the open model's row (if it is listed)."""
        self._current = str(Path(path).resolve()) if path else ""
        self.blockSignals(True)
        self.clearSelection()
        for item in self._path_items():
            if item.data(0, PATH_ROLE) == self._current:
                item.setSelected(True)
                self.setCurrentItem(item)
        self.blockSignals(False)

    def _path_items(self) -> list[QTreeWidgetItem]:
        out = []
        for i in range(self.topLevelItemCount()):
            head = self.topLevelItem(i)
            out += [head.child(j) for j in range(head.childCount()) if head.child(j).data(0, PATH_ROLE)]
        return out

    def paths(self) -> list[str]:
        return [it.data(0, PATH_ROLE) for it in self._path_items()]

    @Slot(QTreeWidgetItem, int)
    def _clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        path = item.data(0, PATH_ROLE)
        if path:
            self.open_requested.emit(path)
