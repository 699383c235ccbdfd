"""How many images to render at once, and how fast a generator renders: Qt-free, used by the GUI's render worker
and by `synthesize`.

Memory: a synthesis network's working set grows with its output. At the last blocks a StyleGAN keeps feature maps
of tens of channels at full resolution (stylegan2 config-f: 32 channels at 1024², 64 at 512², 128 at 256²), a few
of them alive at once, so an image costs about `4 · H · W · ACTIVATION_CHANNELS` bytes while it renders: 256 MiB
at 1024², 16 MiB at 256². `max_batch` keeps a batch inside a byte budget: one image at a time at 1024², 4 at 512²,
16 at 256², at most `MAX_BATCH` of a small model.

Time: a model slower than `SLOW_SECONDS` per image is "slow". A slow model's grid renders in chunks of about
`CHUNK_SECONDS` (one image at a time above that), so the grid fills progressively and a newer request waits for
one chunk at most. Speed is measured (`SpeedBook`), never guessed from the resolution; a model whose speed is not
known yet renders one image first, which measures it.
"""
from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Sequence

ACTIVATION_CHANNELS = 64          # feature-map channels at full resolution a synthesis network holds per image
DEFAULT_BUDGET_BYTES = 256 * 2**20
MAX_BATCH = 64                    # the batch size the CLI and the grid always used for small models
SLOW_SECONDS = 0.1                # seconds per image above which a model is slow (previews while dragging)
CHUNK_SECONDS = 0.25              # a slow model's chunk lands within about this


def bytes_per_image(image_shape: Sequence[int]) -> int:
    """Estimated working memory of rendering one (C, H, W) image, in bytes."""
    c, h, w = (int(x) for x in image_shape[-3:])
    return 4 * h * w * max(c, ACTIVATION_CHANNELS)


def max_batch(image_shape: Sequence[int], budget_bytes: int = DEFAULT_BUDGET_BYTES, cap: int = MAX_BATCH) -> int:
    """The most images of this shape to render in one batch within the byte budget (at least 1)."""
    return max(1, min(cap, budget_bytes // bytes_per_image(image_shape)))


def is_slow(seconds_per_image: float | None) -> bool:
    """A measured speed slower than SLOW_SECONDS per image (unknown: not slow)."""
    return seconds_per_image is not None and seconds_per_image > SLOW_SECONDS


def chunk_size(remaining: int, image_shape: Sequence[int], seconds_per_image: float | None = None,
               budget_bytes: int = DEFAULT_BUDGET_BYTES, chunk_seconds: float = CHUNK_SECONDS) -> int:
    """How many of the `remaining` images to render next.

    At most what the byte budget allows; one when the speed is unknown and more than one is left (a probe: it
    lands soon and measures the speed); about `chunk_seconds` worth for a slow model. The limit is balanced over
    the chunks it implies (20 at a limit of 16: two chunks of 10, not 16 + 4)."""
    if remaining <= 1:
        return max(remaining, 0)
    if seconds_per_image is None:
        return 1
    limit = max_batch(image_shape, budget_bytes)
    if is_slow(seconds_per_image):
        limit = min(limit, max(1, int(chunk_seconds / seconds_per_image)))
    chunks = math.ceil(remaining / limit)
    return math.ceil(remaining / chunks)


class SpeedBook:
    """Measured seconds per image of each (generator, device), thread-safe; forgets a generator with its object.

    The figure follows the latest renders (an even mix of the last measurement and the one before), so a model
    moved to another device or a warmed-up one shows its new speed after a render or two."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._book: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def record(self, generator, device, images: int, seconds: float) -> float | None:
        if images < 1 or seconds < 0:
            return self.get(generator, device)
        per = seconds / images
        try:
            with self._lock:
                speeds = self._book.setdefault(generator, {})
                old = speeds.get(str(device))
                speeds[str(device)] = per if old is None else 0.5 * (old + per)
                return speeds[str(device)]
        except TypeError:                    # not weak-referenceable (a test's stand-in): nothing to remember
            return per

    def get(self, generator, device) -> float | None:
        try:
            with self._lock:
                return self._book.get(generator, {}).get(str(device))
        except TypeError:
            return None


def format_speed(seconds_per_image: float, image_shape: Sequence[int] | None = None, unit: str = "image") -> str:
    """'0.42 s per image · 256×256' ('3.1 ms per image' below a tenth of a second)."""
    s = seconds_per_image
    text = f"{s:.2f} s per {unit}" if s >= 0.1 else f"{s * 1000:.1f} ms per {unit}"
    if image_shape is not None:
        text += f" · {int(image_shape[-1])}×{int(image_shape[-2])}"
    return text
