"""The reconstructors of direction discovery and of RCA: an image pair -> which direction (K logits) and how far.

    "lenet"  GANLatentDiscovery's LeNet shift predictor, widened: conv5 (3w) - pool - conv5 (8w) - pool -
             linear (60w) - heads. About 16x cheaper per sample than "wide" at equal width 2, and on CPU the
             reconstructor is most of a discovery step, so more steps per second for the same accuracy.
    "wide"   the first release's reconstructor: conv5 (32w) - pool - conv5 (64w) - pool - linear (256w).

Images larger than MAX_SIDE are area-resized to it first (both images of a pair alike), so that a 256 px
generator's pairs cost what a 64 px one's do; the direction is still told apart at that size.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ARCHS = ("lenet", "wide")
MAX_SIDE = 64


def pair_input(a: torch.Tensor, b: torch.Tensor, mode: str) -> torch.Tensor:
    """[G(z), G(z')] ("concat") or [G(z), G(z'), G(z') - G(z)] ("concat+diff"), at most MAX_SIDE px."""
    if max(a.shape[-2:]) > MAX_SIDE:
        size = [max(1, round(s * MAX_SIDE / max(a.shape[-2:]))) for s in a.shape[-2:]]
        a, b = F.interpolate(a, size=size, mode="area"), F.interpolate(b, size=size, mode="area")
    return torch.cat([a, b], 1) if mode == "concat" else torch.cat([a, b, b - a], 1)


def input_channels(img_channels: int, mode: str) -> int:
    return img_channels * (2 if mode == "concat" else 3)


class Reconstructor(nn.Module):
    """An image pair (B, n_in, H, W) -> direction logits (B, K) and shift (B,)."""

    def __init__(self, in_channels: int, k: int, width: int = 1, arch: str = "wide"):
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"reconstructor must be one of {', '.join(ARCHS)}, not {arch!r}")
        c1, c2, hidden = (3 * width, 8 * width, 60 * width) if arch == "lenet" else (32 * width, 64 * width,
                                                                                      256 * width)
        pool, pad = (5, 0) if arch == "lenet" else (7, 2)
        self.arch = arch
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, c1, 5, padding=pad), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 5, padding=pad), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(pool), nn.Flatten(), nn.Linear(c2 * pool * pool, hidden),
            *([nn.BatchNorm1d(hidden)] if arch == "lenet" else []), nn.ReLU())
        self.logits = nn.Linear(hidden, k)
        self.shift = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.logits(h), self.shift(h).squeeze(1)
