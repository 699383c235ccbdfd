"""Writing image sequences: animated GIF, MP4 (imageio-ffmpeg), PNG frames and .npy arrays.

`export_frames` is a generator yielding (frames written, total), so the GUI can show progress and cancel
by closing it; files appear atomically (written to a temporary name, renamed when complete).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from .errors import UserError
from .files import save_npy
from .imaging import save_png, to_uint8, upscale

FORMATS = (".gif", ".mp4", ".npy", ".png")


def _pixels(images: torch.Tensor, scale: int, even: bool = False) -> Iterator[np.ndarray]:
    for px in to_uint8(images):
        px = upscale(px, scale)
        if px.shape[-1] == 1:
            px = np.repeat(px, 3, axis=-1)
        if even and (px.shape[0] % 2 or px.shape[1] % 2):            # H.264 needs even sizes
            px = np.pad(px, ((0, px.shape[0] % 2), (0, px.shape[1] % 2), (0, 0)))
        yield px


def export_frames(images: torch.Tensor | Callable[[int], torch.Tensor], count: int, out: str | Path,
                  fps: float = 24.0, scale: int = 4) -> Iterator[tuple[int, int]]:
    """Write `count` frames to `out` (.gif, .mp4, .npy, or a folder/`name.png` for PNG frames).

    `images` is (count, C, H, W) in [-1, 1], or a function frame index -> (1, C, H, W) rendered lazily.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise UserError(f"{out.name}: export to {', '.join(FORMATS)} (PNG frames: give a .png name)")
    if fps <= 0 or scale < 1:
        raise UserError("--fps must be positive and --scale at least 1")
    get = images if callable(images) else (lambda i: images[i:i + 1])
    if suffix == ".npy":
        frames = []
        for i in range(count):
            frames.append(get(i).float().cpu())
            yield i + 1, count
        arr = torch.cat(frames).numpy().astype(np.float32)
        save_npy(out, arr)
        return
    if suffix == ".png":
        yield from _png_frames(get, count, out, scale)
        return
    yield from _video(get, count, out, fps, scale, suffix)


def _png_frames(get, count: int, out: Path, scale: int) -> Iterator[tuple[int, int]]:
    digits = max(4, len(str(count - 1)))
    for i in range(count):
        save_png(out.with_name(f"{out.stem}_{i:0{digits}d}.png"), get(i)[0], scale=scale)
        yield i + 1, count


def _video(get, count: int, out: Path, fps: float, scale: int, suffix: str) -> Iterator[tuple[int, int]]:
    import imageio.v2 as imageio
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{suffix}")
    if suffix == ".gif":
        writer = imageio.get_writer(tmp, mode="I", duration=1000.0 / fps, loop=0)
    else:
        try:
            writer = imageio.get_writer(tmp, fps=fps, codec="libx264", quality=8, macro_block_size=1,
                                        pixelformat="yuv420p", ffmpeg_log_level="error")
        except Exception as exc:
            raise UserError(f"cannot write MP4 ({str(exc).splitlines()[0]}); install imageio-ffmpeg") from None
    ok = False
    try:
        for i in range(count):
            for px in _pixels(get(i), scale, even=suffix == ".mp4"):
                writer.append_data(px)
            yield i + 1, count
        ok = True
    finally:
        writer.close()
        if ok:
            tmp.replace(out)
        else:
            tmp.unlink(missing_ok=True)
