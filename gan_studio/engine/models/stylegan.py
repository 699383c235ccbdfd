"""A compact StyleGAN2 (Karras et al. 2020) generator and critic, sized for a CPU.

Generator = mapping + synthesis, the stylegan2 split:

    mapping:   z (N, z_dim) -> normalise 2nd moment -> `mapping_layers` equalised-lr FC + lrelu (lr x0.01)
               -> w (N, w_dim), broadcast to ws (N, num_ws, w_dim); truncation towards the running `_w_avg`
    synthesis: learned const (C4, 4, 4) -> per resolution r = 4, 8, ..., R a block of modulated 3x3 convs
               (demodulated; an upsampling conv first from 8 px on), each with a noise input of learned
               strength, and a toRGB whose outputs are upsampled and summed (skip architecture)

ws indices follow stylegan2: one per conv plus the last toRGB (a toRGB shares its index with the next
block's first conv), so num_ws = 2 log2(R) - 2 (8 at 32 px). `ws_resolutions[i]` is the resolution of the
conv (or last toRGB) that ws index i drives: at 32 px [4, 8, 8, 16, 16, 32, 32, 32].

`tanh_output` (off in stylegan2) squashes the summed image with tanh, as a DCGAN generator does. MNIST needs it:
its background is exactly -1, which a linear output only approaches with visible noise; the critic then wins on
the background alone and the generator collapses to one digit. On MNIST 32 px, fixed-seed diversity (pixel std
over 64 seeds, MNIST 0.27) after 500 steps at lr 0.0025: 0.11 and collapsing without it (every one of nine
variants of lr, R1 gamma, minibatch-stddev group, mixing and mode seeking), 0.15 and digit-like with it.

Critic: residual blocks (fromRGB at R, two 3x3 convs + a 1x1 skip per halving), minibatch stddev at 4 px,
conv + two FC layers -> one logit. Every layer has an equalised learning rate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import Config
from ..errors import UserError
from ..registry import ARCHITECTURES
from .base import NOISE_MODES, Family, ImageGenerator

SQRT2 = math.sqrt(2.0)
MAX_MAPPING_LAYERS = 64          # stylegan2 uses 8; a model file cannot ask for a million layers


@dataclass
class StyleGAN2Config(Config):
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 4          # stylegan2 uses 8; 2-4 is plenty for 32 px (stylegan2-ada's CIFAR uses 2)
    channel_base: int = 1024         # channels at r px: min(channel_base // r, channel_max) -> 128, 128, 64, 32
    channel_max: int = 128
    img_resolution: int = 32
    img_channels: int = 1
    mbstd_group: int = 4             # critic's minibatch-stddev group size
    w_avg_beta: float = 0.995        # running average of w during training (truncation centre)
    tanh_output: bool = False        # squash the image with tanh (see the module docstring)

    def __post_init__(self) -> None:
        r = self.img_resolution
        if r < 8 or r > 1024 or r & (r - 1):
            raise ValueError(f"img_resolution must be a power of two from 8 to 1024, not {r}")
        if self.img_channels not in (1, 3):
            raise ValueError(f"img_channels must be 1 or 3, not {self.img_channels}")
        if min(self.z_dim, self.w_dim, self.mapping_layers, self.channel_base, self.channel_max, self.mbstd_group) < 1:
            raise ValueError("z_dim, w_dim, mapping_layers, channel_base, channel_max and mbstd_group must be positive")
        if self.mapping_layers > MAX_MAPPING_LAYERS:
            raise ValueError(f"mapping_layers must be at most {MAX_MAPPING_LAYERS}, not {self.mapping_layers}")
        if not 0.0 <= self.w_avg_beta < 1.0:
            raise ValueError(f"w_avg_beta must be in [0, 1), not {self.w_avg_beta}")

    def resolutions(self) -> list[int]:
        """[4, 8, ..., img_resolution]."""
        return [2 ** k for k in range(2, int(math.log2(self.img_resolution)) + 1)]

    def channels(self, res: int) -> int:
        return max(1, min(self.channel_base // res, self.channel_max))


# ------------------------------------------------------------------ equalised-learning-rate layers

class EqLinear(nn.Module):
    """y = x W^T * (lr_mul / sqrt(in)) + b * lr_mul, W ~ N(0, 1/lr_mul^2): equalised learning rate."""

    def __init__(self, in_features: int, out_features: int, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_mul))
        self.w_gain, self.b_gain = lr_mul / math.sqrt(in_features), lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.w_gain, self.bias * self.b_gain)
        return F.leaky_relu(x, 0.2) * SQRT2 if self.activation else x


class EqConv2d(nn.Module):
    """Equalised-lr conv with 'same' padding and optional lrelu; `down`: 2x average pool first, then the
    conv at half resolution (a box-filter stand-in for stylegan2's blur + stride-2 conv, 1/4 of the cost)."""

    def __init__(self, cin: int, cout: int, k: int, bias: bool = True, activation: bool = False,
                 down: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.gain, self.pad = 1 / math.sqrt(cin * k * k), k // 2
        self.activation, self.down = activation, down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.down:
            x = F.avg_pool2d(x, 2)
        x = F.conv2d(x, self.weight * self.gain, self.bias, padding=self.pad)
        return F.leaky_relu(x, 0.2) * SQRT2 if self.activation else x


# ------------------------------------------------------------------ generator

class MappingNetwork(nn.Module):
    def __init__(self, cfg: StyleGAN2Config, lr_mul: float = 0.01):
        super().__init__()
        dims = [cfg.z_dim] + [cfg.w_dim] * cfg.mapping_layers
        self.fcs = nn.Sequential(*[EqLinear(a, b, lr_mul=lr_mul, activation=True) for a, b in zip(dims[:-1], dims[1:])])

    def forward(self, z: torch.Tensor) -> torch.Tensor:       # (N, z_dim) -> (N, w_dim)
        z = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()
        return self.fcs(z)


class ModulatedConv(nn.Module):
    """3x3 (or 1x1) conv whose input channels are scaled by a style from w; demodulated to unit output std.

    Computed as x * s -> conv(W) -> * d (stylegan2's non-fused path): equal to a per-sample conv with
    W' = W * s (demodulated), and independent of the batch size. `up`: a stride-2 transposed conv followed
    by a [1, 2, 1] blur with gain 4, as stylegan2 (which blurs with [1, 3, 3, 1])."""

    def __init__(self, cin: int, cout: int, w_dim: int, k: int = 3, demodulate: bool = True, up: bool = False):
        super().__init__()
        self.affine = EqLinear(w_dim, cin, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.demodulate, self.up, self.pad = demodulate, up, k // 2
        if up:
            f = torch.tensor([1.0, 2.0, 1.0])
            self.register_buffer("blur", (f[:, None] * f[None, :] / 16 * 4)[None, None], persistent=False)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        s = self.affine(w)                                                    # (N, Cin)
        weight = self.weight / math.sqrt(self.weight[0].numel())              # equalised lr
        x = x * s[:, :, None, None]
        if self.up:                                                           # (N, Cin, r, r) -> (N, Cout, 2r, 2r)
            x = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2, padding=self.pad, output_padding=1)
            x = F.conv2d(x, self.blur.expand(x.shape[1], 1, 3, 3), padding=1, groups=x.shape[1])
        else:
            x = F.conv2d(x, weight, padding=self.pad)
        if self.demodulate:
            # d[n, o] = 1 / sqrt(sum_{i,k} (W[o, i, k] s[n, i])^2) = 1 / sqrt(s[n]^2 . sum_k W[o, :, k]^2)
            d = (s.square() @ weight.square().sum((2, 3)).t() + 1e-8).rsqrt()  # (N, Cout)
            x = x * d[:, :, None, None]
        return x


class SynthesisLayer(nn.Module):
    """Modulated conv + noise (learned strength; a stored const noise map) + bias + lrelu."""

    def __init__(self, cin: int, cout: int, w_dim: int, resolution: int, up: bool = False):
        super().__init__()
        self.conv = ModulatedConv(cin, cout, w_dim, up=up)
        self.resolution = resolution
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros(cout))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str) -> torch.Tensor:
        x = self.conv(x, w)                                                   # (N, Cout, r, r)
        if noise_mode == "random":
            x = x + torch.randn(x.shape[0], 1, self.resolution, self.resolution, device=x.device) * self.noise_strength
        elif noise_mode == "const":
            x = x + self.noise_const * self.noise_strength
        return F.leaky_relu(x + self.bias[None, :, None, None], 0.2) * SQRT2


class ToRGB(nn.Module):
    def __init__(self, cin: int, img_channels: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv(cin, img_channels, w_dim, k=1, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(img_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:   # weight / sqrt(cin): stylegan2's gain
        return self.conv(x, w) + self.bias[None, :, None, None]


class SynthesisBlock(nn.Module):
    """One resolution: [upsampling conv0] + conv1 + toRGB. Uses num_conv + 1 consecutive ws."""

    def __init__(self, cin: int, cout: int, cfg: StyleGAN2Config, resolution: int):
        super().__init__()
        self.resolution = resolution
        if resolution == 4:
            self.const = nn.Parameter(torch.randn(cout, 4, 4))
            self.conv0 = None
        else:
            self.conv0 = SynthesisLayer(cin, cout, cfg.w_dim, resolution, up=True)
        self.conv1 = SynthesisLayer(cout, cout, cfg.w_dim, resolution)
        self.torgb = ToRGB(cout, cfg.img_channels, cfg.w_dim)
        self.num_conv = 1 if resolution == 4 else 2

    def forward(self, x, img, ws: torch.Tensor, noise_mode: str):         # ws (N, num_conv + 1, w_dim)
        if self.conv0 is None:
            x = self.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
            x = self.conv1(x, ws[:, 0], noise_mode)
        else:
            x = self.conv0(x, ws[:, 0], noise_mode)
            x = self.conv1(x, ws[:, 1], noise_mode)
        y = self.torgb(x, ws[:, self.num_conv])
        if img is not None:
            img = F.interpolate(img, scale_factor=2, mode="bilinear", align_corners=False)
        img = y if img is None else img + y
        return x, img


class StyleGAN2Generator(ImageGenerator):
    def __init__(self, cfg: StyleGAN2Config):
        super().__init__()
        self.cfg = cfg
        self.z_dim, self.w_dim = cfg.z_dim, cfg.w_dim
        self.img_channels, self.img_resolution = cfg.img_channels, cfg.img_resolution
        self.mapping_net = MappingNetwork(cfg)
        blocks, ws_res = [], []
        cin = 0
        for r in cfg.resolutions():
            cout = cfg.channels(r)
            blocks.append(SynthesisBlock(cin, cout, cfg, r))
            ws_res += [r] * blocks[-1].num_conv
            cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.num_ws = len(ws_res) + 1                                   # + the last toRGB
        self.ws_resolutions: list[int] = ws_res + [cfg.img_resolution]
        self.register_buffer("_w_avg", torch.zeros(cfg.w_dim))

    def _map(self, z: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise UserError(f"latents must have shape (N, {self.z_dim}), not {tuple(z.shape)}")
        w = self._per_row(self.mapping_net, z)                           # (N, w_dim)
        if self.training:                                                # track the truncation centre
            with torch.no_grad():
                self._w_avg.copy_(w.detach().mean(0).lerp(self._w_avg, self.cfg.w_avg_beta))
        return w.unsqueeze(1).repeat(1, self.num_ws, 1)                  # (N, num_ws, w_dim)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        if noise_mode not in NOISE_MODES:
            raise UserError(f"unknown noise mode {noise_mode!r} (choose from {', '.join(NOISE_MODES)})")
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise UserError(f"ws must have shape (N, {self.num_ws}, {self.w_dim}), not {tuple(ws.shape)}")
        return self._per_row(lambda rows: self._synthesize(rows, noise_mode), ws)

    def _per_row(self, fn, x: torch.Tensor) -> torch.Tensor:
        """fn(x), one row at a time when rendering (eval mode, an input that needs no gradient), else batched.

        The convolutions' and matmuls' round-off depends on the batch (up to 1.2e-5 in an MNIST image
        between a batch of 64 and of 1), and a seed must show the same image in every panel and command
        whatever the batch. Row by row costs about 1.5-3x the batched time on a CPU; training, and
        optimising through the generator (direction discovery, projection: inputs that need a gradient),
        keep the batch."""
        if self.training or x.requires_grad or x.shape[0] <= 1:
            return fn(x)
        return torch.cat([fn(x[i:i + 1]) for i in range(x.shape[0])], 0)

    def _synthesize(self, ws: torch.Tensor, noise_mode: str) -> torch.Tensor:
        x = img = None
        i = 0
        for block in self.blocks:
            x, img = block(x, img, ws[:, i:i + block.num_conv + 1], noise_mode)
            i += block.num_conv
        if self.cfg.tanh_output:
            return torch.tanh(img)
        return img if self.training else img.clamp(-1, 1)               # (N, C, H, W)

    def sefa_weight(self) -> torch.Tensor:
        """Every style affine's weight stacked (sum of their widths, w_dim): what first maps w, for SeFa."""
        mods = [m.affine for m in self.modules() if isinstance(m, ModulatedConv)]
        return torch.cat([m.weight * m.w_gain for m in mods], 0)


# ------------------------------------------------------------------ critic

class CriticBlock(nn.Module):
    """Residual: (conv3x3 -> conv3x3 + down) + 1x1 down skip, scaled by 1/sqrt(2)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv0 = EqConv2d(cin, cin, 3, activation=True)
        self.conv1 = EqConv2d(cin, cout, 3, activation=True, down=True)
        self.skip = EqConv2d(cin, cout, 1, bias=False, down=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.skip(x) + self.conv1(self.conv0(x))) / SQRT2


def minibatch_stddev(x: torch.Tensor, group: int) -> torch.Tensor:
    """Append the std over groups of samples, averaged over C, H, W, as one extra channel."""
    n, c, h, w = x.shape
    g = min(group, n)
    while n % g:
        g -= 1
    y = x.reshape(g, n // g, c, h, w)
    y = (y.var(0, unbiased=False) + 1e-8).sqrt().mean((1, 2, 3))         # (N/g,)
    y = y.reshape(1, n // g, 1, 1, 1).expand(g, -1, 1, h, w).reshape(n, 1, h, w)
    return torch.cat([x, y], 1)


class StyleGAN2Critic(nn.Module):
    def __init__(self, cfg: StyleGAN2Config):
        super().__init__()
        self.cfg = cfg
        res = cfg.resolutions()[::-1]                                    # [R, ..., 8, 4]
        self.from_rgb = EqConv2d(cfg.img_channels, cfg.channels(res[0]), 1, activation=True)
        self.blocks = nn.Sequential(*[CriticBlock(cfg.channels(r), cfg.channels(r // 2)) for r in res[:-1]])
        c4 = cfg.channels(4)
        self.conv = EqConv2d(c4 + 1, c4, 3, activation=True)
        self.fc = EqLinear(c4 * 16, c4, activation=True)
        self.out = EqLinear(c4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:                 # (N, C, H, W) -> (N,)
        x = self.blocks(self.from_rgb(x))                                # (N, C4, 4, 4)
        x = self.conv(minibatch_stddev(x, self.cfg.mbstd_group))
        return self.out(self.fc(x.flatten(1))).squeeze(1)


ARCHITECTURES.register("stylegan2")(Family(StyleGAN2Config,
                                           {"generator": StyleGAN2Generator, "critic": StyleGAN2Critic},
                                           kind="image-generator"))
