"""The matrix A of direction discovery (Voynov & Babenko 2020) and the scale of a shift: shared by the trainer
(voynov.py) and the directions found without training (closed_form.py)."""
from __future__ import annotations

import torch
from torch import nn

from ...device import device_of
from ...errors import UserError

DEFORMATORS = ("ortho", "linear", "random", "coordinate")


def orthonormal_basis(start: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
    """(dim, dim) orthonormal, its first K columns spanning start's K rows in order (Gram-Schmidt with the
    signs kept), the rest completed at random."""
    k, dim = start.shape
    m = torch.cat([start.double().T.cpu(), torch.randn(dim, dim - k, generator=gen, dtype=torch.float64)], 1)
    q, r = torch.linalg.qr(m)
    return (q * torch.sign(torch.diagonal(r)).where(torch.diagonal(r) != 0, torch.ones(dim,
                                                                                       dtype=torch.float64))).float()


class Deformator(nn.Module):
    """K directions as the columns of A (latent_dim, K); `directions()` gives unit rows (K, latent_dim)."""

    def __init__(self, dim: int, k: int, kind: str = "ortho", seed: int = 0, start: torch.Tensor | None = None):
        """`start` (K, dim): for "ortho", directions to begin from (completed to an orthonormal basis Q, then
        A = Q·expm(X − Xᵀ)[:, :K] with X = 0 at first); by default the first K coordinate axes."""
        super().__init__()
        if kind not in DEFORMATORS:
            raise UserError(f"unknown deformator {kind!r} (choose from {', '.join(DEFORMATORS)})")
        if k > dim:
            raise UserError(f"K = {k} directions do not fit in a {dim}-d latent space")
        self.dim, self.k, self.kind = dim, k, kind
        gen = torch.Generator().manual_seed(seed)
        if kind == "ortho":                       # A = Q·expm(X - X^T)[:, :K]: always orthonormal
            self.x = nn.Parameter(torch.zeros(dim, dim))
            self.register_buffer("basis", None if start is None else orthonormal_basis(start, gen))
        elif kind == "linear":
            self.x = nn.Parameter(torch.randn(dim, k, generator=gen) / dim ** 0.5)
        elif kind == "random":
            q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=gen))
            self.register_buffer("x", q[:, :k].contiguous())
        else:
            self.register_buffer("x", torch.eye(dim)[:, :k].contiguous())

    def matrix(self) -> torch.Tensor:             # (dim, K)
        if self.kind == "ortho":
            rot = torch.linalg.matrix_exp(self.x - self.x.T)
            return (rot if self.basis is None else self.basis @ rot)[:, :self.k]
        if self.kind == "linear":
            return self.x / self.x.norm(dim=0, keepdim=True).clamp_min(1e-8)
        return self.x

    def forward(self, k: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:   # (B,), (B,) -> shifts (B, dim)
        return self.matrix()[:, k].T * eps[:, None]

    def directions(self) -> torch.Tensor:
        return self.matrix().detach().T.contiguous()


def estimate_shift_scale(G, space: str, n: int = 2000, seed: int = 0) -> float:
    """1 in z; in w, the per-coordinate std of w, so that ε means about as much as in z."""
    if space == "z":
        return 1.0
    with torch.no_grad():
        z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(seed)).to(
            device_of(G))
        return G.mapping(z)[:, 0].std(0).mean().item()
