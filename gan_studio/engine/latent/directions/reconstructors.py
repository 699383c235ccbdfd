"""The reconstructors of direction discovery and of RCA: an image pair -> which direction (K logits) and how far.

    "lenet"  GANLatentDiscovery's LeNet shift predictor, widened: conv5 (3w) - pool - conv5 (8w) - pool -
             linear (60w) - heads. About 16x cheaper per sample than "wide" at equal width 2, and on CPU the
             reconstructor is most of a discovery step, so more steps per second for the same accuracy.
    "wide"   the first release's reconstructor: conv5 (32w) - pool - conv5 (64w) - pool - linear (256w).
    "strided" the LeNet's widths with stride-2 convolutions in place of conv + max-pool: the same receptive
             field, about half the CPU time per step (a max-pool's backward is dear on a CPU).

Images larger than MAX_SIDE are area-resized to it first (both images of a pair alike), so that a 256 px
generator's pairs cost what a 64 px one's do; the direction is still told apart at that size.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ARCHS = ("lenet", "wide", "strided")
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
        small = arch in ("lenet", "strided")
        c1, c2, hidden = (3 * width, 8 * width, 60 * width) if small else (32 * width, 64 * width, 256 * width)
        pool, pad = {"lenet": (5, 0), "wide": (7, 2), "strided": (7, 2)}[arch]
        self.arch = arch
        if arch == "strided":
            convs = [nn.Conv2d(in_channels, c1, 5, stride=2, padding=pad), nn.BatchNorm2d(c1), nn.ReLU(),
                     nn.Conv2d(c1, c2, 5, stride=2, padding=pad), nn.BatchNorm2d(c2), nn.ReLU()]
        else:
            convs = [nn.Conv2d(in_channels, c1, 5, padding=pad), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
                     nn.Conv2d(c1, c2, 5, padding=pad), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2)]
        self.body = nn.Sequential(
            *convs, nn.AdaptiveAvgPool2d(pool), nn.Flatten(), nn.Linear(c2 * pool * pool, hidden),
            *([nn.BatchNorm1d(hidden)] if small else []), nn.ReLU())
        self.logits = nn.Linear(hidden, k)
        self.shift = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.logits(h), self.shift(h).squeeze(1)
