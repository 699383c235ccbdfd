"""Seeds mean the same everywhere: seed S is `torch.randn(1, z_dim, generator=Generator("cpu").manual_seed(S))`.

Rendering goes one latent at a time through the same code path whatever the batch size, so the same seed
gives the same image in every panel and command (max |delta| <= 1e-5). Batches stay within a memory budget
(`render_plan.max_batch`: 64 images of a small model, one at a time at 1024²).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from ..device import device_of
from ..errors import UserError
from ..render_plan import max_batch
from ..seeds import MAX_SEED, seed_latent, seeds_latents  # noqa: F401  (re-exported: the latent API)


def seed_range(seed: int, n: int) -> list[int]:
    if n < 1:
        raise UserError(f"--n must be at least 1, not {n}")
    return [seed + i for i in range(n)]


def parse_seeds(text: str) -> list[int]:
    """'1,2,5-8' -> [1, 2, 5, 6, 7, 8]."""
    out: list[int] = []
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "-" in part[1:]:
                a, b = part.split("-", 1) if not part.startswith("-") else (part, "")
                lo, hi = int(a), int(b)
                if hi < lo:
                    raise ValueError
                out.extend(range(lo, hi + 1))
            else:
                out.append(int(part))
        except ValueError:
            raise UserError(f"bad seed list {text!r}: use e.g. 1,2,5-8") from None
    if not out:
        raise UserError("no seeds given")
    for s in out:
        if not 0 <= s <= MAX_SEED:
            raise UserError(f"seed must be between 0 and {MAX_SEED}, not {s}")
    return out


@torch.no_grad()
def synthesize(G, ws: torch.Tensor, noise_mode: str = "const", batch_size: int | None = None,
               device: torch.device | str | None = None) -> torch.Tensor:
    """ws (N, num_ws, w_dim) -> images (N, C, H, W) float32 on the CPU, clamped to [-1, 1]; batches of
    `batch_size` (None: as many as the memory budget allows, at most 64)."""
    device = torch.device(device) if device is not None else device_of(G)
    batch_size = batch_size or max_batch(G.image_shape)
    outs = []
    for i in range(0, ws.shape[0], max(1, batch_size)):
        img = G.synthesis(ws[i:i + batch_size].to(device), noise_mode=noise_mode)
        outs.append(img.float().clamp(-1, 1).cpu())
    if not outs:
        return torch.zeros(0, *G.image_shape)
    return torch.cat(outs, 0)


@torch.no_grad()
def generate(G, z: torch.Tensor, truncation_psi: float = 1.0, truncation_cutoff: int | None = None,
             noise_mode: str = "const", batch_size: int | None = None, c: torch.Tensor | None = None,
             device: torch.device | str | None = None) -> torch.Tensor:
    """z (N, z_dim) -> images (N, C, H, W) on the CPU."""
    if z.ndim != 2 or z.shape[1] != G.z_dim:
        raise UserError(f"latents must have shape (N, {G.z_dim}), not {tuple(z.shape)}")
    device = torch.device(device) if device is not None else device_of(G)
    ws = G.mapping(z.to(device), c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
    return synthesize(G, ws, noise_mode=noise_mode, batch_size=batch_size, device=device)


def images_for_seeds(G, seeds: Sequence[int], **kw) -> torch.Tensor:
    return generate(G, seeds_latents(seeds, G.z_dim), **kw)
