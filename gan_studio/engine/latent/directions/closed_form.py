"""Directions without training: GANSpace (Härkönen et al. 2020), SeFa (Shen & Zhou 2021), and the
random and coordinate baselines. Each returns a DirectionSet in the same format as Voynov's."""
from __future__ import annotations

import torch

from ...device import device_of
from ...errors import UserError
from .core import DirectionSet, latent_dim, latent_space
from .deformator import Deformator, estimate_shift_scale


@torch.no_grad()
def ganspace(G, k: int, n: int = 10000, seed: int = 0) -> DirectionSet:
    """PCA of w (style generators), or of the first layer's activations regressed back to z."""
    space = latent_space(G)
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed)).to(device_of(G))
    if space == "w":
        w = G.mapping(z)[:, 0].double()
        _, _, vt = torch.linalg.svd(w - w.mean(0), full_matrices=False)
        dirs = vt[:k]
    else:
        first = getattr(G, "first_layer", None)
        if first is None:
            raise UserError("GANSpace needs access to the generator's first layer; this model does not expose it")
        acts = first(z).flatten(1).double()                                  # (n, F)
        acts = acts - acts.mean(0)
        _, _, vt = torch.linalg.svd(acts, full_matrices=False)
        coeff = acts @ vt[:k].T                                              # (n, K) PCA coordinates
        # regress z on the coordinates: z ≈ coeff @ U, each row of U is a direction in z
        u = torch.linalg.lstsq(coeff, z.double()).solution                   # (K, z_dim)
        dirs = u
    return DirectionSet(dirs.float().cpu(), "ganspace", space, steps=0,
                        shift_scale=estimate_shift_scale(G, space), extra={"samples": n})


@torch.no_grad()
def sefa(G, k: int) -> DirectionSet:
    """Eigenvectors of WᵀW (descending eigenvalue), W the weight that first maps the latent."""
    weight_fn = getattr(G, "sefa_weight", None)
    if weight_fn is None:
        raise UserError("SeFa needs the weight that first maps the latent; this model does not expose it")
    w = weight_fn().detach().double().cpu()                                  # (out, latent_dim)
    w = w / w.norm(dim=0, keepdim=True).clamp_min(1e-12) if getattr(G, "num_ws", 1) > 1 else w
    vals, vecs = torch.linalg.eigh(w.T @ w)                                  # ascending
    order = torch.argsort(vals, descending=True)[:k]
    space = latent_space(G)
    return DirectionSet(vecs[:, order].T.float(), "sefa", space, shift_scale=estimate_shift_scale(G, space),
                        extra={"eigenvalues": vals[order].tolist()})


def baseline(G, k: int, kind: str, seed: int = 0) -> DirectionSet:
    space = latent_space(G)
    dirs = Deformator(latent_dim(G, space), k, kind, seed).directions()
    return DirectionSet(dirs, kind, space, shift_scale=estimate_shift_scale(G, space))
