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
import torch.nn.functional as F
from torch import nn

from ...errors import ModelFileError
from .ops import (
    CHANNELS_LAST,
    FullyConnected,
    as_float,
    attr,
    bias_act,
    cached,
    child,
    conv2d_resample,
    filter_size,
    fir_pass,
    fresh,
    lrelu_clamp_,
    tensor,
)
from .unpickle import PersistentRecord


def _clamp(rec: PersistentRecord) -> float | None:
    c = attr(rec, "conv_clamp", None)
    return None if c is None else as_float(c)


def modulated_conv2d(x, weight, wsq, styles, conv):
    """Per-sample weights W * s, demodulated to unit norm per output channel when wsq (W² summed over the kernel,
    (O, I)) is given: -> (conv(x), the demodulation coefficients (N, O) still to apply, or None). Batched as
    x * s -> conv; a single sample whose weight is smaller than its input folds s and d into the weight instead.
    Equal to the grouped per-sample conv, and independent of the batch. conv(x, weight) is the layer's conv."""
    n = x.shape[0]
    dcoefs = None if wsq is None else (styles.square() @ wsq.t()).add_(1e-8).rsqrt_()     # (N, O)
    if n == 1 and weight.numel() < x[0].numel():
        scale = styles if dcoefs is None else dcoefs.t() * styles                          # (1, I) or (O, I)
        return conv(x, weight * scale[:, :, None, None]), None
    return conv(x * styles.reshape(n, -1, 1, 1), weight), dcoefs


def epilogue(x, dcoefs, noise, b, act, gain, clamp):
    """act(x * dcoefs + noise + b) * gain, clamped to +-clamp, with the gain folded into the terms (lrelu, relu and
    linear are positively homogeneous): one multiply-add pass, then the activation, in place on the conv output.
    noise: (H, W), (N, 1, H, W) or None; dcoefs: (N, C) or None; b: (C,) or None."""
    if act not in ("linear", "lrelu", "relu"):
        x = x if dcoefs is None else x * dcoefs.reshape(x.shape[0], -1, 1, 1)
        return bias_act(x if noise is None else x + noise, b, act=act, gain=gain, clamp=clamp)
    shift = torch.zeros((), dtype=x.dtype, device=x.device) if b is None else b.reshape(1, -1, 1, 1) * gain
    scale = torch.tensor(gain, dtype=x.dtype, device=x.device) if dcoefs is None else \
        dcoefs.reshape(x.shape[0], -1, 1, 1) * gain
    x = torch.addcmul(shift, x, scale, out=x) if fresh(x) else torch.addcmul(shift, x, scale)
    if noise is not None:        # a second pass: a (1, C, H, W) shift in another memory format would be slower
        x = x.add_(noise * gain) if fresh(x) else x + noise * gain
    if act == "relu":
        x = x.relu_() if fresh(x) else x.relu()
    return lrelu_clamp_(x, 0.2 if act == "lrelu" else 1.0, clamp)


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

    def _conv(self, x, w):
        return conv2d_resample(x, w, f=self.resample_filter, up=self.up, padding=self.padding,
                               flip_weight=self.up == 1, owner=self)

    def forward(self, x, w, noise_mode="const", gain=1.0):
        styles = self.affine(w)
        noise = None
        if self.use_noise and noise_mode == "random":
            noise = torch.randn(x.shape[0], 1, self.resolution, self.resolution, device=x.device) * self.noise_strength
        elif self.use_noise and noise_mode == "const":
            noise = self.noise_const * self.noise_strength
        wsq = cached(self, "wsq", (self.weight,), lambda: self.weight.square().sum([2, 3]))
        x, dcoefs = modulated_conv2d(x, self.weight, wsq, styles, self._conv)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return epilogue(x, dcoefs, noise, self.bias, self.activation, self.act_gain * gain, clamp)


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
        x, _ = modulated_conv2d(x, self.weight, None, styles, F.conv2d)
        return epilogue(x, None, None, self.bias, "linear", 1.0, self.conv_clamp)


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
        w = cached(self, "weight", (self.weight,), lambda: self.weight * self.weight_gain)
        x = conv2d_resample(x, w, f=self.resample_filter, up=self.up, down=self.down, padding=self.padding,
                            flip_weight=self.up == 1, owner=self)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return epilogue(x, None, None, self.bias, self.activation, self.act_gain * gain, clamp)


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
            x = self.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1).contiguous(memory_format=CHANNELS_LAST)
            x = self.conv1(x, next(w_iter), noise_mode)
        elif self.skip is not None:
            y = self.skip(x, gain=math.sqrt(0.5))
            x = self.conv0(x, next(w_iter), noise_mode)
            x = self.conv1(x, next(w_iter), noise_mode, gain=math.sqrt(0.5))
            x = x.add_(y) if fresh(x) else x + y
        else:
            x = self.conv0(x, next(w_iter), noise_mode)
            x = self.conv1(x, next(w_iter), noise_mode)
        if img is not None:
            img = fir_pass(img, self.resample_filter, 2, 1, _up_padding(self.resample_filter), 4, owner=self)
        if self.torgb is not None:
            y = self.torgb(x, next(w_iter))
            img = y if img is None else (img.add_(y) if fresh(img) else img + y)
        return x, img


def _up_padding(f: torch.Tensor, up: int = 2) -> list[int]:
    """upsample2d's padding for filter f."""
    fw, fh = filter_size(f)
    return [(fw + up - 1) // 2, (fw - up) // 2, (fh + up - 1) // 2, (fh - up) // 2]


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
        return img.contiguous()

    def style_affines(self) -> list[FullyConnected]:
        return [m.affine for m in self.modules() if isinstance(m, SynthesisLayer | ToRGBLayer)]
