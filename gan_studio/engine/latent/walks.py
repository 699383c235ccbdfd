"""Latent walks: pure functions from keyframes (or a seed) to a sequence of latents.

Latents are tensors whose last dimension is the latent vector: z (K, z_dim) or ws (K, num_ws, w_dim).
`interpolate` passes exactly through the keyframes (frame 0 is the first keyframe, the last frame the last
keyframe, unless the walk is a closed loop, whose last frame leads back to the first). `random_loop` is a
smooth closed walk from a seed: a great circle, or a periodic noise loop that visits more of the space.
"""
from __future__ import annotations

import math

import torch

from ..device import device_of
from ..errors import UserError
from .sampling import seed_latent

METHODS = ("slerp", "lerp")
EASINGS = ("linear", "ease")
LOOPS = ("circle", "noise")


def lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: float, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the last dimension; norms are interpolated linearly, so equal-norm
    endpoints keep their norm. Falls back to lerp for (anti)parallel vectors."""
    na, nb = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
    ua, ub = a / na.clamp_min(eps), b / nb.clamp_min(eps)
    cos = (ua * ub).sum(-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    so = torch.sin(omega)
    safe = so.abs() > 1e-4
    so_safe = torch.where(safe, so, torch.ones_like(so))
    direction = (torch.sin((1 - t) * omega) * ua + torch.sin(t * omega) * ub) / so_safe
    direction = torch.where(safe, direction, lerp(ua, ub, t))
    return direction * lerp(na, nb, t)


def ease(t: float, easing: str) -> float:
    if easing == "linear":
        return t
    if easing == "ease":                      # cosine ease in-out: zero velocity at keyframes
        return 0.5 - 0.5 * math.cos(math.pi * t)
    raise UserError(f"unknown easing {easing!r} (choose from {', '.join(EASINGS)})")


def frame_positions(num_keyframes: int, frames: int, loop: bool) -> list[tuple[int, float]]:
    """For each frame: (segment index, position 0..1 within it)."""
    segments = num_keyframes if loop else num_keyframes - 1
    out = []
    for i in range(frames):
        t = i * segments / frames if loop else (i * segments / (frames - 1) if frames > 1 else 0.0)
        seg = min(int(math.floor(t)), segments - 1)
        out.append((seg, t - seg))
    return out


def interpolate(keyframes: torch.Tensor, frames: int, method: str = "slerp", loop: bool = False,
                easing: str = "linear") -> torch.Tensor:
    """keyframes (K, ...) -> (frames, ...) latents through the keyframes."""
    if method not in METHODS:
        raise UserError(f"unknown interpolation {method!r} (choose from {', '.join(METHODS)})")
    k = keyframes.shape[0]
    if k < 1 or (k < 2 and not loop):
        raise UserError("a walk needs at least two keyframes (or one and a loop)")
    if frames < 2:
        raise UserError(f"a walk needs at least 2 frames, not {frames}")
    if loop and k == 1:
        raise UserError("a loop through one keyframe stands still: give two or more, or use a random loop")
    fn = slerp if method == "slerp" else lerp
    out = torch.empty(frames, *keyframes.shape[1:], dtype=keyframes.dtype)
    for i, (seg, u) in enumerate(frame_positions(k, frames, loop)):
        a, b = keyframes[seg], keyframes[(seg + 1) % k]
        if u == 0.0:
            out[i] = a                              # exact keyframes, no round-off
        elif u == 1.0:
            out[i] = b
        else:
            out[i] = fn(a, b, ease(u, easing))
    return out


def random_loop(seed: int, z_dim: int, frames: int, kind: str = "noise", harmonics: int = 3) -> torch.Tensor:
    """A smooth closed walk (frames, z_dim) from a seed; frame i+frames would equal frame i.

    circle: z(θ) = cos θ·a + sin θ·b for two seeded Gaussian vectors a, b made orthogonal with equal norm.
    noise:  z(θ) = Σ_k (a_k cos kθ + b_k sin kθ)/k, normalised so each coordinate is N(0, 1) at every θ.
    """
    if kind not in LOOPS:
        raise UserError(f"unknown random loop {kind!r} (choose from {', '.join(LOOPS)})")
    if frames < 2:
        raise UserError(f"a walk needs at least 2 frames, not {frames}")
    gen = torch.Generator("cpu").manual_seed(int(seed))
    theta = torch.arange(frames, dtype=torch.float64) * (2 * math.pi / frames)      # (F,)
    if kind == "circle":
        a = seed_latent(seed, z_dim)[0].double()
        b = torch.randn(z_dim, generator=gen, dtype=torch.float64)
        b = b - (b @ a) / (a @ a) * a
        b = b / b.norm() * a.norm()
        return (torch.cos(theta)[:, None] * a + torch.sin(theta)[:, None] * b).float()
    n = max(1, harmonics)
    coef = torch.randn(n, 2, z_dim, generator=gen, dtype=torch.float64)
    weights = torch.tensor([1.0 / (k + 1) for k in range(n)], dtype=torch.float64)
    weights = weights / weights.pow(2).sum().sqrt()
    ks = torch.arange(1, n + 1, dtype=torch.float64)
    cos, sin = torch.cos(theta[:, None] * ks), torch.sin(theta[:, None] * ks)         # (F, n)
    z = torch.einsum("fn,nd->fd", cos * weights, coef[:, 0]) + torch.einsum("fn,nd->fd", sin * weights, coef[:, 1])
    return z.float()


def walk_ws(G, keyframes: list, frames: int, method: str | None = None, loop: bool = False,
            easing: str = "linear", truncation_psi: float = 1.0) -> torch.Tensor:
    """A walk through `Latent` keyframes as ws (frames, num_ws, w_dim) on the CPU.

    All-z keyframes interpolate in z (slerp by default: Gaussian z lives near a sphere) and are then mapped;
    if any keyframe is already a ws (a mix, a direction edit in w) or has chosen codes (a class, InfoGAN codes),
    all are mapped and interpolated in w (lerp by default)."""
    if not keyframes:
        raise UserError("a walk needs keyframes")
    dev = device_of(G)
    with torch.no_grad():
        if all(k.z is not None and not k.codes for k in keyframes):
            z = interpolate(torch.cat([k.z for k in keyframes]).cpu(), frames, method or "slerp", loop, easing)
            return G.mapping(z.to(dev), truncation_psi=truncation_psi).cpu()
        ws = torch.cat([k.to_ws(G, truncation_psi).cpu() for k in keyframes])
        return interpolate(ws, frames, method or "lerp", loop, easing)
