"""The canvas's live painting path: `LivePainter(G).update(strokes)` warm-starts each update from the previous
one's values and stops within a time budget (painting.py has the optimisation itself)."""
from __future__ import annotations

import torch

from .painting import LIVE_BUDGET_S, LIVE_STARTS, PaintStep, Strokes, paint_candidates
from .state import Latent


class LivePainter:
    """The canvas's fast path: `update(strokes)` -> the last PaintStep, warm-started from the previous update and
    limited to `budget_s` seconds of optimisation (plus the final render). `reset()` forgets the warm starts
    (a new start image, cleared strokes)."""

    def __init__(self, G, n: int = 4, start: Latent | None = None, *, starts: int = LIVE_STARTS,
                 budget_s: float = LIVE_BUDGET_S, max_steps: int = 50, seed: int = 0, **kw):
        self.G, self.n, self.start, self.starts, self.budget_s = G, n, start, starts, budget_s
        self.max_steps, self.seed, self.kw = max_steps, seed, kw
        self.values: torch.Tensor | None = None
        self.calls = 0

    def reset(self, start: Latent | None = None) -> None:
        self.start, self.values = start, None

    def update(self, strokes: Strokes) -> PaintStep:
        last = paint_candidates(self.G, strokes, start=self.start, n=self.n, steps=self.max_steps,
                                starts=self.starts, seed=self.seed + 1000 * self.calls, warm=self.values,
                                time_limit=self.budget_s, **self.kw)
        self.values, self.calls = last.values, self.calls + 1
        return last
