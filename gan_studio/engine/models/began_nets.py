"""BEGAN's own networks (Berthelot, Schumm & Metz 2017, section 3.5 and figure 1), style "began-nn" of dcgan-ae.

Decoder (= the generator, its own weights): h -> linear -> (n, b, b); per level: conv3x3 + ELU, conv3x3 + ELU,
then nearest-neighbour up-sampling by 2 (not after the last level); a conv3x3 to the image channels, linear (no
tanh). Encoder: conv3x3 + ELU to n; per level l (1..L): conv3x3 + ELU, conv3x3 + ELU at l*n channels, then (not
after the last level) a stride-2 conv3x3 + ELU to (l+1)*n; a linear map to the code h. No batch norm anywhere.
Initialisation: Glorot-uniform weights, zero biases (the TensorFlow defaults the paper's code ran with). PyTorch's
own default (weights U(+-1/sqrt(fan_in)), biases of the same size) shrinks the signal ~3x in variance per conv, so
through these 7+ convs the generator's output at initialisation hardly depends on z (measured, n 32, 28 px: pixel
std over z 0.005 against 0.13 with Glorot) and the critic reconstructs every input alike (std 1e-5): BEGAN then
starts, and stays, collapsed on one image.
Channels grow linearly in the encoder (n, 2n, 3n, ...) and stay n in the decoder, as in the paper.
`skip` (the paper's "skip connections", BEGAN-CS's injection): the first (n, b, b) map h0, up-sampled to each
level's size, is concatenated to that level's input (so each block reads 2n channels after the first).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def glorot_init(module: nn.Module) -> nn.Module:
    """Glorot-uniform weights and zero biases for every conv / linear layer of `module` (returned)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return module


def _block(cin: int, cout: int, norm: bool = False) -> list[nn.Module]:
    """conv3x3 + ELU twice (norm: batch norm before each ELU)."""
    bn = (lambda c: [nn.BatchNorm2d(c)]) if norm else (lambda c: [])
    return [nn.Conv2d(cin, cout, 3, 1, 1), *bn(cout), nn.ELU(inplace=True),
            nn.Conv2d(cout, cout, 3, 1, 1), *bn(cout), nn.ELU(inplace=True)]


class BEGANDecoder(nn.Module):
    """(N, in_dim) -> (N, out_channels, base * 2^(levels-1), ...): the paper's decoder / generator. in_dim 0:
    no first linear map (the generator keeps it as its `fc`, the DCGAN interface's); then call `body(fc(h))`."""

    def __init__(self, in_dim: int, n: int, base: int, levels: int, out_channels: int, skip: bool = False,
                 norm: bool = False):
        super().__init__()
        self.n, self.base, self.skip = n, base, skip
        self.fc = nn.Linear(in_dim, n * base * base) if in_dim else None
        self.blocks = nn.ModuleList(nn.Sequential(*_block(n * (2 if skip and i else 1), n, norm))
                                    for i in range(levels))
        self.to_image = nn.Conv2d(n, out_channels, 3, 1, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.body(self.fc(h))

    def body(self, h: torch.Tensor) -> torch.Tensor:
        """The layers after the first linear map: h (N, n * base * base) -> images."""
        h0 = h.view(h.shape[0], self.n, self.base, self.base)
        x = h0
        for i, block in enumerate(self.blocks):
            if i:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
                if self.skip:
                    x = torch.cat([x, F.interpolate(h0, size=x.shape[-2:], mode="nearest")], 1)
            x = block(x)
        return self.to_image(x)


class BEGANEncoder(nn.Module):
    """(N, in_channels, H, W) -> (N, code_dim): the paper's encoder (stride-2 convs down, channels n, 2n, ...)."""

    def __init__(self, in_channels: int, n: int, base: int, levels: int, code_dim: int):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, n, 3, 1, 1), nn.ELU(inplace=True)]
        for lvl in range(1, levels + 1):
            layers += _block(n * lvl, n * lvl)
            if lvl < levels:
                layers += [nn.Conv2d(n * lvl, n * (lvl + 1), 3, 2, 1), nn.ELU(inplace=True)]
        self.convs = nn.Sequential(*layers)
        self.fc = nn.Linear(n * levels * base * base, code_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.convs(x).flatten(1))
