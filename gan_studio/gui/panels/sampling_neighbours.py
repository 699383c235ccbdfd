"""Is this sample a copy? "Nearest training images…" in the Sampling tab shows the k training images nearest the
large view's sample, in the feature space and in pixel space (engine/metrics/neighbours.py), with distances.

The dataset is asked for once (a folder or file of real images, e.g. the MNIST folder) and remembered. The search
runs in the background; the result opens in a window of its own, one row per space: the sample, then its
neighbours nearest first. The same from the command line: `gan-studio neighbours`.
"""
from __future__ import annotations

import shlex

import torch
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QVBoxLayout, QWidget

from ...engine.errors import UserError
from ...engine.imaging import to_uint8
from ...engine.metrics.memorisation import memorisation_iter, memorisation_summary
from ...engine.metrics.neighbours import nearest_training_images, resolve_features
from ..dialogs import ask_folder
from ..state import AppContext, model_ref
from ..widgets.image_grid import ImageGrid
from ..workers import LatestQueue

DATA_KEY = "neighbours/data"
K = 5
MEMO_N = 2000


def _search(image: torch.Tensor, data: str, k: int) -> tuple[list[tuple[str, object, torch.Tensor]], str]:
    """In a worker: (space, Neighbours, their images (k, C, H, W)) for each space this image has, and why the
    feature space is missing when it is (no feature network for these images): pixels are searched anyway."""
    out, why = [], ""
    if resolve_features("auto", image.shape[0]):
        try:
            nb = nearest_training_images(image[None], data, k=k, space="features")
            out.append(("features", nb, nb.images(tuple(image.shape))[0]))
        except UserError as exc:
            if "feature network" not in str(exc):
                raise
            why = f"No feature space: {exc}"
    else:
        why = "No feature space for these images (RGB needs Inception weights: set $GAN_STUDIO_INCEPTION)"
    nb = nearest_training_images(image[None], data, k=k, space="pixels")
    out.append(("pixels", nb, nb.images(tuple(image.shape))[0]))
    return out, why


class NeighboursWindow(QDialog):
    """The sample and its nearest training images, one row per space."""

    def __init__(self, parent: QWidget, title: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Nearest training images — {title}")
        self.heading = QLabel(title)
        self.heading.setWordWrap(True)
        self.grid = ImageGrid(2, K + 1)
        self.grid.setMinimumSize(520, 220)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setProperty("role", "subtle")
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_btn = QPushButton(f"Check the whole model ({MEMO_N:,} samples)…")
        self.check_btn.setToolTip("Are the model's samples copies? Their nearest training images against held-out "
                                  "images' (gan-studio memorisation)")
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.addWidget(self.heading)
        lay.addWidget(self.grid, 1)
        lay.addWidget(self.note)
        lay.addWidget(self.check_btn)
        lay.addWidget(self.verdict)
        self.resize(780, 600)

    def fit_contents(self) -> None:
        """Grow (never shrink) to what the texts now need: a layout squeezed below its minimum overlaps."""
        hint = self.minimumSizeHint()
        self.resize(max(self.width(), hint.width()), max(self.height(), hint.height()))

    def show_result(self, image: torch.Tensor, rows: list, command: str, why: str = "") -> None:
        tiles, captions = [], []
        for space, nb, imgs in rows:
            tiles.append(image)
            captions.append(f"sample · {space}")
            labels = nb.data.labels
            for d, j, im in zip(nb.distances[0].tolist(), nb.indices[0].tolist(), imgs):
                tiles.append(im)
                label = f" ({int(labels[j])})" if labels is not None else ""
                captions.append(f"{d:.3g} · #{j}{label}")      # the distance first: it survives eliding
        self.grid.set_shape(len(rows), K + 1)
        self.grid.set_images(to_uint8(torch.stack(tiles)), captions)
        metric = "; ".join(f"{space}: {nb.metric}" for space, nb, _ in rows)
        n = rows[0][1].n_train if rows else 0
        self.note.setText(f"Searched {n:,} training images. Distances — {metric}. A copy would sit much nearer "
                          f"than typical test images do: `gan-studio memorisation` measures that over many "
                          f"samples.{' ' + why if why else ''}\n\n{command}")


class NeighboursControl(QObject):
    """The button and the background search of a SamplingPanel (its parent)."""

    shown = Signal(object)       # the NeighboursWindow, once it shows a result
    checked = Signal(dict)       # the memorisation check's result

    def __init__(self, ctx: AppContext, panel) -> None:
        super().__init__(panel)
        self.ctx, self.panel = ctx, panel
        self.button = QPushButton("Nearest training images…")
        self.button.setToolTip("Is this sample a copy? The training images nearest it, in features and in pixels")
        self.button.clicked.connect(self._clicked)
        self.jobs = LatestQueue(ctx.tasks, self)
        self.jobs.finished.connect(self._done)
        self.jobs.progress.connect(self._check_progress)
        self.jobs.failed.connect(lambda _k, msg: self._end(msg, error=True))
        self.window: NeighboursWindow | None = None
        self._query, self.result = None, None

    def data(self) -> str:
        v = self.ctx.settings.value(DATA_KEY, "")
        return str(v) if v else ""

    def pick_data(self) -> str:
        """Ask for the training images (tests replace this)."""
        return ask_folder(self.panel, self.ctx.settings, "Training images to compare with (e.g. the MNIST folder)")

    @Slot()
    def _clicked(self) -> None:
        data = self.data() or self.pick_data()
        if data:
            self.start(data)

    def start(self, data: str) -> bool:
        image, latent = self.panel.view_image, self.panel.latent
        if image is None or latent is None:
            self.ctx.report_error("Pick a sample first: the search compares the large view's image")
            return False
        self.ctx.settings.set_value(DATA_KEY, str(data))
        self._query = (image.detach().cpu().clone(), latent, str(data))
        self.button.setEnabled(False)
        self.button.setText("Searching the training images…")
        self.jobs.submit("neighbours", _search, self._query[0], str(data), K)
        return True

    def command(self, latent, data: str) -> str:
        m = self.ctx.model
        if m is None or latent.seed_text is None:
            return "(the command line searches for seeds: pick a grid tile)"
        return (f"gan-studio neighbours --model {model_ref(m)} --seed {latent.seed_text} --data {shlex.quote(data)} "
                f"--k {K} --out neighbours.png")

    @Slot(str, object)
    def _done(self, kind: str, value) -> None:
        if kind != "neighbours":          # the memorisation check returns nothing: its last progress item is
            return                        # the result (_check_progress)
        (rows, why), (image, latent, data) = value, self._query
        self._end(f"Nearest training images of {latent.label()}: searched {rows[0][1].n_train:,}")
        if self.window is None:
            self.window = NeighboursWindow(self.panel.window(), latent.label())
            self.window.check_btn.clicked.connect(lambda: self.check_model())
        self.window.setWindowTitle(f"Nearest training images — {latent.label()}")
        self.window.heading.setText(f"{latent.label()} and its {K} nearest training images ({data})")
        self.window.show_result(image, rows, self.command(latent, data), why)
        self.window.fit_contents()
        self.window.show()
        self.window.raise_()
        self.shown.emit(self.window)

    # ------------------------------------------------------------ the whole model
    def check_model(self, n: int = MEMO_N, **kw) -> bool:
        """The dataset-level memorisation check of the open model against the remembered training images (`kw`:
        memorisation_iter's, e.g. test=, n_train=)."""
        G, data = self.panel._G, self.data()
        if G is None or not data or self.window is None:
            return False
        self.window.check_btn.setEnabled(False)
        self.window.verdict.setText(f"Checking {n:,} samples against {data}…")
        self.jobs.submit("memorisation", memorisation_iter, G, data, n=n, **kw)
        return True

    @Slot(str, object)
    def _check_progress(self, kind: str, p: dict) -> None:
        if kind != "memorisation" or self.window is None:
            return
        if "result" in p:                            # the last item: the verdict
            self.result = p["result"]
            self.window.verdict.setText(memorisation_summary(self.result))
            self.window.fit_contents()
            self.window.check_btn.setEnabled(True)
            self.checked.emit(self.result)
            self.ctx.status.emit(f"Memorisation check: {self.result['verdict']} "
                                 f"({100 * self.result['memorised_fraction']:.2f} % of {self.result['n']:,} samples)")
        elif "total" in p:
            self.window.verdict.setText(f"Checking: {p.get('stage', '')} {p.get('done', 0):,} / {p['total']:,}")

    def _end(self, message: str, error: bool = False) -> None:
        if self.window is not None:
            self.window.check_btn.setEnabled(True)
        self.button.setEnabled(True)
        self.button.setText("Nearest training images…")
        if error:
            self.ctx.report_error(f"Nearest training images: {message}")
            if "not" in message and self.data():          # e.g. a dataset that is gone: ask again next time
                self.ctx.settings.set_value(DATA_KEY, "")
        else:
            self.ctx.status.emit(message)

    def close(self) -> None:
        if self.window is not None:
            self.window.close()

