"""StyleGAN2(-ADA) synthesis network, rebuilt from an unpickled `SynthesisNetwork` record.

Written from the stylegan2 paper and stylegan2-ada-pytorch's documented behaviour: blocks per resolution
(`b4`, `b8`, ...), a learned const at 4 px, modulated / demodulated 3x3 convs (the first one of a block
upsampling through a transposed conv and the [1, 3, 3, 1] FIR filter), noise (const / random / none) added
before the bias, lrelu with gain sqrt(2) and optional `conv_clamp`; toRGB layers summed through the FIR
upsampler ('skip'), a residual 1x1 skip path ('resnet'), or a single toRGB at the end ('orig'). Layers
stored for fp16 run in float32 here (as the original does with force_fp32).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ...errors import ModelFileError
from .ops import FullyConnected, as_float, attr, bias_act, child, conv2d_resample, tensor, upsample2d
from .unpickle import PersistentRecord


def _clamp(rec: PersistentRecord) -> float | None:
    c = attr(rec, "conv_clamp", None)
    return None if c is None else as_float(c)


def modulated_conv2d(x, weight, styles, noise=None, up=1, padding=0, resample_filter=None, demodulate=True,
                     flip_weight=True):
    """Per-sample weights W * s (demodulated to unit norm per output channel), computed as x * s -> conv -> * d:
    equal to the grouped per-sample conv, and independent of the batch."""
    n = x.shape[0]
    if demodulate:
        wsq = weight.square().sum([2, 3])                                  # (O, I)
        dcoefs = (styles.square() @ wsq.t() + 1e-8).rsqrt()                # (N, O)
    x = x * styles.reshape(n, -1, 1, 1)
    x = conv2d_resample(x, weight, f=resample_filter, up=up, padding=padding, flip_weight=flip_weight)
    if demodulate:
        x = x * dcoefs.reshape(n, -1, 1, 1)
    if noise is not None:
        x = x + noise
    return x


class SynthesisLayer(nn.Module):
    def __init__(self, rec: PersistentRecord):
        super().__init__()
        self.affine = FullyConnected(child(rec, "affine"))
        self.weight = nn.Parameter(tensor(rec, "weight"), requires_grad=False)
        self.bias = nn.Parameter(tensor(rec, "bias"), requires_grad=False)
        self.register_buffer("resample_filter", tensor(rec, "resample_filter"))
        self.resolution, self.up = int(attr(rec, "resolution")), int(attr(rec, "up", 1))
        self.padding = int(attr(rec, "padding", self.weight.shape[-1] // 2))
        self.activation = str(attr(rec, "activation", "lrelu"))
        self.act_gain = as_float(attr(rec, "act_gain", math.sqrt(2)))
        self.conv_clamp = _clamp(rec)
        self.use_noise = bool(attr(rec, "use_noise", True))
        if self.use_noise:
            self.register_buffer("noise_const", tensor(rec, "noise_const"))
            self.noise_strength = nn.Parameter(tensor(rec, "noise_strength"), requires_grad=False)

    def forward(self, x, w, noise_mode="const", gain=1.0):
        styles = self.affine(w)
        noise = None
        if self.use_noise and noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, self.resolution, self.resolution, device=x.device) * self.noise_strength
        elif self.use_noise and noise_mode == "const":
            noise = self.noise_const * self.noise_strength
        x = modulated_conv2d(x, self.weight, styles, noise=noise, up=self.up, padding=self.padding,
                             resample_filter=self.resample_filter, flip_weight=self.up == 1)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, self.bias, act=self.activation, gain=self.act_gain * gain, clamp=clamp)


class ToRGBLayer(nn.Module):
    def __init__(self, rec: PersistentRecord):
        super().__init__()
        self.affine = FullyConnected(child(rec, "affine"))
        self.weight = nn.Parameter(tensor(rec, "weight"), requires_grad=False)
        self.bias = nn.Parameter(tensor(rec, "bias"), requires_grad=False)
        k = self.weight.shape
        self.weight_gain = as_float(attr(rec, "weight_gain", 1.0 / math.sqrt(k[1] * k[2] * k[3])))
        self.conv_clamp = _clamp(rec)

    def forward(self, x, w):
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(x, self.weight, styles, demodulate=False)
        return bias_act(x, self.bias, clamp=self.conv_clamp)


class Conv2dLayer(nn.Module):
    """NVlabs' Conv2dLayer (equalised lr, optional FIR up/down-sampling): the generator's resnet skip and D."""

    def __init__(self, rec: PersistentRecord):
        super().__init__()
        self.weight = nn.Parameter(tensor(rec, "weight"), requires_grad=False)
        b = tensor(rec, "bias", required=False)
        self.bias = None if b is None else nn.Parameter(b, requires_grad=False)
        self.register_buffer("resample_filter", tensor(rec, "resample_filter", required=False))
        k = self.weight.shape
        self.weight_gain = as_float(attr(rec, "weight_gain", 1.0 / math.sqrt(k[1] * k[2] * k[3])))
        self.activation = str(attr(rec, "activation", "linear"))
        self.act_gain = as_float(attr(rec, "act_gain", 1.0))
        self.up, self.down = int(attr(rec, "up", 1)), int(attr(rec, "down", 1))
        self.padding = int(attr(rec, "padding", k[-1] // 2))
        self.conv_clamp = _clamp(rec)

    def forward(self, x, gain=1.0):
        x = conv2d_resample(x, self.weight * self.weight_gain, f=self.resample_filter, up=self.up, down=self.down,
                            padding=self.padding, flip_weight=self.up == 1)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, self.bias, act=self.activation, gain=self.act_gain * gain, clamp=clamp)


class SynthesisBlock(nn.Module):
    def __init__(self, rec: PersistentRecord):
        super().__init__()
        self.in_channels = int(attr(rec, "in_channels"))
        self.architecture = str(attr(rec, "architecture", "skip"))
        if self.architecture not in ("orig", "skip", "resnet"):
            raise ModelFileError(f"synthesis architecture {self.architecture!r} is not supported")
        self.is_last = bool(attr(rec, "is_last"))
        self.num_conv, self.num_torgb = int(attr(rec, "num_conv")), int(attr(rec, "num_torgb"))
        self.register_buffer("resample_filter", tensor(rec, "resample_filter"))
        self.const = nn.Parameter(tensor(rec, "const"), requires_grad=False) if self.in_channels == 0 else None
        self.conv0 = SynthesisLayer(child(rec, "conv0")) if self.in_channels != 0 else None
        self.conv1 = SynthesisLayer(child(rec, "conv1"))
        self.torgb = ToRGBLayer(child(rec, "torgb")) if (self.is_last or self.architecture == "skip") else None
        self.skip = Conv2dLayer(child(rec, "skip")) if (self.in_channels != 0 and self.architecture == "resnet") \
            else None

    def forward(self, x, img, ws, noise_mode="const"):
        w_iter = iter(ws.unbind(1))
        if self.in_channels == 0:
            x = self.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)
            x = self.conv1(x, next(w_iter), noise_mode)
        elif self.skip is not None:
            y = self.skip(x, gain=math.sqrt(0.5))
            x = self.conv0(x, next(w_iter), noise_mode)
            x = y + self.conv1(x, next(w_iter), noise_mode, gain=math.sqrt(0.5))
        else:
            x = self.conv0(x, next(w_iter), noise_mode)
            x = self.conv1(x, next(w_iter), noise_mode)
        if img is not None:
            img = upsample2d(img, self.resample_filter)
        if self.torgb is not None:
            y = self.torgb(x, next(w_iter))
            img = y if img is None else img + y
        return x, img


class SynthesisNetwork(nn.Module):
    """ws (N, num_ws, w_dim) -> images (N, C, R, R), not clamped."""

    def __init__(self, rec: PersistentRecord):
        super().__init__()
        self.block_resolutions = [int(r) for r in attr(rec, "block_resolutions")]
        self.num_ws, self.w_dim = int(attr(rec, "num_ws")), int(attr(rec, "w_dim"))
        self.img_resolution, self.img_channels = int(attr(rec, "img_resolution")), int(attr(rec, "img_channels"))
        self.blocks = nn.ModuleList(SynthesisBlock(child(rec, f"b{r}")) for r in self.block_resolutions)
        res = []
        for r, b in zip(self.block_resolutions, self.blocks):
            res += [r] * b.num_conv
        self.ws_resolutions = res + [self.block_resolutions[-1]] * (self.num_ws - len(res))

    def forward(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        ws = ws.float()
        x = img = None
        i = 0
        for block in self.blocks:
            x, img = block(x, img, ws.narrow(1, i, block.num_conv + block.num_torgb), noise_mode)
            i += block.num_conv
        return img

    def style_affines(self) -> list[FullyConnected]:
        return [m.affine for m in self.modules() if isinstance(m, SynthesisLayer | ToRGBLayer)]
