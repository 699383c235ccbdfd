"""Any common image file -> the 3D encoder's input: a grayscale view (1, 1, S, S) float in [0, 1].

Shared by the CLI (`reconstruct`) and the GUI (open / drop an image). Handles 16- and 32-bit grayscale,
float images, CMYK, RGBA / LA / palette with transparency (composited over the background), palette,
1-bit, and multi-frame files (first frame), with EXIF orientation applied. A file that is missing, empty,
not an image, truncated, larger than MAX_PIXELS (a decompression bomb) or MAX_SIDE a side, or that
would pad past MAX_PADDED raises one UserError.

Training views are bright shaded objects on black. `background="auto"` maps the image's border level
to black (|image - border median|), so an object photographed on white comes out bright on black too;
"keep" leaves intensities alone. The image is padded to a square with the background, then resized. With
"auto", an image that was scaled down is then stretched so its brightest pixel is 1: averaging a 256-px line
drawing's 1-px strokes down to 64 px leaves them at ~1/4 of their brightness (seen in the 3D tab: a chair
drawing read as a faint scribble), while the encoder learnt on strokes and shapes at full brightness. A
picture already at the encoder's size (render3d's, eval3d's) is left as it is.

`load_target` fits the same kinds of file to a 2-D generator's image shape instead (projection, `gan-studio
project`): (1, C, H, W) in [-1, 1] with C = 1 (colour made gray) or 3 (gray repeated), the aspect ratio kept by
padding with the image's own background (the median of its border), then resized; `invert` turns dark-on-light
into light-on-dark (a digit written on paper, for an MNIST model).
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import torch

from .errors import UserError, not_a_file

MAX_PIXELS = 40_000_000          # ~ a 6300 x 6300 image; larger files are refused before decoding
MAX_SIDE = 16_384                # each side too (a 6,000,000 x 6 strip is under MAX_PIXELS but pads to 3.6e13)
MAX_PADDED = MAX_PIXELS          # the image padded to the target's aspect ratio, before resizing
BACKGROUNDS = ("auto", "keep")


def _open(source):
    """A PIL image from a path or bytes, with its size checked before the pixels are decoded."""
    from PIL import Image, UnidentifiedImageError
    name = Path(source).name if isinstance(source, (str, Path)) else "image"
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if not path.is_file():
            raise UserError(not_a_file(path))
        if path.stat().st_size == 0:
            raise UserError(f"{name}: the file is empty")
        fh = open(path, "rb")
    else:
        if not source:
            raise UserError("the image is empty")
        fh = io.BytesIO(bytes(source))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(fh)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        fh.close()
        raise UserError(f"{name}: the image is too large to open safely (a decompression bomb?)") from None
    except UnidentifiedImageError:
        fh.close()
        raise UserError(f"{name}: not an image file GAN Studio can read (PNG, JPEG, TIFF, BMP, GIF, WebP ...)") \
            from None
    except (OSError, SyntaxError, ValueError) as exc:
        fh.close()
        raise UserError(f"{name}: not an image file GAN Studio can read ({_first_line(exc)})") from None
    if im.width * im.height > MAX_PIXELS or im.width < 1 or im.height < 1:
        fh.close()
        raise UserError(f"{name}: {im.width} x {im.height} pixels is too large to open safely "
                        f"(limit {MAX_PIXELS:,} pixels)")
    if max(im.width, im.height) > MAX_SIDE:
        fh.close()
        raise UserError(f"{name}: {im.width} x {im.height} pixels is too long a side to open safely "
                        f"(limit {MAX_SIDE:,} pixels a side)")
    return im, fh, name


def _check_padded(h: int, w: int, ph: int, pw: int) -> None:
    """Refuse padding an h x w image to ph x pw when that is over MAX_PADDED pixels (a thin strip)."""
    if ph * pw > MAX_PADDED:
        raise UserError(f"a {w} x {h} image padded to the target's shape would be {pw} x {ph} pixels, over the "
                        f"limit of {MAX_PADDED:,}: crop it closer to the target's aspect ratio")


def _first_line(exc: BaseException) -> str:
    s = str(exc).strip().splitlines()
    return s[0][:160] if s else type(exc).__name__


def _to_gray(im) -> np.ndarray:
    """Decoded PIL image of any mode -> (H, W) float32 in [0, 1], transparency composited over black."""
    from PIL import Image, ImageOps
    im = ImageOps.exif_transpose(im)
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(im, dtype=np.float32) / 65535.0
    if im.mode in ("I", "F"):
        a = np.asarray(im, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        if im.mode == "I" and lo >= 0 and hi <= 65535:
            return (a / (255.0 if hi <= 255 else 65535.0)).astype(np.float32)
        return ((a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)).astype(np.float32)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        im = Image.alpha_composite(black, rgba)
    return np.asarray(im.convert("L"), dtype=np.float32) / 255.0      # CMYK, YCbCr, RGB, 1, L ...


def _to_rgb(im) -> np.ndarray:
    """Decoded PIL image of any mode -> (H, W, 3) float32 in [0, 1] (high bit depths via `_to_gray`)."""
    from PIL import Image, ImageOps
    if im.mode.startswith("I") or im.mode == "F":
        return np.repeat(_to_gray(im)[..., None], 3, axis=2)
    im = ImageOps.exif_transpose(im)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba)
    return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def _decode(source, convert) -> np.ndarray:
    im, fh, name = _open(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im.seek(0)
            im.load()
            px = convert(im)
    except UserError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise UserError(f"{name}: the image could not be decoded ({_first_line(exc)})") from None
    finally:
        fh.close()
    if px.ndim not in (2, 3) or px.size == 0:
        raise UserError(f"{name}: unsupported image layout {px.shape}")
    return px


def read_grayscale(source) -> np.ndarray:
    """Path or bytes -> (H, W) float32 in [0, 1]. Raises UserError for anything that is not a sane image."""
    return _decode(source, _to_gray)


def read_image(source, channels: int = 1) -> np.ndarray:
    """Path or bytes -> (H, W, channels) float32 in [0, 1], channels 1 (gray) or 3 (RGB); UserError otherwise."""
    if channels not in (1, 3):
        raise UserError(f"images can be read with 1 or 3 channels, not {channels}")
    if channels == 1:
        return read_grayscale(source)[..., None]
    return _decode(source, _to_rgb)


def fit_pixels(px: np.ndarray, shape, invert: bool = False) -> torch.Tensor:
    """(H, W, C) in [0, 1] -> (1, C, h, w) in [-1, 1] for an image shape (C, h, w): the aspect ratio kept by
    padding with the border's median colour, then an antialiased bilinear resize."""
    import torch.nn.functional as F
    c, th, tw = (int(v) for v in shape)
    px = np.nan_to_num(np.asarray(px, np.float32)).clip(0, 1)
    if px.ndim == 2:
        px = px[..., None]
    if px.shape[2] != c:
        px = px.mean(2, keepdims=True) if c == 1 else np.repeat(px[..., :1], c, axis=2)
    if invert:
        px = 1.0 - px
    h, w = px.shape[:2]
    border = np.concatenate([px[0], px[-1], px[:, 0], px[:, -1]])           # (2h + 2w, C)
    bg = np.median(border, axis=0).astype(np.float32)
    ph, pw = max(h, int(np.ceil(w * th / tw))), max(w, int(np.ceil(h * tw / th)))
    _check_padded(h, w, ph, pw)
    canvas = np.empty((ph, pw, c), np.float32)
    canvas[:] = bg
    canvas[(ph - h) // 2:(ph - h) // 2 + h, (pw - w) // 2:(pw - w) // 2 + w] = px
    x = torch.from_numpy(canvas).permute(2, 0, 1)[None]                    # (1, C, ph, pw)
    if (ph, pw) != (th, tw):
        x = F.interpolate(x, size=(th, tw), mode="bilinear", antialias=ph > th or pw > tw, align_corners=False)
    return (x.clamp(0, 1) * 2 - 1).contiguous()


def load_target(source, shape, invert: bool = False) -> torch.Tensor:
    """Path or bytes of any common image -> (1, C, H, W) in [-1, 1] for a generator of image shape (C, H, W)."""
    return fit_pixels(read_image(source, int(shape[0])), shape, invert)


BLANK = 0.02        # a view whose brightest pixel (after background removal) is below this shows nothing


def prepare_view(gray: np.ndarray, size: int = 64, background: str = "auto", name: str = "the picture") -> torch.Tensor:
    """(H, W) in [0, 1] -> (1, 1, size, size) in [0, 1]: background to black, padded square, resized. A blank
    picture (nothing brighter than BLANK once the background is black) is a UserError that names `name`."""
    import torch.nn.functional as F
    if background not in BACKGROUNDS:
        raise UserError(f"background must be one of {', '.join(BACKGROUNDS)}, not {background!r}")
    g = np.nan_to_num(gray.astype(np.float32))
    if background == "auto":
        border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
        g = np.abs(g - float(np.median(border)))
    h, w = g.shape
    side = max(h, w)
    _check_padded(h, w, side, side)
    sq = np.zeros((side, side), np.float32)                             # padded with the (black) background
    sq[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = g
    x = torch.from_numpy(sq)[None, None]                                # (1, 1, side, side)
    if side != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=side > size, align_corners=False)
    x = x.clamp(0, 1)
    top = float(x.max())
    if top < BLANK:
        raise UserError(f"{name} is blank: nothing in it stands out from " + (
            "its background (every pixel is within 2 % of the colour of its border)" if background == "auto"
            else "black (background keep: the object must be light on a black background)"))
    if background == "auto" and side > size and 0 < top < 1:            # thin strokes faded by the averaging
        x = x / top
    return x.contiguous()


def load_view(source, size: int = 64, background: str = "auto") -> torch.Tensor:
    """Path or bytes of any common image -> the encoder's input (1, 1, size, size) in [0, 1]."""
    name = Path(source).name if isinstance(source, (str, Path)) else "the picture"
    return prepare_view(read_grayscale(source), size, background, name)
