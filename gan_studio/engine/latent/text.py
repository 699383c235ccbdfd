"""Latents of a text-conditioned generator (`--arch gan-cls`, models/text_gan.py): a caption and a seed make one
ws = [ψ·z(seed), embedding(caption)], so everything that takes ws (renders, walks, exports) takes them as they are.

    caption_latents(G, "a thin upright 4", seeds=[0, 1, 2])   -> [Latent(ws, source "text"), …]
    caption_images(G, "a thin upright 4", z)                   -> (N, C, H, W) in [-1, 1]
    captions_images(G, ["a 4", "a thick 7"], z)                -> one caption per latent
    caption_walk_ws(G, ["a thin 4", "a thick 4"], seed, frames) -> ws (frames, 1, w_dim): the seed's z held, the
                                                                   caption embedding moved in a straight line
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from ..device import device_of
from ..errors import UserError
from .sampling import seeds_latents, synthesize
from .state import Latent


def is_text_model(G) -> bool:
    return bool(getattr(G, "text_conditioned", False))


def require_text_model(G, what: str = "--text") -> None:
    if not is_text_model(G):
        raise UserError(f"{what} needs a text-to-image model (--arch gan-cls); this one takes no caption")


def check_caption(G, text: str) -> str:
    """The caption stripped, or a UserError naming its unknown words (and listing the known ones)."""
    require_text_model(G, "a caption")
    G.tokenize_captions([text])
    return " ".join(str(text).split())


@torch.no_grad()
def caption_ws(G, text: str, z: torch.Tensor, truncation_psi: float = 1.0) -> torch.Tensor:
    """ws (N, 1, w_dim) of caption `text` with each latent of z (N, z_dim)."""
    require_text_model(G)
    dev = device_of(G)
    ids = G.tokenize_captions([text])
    return G.mapping(z.to(dev), ids, truncation_psi=truncation_psi)


def default_caption(G, seed: int) -> str:
    """The caption a text model gives seed S when it is given none: "a K", K the argmax of z's first ten."""
    return f"a {int(seeds_latents([seed], G.z_dim)[0, :10].argmax())}"


def caption_latents(G, text: str, seeds: Sequence[int], truncation_psi: float = 1.0) -> list[Latent]:
    """One Latent (ws, source "text", info {"seed", "text"}) per seed."""
    text = check_caption(G, text)
    ws = caption_ws(G, text, seeds_latents(list(seeds), G.z_dim), truncation_psi).cpu()
    return [Latent(ws=ws[i:i + 1], source="text", info={"seed": int(s), "text": text}) for i, s in enumerate(seeds)]


def caption_images(G, text: str, z: torch.Tensor, truncation_psi: float = 1.0, device=None) -> torch.Tensor:
    """Images (N, C, H, W) on the CPU of caption `text` with latents z."""
    return synthesize(G, caption_ws(G, text, z, truncation_psi), device=device)


@torch.no_grad()
def captions_images(G, texts: Sequence[str], z: torch.Tensor, truncation_psi: float = 1.0,
                    batch: int = 256) -> torch.Tensor:
    """Images (N, C, H, W) on the CPU: row i of z with caption texts[i] (N captions, one per latent)."""
    require_text_model(G)
    if len(texts) != z.shape[0]:
        raise UserError(f"{len(texts)} captions for {z.shape[0]} latents")
    dev, outs = device_of(G), []
    for i in range(0, len(texts), batch):
        ids = G.tokenize_captions(list(texts[i:i + batch]))
        outs.append(synthesize(G, G.mapping(z[i:i + batch].to(dev), ids, truncation_psi=truncation_psi)))
    return torch.cat(outs) if outs else torch.zeros(0, *G.image_shape)


@torch.no_grad()
def caption_walk_ws(G, texts: Sequence[str], z: torch.Tensor, frames: int, truncation_psi: float = 1.0,
                    loop: bool = False) -> torch.Tensor:
    """ws (frames, 1, w_dim): from caption to caption (at least two) in equal steps of their embeddings, z (1,
    z_dim) held; `loop` returns to the first caption."""
    require_text_model(G)
    if len(texts) < 2:
        raise UserError("a caption walk needs at least two captions (--text A --text B)")
    if frames < 2:
        raise UserError(f"a caption walk needs at least 2 frames, not {frames}")
    keys = torch.cat([caption_ws(G, t, z[:1], truncation_psi) for t in texts], 0)    # (K, 1, w_dim)
    if loop:
        keys = torch.cat([keys, keys[:1]], 0)
    t = torch.linspace(0, keys.shape[0] - 1, frames + (1 if loop else 0), device=keys.device)
    if loop:
        t = t[:-1]
    lo = t.floor().long().clamp(max=keys.shape[0] - 2)
    frac = (t - lo).view(-1, 1, 1)
    return keys[lo] * (1 - frac) + keys[lo + 1] * frac
