"""Progressive growing of GANs (ProGAN, Karras et al. 2018): generator and critic that grow resolution by
resolution, each new block faded in. Its recipe (schedule, WGAN-GP + drift) is training/recipe_progan.py.

Pyramid: from the target, halve while the side stays whole (28 -> 14 -> 7), then start at the paper's 4 x 4:
28 px MNIST grows 4 -> 7 -> 14 -> 28 (32 px: 4 -> 8 -> 16 -> 32), so the final resolution is the other
families' own 28 px (no padding). A step that is not a doubling (4 -> 7) up-samples with nearest-neighbour
interpolation to the next size, and the critic pools back with adaptive average pooling.

Generator (the paper's table 2, channels min(channel_base // r, channel_max)): z -> pixel norm -> dense to
4 x 4 -> lrelu -> pixel norm -> conv 3x3 -> lrelu -> pixel norm; per resolution: nearest up-sample, two 3x3 convs
each followed by lrelu and pixel-wise feature normalisation; a 1x1 toRGB per resolution, linear output.
Fade-in: image = alpha * toRGB_r(block_r(h)) + (1 - alpha) * up(toRGB_prev(h)).
Critic: the mirror, with fromRGB 1x1 + lrelu per resolution, two 3x3 convs and a down-sample per block; at 4 x 4
the minibatch standard deviation (one extra feature map), conv 3x3, dense, dense -> one score. Fade-in mixes
fromRGB_prev(down(x)) with block_r(fromRGB_r(x)) the same way. Every layer has an equalised learning rate.

The current stage (index into `resolutions()`) and alpha are buffers of both networks, so a model file samples at
the resolution it had reached and `--resume` continues mid-phase (the generator also holds `steps_done`, the
recipe's schedule clock). Through the one generator interface (models/base.py) the generator is a plain
num_ws = 1 model whose `synthesis` up-samples (nearest) the current resolution to `img_resolution`: every tab
sees one fixed image size while the model grows.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import Config
from ..registry import ARCHITECTURES
from .base import Family, ImageGenerator
from .stylegan import EqConv2d, EqLinear, minibatch_stddev


@dataclass
class ProGANConfig(Config):
    z_dim: int = 128
    img_resolution: int = 28
    img_channels: int = 1
    channel_base: int = 1024       # channels at r px: min(channel_base // r, channel_max) -> 128, 128, 73, 36
    channel_max: int = 128         # the paper: 512 (8192 // r); ours is sized for a CPU
    mbstd_group: int = 4           # the critic's minibatch-stddev group (the paper's 4)
    tanh_output: bool = False      # the paper's output is linear

    def __post_init__(self) -> None:
        if not 4 <= self.img_resolution <= 1024:
            raise ValueError(f"img_resolution must be from 4 to 1024, not {self.img_resolution}")
        if self.resolutions()[1:2] and self.resolutions()[1] > 8:
            raise ValueError(f"img_resolution {self.img_resolution} does not halve down to 8 px or less "
                             f"(use e.g. 28, 32 or 64)")
        if self.img_channels not in (1, 3):
            raise ValueError(f"img_channels must be 1 or 3, not {self.img_channels}")
        if min(self.z_dim, self.channel_base, self.channel_max, self.mbstd_group) < 1:
            raise ValueError("z_dim, channel_base, channel_max and mbstd_group must be positive")

    def resolutions(self) -> list[int]:
        """[4, ..., img_resolution]: halvings of the target while whole and >= 4, below them 4 (e.g. 4, 7, 14, 28)."""
        out = [self.img_resolution]
        while out[-1] % 2 == 0 and out[-1] // 2 >= 4:
            out.append(out[-1] // 2)
        if out[-1] != 4:
            out.append(4)
        return out[::-1]

    def channels(self, res: int) -> int:
        return max(1, min(self.channel_base // res, self.channel_max))


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Pixel-wise feature normalisation: each pixel's feature vector to unit root mean square."""
    return x * torch.rsqrt(x.pow(2).mean(1, keepdim=True) + eps)


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Nearest up-sampling or average down-sampling of (N, C, H, W) to size x size."""
    if x.shape[-1] == size:
        return x
    if size > x.shape[-1]:
        return F.interpolate(x, size=(size, size), mode="nearest")
    return F.adaptive_avg_pool2d(x, size)


class _StageBuffers(nn.Module):
    """The growth state both networks carry: `stage` (index into the resolutions) and `alpha` (fade-in weight of
    the newest block, 1 = fully in)."""

    def _init_stage(self, cfg: ProGANConfig) -> None:
        self.cfg = cfg
        self.resolutions = cfg.resolutions()
        self.register_buffer("stage", torch.tensor(len(self.resolutions) - 1, dtype=torch.long))
        self.register_buffer("alpha", torch.ones(()))

    def set_growth(self, stage: int, alpha: float) -> None:
        self.stage.fill_(int(stage))
        self.alpha.fill_(float(alpha))

    def growth(self) -> tuple[int, float]:
        stage = min(max(int(self.stage), 0), len(self.resolutions) - 1)     # a file's value, kept in range
        return stage, min(max(float(self.alpha), 0.0), 1.0)

    @property
    def current_resolution(self) -> int:
        return self.resolutions[self.growth()[0]]


class GBlock(nn.Module):
    def __init__(self, cin: int, cout: int, res: int):
        super().__init__()
        self.res = res
        self.conv0 = EqConv2d(cin, cout, 3, activation=True)
        self.conv1 = EqConv2d(cout, cout, 3, activation=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = pixel_norm(self.conv0(resize(x, self.res)))
        return pixel_norm(self.conv1(x))


class ProGANGenerator(ImageGenerator, _StageBuffers):
    def __init__(self, cfg: ProGANConfig):
        super().__init__()
        self._init_stage(cfg)
        self.z_dim = self.w_dim = cfg.z_dim
        self.num_ws = 1
        self.img_channels, self.img_resolution = cfg.img_channels, cfg.img_resolution
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))   # the recipe's schedule clock
        res = self.resolutions
        c0 = cfg.channels(res[0])
        self.dense = EqLinear(cfg.z_dim, c0 * res[0] * res[0], activation=True)
        self.conv = EqConv2d(c0, c0, 3, activation=True)
        self.blocks = nn.ModuleList([GBlock(cfg.channels(a), cfg.channels(b), b) for a, b in zip(res[:-1], res[1:])])
        self.to_rgb = nn.ModuleList([EqConv2d(cfg.channels(r), cfg.img_channels, 1) for r in res])

    def forward_at(self, ws: torch.Tensor, stage: int, alpha: float) -> torch.Tensor:
        """Images at resolutions()[stage] (N, C, r, r), the newest block faded in by alpha."""
        r0 = self.resolutions[0]
        h = pixel_norm(self.dense(pixel_norm(ws[:, 0])).view(ws.shape[0], -1, r0, r0))
        h = pixel_norm(self.conv(h))
        prev = h
        for block in self.blocks[:stage]:
            prev, h = h, block(h)
        img = self.to_rgb[stage](h)
        if stage > 0 and alpha < 1.0:
            img = alpha * img + (1.0 - alpha) * resize(self.to_rgb[stage - 1](prev), img.shape[-1])
        return torch.tanh(img) if self.cfg.tanh_output else img

    def sefa_weight(self) -> torch.Tensor:
        """The weight that first maps the latent (out, z_dim), for SeFa."""
        return self.dense.weight * self.dense.w_gain

    def first_layer(self, z: torch.Tensor) -> torch.Tensor:
        """First-layer activations (N, c0 * 4 * 4), for GANSpace."""
        return self.dense(pixel_norm(self.mapping(z)[:, 0]))

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """The current resolution, up-sampled (nearest) to img_resolution: (N, C, R, R)."""
        stage, alpha = self.growth()
        img = resize(self.forward_at(ws, stage, alpha), self.img_resolution)
        return img if self.training else img.clamp(-1, 1)


class DBlock(nn.Module):
    def __init__(self, cin: int, cout: int, res_out: int):
        super().__init__()
        self.res_out = res_out
        self.conv0 = EqConv2d(cin, cin, 3, activation=True)
        self.conv1 = EqConv2d(cin, cout, 3, activation=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return resize(self.conv1(self.conv0(x)), self.res_out)


class ProGANCritic(_StageBuffers):
    """forward(x) -> score (N,): x at any size is first brought to the current resolution."""

    def __init__(self, cfg: ProGANConfig):
        super().__init__()
        self._init_stage(cfg)
        res = self.resolutions
        self.from_rgb = nn.ModuleList([EqConv2d(cfg.img_channels, cfg.channels(r), 1, activation=True) for r in res])
        self.blocks = nn.ModuleList([DBlock(cfg.channels(b), cfg.channels(a), a) for a, b in zip(res[:-1], res[1:])])
        c0 = cfg.channels(res[0])
        self.conv = EqConv2d(c0 + 1, c0, 3, activation=True)
        self.fc = EqLinear(c0 * res[0] * res[0], c0, activation=True)
        self.out = EqLinear(c0, 1)

    def forward_at(self, x: torch.Tensor, stage: int, alpha: float) -> torch.Tensor:
        """Scores (N,) of images x at resolutions()[stage]."""
        h = self.from_rgb[stage](x)
        if stage > 0:
            h = self.blocks[stage - 1](h)
            if alpha < 1.0:
                low = self.from_rgb[stage - 1](resize(x, self.resolutions[stage - 1]))
                h = alpha * h + (1.0 - alpha) * low
            for block in reversed(self.blocks[:stage - 1]):
                h = block(h)
        h = self.conv(minibatch_stddev(h, self.cfg.mbstd_group))
        return self.out(self.fc(h.flatten(1))).squeeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stage, alpha = self.growth()
        return self.forward_at(resize(x, self.resolutions[stage]), stage, alpha)


ARCHITECTURES.register("progan")(Family(ProGANConfig, {"generator": ProGANGenerator, "critic": ProGANCritic},
                                        "image-generator"))
