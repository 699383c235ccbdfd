"""Writing image sequences: animated GIF, MP4 (imageio-ffmpeg), PNG frames and .npy arrays.

`export_frames` is a generator yielding (frames written, total), so the GUI can show progress and cancel
by closing it; files appear atomically (written to a temporary name, renamed when complete).
"""
from __future__ import annotations

import errno
import gc
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from .errors import UserError
from .files import check_output_path, disk_full, output_error, save_npy
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
    check_output_path(out.with_name(f"{out.stem}_0000.png") if suffix == ".png" else out)   # before rendering
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
    """GIF / MP4 frames into a hidden partial file, renamed over `out` when complete; an I/O failure (a full
    disk, …) is one OutputError line, the partial file removed and an old `out` left as it was."""
    tmp = out.with_name(f".{out.stem}.partial{suffix}")
    _io(out, out.parent.mkdir, parents=True, exist_ok=True)
    box = {"writer": _io(out, _open_writer, tmp, fps, suffix)}     # (no local name: _discard drops the last ref)
    ok = False
    try:
        for i in range(count):
            for px in _pixels(get(i), scale, even=suffix == ".mp4"):
                _io(out, box["writer"].append_data, px)
            yield i + 1, count
        _io(out, box["writer"].close)
        _io(out, _check_written, tmp)
        _io(out, tmp.replace, out)
        ok = True
    finally:
        if not ok:
            _discard(box)
            tmp.unlink(missing_ok=True)


def _discard(box: dict) -> None:
    """Close and drop a writer that failed: it may fail again, now or in its __del__ (imageio's writers flush
    there, printing "Exception ignored" tracebacks on a full disk), so both are silenced; its file goes after."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _info: None
    try:
        try:
            box.pop("writer").close()
        except Exception:
            pass
        gc.collect()
    finally:
        sys.unraisablehook = hook


def _io(out: Path, fn, *args, **kw):
    """fn(*args, **kw), an I/O failure (of writing `out`) as its OutputError, raised outside the except block so
    that it holds no reference to the failed exception's frames (and through them to a writer: _discard)."""
    try:
        return fn(*args, **kw)
    except Exception as exc:
        err = output_error(out, exc)
        if err is None:
            raise
    fn = args = kw = None
    raise err


def _check_written(tmp: Path) -> None:
    """The ffmpeg process behind an MP4 writer reports a full disk only in its log: a full disk after closing
    means the file was cut short."""
    if disk_full(tmp.parent):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _open_writer(tmp: Path, fps: float, suffix: str):
    import imageio.v2 as imageio
    if suffix == ".gif":
        return imageio.get_writer(tmp, mode="I", duration=1000.0 / fps, loop=0)
    try:
        return imageio.get_writer(tmp, fps=fps, codec="libx264", quality=8, macro_block_size=1,
                                  pixelformat="yuv420p", ffmpeg_log_level="quiet")
    except OSError:
        raise
    except Exception as exc:
        raise UserError(f"cannot write MP4 ({str(exc).splitlines()[0]}); install imageio-ffmpeg") from None
