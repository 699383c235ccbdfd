"""Latent arithmetic in the Sampling tab (the DCGAN paper's "smiling woman − neutral woman + neutral man"):
"Arithmetic…" opens a window with three groups of seeds A, B, C. Type seeds, or arm a group and click grid tiles
(a click adds the tile's seed to the armed group, a second click takes it out). Every change recomputes
mean(A) − mean(B) + mean(C) in the background (latest wins, engine/latent/arithmetic.py) and draws the paper's
figure: each group's samples over its mean, the operators, the result. "Show result" makes the result the current
sample (an "arithmetic" Latent); "Save as direction…" saves A − B as a one-direction file with its length, which
the Directions tab's slider and `sample --directions F --shift 0:L` take.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ...engine.errors import UserError
from ...engine.imaging import to_uint8
from ...engine.latent import arithmetic as ar
from ...engine.latent.directions import save_directions
from ...engine.latent.sampling import parse_seeds
from ...engine.latent.state import Latent
from .. import theme
from ..dialogs import ask_save
from ..state import AppContext, LoadedModel, model_ref
from ..widgets.image_grid import ImageGrid
from ..workers import LatestQueue

DEBOUNCE_MS = 250
FILTER = "Directions (*.safetensors)"
CANVAS = theme.CANVAS.lightness() / 127.5 - 1      # the grid's background as a [-1, 1] gray


def _compute(G, groups: list[list[int]], space: str, psi: float):
    """In a worker: the arithmetic and its figure's tiles."""
    res = ar.arithmetic(G, *groups, space=space, psi=psi)
    tiles, cols = ar.figure_tiles(G, res)
    return res, tiles, cols


def figure_captions(res: ar.Arithmetic, cols: int) -> list[str]:
    rows = max(len(g) for g in res.seeds)
    caps = [""] * ((rows + 1) * cols)
    for g, seeds in enumerate(res.seeds):
        for r, s in enumerate(seeds):
            caps[r * cols + 2 * g] = f"{ar.GROUPS[g]}: seed {s}"
        caps[rows * cols + 2 * g] = f"mean {ar.GROUPS[g]}"
    caps[rows * cols + 6] = "result"
    return caps


class ArithmeticWindow(QDialog):
    """The three groups, the space, the figure and the result's buttons."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle("Latent arithmetic — mean(A) − mean(B) + mean(C)")
        self.arm = QButtonGroup(self)
        arm_row = QHBoxLayout()
        arm_row.addWidget(QLabel("Grid clicks add to"))
        for i, name in enumerate((*ar.GROUPS, "none")):
            b = QRadioButton(name)
            self.arm.addButton(b, i)
            arm_row.addWidget(b)
        self.arm.button(0).setChecked(True)
        arm_row.addStretch(1)
        self.space_box = QComboBox()
        self.space_box.setToolTip("Where the means are taken: z, or w of a style generator (flatter: its means "
                                  "stay digits)")
        arm_row.addWidget(QLabel("Space"))
        arm_row.addWidget(self.space_box)
        groups = QGridLayout()
        self.edits = []
        for i, name in enumerate(ar.GROUPS):
            e = QLineEdit()
            e.setPlaceholderText("seeds, e.g. 1,2,5-7")
            groups.addWidget(QLabel(name), i, 0)
            groups.addWidget(e, i, 1)
            self.edits.append(e)
        self.figure = ImageGrid(2, 7)
        self.figure.clear("Give each group at least one seed")
        self.status = QLabel("")
        self.status.setProperty("role", "subtle")
        self.status.setWordWrap(True)
        self.show_btn = QPushButton("Show result")
        self.show_btn.setToolTip("Make the result the current sample (walk it, edit it, mix it)")
        self.save_btn = QPushButton("Save as direction…")
        self.save_btn.setToolTip("Save A − B as a direction (unit vector + its length): its slider adds A − B "
                                 "to any sample")
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.show_btn)
        bottom.addWidget(self.save_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(arm_row)
        lay.addLayout(groups)
        lay.addWidget(self.figure, 1)
        lay.addLayout(bottom)
        self.resize(640, 520)

    def armed(self) -> int:
        """The group grid clicks go to (0..2), or -1 for none."""
        i = self.arm.checkedId()
        return i if 0 <= i < 3 else -1


class ArithmeticControl(QObject):
    """The Arithmetic… button of a SamplingPanel (its parent), its window and the background arithmetic."""

    def __init__(self, ctx: AppContext, panel) -> None:
        super().__init__(panel)
        self.ctx, self.panel = ctx, panel
        self.button = QPushButton("Arithmetic…")
        self.button.setToolTip("mean(A) − mean(B) + mean(C) of groups of samples (DCGAN's vector arithmetic); "
                               "save A − B as a direction")
        self.button.clicked.connect(self.open)
        self.jobs = LatestQueue(ctx.tasks, self)
        self.jobs.finished.connect(self._shown)
        self.jobs.failed.connect(self._failed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.request)
        self.window: ArithmeticWindow | None = None
        self.result: ar.Arithmetic | None = None
        panel.grid.tile_clicked.connect(self._tile_clicked)
        ctx.model_changed.connect(self.set_model)
        self.set_model(ctx.model)

    @Slot(object)
    def set_model(self, model: LoadedModel | None) -> None:
        self.jobs.cancel(stop=True)
        self.result = None
        self.button.setEnabled(model is not None and model.is_image_generator)
        if self.window is not None:
            self._fill_spaces()
            self.window.figure.clear("Give each group at least one seed")
            self.request()

    def _fill_spaces(self) -> None:
        G, box = self.panel._G, self.window.space_box
        box.clear()
        if G is not None:
            box.addItems(["z", "w"] if getattr(G, "num_ws", 1) > 1 else ["z"])
            box.setCurrentText(ar.default_space(G))

    @Slot()
    def open(self) -> ArithmeticWindow:
        if self.window is None:
            w = self.window = ArithmeticWindow(self.panel.window())
            self._fill_spaces()
            for e in w.edits:
                e.textChanged.connect(self._timer.start)
            w.space_box.activated.connect(self._timer.start)
            w.show_btn.clicked.connect(self.show_result)
            w.save_btn.clicked.connect(self._save_clicked)
        self._enable_result(self.result is not None)
        self.window.show()
        self.window.raise_()
        return self.window

    def set_groups(self, a: str, b: str, c: str) -> None:
        """Type the three groups' seeds (tests, the screenshot); recomputes at once."""
        for e, text in zip(self.open().edits, (a, b, c)):
            e.setText(text)
        self._timer.stop()
        self.request()

    @Slot(int)
    def _tile_clicked(self, index: int) -> None:
        w = self.window
        if w is None or not w.isVisible() or w.armed() < 0 or not 0 <= index < len(self.panel.grid_latents):
            return
        seed = self.panel.grid_latents[index].seed
        if seed is None:
            return
        edit = w.edits[w.armed()]
        try:
            seeds = parse_seeds(edit.text()) if edit.text().strip() else []
        except UserError:
            seeds = []
        seeds = [s for s in seeds if s != seed] if seed in seeds else seeds + [seed]
        edit.setText(",".join(map(str, seeds)))

    def groups(self) -> list[list[int]]:
        """The typed groups (UserError for an empty or bad one)."""
        out = []
        for name, e in zip(ar.GROUPS, self.window.edits):
            if not e.text().strip():
                raise UserError(f"group {name} is empty: type seeds or click tiles with {name} chosen")
            out.append(parse_seeds(e.text()))
        return out

    @Slot()
    def request(self) -> None:
        G, w = self.panel._G, self.window
        if G is None or w is None:
            return
        try:
            groups = self.groups()
        except UserError as exc:
            self.jobs.cancel()
            self.result = None
            self._enable_result(False)
            w.status.setText(str(exc))
            return
        w.status.setText("computing…")
        self.jobs.submit("arith", _compute, G, groups, w.space_box.currentText() or "z", self.panel.psi())

    @Slot(str, object)
    def _shown(self, _kind: str, value) -> None:
        if self.window is None or value is None:
            return
        res, tiles, cols = value
        self.result = res
        w = self.window
        caps = figure_captions(res, cols)
        tiles = tiles.clone()
        for i, cap in enumerate(caps):                # empty tiles and the operators' ground: the grid's own
            if not cap:
                tiles[i][tiles[i] == ar.BACKGROUND] = CANVAS
        w.figure.set_shape(len(tiles) // cols, cols)
        w.figure.set_images(to_uint8(tiles), caps)
        length = res.difference.norm().item()
        w.status.setText(f"mean(A) − mean(B) + mean(C) in {res.space}; |A − B| = {length:.3g}")
        self._enable_result(True)

    @Slot(str, str)
    def _failed(self, _kind: str, message: str) -> None:
        if self.window is not None:
            self.window.status.setText(message)
        self._enable_result(False)

    def _enable_result(self, on: bool) -> None:
        if self.window is not None:
            self.window.show_btn.setEnabled(on)
            self.window.save_btn.setEnabled(on)

    def result_latent(self) -> Latent | None:
        res, G = self.result, self.panel._G
        if res is None or G is None:
            return None
        info = {name: ",".join(map(str, s)) for name, s in zip(ar.GROUPS, res.seeds)} | {"space": res.space}
        lat = ar.result_latent(G, res)
        return Latent(z=lat, source="arithmetic", info=info) if res.space == "z" else \
            Latent(ws=lat, source="arithmetic", info=info)

    @Slot()
    def show_result(self) -> None:
        latent = self.result_latent()
        if latent is not None:
            self.panel.set_latent(latent)

    @Slot()
    def _save_clicked(self) -> None:
        if self.result is None:
            return
        path, _ = ask_save(self.window, self.ctx.settings, "Save A − B as a direction", "a-minus-b.safetensors",
                           FILTER, suffix=".safetensors", kind="directions")
        if path:
            self.save_direction(path)

    def save_direction(self, path: str) -> str:
        try:
            out = save_directions(path, ar.as_direction(self.panel._G, self.result))
        except UserError as exc:
            self.ctx.report_error(str(exc))
            return ""
        self.ctx.report_done(f"Saved A − B as a direction (length {self.result.difference.norm().item():.4g})",
                             out)
        return str(out)

    def command(self) -> str:
        """The CLI line that draws this figure and saves A − B."""
        res, m = self.result, self.ctx.model
        if res is None or m is None:
            return ""
        groups = " ".join(f"--{n.lower()} {','.join(map(str, s))}" for n, s in zip(ar.GROUPS, res.seeds))
        psi = f" --truncation {res.psi:g}" if res.psi != 1.0 else ""
        return (f"gan-studio arithmetic --model {model_ref(m)} {groups} --space {res.space}{psi} --out "
                f"arithmetic.png --save-direction a-minus-b.safetensors")

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
