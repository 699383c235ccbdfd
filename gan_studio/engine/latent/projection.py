"""Projection (GAN inversion): find the latent whose image is nearest a target image.

`project(G, target, space, steps, seed, features, critic)` is a generator: it yields a `ProjectionStep` after
every optimisation step (step, total, loss terms, the current reconstruction) and a last one whose `results` are
the projected `Latent`s (source "projection"). Closing it (`gen.close()`, or just dropping it) stops the
optimisation at the next step and leaves G exactly as it was; every step also carries the latent reached so far
(`values`; `step.latents()` makes them Latents), so a caller that stops keeps what it has.

Spaces: "z" optimises z (any generator); "w" one w broadcast to every layer, "w+" one w per layer (Abdal et al.
2019), both only for style generators (a mapping network, num_ws > 1). A generator without one (DCGAN) has w = z:
"w" and "w+" are refused with a UserError saying to use "z", rather than silently meaning z.

The schedule is the StyleGAN2 projector's (Karras et al. 2020, "Analyzing and Improving the Image Quality of
StyleGAN", appendix D): w and w+ start at the model's w_avg; the latent noise scale w_std is the RMS distance of
10,000 mapped random z from w_avg; Adam (betas 0.9, 0.999) at lr 0.1 with a linear warm-up over the first 5 % of
the steps and a cosine ramp-down over the last 25 %; Gaussian noise of std w_std * 0.05 * max(0, 1 - t / 0.75)^2
(t = step / steps) is added to the latent at every step; the noise maps, when optimised, are regularised (weight
1e5) by their squared autocorrelation at one-pixel shifts over a pyramid down to 8 px, and renormalised to zero
mean and unit variance after every step. What GAN Studio changes, and why:

- Loss: pixel MSE (on [-1, 1]) plus a perceptual distance from a network we have offline (perceptual.py: the
  shipped LeNet for MNIST-like models, else the model's critic, else none) instead of VGG16 LPIPS at 256 px,
  which would need a download.
- Noise maps are left alone unless `optimize_noise=True`: a Latent carries no noise maps, and a projection's latent
  must render as its reconstruction everywhere (sample view, `sample --z`, walks, mixing). With it, the final
  step's `noise_maps` hold the optimised maps and the reconstruction needs them (one image at a time).
- z space (the projector works in w only): the start is the nearest (in the loss) of the seeds seed, ...,
  seed + starts - 1, the latent noise std is 0.05 (z's std is 1), and after every step each z is rescaled to
  norm sqrt(z_dim), the shell where N(0, I) puts almost all its mass (for a style model, whose mapping normalises
  z, this changes no image).
- Several targets (N, C, H, W) are projected at once as N independent problems (Adam works per coordinate and
  the loss is a sum of per-image terms, and no network used mixes images of a batch).
"""
from __future__ import annotations

import math
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..device import device_of
from ..errors import UserError
from ..seeds import seeds_latents
from .perceptual import TapDistance, choose_taps
from .sampling import generate, synthesize
from .state import Latent

SPACES = ("z", "w", "w+")
DEFAULT_STEPS = 300
W_AVG_SAMPLES = 10_000


@dataclass(frozen=True)
class Schedule:
    """The optimisation's hyper-parameters (the defaults: the StyleGAN2 projector's, see the module docstring)."""
    lr: float = 0.1
    lr_rampup: float = 0.05            # fraction of the steps with a linear warm-up
    lr_rampdown: float = 0.25          # fraction of the steps with a cosine ramp-down
    noise_factor: float = 0.05         # initial latent noise, in units of the latent's std
    noise_ramp: float = 0.75           # fraction of the steps over which the latent noise decays to 0
    noise_weight: float = 1e5          # noise-map regularisation (optimize_noise only)
    pixel_weight: float = 1.0
    feature_weight: float = 0.5
    starts: int = 64                   # z space: candidate seeds for the start

    def lr_at(self, t: float) -> float:
        ramp = min(1.0, (1.0 - t) / self.lr_rampdown) if self.lr_rampdown > 0 else 1.0
        ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
        if self.lr_rampup > 0:
            ramp *= min(1.0, t / self.lr_rampup)
        return self.lr * ramp

    def noise_at(self, t: float) -> float:
        return self.noise_factor * max(0.0, 1.0 - t / self.noise_ramp) ** 2 if self.noise_ramp > 0 else 0.0


@dataclass
class ProjectionStep:
    step: int                          # optimisation steps done
    total: int
    losses: dict[str, float]           # means over the images: pixels (MSE), features, noise (reg.), total
    image: torch.Tensor                # (N, C, H, W) on the CPU in [-1, 1]: the current reconstruction
    space: str
    values: torch.Tensor               # the latents so far, CPU: z (N, z_dim), w (N, 1, w_dim), w+ (N, num_ws, w_dim)
    lr: float = 0.0
    elapsed: float = 0.0
    results: list[Latent] | None = None                      # the last item only
    noise_maps: dict[str, torch.Tensor] | None = field(default=None, repr=False)   # optimize_noise only

    @property
    def done(self) -> bool:
        return self.results is not None

    @property
    def result(self) -> Latent | None:
        return self.results[0] if self.results else None

    def latents(self, num_ws: int, info: dict | None = None) -> list[Latent]:
        return latents_from(self.values, self.space, num_ws, info)


def latents_from(values: torch.Tensor, space: str, num_ws: int, info: dict | None = None,
                 losses: list[float] | None = None) -> list[Latent]:
    """Projected latents as Latents: z rows, or ws (a w broadcast to num_ws layers, or w+ as it is)."""
    out = []
    for i in range(values.shape[0]):
        v = values[i:i + 1].detach().float().cpu().clone()
        meta = dict(info or {})
        if losses is not None:
            meta["loss"] = round(float(losses[i]), 6)
        meta["space"] = space
        if space == "z":
            out.append(Latent(z=v, source="projection", info=meta))
        else:
            out.append(Latent(ws=v.expand(-1, num_ws, -1).clone() if space == "w" else v, source="projection",
                              info=meta))
    return out


def is_style(G) -> bool:
    """Whether G has a style mapping (w differs from z): a mapping network, or more than one ws."""
    return getattr(G, "num_ws", 1) > 1 or getattr(G, "mapping_net", None) is not None


def default_space(G) -> str:
    return "w" if is_style(G) else "z"


def check_space(G, space: str) -> str:
    if space not in SPACES:
        raise UserError(f"unknown projection space {space!r} (choose from {', '.join(SPACES)})")
    if space != "z" and not is_style(G):
        raise UserError(f"this {type(G).__name__} has no style mapping (its w is its z): project with space z, "
                        f"not {space}")
    return space


def check_target(G, target: torch.Tensor) -> torch.Tensor:
    if target.ndim == 3:
        target = target[None]
    if target.ndim != 4 or tuple(target.shape[1:]) != tuple(G.image_shape) or target.shape[0] < 1:
        raise UserError(f"the target must be images of shape (N, {', '.join(map(str, G.image_shape))}), "
                        f"not {tuple(target.shape)} (fit a file with image_input.load_target)")
    if not torch.isfinite(target).all():
        raise UserError("the target image contains NaN or infinity")
    return target.float().clamp(-1, 1)


_W_STATS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@torch.no_grad()
def w_stats(G, samples: int = W_AVG_SAMPLES) -> tuple[torch.Tensor, float]:
    """(w_avg (w_dim,), w_std): the model's truncation centre and the RMS distance of `samples` mapped random z
    (a fixed seed) from it; remembered per generator while its w_avg stays the same."""
    w_avg = G.w_avg.detach().float()
    hit = _W_STATS.get(G)
    if hit is not None and hit[0] == samples and torch.equal(hit[1], w_avg):
        return w_avg, hit[2]
    z = torch.randn(samples, G.z_dim, generator=torch.Generator().manual_seed(123456))
    dev, sq = device_of(G), 0.0
    for i in range(0, samples, 1000):
        w = G.mapping(z[i:i + 1000].to(dev))[:, 0].float()
        sq += (w - w_avg.to(w.device)).square().sum().item()
    std = math.sqrt(sq / samples)
    _W_STATS[G] = (samples, w_avg.clone(), std)
    return w_avg, std


def _ws(G, space: str, v: torch.Tensor) -> torch.Tensor:
    if space == "z":
        return G.mapping(v)
    return v.expand(-1, G.num_ws, -1) if space == "w" else v


def _render(G, space: str, v: torch.Tensor, device) -> torch.Tensor:
    """The images `sample` would render for these latents (same code path: row by row, clamped, CPU)."""
    if space == "z":
        return generate(G, v, device=device)
    return synthesize(G, _ws(G, space, v), device=device)


def _noise_modules(G) -> dict[str, torch.nn.Module]:
    return {n: m for n, m in G.named_modules() if "noise_const" in m._buffers and hasattr(m, "noise_strength")}


def noise_regularisation(maps: list[torch.Tensor]) -> torch.Tensor:
    """Sum over maps and pyramid levels (down to 8 px) of the squared mean product with a 1 px shifted copy."""
    total = maps[0].new_zeros(())
    for m in maps:
        v = m.reshape(1, 1, *m.shape[-2:])
        while True:
            total = total + (v * v.roll(1, dims=3)).mean().square() + (v * v.roll(1, dims=2)).mean().square()
            if min(v.shape[-2:]) <= 8:
                break
            v = F.avg_pool2d(v, 2)
    return total


def _z_starts(G, target, loss_of, seed: int, starts: int, device) -> torch.Tensor:
    """For each target, the nearest (lowest loss) of the seed latents seed, ..., seed + starts - 1."""
    z = seeds_latents(list(range(seed, seed + max(1, starts))), G.z_dim)
    imgs = generate(G, z, device=device).to(device)
    with torch.no_grad():
        score = loss_of.pairwise(imgs)                                   # (N, K)
    return z[score.argmin(1).cpu()]


class _Loss:
    """Per-image loss terms against fixed targets: pixel MSE and the perceptual distance (if any)."""

    def __init__(self, target: torch.Tensor, taps, sch: Schedule):
        self.target, self.sch = target, sch
        self.feat = TapDistance(taps, target) if taps is not None else None

    def terms(self, img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pix = (img.float() - self.target).square().flatten(1).mean(1)
        return pix, (self.feat(img) if self.feat is not None else torch.zeros_like(pix))

    def total(self, pix, fd) -> torch.Tensor:
        return self.sch.pixel_weight * pix + self.sch.feature_weight * fd

    @torch.no_grad()
    def pairwise(self, imgs: torch.Tensor) -> torch.Tensor:
        pix = torch.stack([(imgs.float() - t).square().flatten(1).mean(1) for t in self.target])   # (N, K)
        fd = self.feat.pairwise(imgs) if self.feat is not None else torch.zeros_like(pix)
        return self.total(pix, fd)


def project(G, target: torch.Tensor, space: str | None = None, steps: int = DEFAULT_STEPS, seed: int = 0,
            features: str = "auto", critic=None, *, schedule: Schedule | None = None, optimize_noise: bool = False,
            info: dict | None = None, lpips: str | None = None) -> Iterator[ProjectionStep]:
    """Project target images (N, C, H, W) or (C, H, W) in [-1, 1] into G's `space` (see the module docstring).

    `features`: "auto", "lenet-mnist", "critic" (needs `critic`, the bundle's critic), "pixels", or a VGG weights
    file (with `lpips`, LPIPS' linear weights for it; perceptual.py, vgg.py). `info` goes into
    every result's Latent info (e.g. {"image": path}) next to "loss" (the final loss) and "space". `space` None:
    "w" for a style generator (the StyleGAN2 projector's space), else "z"."""
    sch = schedule or Schedule()
    space = check_space(G, default_space(G) if space is None else space)
    target = check_target(G, target)
    if steps < 1:
        raise UserError(f"steps must be at least 1, not {steps}")
    noise_mods = _noise_modules(G) if optimize_noise else {}
    if optimize_noise and target.shape[0] != 1:
        raise UserError("optimize_noise projects one image at a time (the noise maps are shared by a batch)")
    dev = device_of(G)
    _, taps = choose_taps(G, features, critic, dev, lpips)
    was_training = G.training
    G.eval()
    saved = {n: m._buffers["noise_const"] for n, m in noise_mods.items()}
    try:
        target = target.to(dev)
        loss = _Loss(target, taps, sch)
        n = target.shape[0]
        start, scale = _start(G, space, loss, seed, sch, n, dev)
        var = start.detach().clone().float().to(dev).requires_grad_(True)
        maps = []
        for name, m in noise_mods.items():
            maps.append(saved[name].detach().clone().float().requires_grad_(True))
            m._buffers["noise_const"] = maps[-1]
        opt = torch.optim.Adam([var, *maps], lr=sch.lr, betas=(0.9, 0.999))
        rng = torch.Generator().manual_seed(int(seed) + 7919)
        t0 = time.perf_counter()
        for step in range(steps):
            lr = sch.lr_at(step / steps)
            sigma = scale * sch.noise_at(step / steps)
            img, terms = _optimise_step(G, space, var, maps, opt, loss, lr, sigma, rng, n)
            yield ProjectionStep(step + 1, steps, terms, img.detach().float().clamp(-1, 1).cpu(), space,
                                 var.detach().cpu().clone(), lr, time.perf_counter() - t0)
        yield _final_step(G, space, var.detach(), maps, noise_mods, loss, info, steps, t0, dev)
    finally:
        for name, m in noise_mods.items():
            m._buffers["noise_const"] = saved[name]
        G.train(was_training)


def _start(G, space: str, loss: _Loss, seed: int, sch: Schedule, n: int, dev) -> tuple[torch.Tensor, float]:
    """The starting latents and the scale of the latent noise: for z the nearest of `sch.starts` seeds (on the
    sphere of radius sqrt(z_dim)), for w / w+ the mapping's average w, with its spread as the noise scale."""
    if space == "z":
        start = _z_starts(G, loss.target, loss, seed, sch.starts, dev)
        return start * (math.sqrt(G.z_dim) / start.norm(dim=1, keepdim=True).clamp_min(1e-8)), 1.0
    w_avg, scale = w_stats(G)
    return w_avg.reshape(1, 1, -1).expand(n, 1 if space == "w" else G.num_ws, -1), scale


def _optimise_step(G, space, var, maps, opt, loss: _Loss, lr: float, sigma: float, rng, n: int):
    """One Adam step at learning rate `lr` with latent noise `sigma`: (the image rendered, the loss terms)."""
    sch = loss.sch
    for group in opt.param_groups:
        group["lr"] = lr
    noisy = var + torch.randn(var.shape, generator=rng).to(var.device) * sigma if sigma > 0 else var
    img = G.synthesis(_ws(G, space, noisy), noise_mode="const")
    pix, fd = loss.terms(img)
    reg = noise_regularisation(maps) if maps else pix.new_zeros(())
    total = loss.total(pix, fd).sum() + sch.noise_weight * reg
    opt.zero_grad(set_to_none=True)
    total.backward(inputs=[var, *maps])
    opt.step()
    with torch.no_grad():
        if space == "z":
            var.mul_(math.sqrt(G.z_dim) / var.norm(dim=1, keepdim=True).clamp_min(1e-8))
        for m in maps:
            m.sub_(m.mean()).div_(m.std().clamp_min(1e-8))
    return img, _terms(pix, fd, reg, total / n)


@torch.no_grad()
def _final_step(G, space, values, maps, noise_mods, loss: _Loss, info, steps: int, t0: float, dev) -> ProjectionStep:
    """The last item: the latents reached (without latent noise) rendered, scored and made `Latent`s."""
    final = _render(G, space, values, dev)
    pix, fd = loss.terms(final.to(dev))
    per_image = loss.total(pix, fd)
    reg = noise_regularisation(maps) if maps else pix.new_zeros(())
    results = latents_from(values, space, G.num_ws, info, per_image.tolist())
    noise = {name: m.detach().cpu().clone() for name, m in zip(noise_mods, maps)} or None
    return ProjectionStep(steps, steps, _terms(pix, fd, reg, per_image.mean()), final, space, values.cpu().clone(),
                          0.0, time.perf_counter() - t0, results=results, noise_maps=noise)


def _terms(pix, fd, reg, total) -> dict[str, float]:
    return {"pixels": pix.detach().mean().item(), "features": fd.detach().mean().item(),
            "noise": reg.detach().item(), "total": total.detach().item()}


def project_image(G, target: torch.Tensor, **kw) -> ProjectionStep:
    """Run `project` to the end and return its last step (the results)."""
    last = None
    for step in project(G, target, **kw):
        last = step
    return last
