"""Live GAN training curves (pyqtgraph): one line per loss term the engine reports, and FID as its own plot.

Long runs stay fast two ways: `add` only appends to buffers (a timer redraws at most ~10×/s), and each
curve keeps at most MAX_POINTS points — when it fills up, neighbouring points merge into their mean and
later points average twice as many steps, so a 200,000-step run still draws ≤ 2,000 points per curve.
"""
from __future__ import annotations

from html import escape

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from .throttled_plot import ThrottledPlot
from .training_curves import _plot

MAX_POINTS = 2000
PENS = [(74, 160, 255), (255, 140, 70), (120, 200, 120), (210, 120, 220), (240, 210, 90), (90, 210, 210),
        (230, 90, 110), (170, 170, 170)]
FID_PEN = (240, 210, 90)
LABELS = {"d_loss": "critic loss", "g_loss": "generator loss", "penalty": "penalty",
          "wasserstein": "Wasserstein estimate", "energy_real": "energy of reals", "energy_fake": "energy of fakes",
          "margin": "margin m", "pull_away": "pull-away term", "drift": "drift ε·D(x)²", "alpha": "fade-in α",
          "convergence": "convergence M", "geometric": "geometric reg. d(x, G(E(x)))",
          "mode": "mode reg. −log D(G(E(x)))", "d_diffusion": "diffusion critic loss", "manifold": "manifold step"}
AUX = ("alpha", "k_t", "convergence")      # a family's control curves: their own plot, beside the losses
# an image-to-image run: its terms before their weights share the loss plot; the weighted generator objective (pix2pix:
# 100·L1 + cGAN, tens of times the others) gets the side plot
TRANSLATION_LABELS = {"g_loss": "generator objective (weighted)", "l1": "L1 |G(a) − b|",
                      "g_gan": "generator cGAN term", "g_adv": "generator adversarial", "cycle": "cycle reconstruction",
                      "identity": "identity", "content": "content (feature MSE)", "mse": "pixel MSE"}
TITLE_ONLY = ("resolution",)               # ProGAN's resolution: in that plot's title, not a curve


class Decimator:
    """A stream of (x, y) kept as ≤ max_points bin means; each bin averages `stride` consecutive points."""

    def __init__(self, max_points: int = MAX_POINTS) -> None:
        self.max_points = max(2, max_points - max_points % 2)
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.stride = 1
        self._sx = self._sy = 0.0
        self._count = 0
        self.seen = 0                             # points added

    def add(self, x: float, y: float) -> None:
        self.seen += 1
        self._sx, self._sy, self._count = self._sx + x, self._sy + y, self._count + 1
        if self._count < self.stride:
            return
        self.xs.append(self._sx / self._count)
        self.ys.append(self._sy / self._count)
        self._sx = self._sy = 0.0
        self._count = 0
        if len(self.xs) >= self.max_points:       # merge pairs: half the points, twice the stride
            self.xs = [(a + b) / 2 for a, b in zip(self.xs[::2], self.xs[1::2])]
            self.ys = [(a + b) / 2 for a, b in zip(self.ys[::2], self.ys[1::2])]
            self.stride *= 2

    def data(self) -> tuple[list[float], list[float]]:
        """The bins, plus the partial bin being filled (so the newest step shows at once)."""
        if self._count:
            return self.xs + [self._sx / self._count], self.ys + [self._sy / self._count]
        return self.xs, self.ys


class LossCurves(ThrottledPlot):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = _plot("Losses", "value")
        self.legend = QLabel("")             # above the plot, wrapping: never over the curves, never clipped
        self.legend.setWordWrap(True)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.legend.setStyleSheet("color: #c8ccd4; font-size: 8pt;")
        self.fid_plot = _plot("FID (lenet-mnist)", "FID")
        self.aux_plot = _plot("", "value")
        self.aux_plot.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)   # never widens
        self.aux_plot.hide()
        self.latest: dict[str, float] = {}
        self._fid_curve = self.fid_plot.plot(pen=pg.mkPen(FID_PEN, width=1.5), symbol="o", symbolSize=5,
                                             symbolBrush=FID_PEN, symbolPen=None)
        self.series: dict[str, Decimator] = {}
        self._curves: dict[str, pg.PlotDataItem] = {}
        self.fid: list[tuple[int, float]] = []
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(0)
        left.addWidget(self.legend)
        left.addWidget(self.loss_plot, 1)
        lay.addLayout(left, 3)
        self.side = QWidget()                # the family's and FID plots; hidden with both, the losses then fill it
        right = QVBoxLayout(self.side)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.aux_plot, 1)
        right.addWidget(self.fid_plot, 1)
        lay.addWidget(self.side, 2)

    wasserstein_loss = True    # the training panel sets it: only WGAN critics estimate a Wasserstein distance
    aux_keys, aux_fixed_title, labels = AUX, "", LABELS

    def set_translation(self, on: bool) -> None:
        """Curves of an image-to-image run (its own terms' names; the weighted objective on the side plot) or of a
        GAN's; takes effect for the curves added after the next clear()."""
        self.aux_keys = ("g_loss",) if on else AUX
        self.aux_fixed_title = "Objective (weighted)" if on else ""
        self.labels = LABELS | TRANSLATION_LABELS if on else LABELS

    def label(self, key: str) -> str:
        if key == "wasserstein" and not self.wasserstein_loss:
            return "critic gap (real − fake)"
        return self.labels.get(key, key)

    def clear(self) -> None:
        for curve in self._curves.values():
            for plot in (self.loss_plot, self.aux_plot):
                if curve in plot.listDataItems():
                    plot.removeItem(curve)
        self.series, self._curves, self.fid, self.latest = {}, {}, [], {}
        self.aux_plot.hide()
        self._side()
        self.legend.setText("")
        self._fid_curve.setData([], [])
        self._dirty = False

    def show_fid(self, on: bool) -> None:
        """Show the FID plot (when FID is on, or was measured in this run)."""
        self.fid_plot.setVisible(on or bool(self.fid))
        self._side()

    def _side(self) -> None:
        self.side.setVisible(not (self.aux_plot.isHidden() and self.fid_plot.isHidden()))

    def add(self, step: int, losses: dict[str, float]) -> None:
        self.latest.update(losses)
        for key, value in losses.items():
            if key in TITLE_ONLY:
                continue
            if key not in self.series:
                self.series[key] = Decimator()
                pen = pg.mkPen(PENS[len(self._curves) % len(PENS)], width=1.3)
                plot = self.aux_plot if key in self.aux_keys else self.loss_plot
                self._curves[key] = plot.plot(pen=pen, name=self.label(key))
                if key in self.aux_keys:
                    self.aux_plot.show()
                    self._side()
                self._update_legend()
            self.series[key].add(float(step), float(value))
        self._touch()

    def legend_entries(self) -> list[str]:
        return [self.label(k) for k in self._curves]

    def _update_legend(self) -> None:
        items = []
        for i, key in enumerate(self._curves):
            r, g, b = PENS[i % len(PENS)]
            items.append(f'<span style="color: rgb({r},{g},{b})">━━</span>&nbsp;{escape(self.label(key))}')
        self.legend.setText("&nbsp;&nbsp;&nbsp; ".join(items))

    def add_fid(self, step: int, value: float) -> None:
        self.fid.append((step, value))
        self.fid_plot.show()
        self._side()
        self._touch()

    def point_count(self, key: str | None = None) -> int:
        """Points drawn (after the latest redraw) for one loss key, or the most over all keys."""
        keys = [key] if key else list(self._curves)
        counts = [len(self._curves[k].xData) if self._curves[k].xData is not None else 0 for k in keys]
        return max(counts, default=0)

    def fid_count(self) -> int:
        return len(self._fid_curve.xData) if self._fid_curve.xData is not None else 0

    def aux_title(self) -> str:
        """The family plot's title: ProGAN's resolution and α, BEGAN's M and k_t, as of the newest step."""
        v = self.latest
        if self.aux_fixed_title:
            return self.aux_fixed_title
        if "resolution" in v:
            alpha = v.get("alpha", 1.0)
            return f"{v['resolution']:.0f} px · α {alpha:.2f} ({'fade-in' if alpha < 1 else 'stable'})"
        if "convergence" in v:
            return f"M {v['convergence']:.3f} · k_t {v.get('k_t', 0.0):.4f}"
        return ""

    def _draw(self) -> None:
        if not self.aux_plot.isHidden():
            self.aux_plot.setTitle(self.aux_title(), color="#9aa0aa", size="9pt")
        for key, series in self.series.items():
            self._curves[key].setData(*series.data())
        if self.fid:
            xs, ys = zip(*self.fid)
            self._fid_curve.setData(list(xs), list(ys))
