"""Augmented training views for the 3D encoder: pictures made other ways than eval3d's shaded views.

    aug = ViewAugment.from_dict({"lines": 0.3})              # any field; the rest keep their defaults
    imgs = augmented_views(voxels, gen, 64, aug)               # (N, 1, 64, 64) in [0, 1], all draws from gen

Per view, from the seeded torch.Generator: with probability `clean` a plain training view (eval3d's kind:
shaded, views.random_params, nothing else); otherwise a style (shaded / lines / silhouette, by weight), the
camera over a wider elevation range; the light from anywhere in front of the object (from the side to
overhead) with ambient 0.1-0.6; the object's size and position in the frame; for line drawings thicker
(dilated) lines; a gain (faint drawings, dim photos); a blur (a downscaled picture's soft edges); a
background (a level and a gradient) on which the object is composited; dark on light (inverted); Gaussian
noise; then `auto_background`, the same mapping `reconstruct --background auto` applies to a user's image
(|image - median of its border|), so the encoder learns on what the app will feed it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..config import Config
from . import views


@dataclass
class ViewAugment(Config):
    clean: float = 0.25                  # probability a view is a plain training view (views.random_params)
    shaded: float = 0.5                  # style weights (normalised) of the other views
    lines: float = 0.25
    silhouette: float = 0.25
    elevation: list = field(default_factory=lambda: [0.0, 55.0])    # degrees
    ambient: list = field(default_factory=lambda: [0.1, 0.6])
    scale: list = field(default_factory=lambda: [0.8, 1.2])         # object size multiplier
    shift: float = 0.08                  # max centre shift, fraction of the image width (each axis)
    thick_lines: float = 0.4             # probability a line drawing's lines are dilated to 3 px
    gain: list = field(default_factory=lambda: [0.5, 1.0])          # brightness multiplier
    blur: float = 0.3                    # probability of a 3x3 Gaussian blur
    background: float = 0.3              # probability of a non-black background (level + gradient)
    invert: float = 0.2                  # probability the picture is dark on light (a drawing on paper)
    noise: float = 0.04                  # max Gaussian noise sigma (uniform in [0, noise] per view)

    def __post_init__(self) -> None:
        self.check_fields()
        weights = (self.shaded, self.lines, self.silhouette)
        if min(weights) < 0 or sum(weights) <= 0:
            raise ValueError("style weights (shaded, lines, silhouette) must be >= 0 and not all 0")
        for name in ("elevation", "ambient", "scale", "gain"):
            lo_hi = getattr(self, name)
            if len(lo_hi) != 2 or not all(isinstance(v, (int, float)) for v in lo_hi) or lo_hi[0] > lo_hi[1]:
                raise ValueError(f"{name} must be a [low, high] pair, not {lo_hi!r}")
        for name in ("clean", "thick_lines", "blur", "background", "invert"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a probability in [0, 1], not {getattr(self, name)}")
        if not 0.0 <= self.shift <= 0.3 or not 0.0 <= self.noise <= 0.5:
            raise ValueError("shift must be in [0, 0.3] and noise in [0, 0.5]")
        if not (-90 <= self.elevation[0] and self.elevation[1] <= 90 and 0 <= self.ambient[0]
                and self.ambient[1] <= 1 and self.scale[0] > 0 and self.gain[0] >= 0):
            raise ValueError("elevation must lie in [-90, 90], ambient in [0, 1], scale and gain above 0")


def _between(u: torch.Tensor, lo_hi) -> torch.Tensor:
    return lo_hi[0] + u * (lo_hi[1] - lo_hi[0])


def augmented_params(n: int, gen: torch.Generator, aug: ViewAugment) -> tuple[views.ViewParams, torch.Tensor]:
    """Cameras, lights, sizes and positions of n views, and each view's style index into views.STYLES (n,)."""
    u = torch.rand(n, 9, generator=gen)
    az, el = u[:, 0] * 360.0, _between(u[:, 1], aug.elevation)
    r, up, b = views.camera_axes(az, el)
    lu, ls = torch.deg2rad(-10 + 90 * u[:, 2]), torch.deg2rad(-85 + 170 * u[:, 3])    # side to overhead
    light = b * (lu.cos() * ls.cos())[:, None] + up * lu.sin()[:, None] + r * (lu.cos() * ls.sin())[:, None]
    scale = _between(u[:, 5], aug.scale)
    shift = (u[:, 6:8] * 2 - 1) * aug.shift
    weights = torch.tensor([aug.shaded, aug.lines, aug.silhouette], dtype=torch.float64)
    style = torch.bucketize(u[:, 8].double(), weights.cumsum(0)[:-1] / weights.sum(), right=True)
    params = views.ViewParams(az, el, F.normalize(light, dim=1), _between(u[:, 4], aug.ambient), scale, shift)
    return params, style


def auto_background(img: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) -> |img - median of each image's border|, as `prepare_view(..., background="auto")`."""
    border = torch.cat([img[..., 0, :], img[..., -1, :], img[..., :, 0], img[..., :, -1]], -1)   # (N, 1, B)
    return (img - border.quantile(0.5, dim=-1, keepdim=True)[..., None]).abs()      # numpy's median


def _blur(img: torch.Tensor) -> torch.Tensor:
    k = torch.tensor([1.0, 2.0, 1.0])
    k = (k[:, None] * k[None]) / 16
    return F.conv2d(F.pad(img, (1, 1, 1, 1), mode="replicate"), k[None, None])


def _backdrop(n: int, size: int, gen: torch.Generator) -> torch.Tensor:
    """Backgrounds (n, 1, S, S): a level in [0, 1] plus a linear gradient of up to +-0.3 across the image."""
    u = torch.rand(n, 4, generator=gen)
    t = torch.linspace(-0.5, 0.5, size)
    angle = u[:, 1] * 2 * math.pi
    ramp = angle.cos()[:, None, None] * t[None, None, :] + angle.sin()[:, None, None] * t[None, :, None]
    return (u[:, 0, None, None] + 0.6 * (u[:, 2, None, None] - 0.5) * ramp * 2).clamp(0, 1)[:, None]


def augmented_views(voxels: torch.Tensor, gen: torch.Generator, size: int = views.VIEW_SIZE,
                    aug: ViewAugment | None = None) -> torch.Tensor:
    """Augmented views (N, 1, S, S) in [0, 1] of voxels (N, X, X, X), every draw from `gen`."""
    aug = aug or ViewAugment()
    n = voxels.shape[0]
    params, style = augmented_params(n, gen, aug)
    clean = torch.rand(n, generator=gen) < aug.clean                      # (N,) plain training views
    plain = views.random_params(n, gen)
    params = views.ViewParams(*(torch.where(clean.view(-1, *[1] * (a.ndim - 1)), b, a) for a, b in
                                zip((params.azimuth, params.elevation, params.light, params.ambient, params.scale,
                                     params.shift),
                                    (plain.azimuth, plain.elevation, plain.light, plain.ambient,
                                     torch.ones(n), torch.zeros(n, 2)))))
    style = torch.where(clean, 0, style)
    img = torch.zeros(n, 1, size, size)
    for k, name in enumerate(views.STYLES):
        pick = (style == k).nonzero()[:, 0]
        if len(pick):
            img[pick] = views.render_views(voxels[pick].cpu(), _take(params, pick), size, style=name)
    clean_img = img.clone()
    u = torch.rand(n, 7, generator=gen)
    thick = ((style == views.STYLES.index("lines")) & (u[:, 0] < aug.thick_lines))[:, None, None, None]
    img = torch.where(thick, F.max_pool2d(img, 3, 1, 1), img)
    mask = (img > 0).float()
    img = img * _between(u[:, 1], aug.gain)[:, None, None, None]
    blur = (u[:, 2] < aug.blur)[:, None, None, None]
    img, mask = torch.where(blur, _blur(img), img), torch.where(blur, _blur(mask), mask)
    back = _backdrop(n, size, gen) * (u[:, 3] < aug.background)[:, None, None, None]
    img = img + (1 - mask) * back                                         # the object in front of it
    img = torch.where((u[:, 5] < aug.invert)[:, None, None, None], 1 - img, img)
    img = img + torch.randn(img.shape, generator=gen) * (u[:, 4] * aug.noise)[:, None, None, None]
    img = torch.where(clean[:, None, None, None], clean_img, auto_background(img.clamp(0, 1)))
    return img.to(voxels.device)


def _take(p: views.ViewParams, idx: torch.Tensor) -> views.ViewParams:
    return views.ViewParams(p.azimuth[idx], p.elevation[idx], p.light[idx], p.ambient[idx], p.scale[idx],
                            p.shift[idx])
