"""Named image transforms that derive one image domain from another (issue 23): the input of a paired translation
task from its target (strokes -> digit, edges -> object, 7 px -> 28 px), or a second domain for unpaired ones.

Every transform maps float images (N, C, H, W) in [-1, 1] to images in [-1, 1] (white on black stays white on
black), deterministically and batched:

    strokes     the skeleton (Zhang & Suen 1984 thinning of the image > 0.5) drawn with a 3 px pen, white on black:
                what a user draws on a canvas with a pen (`PEN_WIDTH`)
    edges       the outline: the pixels a 3x3 dilation adds to the image > 0.5, 1 px white lines on black
    silhouette  everything brighter than the background (> 0.1 in [0, 1]) white
    thin/thick  grey-scale erosion / dilation with a 3x3 square
    grayscale   the mean of the channels (1 channel)
    invert      black <-> white
    down2/down4 bicubic down-scaling by 2 / 4 (antialiased), e.g. 28 -> 7 px for x4 super-resolution
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import UserError

PEN_WIDTH = 3            # px: the stroke width of `strokes` (a canvas should draw with this pen at the same size)
MAX_THINNING_PASSES = 64


def _unit(x: torch.Tensor) -> torch.Tensor:
    return (x.float() + 1) / 2


def _signed(mask: torch.Tensor) -> torch.Tensor:
    return mask.float() * 2 - 1


def dilate(x: torch.Tensor, k: int = 3) -> torch.Tensor:
    return F.max_pool2d(x, k, 1, k // 2)


def erode(x: torch.Tensor, k: int = 3) -> torch.Tensor:
    return -F.max_pool2d(-x, k, 1, k // 2)


def _neighbours(b: torch.Tensor) -> list[torch.Tensor]:
    """P2..P9 of every pixel of a (N, 1, H, W) 0/1 image, clockwise from the one above (zero outside)."""
    p = F.pad(b, (1, 1, 1, 1))
    h, w = b.shape[-2:]
    at = lambda dy, dx: p[..., 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]     # noqa: E731
    return [at(-1, 0), at(-1, 1), at(0, 1), at(1, 1), at(1, 0), at(1, -1), at(0, -1), at(-1, -1)]


def skeleton(mask: torch.Tensor) -> torch.Tensor:
    """Zhang-Suen thinning of a (N, 1, H, W) boolean image to 1-px-wide lines (batched; stops when stable)."""
    b = mask.float()
    for _ in range(MAX_THINNING_PASSES):
        before = b
        for first in (True, False):
            n = _neighbours(b)
            count = sum(n)
            ring = n + n[:1]
            transitions = sum(((1 - ring[i]) * ring[i + 1]) for i in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            c1 = p2 * p4 * p6 if first else p2 * p4 * p8
            c2 = p4 * p6 * p8 if first else p2 * p6 * p8
            remove = (b > 0) & (count >= 2) & (count <= 6) & (transitions == 1) & (c1 == 0) & (c2 == 0)
            b = b * (~remove).float()
        if torch.equal(b, before):
            break
    return b > 0


def strokes(x: torch.Tensor) -> torch.Tensor:
    m = skeleton(_unit(x).mean(1, keepdim=True) > 0.5)
    return _signed(dilate(m.float(), PEN_WIDTH) > 0).expand(-1, x.shape[1], -1, -1).contiguous()


def edges(x: torch.Tensor) -> torch.Tensor:
    m = (_unit(x) > 0.5).float()
    return _signed((dilate(m) - m) > 0)


def silhouette(x: torch.Tensor) -> torch.Tensor:
    return _signed(_unit(x).amax(1, keepdim=True) > 0.1).expand(-1, x.shape[1], -1, -1).contiguous()


def _down(factor: int) -> Callable[[torch.Tensor], torch.Tensor]:
    def down(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h % factor or w % factor:
            raise UserError(f"down{factor} needs images whose sides divide by {factor}, not {h} x {w}")
        y = F.interpolate(x.float(), size=(h // factor, w // factor), mode="bicubic", antialias=True,
                          align_corners=False)
        return y.clamp(-1, 1)
    return down


@dataclass(frozen=True)
class Transform:
    name: str
    fn: Callable[[torch.Tensor], torch.Tensor]
    description: str
    drawable: bool = False          # its output is something a user can draw with a pen (white strokes on black)
    scale: int = 1                  # output side = input side / scale
    channels: int | None = None     # output channels (None: as the input's)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise UserError(f"transform {self.name} takes images (N, C, H, W), not a tensor of shape {tuple(x.shape)}")
        return self.fn(x)


TRANSFORMS: dict[str, Transform] = {t.name: t for t in (
    Transform("strokes", strokes, f"skeleton drawn with a {PEN_WIDTH} px pen, white on black", drawable=True),
    Transform("edges", edges, "outline (what a 3x3 dilation adds), 1 px white lines on black", drawable=True),
    Transform("silhouette", silhouette, "the shape filled white on black", drawable=True),
    Transform("thin", erode, "grey-scale erosion (3x3): thinner strokes"),
    Transform("thick", dilate, "grey-scale dilation (3x3): bolder strokes"),
    Transform("grayscale", lambda x: x.float().mean(1, keepdim=True), "mean of the channels", channels=1),
    Transform("invert", lambda x: -x.float(), "black <-> white"),
    Transform("down2", _down(2), "bicubic down-scaling by 2", scale=2),
    Transform("down4", _down(4), "bicubic down-scaling by 4", scale=4),
)}


def get_transform(name: str) -> Transform:
    try:
        return TRANSFORMS[name]
    except KeyError:
        raise UserError(f"unknown transform {name!r} (known: {', '.join(TRANSFORMS)})") from None


def apply_transform(name: str, x: torch.Tensor, batch: int = 2048) -> torch.Tensor:
    """`name`'s transform of images (N, C, H, W) in [-1, 1], in batches (thinning 60,000 digits takes seconds)."""
    t = get_transform(name)
    if x.shape[0] == 0:
        return x
    return torch.cat([t(x[i:i + batch]) for i in range(0, x.shape[0], batch)])
