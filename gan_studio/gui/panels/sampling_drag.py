"""Dragging through latent space on the sampling panel's large view (after the StyleGAN3 visualizer's latent widget).

A left-button drag on the large image moves a fractional seed position (engine/latent/drag.py): `PX_PER_SEED`
pixels to the right is one seed on, down is one row of STRIDE seeds on. Every mouse move asks for the latent at
the new position (snapped to 0.01, so the CLI's `sample --seed X[,Y]` renders the same image) through the panel's
large-view request: the render worker keeps only the newest request per view (latest wins), so a fast drag shows
the newest position the renderer can keep up with. Passing an integer seed of the grid selects its tile at once.

The seed boxes above the image show the position (typing 7.5 shows the blend of seeds 7 and 8); the drag starts
from them. While dragging, the frames shown are not "selected" (walks and direction edits don't follow every
frame); when the drag ends, the latent shown last is `ctx.select_latent`-ed, as a clicked tile is.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Slot

from ...engine.errors import UserError
from ...engine.latent.drag import SeedPos
from ...engine.latent.state import Latent

PX_PER_SEED = 100.0


class LatentDrag(QObject):
    """The drag and the seed boxes of a SamplingPanel (its parent)."""

    def __init__(self, panel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.active = False                       # a drag is under way
        self._start: SeedPos | None = None        # where the drag began
        self.position: SeedPos | None = None      # the newest position asked for
        view, side = panel.side.image, panel.side
        view.drag_started.connect(self._started)
        view.drag_moved.connect(self._moved)
        view.drag_finished.connect(self._finished)
        side.x_box.valueChanged.connect(self._typed)
        side.y_box.valueChanged.connect(self._typed)
        panel.view_shown.connect(self._shown)

    def current(self) -> SeedPos:
        """The position the boxes show (the large view's seed, or where a drag or typing left it)."""
        return SeedPos.snapped(*self.panel.side.position())

    def _codes(self) -> dict[str, float]:
        """The chosen class / codes, as the grid's tiles get them (a DRS grid's tiles: per seed)."""
        return {} if self.panel.drs.active() else self.panel.codes()

    def show_position(self, pos: SeedPos) -> Latent | None:
        """Ask for the latent at `pos` in the large view (latest wins); an integer seed of the grid shows its tile."""
        G = self.panel._G
        if G is None:
            return None
        try:
            latent = Latent.from_position(pos, G.z_dim, self._codes())
        except UserError as exc:
            self.panel.ctx.report_error(str(exc))
            return None
        self.position = pos
        self.panel.side.set_position(pos.x, pos.y)
        if latent.seed is not None and latent.seed in self.panel.seeds():
            self.panel.set_latent(latent)         # its tile: shown at once
        else:
            self.panel.grid.set_selected(-1)
            self.panel._request_view(latent)
        return latent

    # ------------------------------------------------------------ the drag
    @Slot()
    def _started(self) -> None:
        if self.panel._G is None:
            return
        self.active = True
        self._start = self.position = self.current()

    @Slot(float, float)
    def _moved(self, dx: float, dy: float) -> None:
        if not self.active:
            return
        pos = self._start.shifted(dx / PX_PER_SEED, dy / PX_PER_SEED)
        if pos != self.position:                  # a move within the same 0.01 step asks for nothing new
            self.show_position(pos)

    @Slot()
    def _finished(self) -> None:
        if not self.active:
            return
        self.active = False
        panel, pending = self.panel, self.panel._pending_view
        if panel.latent is not None and (pending is None or pending[1] is panel.latent):   # on screen already
            panel.ctx.select_latent(panel.latent, panel.view_image)
        # else the last position's image is on its way: the panel selects it when it lands (not dragging now)

    # ------------------------------------------------------------ the seed boxes
    @Slot()
    def _typed(self) -> None:
        self.show_position(self.current())

    @Slot(object)
    def _shown(self, latent: Latent) -> None:
        """The large view shows `latent`: the boxes follow a seed or a fractional seed (not while dragging: they
        show the newest position already, the image catches up)."""
        pos = latent.position
        if pos is not None and not self.active:
            self.position = pos
            self.panel.side.set_position(pos.x, pos.y)
