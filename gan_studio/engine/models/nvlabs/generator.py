"""The generator of an NVlabs network pickle, behind GAN Studio's generator interface (`models/base.py`).

The mapping network is the same in stylegan2-ada-pytorch and stylegan3: z (and c, embedded) normalised to
unit second moment, `num_layers` FC + lrelu layers (lr multiplier folded into the stored gains), broadcast to
`num_ws`, truncation towards `w_avg` by ψ on the first `truncation_cutoff` ws (all when None).
"""
from __future__ import annotations

import torch
from torch import nn

from ...errors import ModelFileError, UserError
from ..base import NOISE_MODES, ImageGenerator
from .ops import FullyConnected, attr, child, normalize_2nd_moment, tensor
from .unpickle import PersistentRecord


class MappingNetwork(nn.Module):
    def __init__(self, rec: PersistentRecord):
        super().__init__()
        self.z_dim, self.c_dim = int(attr(rec, "z_dim")), int(attr(rec, "c_dim", 0))
        num_ws = attr(rec, "num_ws")                   # None: the discriminator's label mapping (no broadcast)
        self.w_dim, self.num_ws = int(attr(rec, "w_dim")), None if num_ws is None else int(num_ws)
        self.num_layers = int(attr(rec, "num_layers"))
        self.embed = FullyConnected(child(rec, "embed")) if self.c_dim > 0 else None
        self.fcs = nn.ModuleList(FullyConnected(child(rec, f"fc{i}")) for i in range(self.num_layers))
        self.register_buffer("w_avg", tensor(rec, "w_avg", required=self.num_ws is not None))

    def forward(self, z: torch.Tensor | None, c: torch.Tensor | None) -> torch.Tensor:
        """-> (N, num_ws, w_dim), or (N, w_dim) when num_ws is None; z is None when z_dim is 0."""
        x = normalize_2nd_moment(z.float()) if self.z_dim > 0 else None
        if self.c_dim > 0:
            if c is None:
                raise UserError(f"this model is conditional: it needs a class label vector c of {self.c_dim}")
            y = normalize_2nd_moment(self.embed(c.float().to(self.embed.weight.device)))
            x = y if x is None else torch.cat([x, y], 1)
        for fc in self.fcs:
            x = fc(x)
        return x if self.num_ws is None else x.unsqueeze(1).repeat(1, self.num_ws, 1)


class NVLabsGenerator(ImageGenerator):
    """mapping / synthesis as in the original; `synthesis` returns the raw (unclamped) image."""

    def __init__(self, rec: PersistentRecord, synthesis: nn.Module, family: str):
        super().__init__()
        self.family = family
        self.mapping_net = MappingNetwork(child(rec, "mapping"))
        self.synthesis_net = synthesis
        self.z_dim, self.c_dim = int(attr(rec, "z_dim")), int(attr(rec, "c_dim", 0))
        self.w_dim = int(attr(rec, "w_dim"))
        self.img_resolution, self.img_channels = int(attr(rec, "img_resolution")), int(attr(rec, "img_channels"))
        self.num_ws = int(attr(rec, "num_ws"))
        if self.mapping_net.num_ws != self.num_ws or synthesis.num_ws != self.num_ws:
            raise ModelFileError(f"mapping, synthesis and generator disagree on num_ws ({self.mapping_net.num_ws}, "
                                 f"{synthesis.num_ws}, {self.num_ws})")
        self.ws_resolutions: list[int] = list(synthesis.ws_resolutions)

    @property
    def w_avg(self) -> torch.Tensor:
        return self.mapping_net.w_avg

    def labels(self, c, n: int) -> torch.Tensor | None:
        """The mapping's label input (n, c_dim) float: class ids (an int or (n,)) or rows (n, c_dim) as given;
        None picks class 0 (the app has no class chooser for these models yet). None for an unconditional model."""
        if self.c_dim == 0:
            if c is not None and torch.as_tensor(c).numel():
                raise UserError("this generator is not conditional: it takes no class")
            return None
        c = torch.zeros(n, dtype=torch.long) if c is None else torch.as_tensor(c)
        if c.ndim == 2 and c.shape == (n, self.c_dim):
            return c.float()
        if c.ndim == 0:
            c = c.expand(n)
        if c.ndim != 1 or c.shape[0] != n or c.is_floating_point() and not torch.equal(c, c.round()):
            raise UserError(f"classes must be {n} ids or rows ({n}, {self.c_dim}), not shape {tuple(c.shape)}")
        c = c.long()
        if ((c < 0) | (c >= self.c_dim)).any():
            raise UserError(f"class must be between 0 and {self.c_dim - 1}")
        return torch.nn.functional.one_hot(c, self.c_dim).float()

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise UserError(f"latents must have shape (N, {self.z_dim}), not {tuple(z.shape)}")
        labels = self.labels(c, z.shape[0])
        ws = self.mapping_net(z, None if labels is None else labels.to(z.device))
        if truncation_psi != 1:
            ws[:, :truncation_cutoff] = self.w_avg.lerp(ws[:, :truncation_cutoff], truncation_psi)
        return ws

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        if noise_mode not in NOISE_MODES:
            raise UserError(f"unknown noise mode {noise_mode!r} (choose from {', '.join(NOISE_MODES)})")
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise UserError(f"ws must have shape (N, {self.num_ws}, {self.w_dim}), not {tuple(ws.shape)}")
        return self.synthesis_net(ws, noise_mode=noise_mode)

    def sefa_weight(self) -> torch.Tensor:
        """Every style affine's weight (with its gain) stacked: what first maps w, for SeFa."""
        return torch.cat([m.weight * m.weight_gain for m in self.synthesis_net.style_affines()], 0)
