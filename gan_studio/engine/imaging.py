"""Image tensors <-> pixels: uint8 conversion, grids, nearest-neighbour upscaling, PNG files."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from .checks import check_output_pixels
from .errors import UserError
from .files import atomic_write


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> (N, H, W, C) uint8."""
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def grid_shape(n: int, h: int, w: int, ncols: int | None = None, pad: int = 2) -> tuple[int, int, int, int]:
    """(rows, cols, height, width) of `make_grid`'s grid of n tiles of h x w (known before rendering them)."""
    ncols = ncols or max(1, math.ceil(math.sqrt(n)))
    nrows = max(1, math.ceil(n / ncols))
    return nrows, ncols, nrows * (h + pad) + pad, ncols * (w + pad) + pad


def check_grid(n: int, image_shape, ncols: int | None = None, scale: int = 1) -> None:
    """Refuse a PNG grid of n images of image_shape (C, H, W), upscaled by `scale`, over the pixel cap."""
    _, _, gh, gw = grid_shape(n, int(image_shape[-2]), int(image_shape[-1]), ncols)
    check_output_pixels(gh * scale, gw * scale, f"the {n}-image grid at --scale {scale}")


def make_grid(images: torch.Tensor, ncols: int | None = None, pad: int = 2, pad_value: float = -1.0) -> torch.Tensor:
    """(N, C, H, W) -> (C, rows*(H+pad)+pad, cols*(W+pad)+pad)."""
    n, c, h, w = images.shape
    nrows, ncols, _, _ = grid_shape(n, h, w, ncols, pad)
    grid = torch.full((c, nrows * (h + pad) + pad, ncols * (w + pad) + pad), pad_value, dtype=images.dtype)
    for i in range(n):
        r, col = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[:, y:y + h, x:x + w] = images[i]
    return grid


def upscale(pixels: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscale of (H, W, C) uint8 by an integer factor: crisp pixels."""
    if factor < 1:
        raise UserError(f"upscale factor must be at least 1, not {factor}")
    check_output_pixels(pixels.shape[0] * factor, pixels.shape[1] * factor, f"the picture at --scale {factor}")
    return pixels.repeat(factor, 0).repeat(factor, 1) if factor > 1 else pixels


def save_png(path: str | Path, image: torch.Tensor, scale: int = 1) -> Path:
    """Save one image (C, H, W) in [-1, 1] as PNG, nearest-neighbour upscaled by `scale`."""
    from PIL import Image
    px = upscale(to_uint8(image[None])[0], scale)
    mode = "L" if px.shape[-1] == 1 else "RGB"
    img = Image.fromarray(px[..., 0] if mode == "L" else px, mode)
    path = Path(path)
    try:
        return atomic_write(path, lambda tmp: img.save(tmp, format="PNG"))
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


def save_grid(path: str | Path, images: torch.Tensor, ncols: int | None = None, scale: int = 1) -> Path:
    return save_png(path, make_grid(images, ncols), scale)
