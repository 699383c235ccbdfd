"""A slow generator for GUI tests: a tiny model whose synthesis sleeps, so that it is slow by measurement (what the
app goes by) without the minutes a real 1024² network would take on a CPU."""
from __future__ import annotations

import threading
import time
from pathlib import Path

SLOW_S = 0.15          # seconds per image: over render_plan.SLOW_SECONDS, and one image per part


class SynthesisLog:
    """The batch sizes a patched generator was asked to synthesize, in order (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.batches: list[int] = []

    def add(self, n: int) -> None:
        with self._lock:
            self.batches.append(n)

    def count(self) -> int:
        with self._lock:
            return len(self.batches)


def make_slow(G, seconds: float = SLOW_S) -> SynthesisLog:
    """Patch G (in place) to sleep `seconds` per image before synthesizing; returns the log of its batches."""
    log, real = SynthesisLog(), G.synthesis

    def synthesis(ws, noise_mode="const"):
        log.add(int(ws.shape[0]))
        time.sleep(seconds * ws.shape[0])
        return real(ws, noise_mode=noise_mode)
    G.synthesis = synthesis
    return log


def slow_loaded_model(path: Path, seconds: float = SLOW_S):
    """(LoadedModel, its generator, the synthesis log) of the bundle at `path`, made slow."""
    from gan_studio.engine.bundle import load_bundle
    from gan_studio.gui.state import LoadedModel
    model = LoadedModel(load_bundle(path), path)
    G = model.generator()
    return model, G, make_slow(G, seconds)
