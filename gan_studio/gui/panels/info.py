"""The model-info panel: provenance and metrics from the bundle's metadata, as a form and as a tree."""
from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QScrollArea,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...engine.metrics.feature_source import features_summary
from ..state import AppContext, LoadedModel
from .base import Panel


def _fmt(value: Any) -> str:
    if value is None or value == "" or value == {} or value == []:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "×".join(map(str, value)) if all(isinstance(v, int) for v in value) else ", ".join(map(_fmt, value))
    return str(value)


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "—"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s" if m else f"{seconds:.1f} s"


def codes_text(meta: dict) -> str:
    """'10 classes · InfoGAN: 10 categories, 2 continuous' (conditional / InfoGAN models), else 'none'."""
    parts = [f"{meta['num_classes']} classes"] if meta.get("conditional") else []
    info = meta.get("info")
    if isinstance(info, dict):
        parts.append(f"InfoGAN: {info.get('cat', 0)} categories, {info.get('cont', 0)} continuous")
    return " · ".join(parts) or "none"


def _config_text(m: dict) -> str:
    """The config; for a model imported from another format, the original constructor's arguments (the stored
    config is the networks' skeleton, which the metadata tree shows in full)."""
    cfg = m.get("config") or {}
    src = cfg.get("source") if isinstance(cfg, dict) else None
    if isinstance(src, dict):
        role = next(iter(src.get("roles") or {}), None)
        kwargs = (src.get("init_kwargs") or {}).get((src.get("roles") or {}).get(role), {})
        return f"{src.get('original_code', '?')}: {_fmt(kwargs)}"
    return _fmt(cfg)


def _source_rows(m: dict) -> list[tuple[str, str]]:
    src = (m.get("config") or {}).get("source") if isinstance(m.get("config"), dict) else None
    if not isinstance(src, dict):
        return []
    roles = ", ".join(f"{key} → {role}" for role, key in (src.get("roles") or {}).items())
    return [("Imported from", f"{src.get('file', '?')} ({(src.get('bytes') or 0) / 1e6:.1f} MB)"),
            ("Source sha256", _fmt(src.get("sha256"))), ("Networks from", roles)]


def summary_rows(model: LoadedModel) -> list[tuple[str, list[tuple[str, str]]]]:
    """Sections of (label, text) rows for the form: what a reader wants to know about a model."""
    m = model.bundle.meta
    data, train, metrics = m.get("dataset") or {}, m.get("training") or {}, m.get("metrics") or {}
    return [
        ("Model", [("File", str(model.path) if model.path else "—"),
                   ("Format", m.get("source_format", "GAN Studio safetensors")),
                   ("Kind", _fmt(m.get("kind"))), ("Architecture", _fmt(m.get("arch"))),
                   *_source_rows(m),
                   ("Config", _config_text(m)), ("Latent size", _fmt(m.get("z_dim"))),
                   ("Image shape", _fmt(m.get("image_shape"))), ("Codes", codes_text(m)),
                   ("Networks", _fmt(m.get("networks")))]),
        ("Data", [("Dataset", _fmt(data.get("name") if isinstance(data, dict) else data)),
                  ("Images", _fmt(data.get("n")) if isinstance(data, dict) else "—"),
                  ("Licence", _fmt(m.get("license")))]),
        ("Training", [("Command", _fmt(train.get("command"))), ("Seed", _fmt(train.get("seed"))),
                      ("Steps", _fmt(train.get("step"))), ("Loss", _fmt(train.get("loss"))),
                      ("Regulariser", _fmt(train.get("reg"))), ("Time", _duration(train.get("seconds"))),
                      ("Device", _fmt(train.get("device"))), ("PyTorch", _fmt(train.get("torch")))]),
        ("Metrics", _metric_rows(metrics) or [("", "none recorded")]),
    ]


def _metric_rows(metrics: dict) -> list[tuple[str, str]]:
    """One row per stored metric; an `evaluate` result also gets a row naming its feature network, the data that
    network was trained on and, when that is other data, the warning `gan-studio evaluate` printed."""
    rows = []
    for k, v in metrics.items():
        rows.append((str(k), _fmt(v)))
        if isinstance(v, dict) and "fid" in v and "features" in v:
            note = v.get("features_note")
            rows.append((f"{k} features", features_summary(v) + (f"\n{note}" if note else "")))
    return rows


def fill_tree(tree: QTreeWidget, meta: dict) -> None:
    tree.clear()

    def add(parent, key: str, value: Any) -> None:
        item = QTreeWidgetItem(parent, [key, ""])
        if isinstance(value, dict):
            for k, v in value.items():
                add(item, str(k), v)
        elif isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
            for i, v in enumerate(value):
                add(item, f"[{i}]", v)
        else:
            item.setText(1, json.dumps(value) if not isinstance(value, str) else value)
            item.setToolTip(1, item.text(1))

    for k, v in meta.items():
        add(tree, str(k), v)
    tree.expandAll()
    tree.resizeColumnToContents(0)


class InfoPanel(Panel):
    name, title = "info", "Info"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.heading = QLabel("No model open")
        self.heading.setProperty("role", "heading")
        self.subtitle = QLabel("")
        self.subtitle.setProperty("role", "subtle")
        self.form_host = QWidget()
        self.form = QVBoxLayout(self.form_host)
        self.form.setContentsMargins(0, 8, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.form_host)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Metadata", "Value"])
        self.tree.setAlternatingRowColors(True)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 8, 0)
        ll.addWidget(self.heading)
        ll.addWidget(self.subtitle)
        ll.addWidget(scroll, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.tree)
        split.setSizes([560, 400])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 12, 8, 8)
        lay.addWidget(split)
        self.on_model_changed(ctx.model)

    def on_model_changed(self, model: LoadedModel | None) -> None:
        self._clear_form()
        self.tree.clear()
        if model is None:
            self.heading.setText("No model open")
            self.subtitle.setText("")
            return
        m = model.bundle.meta
        self.heading.setText(model.name)
        self.subtitle.setText(" · ".join(_fmt(x) for x in (m.get("arch"), m.get("kind"), m.get("image_shape"))
                                         if x) + (f" · z {m['z_dim']}" if m.get("z_dim") else ""))
        for section, rows in summary_rows(model):
            self._add_section(section, rows)
        self.form.addStretch(1)
        fill_tree(self.tree, m)
        self._set_ready(True)

    def _clear_form(self) -> None:
        while self.form.count():
            item = self.form.takeAt(0)
            if item.widget():
                item.widget().deleteLater()

    def _add_section(self, title: str, rows: list[tuple[str, str]]) -> None:
        head = QLabel(title.upper())
        head.setProperty("role", "section")
        self.form.addSpacing(10)
        self.form.addWidget(head)
        host = QWidget()
        form = QFormLayout(host)
        form.setContentsMargins(0, 4, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        for label, text in rows:
            value = QLabel(text)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if label in ("Command", "File"):
                value.setFont(QFont(mono))
            form.addRow(QLabel(label) if label else QLabel(""), value)
        self.form.addWidget(host)

    def fields(self) -> dict[str, str]:
        """label -> shown text, for tests."""
        out = {}
        for section, rows in summary_rows(self.ctx.model) if self.ctx.model else []:
            out.update({f"{section}/{k}": v for k, v in rows})
        return out
