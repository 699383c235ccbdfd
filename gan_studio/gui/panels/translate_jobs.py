"""What the Translate panel runs off the UI thread (in the app's LatestQueue), over the engine's `Translator`:
opening a model, reading an input, fitting the Sampling tab's image to a model, translating. No Qt here.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ...engine.bundle import Bundle
from ...engine.errors import UserError
from ...engine.image_input import fit_pixels, read_image
from ...engine.translation import Translator

CHANNELS = {1: "gray", 3: "RGB"}


@dataclass
class Translation:
    """One translation on screen: the input and what the model made of it (all (C, H, W) in [-1, 1])."""
    direction: str
    input: torch.Tensor
    output: torch.Tensor
    recon: torch.Tensor | None = None       # cycle models: the round trip back to the input's domain
    bicubic: torch.Tensor | None = None     # super-resolution: the bicubic baseline at the output size
    seconds: float = 0.0


@dataclass
class Input:
    """An input for the model: the image (C, H, W) in [-1, 1] and where it came from."""
    image: torch.Tensor
    source: str                 # "file" | "array" | "sample"
    path: str | None = None     # the file it was read from (file, array)
    note: str = ""              # how it was fitted, for the info line


def shape_text(shape) -> str:
    c, h, w = (int(s) for s in shape)
    return f"{w}×{h} {CHANNELS.get(c, f'{c}-channel')}"


def open_job(path: str, device) -> tuple[str, Translator]:
    return path, Translator.open(path, device)


def adopt_job(path: str, bundle: Bundle, device) -> tuple[str, Translator]:
    """A model the main window already loaded (its bundle), ready on `device`."""
    return path, Translator(bundle, device)


def translate_job(t: Translator, x: torch.Tensor, direction: str) -> Translation:
    """x (C, H, W) through the model; a cycle model's round trip and an SR model's bicubic baseline with it."""
    start = time.perf_counter()
    y = t.translate(x, direction)
    recon = t.translate(y, "b2a" if direction == "a2b" else "a2b") if t.kind == "cycle" else None
    bicubic = t.bicubic(x) if t.kind == "sr" else None
    return Translation(direction, x, y, recon, bicubic, time.perf_counter() - start)


def read_input_job(t: Translator, path: str, direction: str) -> Input:
    """An image file fitted to the input of `direction` (as the CLI's `translate --fit` does: read as RGB, then
    resized and converted), or a .npy array that must have its exact shape."""
    p = Path(path)
    want = t.shapes(direction)[0]
    if p.suffix.lower() == ".npy":
        return Input(_read_array(t, p, direction), "array", str(p), f"{p.name} as it is")
    px = read_image(p, 3)                                   # as `gan-studio translate --fit` reads it
    x = fit_pixels(px, want)[0]
    return Input(x, "file", str(p), f"{p.name} ({px.shape[1]}×{px.shape[0]}) fitted to {shape_text(want)}")


def _read_array(t: Translator, p: Path, direction: str) -> torch.Tensor:
    try:
        a = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UserError(f"{p.name}: not a .npy array GAN Studio can read ({str(exc).splitlines()[0][:120]})") \
            from None
    if a.dtype.kind not in "fiub":
        raise UserError(f"{p.name}: a {a.dtype} array, not an image")
    x = torch.from_numpy(np.ascontiguousarray(a, np.float32))
    if x.ndim == 2:
        x = x[None]
    return t.check_input(x, direction)[0].cpu()        # wrong channels or size: one line saying what it takes


def sample_input_job(t: Translator, image: torch.Tensor, direction: str) -> Input:
    """The Sampling tab's large view (C, H, W) in [-1, 1] as this model's input in `direction`. A model trained
    with a named transform from B to A (strokes, down4, …) gets the image fitted to B, then that transform: a
    sampled digit becomes its strokes for strokes -> digits, its 7 px version for x4 super-resolution."""
    if image is None:
        raise UserError("the Sampling tab shows no image: open an image generator there and pick a sample first")
    image = image.detach().float().cpu()
    if image.ndim != 3 or image.shape[0] not in (1, 3):
        raise UserError(f"the sample view's image ({tuple(image.shape)}) is not a gray or RGB picture")
    px = ((image.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy()         # (H, W, C) in [0, 1]
    have = shape_text(image.shape)
    if direction == "a2b" and t.transform:
        b = fit_pixels(px, t.output_shape)
        x = t.derive_input(b)[0]
        return Input(x, "sample", None, f"the sample view ({have}) as {t.domains[0]}: fitted to "
                                         f"{shape_text(t.output_shape)}, then the model's {t.transform} transform")
    want = t.shapes(direction)[0]
    x = fit_pixels(px, want)[0]
    return Input(x, "sample", None, f"the sample view ({have}) fitted to {shape_text(want)}")
