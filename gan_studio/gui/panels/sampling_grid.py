"""The sampling grid while it renders in parts (a slow or a big model): placeholders, then each part painted as it
lands, the whole grid handed back once the last part is in. Latest wins: `start` forgets an older fill, and the
panel passes only parts of its newest grid request.

A small fast model's grid comes back in one part and never goes through here (the panel shows it at once, as
it always did), so its tiles never flash placeholders.
"""
from __future__ import annotations

import numpy as np
import torch

from ...engine.latent.state import Latent
from ...engine.render import RenderResult
from ...engine.render_plan import format_speed
from ..widgets.image_grid import ImageGrid


def tile_captions(latents: list[Latent]) -> list[str]:
    return [str(lat.seed) if lat.seed is not None else str(lat.info["seed"]) if lat.source == "text" else lat.label()
            for lat in latents]


def duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def grid_status(n: int, seconds: float, shape) -> str:
    """'Rendered 16 samples in 6.7 s · 0.42 s per image · 256×256'."""
    return f"Rendered {n} samples in {duration(seconds)} · {format_speed(seconds / max(n, 1), shape)}"


def part_status(result: RenderResult, shape) -> str:
    """'Rendering the grid: 5 / 16 · 0.42 s per image · 256×256' (the speed of the part that just landed)."""
    return f"Rendering the grid: {result.stop} / {result.total} · {format_speed(result.seconds_per_image, shape)}"


class GridFill:
    """One grid request being painted part by part into an ImageGrid."""

    def __init__(self, grid: ImageGrid) -> None:
        self.grid = grid
        self.rid = 0
        self.latents: list[Latent] = []
        self._images: list[torch.Tensor | None] = []
        self._pixels: list[np.ndarray | None] = []
        self.seconds = 0.0                   # render time of the parts so far
        self.painting = False                # the grid shows this fill (placeholders and landed tiles)

    def start(self, rid: int, latents: list[Latent], placeholders: bool) -> None:
        """A new grid request (forgets any older fill); `placeholders`: show them now, not at the first part."""
        self.rid, self.latents = rid, list(latents)
        self._images, self._pixels = [None] * len(latents), [None] * len(latents)
        self.seconds, self.painting = 0.0, False
        if placeholders:
            self._show_placeholders()

    def stop(self) -> None:
        """The grid on screen is a whole one again (or a model went away)."""
        self.painting = False

    def _show_placeholders(self) -> None:
        self.grid.set_pending(tile_captions(self.latents))
        self.painting = True

    def add(self, result: RenderResult) -> tuple[torch.Tensor, np.ndarray] | None:
        """Paint one part of request `rid`; (images, pixels) of the whole grid once the last part is in."""
        if not self.painting:
            self._show_placeholders()
        for k in range(result.count):
            if result.start + k < len(self._images):
                self._images[result.start + k] = result.images[k]
                self._pixels[result.start + k] = result.pixels[k]
        self.grid.set_tiles(result.start, result.pixels)
        self.seconds += result.seconds
        if not result.done or any(im is None for im in self._images):
            return None
        return torch.stack(self._images), np.stack(self._pixels)

    def tile(self, index: int) -> tuple[Latent, torch.Tensor, np.ndarray] | None:
        """A landed tile of this fill: (latent, image, pixels), None while it is still on its way."""
        if not 0 <= index < len(self._images) or self._images[index] is None:
            return None
        return self.latents[index], self._images[index], self._pixels[index]

    def landed(self) -> int:
        return sum(im is not None for im in self._images)
