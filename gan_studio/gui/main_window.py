"""The main window: model list and device on the left, an inline message banner, and the panels as tabs.

Adding a panel is one line: put its class in PANELS.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..engine.bundle import is_torchscript, load_bundle
from ..engine.catalog import MODEL_SUFFIXES, converted_copy, default_model, list_models, resolve_model
from ..engine.device import available_devices
from ..engine.errors import UserError
from .dialogs import ask_open
from .file_drop import DropsOneFile
from .import_dialog import CANCEL, SAVE, ask_import, convert_and_load
from .menus import DONE_SHOWN_MS, DoneLabel, Menus
from .panels.base import Panel
from .panels.directions import DirectionsPanel
from .panels.info import InfoPanel
from .panels.mixing import MixingPanel
from .panels.sampling import SamplingPanel
from .panels.shapes3d import Shapes3DPanel
from .panels.training import TrainingPanel
from .panels.translate import TranslatePanel
from .panels.walks import WalksPanel
from .settings import Settings
from .state import AppContext, LoadedModel
from .widgets.banner import MessageBanner
from .widgets.model_list import ModelList
from .workers import LatestQueue

PANELS: list[type[Panel]] = [SamplingPanel, WalksPanel, DirectionsPanel, MixingPanel, Shapes3DPanel, TranslatePanel,
                             TrainingPanel, InfoPanel]
# models the image panels cannot show: kind -> (the panel that shows them, what they are)
KIND_PANELS = {"voxel-model": ("3d", "a 3D voxel model"), "translation-model": ("translate", "an image-to-image model")}
APP_TITLE = "GAN Studio"
DEFAULT_SIZE, SPLIT_SIZES = (1200, 800), (220, 980)
TRUST_WARNING = ("{name} is a TorchScript file. TorchScript is code, not just weights: opening it runs "
                 "a program from the file.\n\nOnly open files you trust. Open it?")


def _scroll(panel: QWidget) -> QScrollArea:
    """A tab's page: the panel fills it, and scrolls when the window is smaller than the panel's minimum."""
    scroll = QScrollArea()
    scroll.setWidget(panel)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    return scroll


def _load_model(path: Path, trust_code: bool, seq: int, offer_import: bool = True):
    """Runs in a worker thread: (seq, path, bundle or None, error message, where a converted copy would go).
    A file in another format whose converted copy is already in the user's folder opens that copy."""
    try:
        bundle = load_bundle(path, trust_code=trust_code)
        if bundle.meta.get("source_format") != "nvlabs-pickle" or not offer_import:
            return seq, path, bundle, "", None
        dest, there = converted_copy(bundle)
        return (seq, dest, load_bundle(dest), "", None) if there else (seq, path, bundle, "", dest)
    except UserError as exc:
        return seq, path, None, str(exc), None
    except OSError as exc:
        return seq, path, None, f"{path.name}: cannot read the file ({exc.strerror or exc})", None


class MainWindow(DropsOneFile, QMainWindow):
    model_loaded = Signal(object)   # LoadedModel
    load_failed = Signal(str)

    def __init__(self, settings: Settings | None = None, device: str = "auto", trust_code: bool = False,
                 model: str | None = None, open_initial: bool = True) -> None:
        super().__init__()
        self.ctx = AppContext(settings or Settings(), self)
        self.settings = self.ctx.settings
        self._trust_code = trust_code
        self.loads = LatestQueue(self.ctx.tasks, self)   # model files open one at a time, the newest waiting
        self.loads.finished.connect(self._on_loaded)
        self.loads.failed.connect(self._on_load_failed)
        self.loading = False
        self._panels: dict[str, Panel] = {}
        self._closed = False
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self._build(device)
        self._connect()
        geom = self.settings.geometry()
        if geom is None or not self.restoreGeometry(geom):
            self.resize(*DEFAULT_SIZE)
        self.ctx.set_device(device)
        self.refresh_models()
        if open_initial:
            self.open_initial(model)

    # ------------------------------------------------------------ layout
    def _build(self, device: str) -> None:
        self.banner = MessageBanner()
        self.tabs = QTabWidget()
        self._scrolls: dict[str, QScrollArea] = {}
        for cls in PANELS:
            panel = cls(self.ctx)
            self._panels[cls.name] = panel
            self._scrolls[cls.name] = scroll = _scroll(panel)   # a small window scrolls; it never grows
            self.tabs.addTab(scroll, cls.title)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 6, 6, 0)
        rl.addWidget(self.banner)
        rl.addWidget(self.tabs, 1)
        self.split = split = QSplitter(Qt.Orientation.Horizontal)
        self.sidebar = self._build_sidebar(device)
        split.addWidget(self.sidebar)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes(list(SPLIT_SIZES))
        split.setChildrenCollapsible(False)
        self.setCentralWidget(split)
        self.model_label, self.device_label = QLabel("no model"), QLabel("")
        self.done_label = DoneLabel()
        self.statusBar().addWidget(self.done_label, 1)
        for lab in (self.model_label, self.device_label):
            lab.setContentsMargins(10, 0, 10, 0)
            self.statusBar().addPermanentWidget(lab)
        self.menus = Menus(self)
        self._done_timer = QTimer(self)
        self._done_timer.setSingleShot(True)
        self._done_timer.timeout.connect(lambda: self.done_label.setText(""))

    def _build_sidebar(self, device: str) -> QWidget:
        side = QFrame()
        side.setProperty("role", "sidebar")
        side.setMinimumWidth(170)
        title = QLabel("Models")
        title.setProperty("role", "heading")
        self.model_list = ModelList()
        self.open_btn = QPushButton("Open…")
        self.open_btn.setToolTip("Open a model file (.safetensors, .pt, .pth) — or drop one on the window")
        self.device_box = QComboBox()
        self.device_box.addItems(["auto"] + available_devices())
        if self.device_box.findText(device) < 0:
            self.device_box.addItem(device)
        self.device_box.setCurrentText(device)
        dev_label = QLabel("DEVICE")
        dev_label.setProperty("role", "section")
        lay = QVBoxLayout(side)
        lay.setContentsMargins(10, 10, 10, 10)
        lay.addWidget(title)
        lay.addWidget(self.model_list, 1)
        lay.addWidget(self.open_btn)
        lay.addSpacing(8)
        lay.addWidget(dev_label)
        lay.addWidget(self.device_box)
        return side

    def _connect(self) -> None:
        self.model_list.open_requested.connect(self._list_open)
        self.open_btn.clicked.connect(self.choose_file)
        self.device_box.currentTextChanged.connect(self._device_chosen)
        self.ctx.error.connect(self.show_error)
        self.ctx.info.connect(self.banner.show_info)
        self.ctx.walk_requested.connect(lambda _latents: self.select_panel("walks"))
        self.ctx.status.connect(self._show_status)
        self.ctx.device_changed.connect(self._device_changed)
        self.ctx.latent_requested.connect(self.show_latent)
        self.ctx.models_changed.connect(self.refresh_models)
        self.ctx.open_requested.connect(self._open_requested)
        self.ctx.done.connect(self.show_done)

    # ------------------------------------------------------------ panels
    def panel(self, name: str) -> Panel:
        return self._panels[name.lower()]

    def panel_names(self) -> list[str]:
        return list(self._panels)

    def select_panel(self, name: str) -> Panel:
        key = name.strip().lower()
        match = self._panels.get(key) or next(
            (p for p in self._panels.values() if p.title.lower() == key), None)
        if match is None:
            raise UserError(f"no panel {name!r} (panels: {', '.join(self._panels)})")
        self.tabs.setCurrentWidget(self._scrolls[match.name])
        return match

    def current_panel(self) -> Panel:
        return self.tabs.currentWidget().widget()

    # ------------------------------------------------------------ layout, status
    @Slot(bool)
    def set_sidebar_visible(self, visible: bool) -> None:
        self.sidebar.setVisible(visible)
        self.menus.actions["sidebar"].setChecked(visible)

    @Slot()
    def reset_layout(self) -> None:
        """The default size and model-list width, the model list shown, the first tab, out of full screen."""
        if self.isFullScreen() or self.isMaximized():
            self.showNormal()
        self.menus.actions["fullscreen"].setChecked(False)
        self.set_sidebar_visible(True)
        self.resize(*DEFAULT_SIZE)
        self.split.setSizes(list(SPLIT_SIZES))
        self.tabs.setCurrentIndex(0)

    @Slot(str, str)
    def show_done(self, message: str, path: str = "") -> None:
        """A long job ended: its line (with a link to what it wrote) stays in the status bar for a while."""
        self.statusBar().clearMessage()
        self.done_label.show_done(message, path)
        self._done_timer.start(DONE_SHOWN_MS)

    @Slot(object)
    def show_latent(self, latent) -> None:
        """Show a Latent in the sampling view's large view (and bring that tab forward)."""
        panel = self.select_panel("sampling")
        panel.set_latent(latent)

    # ------------------------------------------------------------ models
    def refresh_models(self) -> None:
        self.model_list.populate(list_models(), self.settings.recent_files())
        m = self.ctx.model
        self.model_list.set_current(str(m.path) if m and m.path else None)

    def open_initial(self, model: str | None = None) -> bool:
        """Open --model, else the remembered last model, else the first shipped model."""
        if model:
            try:
                return self.open_path(resolve_model(model), offer_import=False)
            except UserError as exc:
                self.show_error(str(exc))
                return False
        last = self.settings.last_model
        if last and Path(last).is_file():
            return self.open_path(last, offer_import=False)
        entry = default_model()
        return self.open_path(entry.path) if entry else False

    def confirm_trust(self, path: Path) -> bool:
        """Ask before running a TorchScript file (tests replace this)."""
        answer = QMessageBox.warning(self, "Open a TorchScript file?", TRUST_WARNING.format(name=path.name),
                                     QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel,
                                     QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Open

    def confirm_import(self, path: Path, bundle, dest: Path) -> str:
        """Ask what to do with a network pickle: SAVE a converted copy, open it ONCE, or CANCEL (tests replace this)."""
        return ask_import(self, path, bundle, dest)

    def open_path(self, path: str | Path, trust_code: bool = False, offer_import: bool = True) -> bool:
        """Start loading a model file in the background; False when nothing was started. A network pickle is
        offered for conversion into the user's model folder unless `offer_import` is False (--model on the
        command line: the user named the file to open)."""
        p = Path(path).expanduser()
        if not p.is_file():
            self.show_error(f"{p}: {'a folder, not a model file' if p.is_dir() else 'no such file'}")
            if str(p.resolve()) in self.settings.recent_files():
                self.settings.remove_recent(str(p.resolve()))
                self.refresh_models()
            return False
        trusted = trust_code or self._trust_code
        if not trusted and is_torchscript(p):
            if not self.confirm_trust(p):
                self.banner.show_info(f"{p.name} was not opened")
                return False
            trusted = True
        self.loading = True
        self.statusBar().showMessage(f"Opening {p.name}…")
        self.loads.submit("model", _load_model, p, trusted, 0, offer_import)   # a newer open supersedes this one
        return True

    @Slot(str)
    def _open_requested(self, path: str) -> None:
        """A panel asks to show a model file (e.g. one it trained): open it and bring the sampling tab forward."""
        if self.open_path(path):
            self.select_panel("sampling")

    @Slot(str)
    def _list_open(self, path: str) -> None:
        m = self.ctx.model
        if not self.loading and m and m.path and str(m.path.resolve()) == path:
            return
        self.open_path(path)

    @Slot(str, object)
    def _on_loaded(self, _kind: str, value) -> None:
        _seq, path, bundle, error, dest = value
        self.loading = False
        if dest is not None and not error and not self._imported(Path(path), bundle, dest):
            return
        if error:
            self.show_error(error)
            self.statusBar().clearMessage()
            self.load_failed.emit(error)
            return
        model = LoadedModel(bundle, Path(path).resolve())
        if self.banner.kind() == "error":
            self.banner.dismiss()
        self.ctx.set_model(model)
        panel, what = KIND_PANELS.get(model.kind, (None, ""))
        if panel and self._panels.get(panel) not in (None, self.current_panel()) \
                and not self.current_panel().is_ready():
            self.select_panel(panel)       # the image panels cannot show this model: its own panel does
            self.banner.show_info(f"{model.name} is {what}: it is shown in the {self._panels[panel].title} tab")
        self.settings.last_model = str(model.path)
        if str(model.path) not in {str(e.path.resolve()) for e in list_models()}:
            self.settings.add_recent(model.path)
        self.refresh_models()
        self.setWindowTitle(f"{model.name} — {APP_TITLE}")
        text = f"{model.name}  ({bundle.meta.get('arch', '?')})"
        self.model_label.setText(text if len(text) <= 44 else f"{text[:28]}…{text[-15:]}")   # never widens the window
        self.model_label.setToolTip(str(model.path))
        self.statusBar().showMessage(f"Opened {model.path}", 4000)
        self.model_loaded.emit(model)

    def _imported(self, path: Path, bundle, dest: Path) -> bool:
        """After a network pickle was read: True to show it as it is; False when it is being converted (its copy
        opens when written) or the user cancelled."""
        answer = self.confirm_import(path, bundle, dest)
        if answer == SAVE:
            self.loading = True
            self.statusBar().showMessage(f"Converting {path.name} into {dest.name}…")
            self.loads.submit("model", convert_and_load, bundle, dest, 0)
            return False
        if answer == CANCEL:
            self.statusBar().clearMessage()
            self.banner.show_info(f"{path.name} was not opened")
            return False
        return True

    @Slot(str, str)
    def _on_load_failed(self, _kind: str, message: str) -> None:
        self.loading = False
        self.show_error(message)
        self.load_failed.emit(message)

    @Slot()
    def choose_file(self) -> None:
        pattern = " ".join(f"*{s}" for s in MODEL_SUFFIXES)
        path = ask_open(self, self.settings, "Open a model", f"Model files ({pattern});;All files (*)", kind="model")
        if path:
            self.open_path(path)

    # ------------------------------------------------------------ drag and drop (DropsOneFile)
    drop_what = "model file"

    def open_dropped(self, path: str) -> None:
        self.open_path(path)

    def drop_notice(self, text: str) -> None:
        self.banner.show_info(text)

    # ------------------------------------------------------------ device, messages
    @Slot(str)
    def _device_chosen(self, text: str) -> None:
        if text:
            self.ctx.set_device(text)

    @Slot(object)
    def _device_changed(self, device) -> None:
        req = self.ctx.device_request
        self.device_label.setText(f"device: {device}" + (" (auto)" if req == "auto" else ""))

    @Slot(str)
    def show_error(self, message: str) -> None:
        self.statusBar().clearMessage()          # an "Opening…" / "Reconstructing…" there would contradict it
        self.banner.show_error(message)

    @Slot(str)
    def _show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 5000)

    def closeEvent(self, event) -> None:
        if not self._closed:
            self._closed = True
            self.settings.set_geometry(self.saveGeometry())
            self.ctx.shutdown()
        super().closeEvent(event)
