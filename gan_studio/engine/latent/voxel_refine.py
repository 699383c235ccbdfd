"""Latent refinement of a single-view 3D reconstruction: optimise z, starting from the encoder's posterior mean,
so that the generated shape, rendered the way the input picture was made, matches that picture.

    z, info = refine_latents(G, mean, logvar, views, RefineSettings(steps=25), threshold=0.55)

The picture says nothing about the camera, so `search_pose` first renders the encoder's shape from 72 cameras
(azimuth every 15°, elevation 10 / 25 / 40°), each also fitted to the picture's bounding box (size and
position), and keeps the one whose silhouette overlaps the picture's best. Then Adam on z (and on the
camera: azimuth, elevation, size, position) minimises, per object,

    (1 - soft IoU(silhouette of G(z), the picture's mask))
    + shading * mean (shade of G(z) - picture)²          (shaded pictures only)
    + prior * mean(((z - mean) / sigma)²)                 (the encoder's posterior: stay near what it saw)

The renderer is a differentiable stand-in for data/views.py's splatting renderer, whose thresholded
occupancy has no gradient: rays through the camera's pixels sample the generator's logits trilinearly
(`grid_sample`), a sample's opacity is sigmoid(tau * (logit - logit(threshold))), opacities composite front
to back, and normals are the negative gradient of the box-smoothed soft occupancy, as the splatting
renderer's are of the hard one. The shade is ambient + n·L with (ambient, L) fitted to the picture by least
squares at every step (the light is unknown too). The picture's mask is its bright pixels, or for a line
drawing (bright pixels under half the area they enclose) the area its outline encloses. Shading is compared
only where the picture has it (not for silhouettes or line drawings).

Every object is an independent problem (the loss is a sum over objects, Adam is per coordinate, the frozen
generator's batch norm is in inference mode), so a batch refines as its objects would one by one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..data import views

AZIMUTHS = tuple(range(0, 360, 15))
ELEVATIONS = (10.0, 25.0, 40.0)
SHORTLIST = 12           # cameras per object whose framing and shading the pose search scores
POSE_SHADING = 5.0        # weight of the shading error against the silhouette overlap in the pose search
INK = 0.1                 # picture pixels brighter than this (after the background mapping) are the object


@dataclass
class RefineSettings:
    steps: int = 25
    lr: float = 0.05               # Adam on z (z's scale is ~1)
    camera_lr: float = 0.01        # Adam on the camera (radians, size and position)
    prior: float = 0.1
    shading: float = 10.0
    size: int = 32                 # rendering resolution of the fit (the picture is area-averaged to it)
    depth: int = 40                # samples along each ray
    tau: float = 4.0               # opacity sharpness in logits
    cameras: int = 1               # refine from the best few cameras of the search, keep the lowest loss

    def __post_init__(self) -> None:
        if not 0 <= self.steps <= 10_000:
            raise ValueError(f"refinement steps must be between 0 and 10000, not {self.steps}")


@dataclass
class Camera:
    """Per object: azimuth, elevation (N,) degrees; scale (N,); shift (N, 2) as views.ViewParams."""
    azimuth: torch.Tensor
    elevation: torch.Tensor
    scale: torch.Tensor
    shift: torch.Tensor


def _fill_holes(ink: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) bool -> ink plus every pixel the border cannot reach without crossing ink (stepping to
    4-neighbours: a 1-px outline is 8-connected, and a diagonal step would slip through it)."""
    free = ~ink
    outside = torch.zeros_like(ink)
    outside[..., 0, :], outside[..., -1, :], outside[..., :, 0], outside[..., :, -1] = (
        free[..., 0, :], free[..., -1, :], free[..., :, 0], free[..., :, -1])
    for _ in range(ink.shape[-1] * ink.shape[-2]):
        o = outside.float()
        grown = (F.max_pool2d(o, (3, 1), 1, (1, 0)) + F.max_pool2d(o, (1, 3), 1, (0, 1)) > 0) & free
        if torch.equal(grown, outside):
            break
        outside = grown
    return ~outside


def picture_masks(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pictures (N, 1, S, S) in [0, 1] -> (object masks (N, 1, S, S) float, shaded (N,) bool: the picture has
    shading to compare, i.e. it is neither a line drawing nor a flat silhouette)."""
    ink = images > INK
    filled = _fill_holes(ink)
    lines = ink.flatten(1).sum(1) < 0.5 * filled.flatten(1).sum(1)
    mask = torch.where(lines[:, None, None, None], filled, ink).float()
    inside = images.flatten(1)[ink.flatten(1)].split(ink.flatten(1).sum(1).tolist())
    spread = torch.stack([v.std() if v.numel() > 1 else torch.tensor(0.0) for v in inside])
    return mask, ~lines & (spread > 0.05)


def _ray_grid(cam: Camera, size: int, depth: int, extent: float = views.EXTENT) -> torch.Tensor:
    """Sample points (N, D, S, S, 3) as grid_sample coordinates of [x, y, z] volumes, for orthographic
    cameras as views.render_views places them (the last depth sample nearest the camera)."""
    r, u, b = views.camera_axes(cam.azimuth, cam.elevation)                     # (N, 3) each
    px = (size / (2 * extent)) * cam.scale                                       # (N,) pixels per world unit
    t = torch.arange(size, dtype=torch.float32, device=px.device) + 0.5 - size / 2   # (S,) pixel centres
    cols = (t[None] - cam.shift[:, :1] * size) / px[:, None]                    # (N, S) world along r
    rows = -(t[None] - cam.shift[:, 1:] * size) / px[:, None]                   # (N, S) world along u
    d = torch.linspace(-math.sqrt(3), math.sqrt(3), depth, device=px.device)     # (D,)
    pts = (r[:, None, None, None] * cols[:, None, None, :, None] + u[:, None, None, None] * rows[:, None, :, None, None]
           + b[:, None, None, None] * d[None, :, None, None, None])             # (N, D, S, S, 3) world x, y, z
    return pts.flip(-1)                                                          # grid_sample: (z, y, x)


def soft_render(logits: torch.Tensor, grid: torch.Tensor, threshold: float, tau: float
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Generator logits (N, 1, X, X, X) along rays `grid` -> (silhouette (N, 1, S, S), composited normals
    (N, 3, S, S), each pixel's sum of its samples' normals weighted by their visibility)."""
    cut = math.log(threshold / (1 - threshold))
    occ = torch.sigmoid(tau * (logits - cut))
    smooth = F.avg_pool3d(F.pad(occ, (1,) * 6, mode="replicate"), 3, 1)
    grad = torch.cat(torch.gradient(smooth, dim=(2, 3, 4)), 1)                   # (N, 3, X, X, X) d/dx, d/dy, d/dz
    vol = torch.cat([logits, -grad], 1)
    s = F.grid_sample(vol, grid, mode="bilinear", padding_mode="border", align_corners=False)  # (N, 4, D, S, S)
    outside = (grid.abs() > 1).any(-1)[:, None]                                  # (N, 1, D, S, S)
    alpha = torch.sigmoid(tau * (s[:, :1] - cut)).masked_fill(outside, 0.0)
    log_clear = torch.log1p(-alpha.clamp(max=1 - 1e-6))
    seen = torch.exp(log_clear.flip(2).cumsum(2).flip(2) - log_clear)            # clear in front of each sample
    weight = alpha * seen                                                        # (N, 1, D, S, S)
    normals = (weight * F.normalize(s[:, 1:], dim=1, eps=1e-6)).sum(2)           # (N, 3, S, S)
    return 1 - torch.exp(log_clear.sum(2)), normals


def fit_light(normals: torch.Tensor, silhouette: torch.Tensor, picture: torch.Tensor,
              mask: torch.Tensor) -> torch.Tensor:
    """Least squares (ambient, L) per object with picture ≈ ambient * silhouette + normals · L on the pixels both
    cover: (N, 4), detached (the light follows the shape; gradients flow to the shape only)."""
    with torch.no_grad():
        x = torch.cat([silhouette, normals], 1).flatten(2).transpose(1, 2)       # (N, P, 4)
        w = ((silhouette > 0.5) & (mask > 0.5)).float().flatten(1)[..., None]    # (N, P, 1)
        xtx = (x * w).transpose(1, 2) @ x + 1e-3 * torch.eye(4, device=x.device)
        xty = (x * w).transpose(1, 2) @ picture.flatten(1)[..., None]
        return torch.linalg.solve(xtx, xty)[..., 0]                               # (N, 4)


def shade(normals: torch.Tensor, silhouette: torch.Tensor, light: torch.Tensor) -> torch.Tensor:
    """ambient * silhouette + max(0, normals · L): (N, 1, S, S)."""
    lam = (normals * light[:, 1:, None, None]).sum(1, keepdim=True)
    return light[:, :1, None, None] * silhouette + lam.clamp(min=0)


def _box(mask: torch.Tensor) -> torch.Tensor:
    """Bounding boxes (N, 4) (row0, row1, col0, col1) of masks (N, 1, S, S); the full frame where empty."""
    size = mask.shape[-1]
    rows, cols = mask[:, 0].any(2), mask[:, 0].any(1)                            # (N, S) each
    idx = torch.arange(size)

    def ends(a):
        lo = torch.where(a, idx, size).amin(1)
        hi = torch.where(a, idx, -1).amax(1)
        empty = ~a.any(1)
        return torch.where(empty, 0, lo).float(), torch.where(empty, size - 1, hi).float()
    return torch.stack([*ends(rows), *ends(cols)], 1)


def _fit_box(rendered: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale (M,) and shift (M, 2) that move rendered masks' bounding boxes onto the targets' (the image centre
    is the origin of the scaling)."""
    size = rendered.shape[-1]
    a, b = _box(rendered), _box(target)
    ha, wa = a[:, 1] - a[:, 0] + 1, a[:, 3] - a[:, 2] + 1
    hb, wb = b[:, 1] - b[:, 0] + 1, b[:, 3] - b[:, 2] + 1
    scale = torch.sqrt((hb / ha) * (wb / wa)).clamp(0.5, 2.0)
    centre = (size - 1) / 2
    ca = torch.stack([(a[:, 2] + a[:, 3]) / 2, (a[:, 0] + a[:, 1]) / 2], 1) - centre   # (M, 2) col, row
    cb = torch.stack([(b[:, 2] + b[:, 3]) / 2, (b[:, 0] + b[:, 1]) / 2], 1) - centre
    return scale, (cb - ca * scale[:, None]) / size


def _overlap(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a, b = a.flatten(1) > 0.5, b.flatten(1) > 0.5
    return (a & b).sum(1) / (a | b).sum(1).clamp(min=1)


def _shading_error(occ: torch.Tensor, params: views.ViewParams, picture: torch.Tensor, mask: torch.Tensor,
                   size: int) -> torch.Tensor:
    """Per view (M,): mean squared error of the picture against the views' shading under the light fitted
    to it (least squares, `fit_light`), over the pixels either covers."""
    errs = []
    for i in range(0, len(occ), 256):
        sil, normals = views.render_normals(occ[i:i + 256], params.slice(i, i + 256), size)
        pic, m = picture[i:i + 256], mask[i:i + 256]
        pred = shade(normals, sil, fit_light(normals, sil, pic, m))
        union = ((sil + m) > 0).float()
        errs.append(((pred - pic).pow(2) * union).flatten(1).sum(1) / union.flatten(1).sum(1).clamp(min=1))
    return torch.cat(errs)


def search_pose(probs: torch.Tensor, mask: torch.Tensor, threshold: float, picture: torch.Tensor | None = None,
                shading: float = POSE_SHADING, top: int = 1) -> Camera:
    """The camera (of AZIMUTHS x ELEVATIONS, as framed by the renderer or fitted to the mask's bounding box)
    whose silhouette of probs (N, X, X, X) > threshold best overlaps mask (N, 1, S, S), less `shading` times
    its shading error against `picture` (N, 1, S, S) where given (front and back often share a silhouette);
    the `top` best cameras of each object (N * top, object by object, best first). Framing and shading are
    scored on each object's SHORTLIST best silhouettes only (a third of the renders of scoring them all)."""
    n, size, k = probs.shape[0], mask.shape[-1], len(AZIMUTHS) * len(ELEVATIONS)
    az = torch.tensor(AZIMUTHS, dtype=torch.float32).repeat(len(ELEVATIONS)).repeat(n)   # (N * K,)
    el = torch.tensor(ELEVATIONS).repeat_interleave(len(AZIMUTHS)).repeat(n)
    occ = (probs > threshold).repeat_interleave(k, 0)                                   # (N * K, X, X, X)
    params = views.fixed_params(n * k)
    params.azimuth, params.elevation = az, el
    target = mask.repeat_interleave(k, 0)
    sil = views.render_params(occ, params, size, chunk=256, style="silhouette")         # (N * K, 1, S, S)
    score = _overlap(sil, target).view(n, k)
    short = (score.topk(min(SHORTLIST, k), 1).indices + torch.arange(n)[:, None] * k).flatten()   # (N * L,)
    scale, shift = _fit_box(sil[short], target[short])
    boxed = views.ViewParams(az[short], el[short], params.light[short], params.ambient[short], scale, shift)
    score_boxed = _overlap(views.render_params(occ[short], boxed, size, chunk=256, style="silhouette"),
                           target[short]).view(n, -1)
    use_box = score_boxed.amax(1) > score.amax(1) + 0.05                               # framing clearly differs
    box_each = use_box.repeat_interleave(score_boxed.shape[1])                         # (N * L,)
    chosen = torch.where(use_box[:, None], score_boxed, score.flatten()[short].view(n, -1))
    scale, shift = torch.where(box_each, scale, 1.0), torch.where(box_each[:, None], shift, 0.0)
    if picture is not None and shading:
        cams = views.ViewParams(az[short], el[short], params.light[short], params.ambient[short], scale, shift)
        err = _shading_error(occ[short], cams, picture.repeat_interleave(k, 0)[short], target[short], size)
        chosen = chosen - shading * err.view(n, -1)
    best = (chosen.topk(top, 1).indices + torch.arange(n)[:, None] * chosen.shape[1]).flatten()   # into short
    return Camera(az[short][best], el[short][best], scale[best], shift[best])


def _loss(G, z, cam: Camera, target: torch.Tensor, mask: torch.Tensor, shaded: torch.Tensor,
          mean: torch.Tensor, sigma: torch.Tensor, s: RefineSettings, threshold: float) -> torch.Tensor:
    """Per-object loss (N,) of the module docstring."""
    sil, normals = soft_render(G.logits(z), _ray_grid(cam, s.size, s.depth), threshold, s.tau)
    if s.size >= 64:                               # the splatting renderer's footprint (1 px at 64 px)
        sil, normals = F.max_pool2d(sil, 3, 1, 1), _spread(normals, sil)
    inter = (sil * mask).flatten(1).sum(1)
    fit = 1 - inter / (sil + mask - sil * mask).flatten(1).sum(1).clamp(min=1e-6)
    if s.shading and shaded.any():
        light = fit_light(normals, sil, target, mask)
        err = (shade(normals, sil, light) - target).pow(2).flatten(1).mean(1)
        fit = fit + s.shading * err * shaded
    return fit + s.prior * ((z - mean) / sigma).pow(2).mean(1)


def _spread(normals: torch.Tensor, sil: torch.Tensor) -> torch.Tensor:
    """Normals carried one pixel out as the silhouette is (the nearest... the strongest neighbour's)."""
    w = F.max_pool2d(sil, 3, 1, 1, return_indices=True)[1]                     # (N, 1, S, S) flat index
    flat = normals.flatten(2)
    return flat.gather(2, w.flatten(2).expand(-1, 3, -1)).view_as(normals)


def _optimise(G, mean: torch.Tensor, sigma: torch.Tensor, camera: Camera, target: torch.Tensor,
              mask: torch.Tensor, shaded: torch.Tensor, s: RefineSettings, threshold: float) -> tuple:
    """Adam on z and the camera: (z, Camera, per-object loss at the last step (N,), [first, last] means)."""
    z = mean.clone().requires_grad_(True)
    cam = Camera(*(t.detach().clone().float().to(mean.device).requires_grad_(True) for t in
                   (camera.azimuth, camera.elevation, camera.scale.log(), camera.shift)))
    opt = torch.optim.Adam([{"params": [z], "lr": s.lr},
                            {"params": [cam.azimuth, cam.elevation], "lr": s.camera_lr * 180 / math.pi},
                            {"params": [cam.scale, cam.shift], "lr": s.camera_lr}])
    means = []
    for _ in range(s.steps):
        live = Camera(cam.azimuth, cam.elevation, cam.scale.exp(), cam.shift)
        loss = _loss(G, z, live, target, mask, shaded, mean, sigma, s, threshold)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        means.append(float(loss.detach().mean()))
    final = Camera(*(t.detach() for t in (cam.azimuth, cam.elevation, cam.scale.exp(), cam.shift)))
    return z.detach(), final, loss.detach(), [means[0], means[-1]]


def _targets(pictures: torch.Tensor, mask: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The picture and its mask averaged down to the fit's resolution (N, 1, size, size) each."""
    if size < pictures.shape[-1]:              # undo the splats' 1-px footprint before averaging down
        mask = -F.max_pool2d(-mask, 3, 1, 1)
    return F.adaptive_avg_pool2d(pictures * (mask > 0), size), F.adaptive_avg_pool2d(mask, size)


def refine_latents(G, mean: torch.Tensor, logvar: torch.Tensor, pictures: torch.Tensor,
                   settings: RefineSettings | None = None, threshold: float = 0.5,
                   camera: Camera | None = None) -> tuple[torch.Tensor, dict]:
    """Refine the encoder's means (N, z_dim) for pictures (N, 1, S, S) in [0, 1] (the encoder's input):
    (z (N, z_dim), {"camera": Camera, "loss": [first, last] mean losses}). G: the reconstruction generator,
    used in inference mode and left unchanged; `camera` skips the pose search (diagnostics). With
    `settings.cameras` = k > 1 each object is refined from its k best cameras and keeps the lowest loss."""
    s = settings or RefineSettings()
    device = next(G.parameters()).device
    mean, pictures = mean.detach().float().to(device), pictures.detach().float().to(device)
    if s.steps == 0 or len(mean) == 0:
        return mean, {"camera": camera, "loss": []}
    n, k = len(mean), 1 if camera is not None else s.cameras
    was_training, needs = G.training, [p.requires_grad for p in G.parameters()]
    G.eval().requires_grad_(False)
    try:
        mask, shaded = picture_masks(pictures.cpu())
        if camera is None:
            with torch.no_grad():
                pics = torch.where(shaded[:, None, None, None], pictures.cpu(), torch.zeros(()))
                camera = search_pose(G(mean)[:, 0].cpu(), mask, threshold, pics,
                                     POSE_SHADING if shaded.any() else 0.0, top=k)
        target, mask = _targets(pictures, mask.to(device), s.size)
        sigma = torch.exp(0.5 * logvar.detach().float().to(device)).clamp(min=1e-3)
        def rep(t: torch.Tensor) -> torch.Tensor:
            return t.repeat_interleave(k, 0)                                        # (N * k, ...)
        z, cam, last, losses = _optimise(G, rep(mean), rep(sigma), camera, rep(target), rep(mask),
                                         rep(shaded.to(device)), s, threshold)
        pick = last.view(n, k).argmin(1) + torch.arange(n, device=device) * k          # (N,) lowest loss
        cam = Camera(*(t[pick] for t in (cam.azimuth, cam.elevation, cam.scale, cam.shift)))
        return z[pick], {"camera": cam, "loss": losses}
    finally:
        G.train(was_training)
        for p, flag in zip(G.parameters(), needs):
            p.requires_grad_(flag)
