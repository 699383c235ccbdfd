"""When direction discovery has converged: the reconstructor's running accuracy, in windows of steps, stops
improving; the learning rate then drops, and after the last drop a plateau ends the run.

    window      steps per window (its mean accuracy is one point of the curve)
    min_delta   a window counts as progress when its mean beats the best window so far by this much
    patience    windows without progress before the learning rate drops (× factor)
    drops       learning-rate drops; a plateau after the last one is convergence

Statuses: "converged" (plateau after the last drop), "not converged" (the step limit came first),
"stopped early" (the user stopped it), "running".
"""
from __future__ import annotations

from dataclasses import dataclass, field

STATUSES = ("running", "converged", "not converged", "stopped early")


@dataclass
class Plateau:
    window: int = 250
    min_delta: float = 0.005
    patience: int = 4
    drops: int = 2
    factor: float = 0.3
    windows: list[float] = field(default_factory=list)   # mean accuracy of each finished window
    best: float = -1.0
    since_best: int = 0
    drops_done: int = 0
    _sum: float = 0.0
    _n: int = 0

    def update(self, accuracy: float) -> str:
        """Feed one step's accuracy: "train" (go on), "drop" (lower the learning rate now), or "converged"."""
        self._sum, self._n = self._sum + accuracy, self._n + 1
        if self._n < self.window:
            return "train"
        mean = self._sum / self._n
        self._sum, self._n = 0.0, 0
        self.windows.append(mean)
        if mean > self.best + self.min_delta:
            self.best, self.since_best = mean, 0
            return "train"
        self.best = max(self.best, mean)
        self.since_best += 1
        if self.since_best < self.patience:
            return "train"
        if self.drops_done >= self.drops:
            return "converged"
        self.drops_done += 1
        self.since_best = 0
        return "drop"

    def describe(self) -> str:
        return (f"mean accuracy per {self.window} steps; no gain of {self.min_delta} in {self.patience} windows "
                f"lowers the learning rate ×{self.factor}, after {self.drops} drops it ends the run")

    def state(self) -> dict:
        return {"window_accuracy": self.windows[-1] if self.windows else None, "best_window": max(
            self.windows, default=None), "lr_drops": self.drops_done, "criterion": self.describe()}
