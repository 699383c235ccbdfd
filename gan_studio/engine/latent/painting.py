"""iGAN-style painting (Zhu et al. 2016): find latents whose images obey a few brush strokes and stay likely.

Strokes (`Strokes`) are a constraint: a target image T (C, H, W) in [-1, 1] with a mask M (H, W) in [0, 1] of where
it holds ("ink here": bright, "no ink here": dark, any colour for an RGB model), and optionally a sketch: a target
edge strength E (H, W) in [0, 1] (1: an edge here, 0: no edge here) with its own mask. The edge strength of an
image is tanh(|Sobel(gray)| / 4): about 1 across a full black-to-white step, 0 on flat areas.

`paint(G, strokes, start=None, n=4, steps, starts, prior_weight, seed)` is a generator like `project`: it yields a
`PaintStep` after every optimisation step (losses, the current best candidates) and a last one whose `results` are
the n best distinct candidates, Latents with source "paint" and info {"strokes": name, "loss": total, "space"};
closing it stops at the next step. Per start, the loss is
  masked MSE(image, T; M) + edge_weight * masked MSE(edges(image), E; edge mask)
  + prior_weight * prior + keep_weight * MSE(image, start image; where nothing is stroked)   (the last with a start)
with the prior: in z, (|z|² / z_dim - 1)² (stay on the shell where N(0, I) puts its mass); in w and w+,
|w - w_avg|² / w_std² averaged over the layers (a Gaussian around the model's truncation centre, w_std the RMS
distance of mapped random z, as the projector measures it). `starts` latents are optimised as one batch (Adam, a
cosine ramp-down of the learning rate over the last quarter): the best of 4 x `starts` random seeds (seed, seed+1,
...) by the loss, or, from a `start` Latent (the current sample; a small stroke edits it), that latent and jittered
copies of it. `warm` (the previous call's `values`) restarts from earlier candidates: the live path.

`LivePainter(G).update(strokes)` is that live path (the canvas): each update starts from the previous update's
candidates (plus a few fresh starts) and runs the steps that fit in `budget_s` (0.25 s, the whole call).

Strokes file (`read_strokes`, `gan-studio paint --strokes`): a PNG (or any image with transparency) the size of the
model's image, or any size with the same aspect ratio (resized, area-weighted). Its alpha marks the stroked pixels
(0: no stroke, 255: a full stroke, between: a soft brush edge); the colour there is the target: white = ink,
black = no ink, a colour for an RGB model (made gray for a grayscale one). The sketch is a second file in the same
form (`--edges sketch.png`): alpha marks where the sketch is, its brightness the edge strength wanted (white:
an edge, black: no edge). A file without transparency, unreadable, or too large is refused with one UserError.
"""
from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..device import device_of
from ..errors import UserError
from ..image_input import _decode
from ..seeds import seeds_latents
from .projection import _render, _ws, check_space, default_space, latents_from, w_stats
from .state import Latent

DEFAULT_STEPS = 100
DEFAULT_STARTS = 16
DEFAULT_PRIOR = 0.05
LIVE_STARTS = 8
LIVE_BUDGET_S = 0.25
DISTINCT_RMS = 0.1          # candidates whose images differ by less (RMS, [-1, 1] units) count as one


@dataclass
class Strokes:
    target: torch.Tensor                      # (C, H, W) in [-1, 1]: the colour wanted where mask > 0
    mask: torch.Tensor                        # (H, W) in [0, 1]
    edges: torch.Tensor | None = None         # (H, W) in [0, 1]: the edge strength wanted where edge_mask > 0
    edge_mask: torch.Tensor | None = None     # (H, W) in [0, 1]
    name: str = "canvas"

    def __post_init__(self) -> None:
        t, m = self.target, self.mask
        if t.ndim != 3 or m.shape != t.shape[1:]:
            raise UserError(f"strokes need a target (C, H, W) and a mask (H, W), not {tuple(t.shape)} and "
                            f"{tuple(m.shape)}")
        if (self.edges is None) != (self.edge_mask is None) or self.edges is not None and not (
                self.edges.shape == self.edge_mask.shape == m.shape):
            raise UserError("a sketch needs edge strengths and a mask, both (H, W) like the strokes' mask")
        for x in (t, m, self.edges, self.edge_mask):
            if x is not None and not torch.isfinite(x).all():
                raise UserError("the strokes contain NaN or infinity")
        self.target, self.mask = t.float().clamp(-1, 1), m.float().clamp(0, 1)
        if self.edges is not None:
            self.edges, self.edge_mask = self.edges.float().clamp(0, 1), self.edge_mask.float().clamp(0, 1)

    @classmethod
    def empty(cls, shape) -> Strokes:
        return cls(torch.zeros(*shape), torch.zeros(*shape[1:]))          # (C, H, W): nothing stroked

    @property
    def pixels(self) -> int:
        """Stroked pixels (colour or sketch)."""
        m = self.mask > 0
        return int((m | (self.edge_mask > 0)).sum() if self.edge_mask is not None else m.sum())

    def describe(self) -> str:
        return f"{self.name} ({self.pixels} px)"

    def fitted(self, shape) -> Strokes:
        """These strokes for an image shape (C, H, W): colour made gray or repeated, resized (area-weighted)."""
        c, h, w = (int(v) for v in shape)
        t = self.target
        if t.shape[0] != c:
            t = t.mean(0, keepdim=True).expand(c, -1, -1) if c == 1 or t.shape[0] != 1 else t.expand(c, -1, -1)
        if tuple(t.shape[1:]) == (h, w):
            return dataclasses.replace(self, target=t.contiguous())
        sh, sw = t.shape[1:]
        if abs(sw / sh - w / h) > 0.02 * (w / h):
            raise UserError(f"{self.name}: strokes of {sw} x {sh} pixels do not have the model's aspect ratio "
                            f"({w} x {h})")
        t, m = _resize_masked(t, self.mask, (h, w))
        e = em = None
        if self.edges is not None:
            e, em = _resize_masked(self.edges[None], self.edge_mask, (h, w))
            e = e[0]
        return Strokes(t, m, e, em, self.name)


def _resize_masked(values: torch.Tensor, mask: torch.Tensor, size) -> tuple[torch.Tensor, torch.Tensor]:
    """Resize (C, H, W) values premultiplied by their (H, W) mask, so unstroked pixels never bleed into strokes."""
    down = values.shape[-2] > size[0] or values.shape[-1] > size[1]
    x = torch.cat([values * mask, mask[None]])[None]
    x = F.interpolate(x, size=size, mode="bilinear", antialias=down, align_corners=False)[0]
    m = x[-1].clamp(0, 1)
    return (x[:-1] / x[-1].clamp_min(1e-6)).clamp(values.min().item(), values.max().item()) * (m > 0), m


# ------------------------------------------------------------------ files

class _NoAlpha(UserError):
    pass


def _to_rgba(im) -> np.ndarray:
    from PIL import ImageOps
    im = ImageOps.exif_transpose(im)
    if im.mode not in ("RGBA", "LA", "PA", "RGBa", "La") and "transparency" not in im.info:
        raise _NoAlpha(f"strokes need transparency (alpha marks the stroked pixels); this image has none (mode "
                       f"{im.mode}); for a whole image use `gan-studio project`")
    return np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0


def read_rgba(source) -> np.ndarray:
    """Path or bytes -> (H, W, 4) float32 in [0, 1]; a UserError for a bad file or one without transparency."""
    try:
        return _decode(source, _to_rgba)
    except _NoAlpha as exc:
        raise UserError(f"{Path(source).name if isinstance(source, (str, Path)) else 'strokes'}: {exc}") from None


def read_strokes(source, shape, edges=None) -> Strokes:
    """A strokes file (and optionally a sketch file), see the module docstring, fitted to the image shape (C, H, W)."""
    name = str(source) if isinstance(source, (str, Path)) else "strokes"
    px = torch.from_numpy(read_rgba(source))
    e = em = None
    if edges is not None:
        sk = torch.from_numpy(read_rgba(edges))
        if sk.shape != px.shape:
            raise UserError(f"the sketch is {sk.shape[1]} x {sk.shape[0]} pixels and the strokes {px.shape[1]} x "
                            f"{px.shape[0]}: draw both on the same canvas")
        e, em = sk[..., :3].mean(-1), sk[..., 3]
    strokes = Strokes(px[..., :3].permute(2, 0, 1) * 2 - 1, px[..., 3], e, em, name)
    if strokes.pixels == 0:
        raise UserError(f"{Path(name).name}: no stroked pixels (every pixel is transparent)")
    return strokes.fitted(shape)


def strokes_rgba(strokes: Strokes, sketch: bool = False) -> np.ndarray:
    """The strokes (or, with `sketch`, the sketch) as a (H, W, 4) uint8 RGBA array in the file format."""
    if sketch:
        rgb, a = strokes.edges[None].expand(3, -1, -1), strokes.edge_mask       # (no sketch: a TypeError)
    else:
        t = strokes.target
        rgb, a = (t.expand(3, -1, -1) if t.shape[0] == 1 else t[:3]) * 0.5 + 0.5, strokes.mask
    x = torch.cat([rgb, a[None]]).permute(1, 2, 0)
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def save_strokes(path, strokes: Strokes, sketch: bool = False):
    from PIL import Image
    Image.fromarray(strokes_rgba(strokes, sketch), "RGBA").save(path)


# ------------------------------------------------------------------ losses

_SOBEL = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def edge_strength(img: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) in [-1, 1] -> (N, H, W) in [0, 1): tanh(|Sobel| / 4) of the gray image (edges replicated)."""
    g = F.pad(img.float().mean(1, keepdim=True), (1, 1, 1, 1), mode="replicate")
    k = torch.stack([_SOBEL, _SOBEL.t()])[:, None].to(g.device)
    gxy = F.conv2d(g, k)
    return torch.tanh(gxy.square().sum(1).add(1e-6).sqrt() / 4)


class StrokeLoss:
    """Per-image constraint terms (N,) for strokes on one device: masked pixel MSE and masked edge MSE."""

    def __init__(self, strokes: Strokes, device, edge_weight: float = 2.0):
        self.t, self.m = strokes.target[None].to(device), strokes.mask[None, None].to(device)
        self.msum = self.m.sum().clamp_min(1e-8) * self.t.shape[1]
        self.e = None if strokes.edges is None else strokes.edges[None].to(device)
        self.em = None if strokes.edge_mask is None else strokes.edge_mask[None].to(device)
        self.edge_weight = edge_weight

    def terms(self, img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pix = ((img.float() - self.t).square() * self.m).sum((1, 2, 3)) / self.msum
        if self.e is None or not (self.em > 0).any():
            return pix, torch.zeros_like(pix)
        edge = ((edge_strength(img) - self.e).square() * self.em).sum((1, 2)) / self.em.sum().clamp_min(1e-8)
        return pix, edge

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        pix, edge = self.terms(img)
        return pix + self.edge_weight * edge


def _prior(space: str, v: torch.Tensor, w_avg, w_std: float) -> torch.Tensor:
    if space == "z":
        return (v.square().mean(1) - 1).square()
    return (v - w_avg).square().sum(-1).mean(-1) / (w_std * w_std)


# ------------------------------------------------------------------ the optimisation

@dataclass
class PaintStep:
    step: int
    total: int                                # steps planned (a live update may stop earlier, at its time budget)
    losses: dict[str, float]                  # of the best candidate: strokes, edges, prior, keep, total
    images: torch.Tensor                      # (n, C, H, W) CPU in [-1, 1]: the current best n distinct candidates
    space: str
    values: torch.Tensor                      # every start's latent so far (K, ...), best first
    elapsed: float = 0.0
    results: list[Latent] | None = None       # the last item only

    @property
    def done(self) -> bool:
        return self.results is not None


def _start_value(G, start: Latent, space: str) -> torch.Tensor:
    """A Latent as a value in `space`: z (1, z_dim), w (1, 1, w_dim) or w+ (1, num_ws, w_dim)."""
    if start.z is not None and not start.codes and space == "z":
        return start.z.float()
    ws = start.to_ws(G).detach().float().cpu()
    if space == "z":
        if getattr(G, "mapping_net", None) is None and G.num_ws == 1 and ws.shape[-1] == G.z_dim:
            return ws[:, 0]                                               # a DCGAN's w is its z
        raise UserError("a w / w+ start cannot be painted in z: paint it in w or w+")
    return ws[:, :1] if space == "w" else ws


def choose_space(G, start: Latent | None, space: str | None) -> str:
    if space is None:
        if start is not None and start.ws is not None and G.num_ws > 1:
            space = "w" if torch.allclose(start.ws, start.ws[:, :1].expand_as(start.ws)) else "w+"
        else:
            space = default_space(G)
    return check_space(G, space)


def _select(imgs: torch.Tensor, order: torch.Tensor, n: int) -> list[int]:
    """The first n of `order` whose images differ from every one kept (RMS > DISTINCT_RMS); then the next best."""
    flat = imgs.flatten(1).float()
    rms, kept = torch.cdist(flat, flat) / math.sqrt(flat.shape[1]), []
    for i in order.tolist():
        if len(kept) < n and all(rms[i, j] > DISTINCT_RMS for j in kept):
            kept.append(i)
    return kept + [i for i in order.tolist() if i not in kept][:n - len(kept)]


@torch.no_grad()
def _initial(G, space, loss, start_v, warm, starts: int, seed: int, jitter: float, scale: float) -> torch.Tensor:
    """The starts (K, ...): warm values first, then the jittered start, or the best of 4K random seeds."""
    fresh = starts if warm is None else starts - min(len(warm), starts - max(1, starts // 4))
    parts = [] if warm is None else [warm[:starts - fresh].float()]
    if start_v is not None:
        rng = torch.Generator().manual_seed(int(seed))
        noise = torch.randn((fresh, *start_v.shape[1:]), generator=rng) * jitter * scale
        if warm is None:
            noise[0] = 0                                                    # the start itself is one of them
        parts.append(start_v + noise)
    else:
        z = seeds_latents(list(range(seed, seed + 4 * fresh)), G.z_dim)
        v = z if space == "z" else G.mapping(z.to(device_of(G)))[:, :1].cpu().float()
        if space == "w+":
            v = v.expand(-1, G.num_ws, -1)
        imgs = _render(G, space, v, device_of(G)).to(device_of(G))
        parts.append(v[loss(imgs).cpu().argsort()[:fresh]])
    return torch.cat(parts).contiguous()


def _keep_term(G, strokes: Strokes, space: str, start_v: torch.Tensor, dev):
    """keep(img) -> (N,): the mean squared change from the start image away from the strokes (1 px margin)."""
    start_img = _render(G, space, start_v, dev).to(dev)
    m = strokes.mask if strokes.edge_mask is None else torch.maximum(strokes.mask, strokes.edge_mask)
    free = (1 - F.max_pool2d(m[None, None].to(dev), 3, 1, 1)).clamp(0, 1)

    def keep(img):
        return ((img.float() - start_img).square() * free).sum((1, 2, 3)) / (free.sum() * img.shape[1] + 1e-8)
    return keep


def _usable_warm(G, space: str, warm: torch.Tensor | None) -> torch.Tensor | None:
    """The previous update's values when they live in `space`, else None (start afresh)."""
    if warm is None:
        return None
    warm = warm.detach().cpu().float()
    want = (G.z_dim,) if space == "z" else (1 if space == "w" else G.num_ws, G.w_dim)
    return warm if tuple(warm.shape[1:]) == want else None


@torch.no_grad()
def _final_candidates(G, space, values, objective, strokes: Strokes, n: int, done: int, steps: int, t0: float,
                      dev) -> PaintStep:
    """The last item: every start's values rendered and scored, the n best distinct ones as `Latent`s."""
    final = _render(G, space, values, dev)
    total, terms = objective(final.to(dev), values)
    order = total.argsort().cpu()
    pick = _select(final, order, n)
    info = {"strokes": strokes.describe()}
    results = [dataclasses.replace(lat, source="paint") for lat in
               latents_from(values[pick].cpu(), space, G.num_ws, info, total[pick].tolist())]
    best = {k: round(v[pick[0]].item(), 6) for k, v in terms.items()}
    return PaintStep(done, steps, best, final[pick], space, values[order].cpu().clone(),
                     time.perf_counter() - t0, results=results)


def paint(G, strokes: Strokes, start: Latent | None = None, n: int = 4, steps: int = DEFAULT_STEPS,
          starts: int = DEFAULT_STARTS, prior_weight: float = DEFAULT_PRIOR, seed: int = 0, *,
          space: str | None = None, lr: float = 0.05, edge_weight: float = 2.0, keep_weight: float = 1.0,
          jitter: float = 0.5, warm: torch.Tensor | None = None, time_limit: float | None = None,
          ) -> Iterator[PaintStep]:
    """Candidates obeying `strokes` (see the module docstring). `time_limit` (s, from the call): stop the steps when
    the next one and the final render would not fit (at least one step runs)."""
    if n < 1 or starts < n:
        raise UserError(f"need at least one candidate and as many starts as candidates (n {n}, starts {starts})")
    if steps < 0 or prior_weight < 0 or not math.isfinite(prior_weight):
        raise UserError(f"steps and the prior weight must be at least 0, not {steps} and {prior_weight}")
    space = choose_space(G, start, space)
    strokes = strokes.fitted(G.image_shape)
    dev = device_of(G)
    w_avg, w_std = (None, 1.0) if space == "z" else w_stats(G)
    scale, w_avg_d = (1.0, None) if w_avg is None else (w_std / math.sqrt(G.w_dim), w_avg.to(dev))   # coord. std
    was_training = G.training
    G.eval()
    t0 = time.perf_counter()                                              # time_limit counts from here
    try:
        loss = StrokeLoss(strokes, dev, edge_weight)
        start_v = None if start is None else _start_value(G, start, space)
        keep = None if start_v is None else _keep_term(G, strokes, space, start_v, dev)
        warm = _usable_warm(G, space, warm)
        var = _initial(G, space, loss, start_v, warm, starts, seed, jitter, scale).to(dev).requires_grad_(True)
        opt = torch.optim.Adam([var], lr=lr * (1.0 if space == "z" else scale), betas=(0.9, 0.999))

        def objective(img, v):
            pix, edge = loss.terms(img)
            prior = _prior(space, v, w_avg_d, w_std)
            kp = keep(img) if keep is not None else torch.zeros_like(pix)
            total = pix + edge_weight * edge + prior_weight * prior + keep_weight * kp
            return total, {"strokes": pix, "edges": edge, "prior": prior, "keep": kp, "total": total}

        done, base_lr, setup = 0, opt.param_groups[0]["lr"], time.perf_counter() - t0
        for step in range(steps):
            t = step / steps
            opt.param_groups[0]["lr"] = base_lr * (0.5 + 0.5 * math.cos(math.pi * min(1.0, (t - 0.75) / 0.25))
                                                   if t > 0.75 and time_limit is None else 1.0)
            img = G.synthesis(_ws(G, space, var), noise_mode="const")
            total, terms = objective(img, var)
            opt.zero_grad(set_to_none=True)
            total.sum().backward(inputs=[var])
            opt.step()
            done = step + 1
            with torch.no_grad():
                order = total.detach().argsort().cpu()
                pick = _select(img.detach().cpu(), order, n)
                best = {k: round(v[pick[0]].item(), 6) for k, v in terms.items()}
            elapsed = time.perf_counter() - t0
            yield PaintStep(step + 1, steps, best, img.detach()[pick].float().clamp(-1, 1).cpu(), space,
                            var.detach()[order].cpu().clone(), elapsed)
            if time_limit is not None and elapsed + 1.5 * (elapsed - setup) / (step + 1) > time_limit:
                break
        yield _final_candidates(G, space, var.detach(), objective, strokes, n, done, steps, t0, dev)
    finally:
        G.train(was_training)


def paint_candidates(G, strokes: Strokes, **kw) -> PaintStep:
    """Run `paint` to the end and return its last step (`results`: the candidates)."""
    last = None
    for step in paint(G, strokes, **kw):
        last = step
    return last
