"""The one generator interface every image model implements (after stylegan3's mapping/synthesis split).

    mapping(z, c=None, truncation_psi=1.0, truncation_cutoff=None) -> ws   # (N, num_ws, w_dim)
    synthesis(ws, noise_mode="const") -> images                             # (N, C, H, W) in [-1, 1]

Non-style generators have num_ws = 1, an identity mapping and w_avg = 0, so psi scales z towards 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..device import device_of
from ..errors import UserError
from ..registry import ARCHITECTURES

NOISE_MODES = ("const", "random", "none")


def apply_truncation(ws: torch.Tensor, w_avg: torch.Tensor, psi: float = 1.0,
                     cutoff: int | None = None) -> torch.Tensor:
    """Pull ws (N, num_ws, w_dim) towards w_avg (w_dim,) by psi, on the layers below `cutoff` (all if None)."""
    if psi == 1.0:
        return ws
    if cutoff is None:
        return w_avg + psi * (ws - w_avg)
    out = ws.clone()
    out[:, :cutoff] = w_avg + psi * (ws[:, :cutoff] - w_avg)
    return out


class ImageGenerator(nn.Module):
    """Base class: subclasses set the attributes below and implement `_map` and `synthesis`."""

    z_dim: int
    w_dim: int
    num_ws: int
    c_dim: int = 0
    img_channels: int
    img_resolution: int

    def __init__(self) -> None:
        super().__init__()

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.img_channels, self.img_resolution, self.img_resolution)

    @property
    def w_avg(self) -> torch.Tensor:
        buf = getattr(self, "_w_avg", None)
        if buf is None:
            return torch.zeros(self.w_dim, device=device_of(self))
        return buf

    def _map(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:  # (N, num_ws, w_dim)
        return z.unsqueeze(1).expand(-1, self.num_ws, -1)

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        ws = self._map(z, c)
        return apply_truncation(ws, self.w_avg, truncation_psi, truncation_cutoff)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        raise NotImplementedError

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None, noise_mode: str = "const") -> torch.Tensor:
        return self.synthesis(self.mapping(z, c, truncation_psi, truncation_cutoff), noise_mode=noise_mode)


@dataclass(frozen=True)
class Family:
    """An architecture family: its config dataclass, its networks by role, and the kind of model it makes."""
    config_class: type
    roles: dict = field(default_factory=dict)
    kind: str = "image-generator"


def build(arch: str, role: str, config: dict[str, Any]) -> nn.Module:
    """Build network `role` ('generator', 'critic', ...) of architecture `arch` from its config dict."""
    family = ARCHITECTURES.get(arch)
    if role not in family.roles:
        raise UserError(f"architecture {arch!r} has no {role!r} network (has: {', '.join(family.roles)})")
    cfg = family.config_class.from_dict(config)
    return family.roles[role](cfg)
