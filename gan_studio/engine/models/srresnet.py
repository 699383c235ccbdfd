"""Super-resolution networks (Ledig et al. 2017): the SRResNet generator with sub-pixel up-sampling and the SRGAN
discriminator, registered as the translation families `srresnet` (the pixel-loss PSNR baseline: a generator only)
and `srgan` (generator + discriminator). Same config as the other translators (translators.TranslatorConfig).

SRResNet: conv 9x9 -> PReLU; `blocks` residual blocks [conv 3x3, BN, PReLU, conv 3x3, BN] + skip; conv 3x3, BN,
+ the first layer's output; log2(upscale) x [conv 3x3 to 4w, PixelShuffle(2), PReLU] (sub-pixel convolution,
Shi et al. 2016); conv 9x9 -> tanh. (N, C, r, r) -> (N, C, upscale r, upscale r) in [-1, 1].

Discriminator: conv 3x3 + LeakyReLU 0.2, then `critic_layers` pairs [conv 3x3 s2, BN, LReLU; conv 3x3 s1 doubling
the channels, BN, LReLU] (the paper's 64-64s2-128-128s2-... at our widths), a dense layer of 8 critic_width units,
LeakyReLU, dense 1: one logit per image. 28 px with critic_layers 2: 28 -> 14 -> 7.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..registry import ARCHITECTURES
from .base import Family
from .translators import KIND, TranslatorConfig, norm_layer


@dataclass
class SRConfig(TranslatorConfig):
    resolution: int = 7
    upscale: int = 4
    width: int = 32
    blocks: int = 4
    norm: str = "batch"
    critic_width: int = 16
    critic_layers: int = 2

    def check_shapes(self) -> None:
        if self.upscale < 2:
            raise ValueError("a super-resolution model needs upscale 2, 4 or 8")
        self.check_critic()


class SRBlock(nn.Module):
    def __init__(self, ch: int, norm: str):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, 1, 1), norm_layer(norm, ch), nn.PReLU(ch),
                                  nn.Conv2d(ch, ch, 3, 1, 1), norm_layer(norm, ch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SRResNet(nn.Module):
    def __init__(self, cfg: TranslatorConfig):
        super().__init__()
        w = cfg.width
        self.head = nn.Sequential(nn.Conv2d(cfg.in_channels, w, 9, 1, 4), nn.PReLU(w))
        self.body = nn.Sequential(*[SRBlock(w, cfg.norm) for _ in range(cfg.blocks)],
                                  nn.Conv2d(w, w, 3, 1, 1), norm_layer(cfg.norm, w))
        ups: list[nn.Module] = []
        for _ in range(int(math.log2(cfg.upscale))):
            ups += [nn.Conv2d(w, 4 * w, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU(w)]
        self.up = nn.Sequential(*ups)
        self.tail = nn.Sequential(nn.Conv2d(w, cfg.out_channels, 9, 1, 4), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:   # (N, C, r, r) -> (N, C, upscale r, upscale r)
        h = self.head(x)
        return self.tail(self.up(h + self.body(h)))


class SRDiscriminator(nn.Module):
    def __init__(self, cfg: TranslatorConfig):
        super().__init__()
        cw = cfg.critic_width
        layers: list[nn.Module] = [nn.Conv2d(cfg.out_channels, cw, 3, 1, 1), nn.LeakyReLU(0.2, True)]
        c, side = cw, cfg.out_resolution
        for i in range(cfg.critic_layers):
            nxt = cw * 2 ** (i + 1)
            layers += [nn.Conv2d(c, c, 3, 2, 1), norm_layer(cfg.norm, c), nn.LeakyReLU(0.2, True),
                       nn.Conv2d(c, nxt, 3, 1, 1), norm_layer(cfg.norm, nxt), nn.LeakyReLU(0.2, True)]
            c, side = nxt, (side + 1) // 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c * side * side, 8 * cw), nn.LeakyReLU(0.2, True),
                                  nn.Linear(8 * cw, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:   # (N, C, H, W) -> (N, 1) logits
        return self.head(self.features(x))


ARCHITECTURES.register("srresnet")(Family(SRConfig, {"generator": SRResNet}, KIND))
ARCHITECTURES.register("srgan")(Family(SRConfig, {"generator": SRResNet, "critic": SRDiscriminator}, KIND))
