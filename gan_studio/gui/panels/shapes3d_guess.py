"""The 3D panel's "looks like" label: the voxel classifier's guess for the grid on screen (a seed's shape, a
reconstruction, an interpolation frame or a test object's true shape), at the threshold on screen. Asked in the
panel's job queue (latest wins: a few ms each) whenever the grid or the threshold changes. A mixin of
`Shapes3DPanel` (its view, stage and jobs)."""
from __future__ import annotations

from ...engine.metrics.shapes3d import guess_shape


class ShapeGuessing:
    """Keeps `stage.guess` in step with `view.grid`; a missing classifier is a note there, not an error box."""

    _guessed: tuple | None = None               # (grid's content hash, threshold) of the last guess asked for

    def _ask_guess(self) -> None:
        grid, t = self.view.grid, self.view.threshold
        if grid is None:
            self._guessed = None
            self.stage.guess.clear()
            return
        key = (hash(grid.tobytes()), round(float(t), 4))     # ~0.1 ms for 32³; an id could be reused
        if key != self._guessed:
            self._guessed = key
            self.jobs.submit("guess", guess_shape, grid.copy(), float(t))

    def _guess_done(self, value: dict) -> None:
        self.stage.guess.set_guess(value)

    def _guess_failed(self, message: str) -> None:
        self._guessed = None
        self.stage.guess.set_message(f"No classifier's guess: {message}")
