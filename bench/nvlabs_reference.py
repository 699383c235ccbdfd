"""The plain reference path for our NVlabs generators: the same modules computed the way NVIDIA's pure-PyTorch
fallbacks do (written from their documented behaviour, not copied), so that a speed figure of ours means something
on any machine when set beside this one, measured in the same process:

- modulated conv as one grouped conv of per-sample weights (W * s, demodulated, times the input gain), the weights
  normalised on every call (`fused_modconv`, what inference in float32 runs);
- upfirdn2d: zeros inserted by reshape + pad, pad / crop, the filter convolved over the whole upsampled grid
  (a 1-D filter as two depthwise passes, a 2-D one as one), then every down-th pixel kept;
- bias_act: bias add, activation, gain and clamp as separate out-of-place ops, NCHW (contiguous) throughout.

`reference_path()` swaps these forwards into our classes while the context is open.
"""
from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F

from gan_studio.engine.models.nvlabs import stylegan2_ada as sg2
from gan_studio.engine.models.nvlabs import stylegan3 as sg3
from gan_studio.engine.models.nvlabs.ops import _pad4, filter_size


def upfirdn2d_ref(x, f, up=1, down=1, padding=0, gain=1.0, flip_filter=False):
    n, c, h, w = x.shape
    px0, px1, py0, py1 = _pad4(padding)
    x = x.reshape(n, c, h, 1, w, 1)
    x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1]).reshape(n, c, h * up, w * up)
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0): x.shape[2] - max(-py1, 0), max(-px0, 0): x.shape[3] - max(-px1, 0)]
    if f is not None:
        f = f * (gain ** (f.ndim / 2))
        f = f if flip_filter else f.flip(list(range(f.ndim)))
        f = f[None, None].repeat([c, 1] + [1] * f.ndim)
        if f.ndim == 4:
            x = F.conv2d(x, f, groups=c)
        else:
            x = F.conv2d(F.conv2d(x, f.unsqueeze(2), groups=c), f.unsqueeze(3), groups=c)
    elif gain != 1:
        x = x * gain
    return x[:, :, ::down, ::down]


def bias_act_ref(x, b=None, act="linear", gain=None, clamp=None, alpha=0.2):
    if b is not None:
        x = x + b.reshape(1, -1, 1, 1)
    if act == "lrelu":
        x = F.leaky_relu(x, alpha)
    elif act == "relu":
        x = F.relu(x)
    gain = (math.sqrt(2) if act != "linear" else 1.0) if gain is None else gain
    x = x * gain if gain != 1 else x
    return x.clamp(-clamp, clamp) if clamp is not None and clamp >= 0 else x


def grouped_modconv(x, w, s, demodulate, input_gain=None):
    """Per-sample weights [N, O, I, k, k] -> one conv with groups = N (no padding: the callers pad)."""
    n, (o, i, kh, kw) = x.shape[0], w.shape
    w = w.unsqueeze(0) * s.reshape(n, 1, -1, 1, 1)
    if demodulate:
        w = w * (w.square().sum([2, 3, 4]) + 1e-8).rsqrt().reshape(n, -1, 1, 1, 1)
    if input_gain is not None:
        w = w * input_gain
    return w.reshape(n * o, i, kh, kw)


def sg3_layer_forward(self, x, w):
    styles = self.affine(w)
    weight = self.weight
    if self.is_torgb:
        styles = styles * self.weight_gain
    else:
        weight = weight * weight.square().mean([1, 2, 3], keepdim=True).rsqrt()
        styles = styles * styles.square().mean().rsqrt()
    n, k = x.shape[0], self.conv_kernel - 1
    wg = grouped_modconv(x, weight, styles, not self.is_torgb, self.magnitude_ema.rsqrt())
    x = F.conv2d(x.reshape(1, -1, *x.shape[2:]), wg, padding=k, groups=n)
    x = x.reshape(n, -1, *x.shape[2:])
    x = bias_act_ref(x, self.bias)
    x = upfirdn2d_ref(x, self.up_filter, up=self.up_factor, padding=self.padding, gain=self.up_factor ** 2)
    x = bias_act_ref(x, act="lrelu", alpha=self.slope, gain=self.act_gain, clamp=self.conv_clamp)
    return upfirdn2d_ref(x, self.down_filter, down=self.down_factor)


def _up_pad(f, up=2):
    fw, fh = filter_size(f)
    return [(fw + up - 1) // 2, (fw - up) // 2, (fh + up - 1) // 2, (fh - up) // 2]


def _sg2_conv(layer, x, w, n):
    """conv2d_resample on the grouped input: a stride-2 transposed conv then the FIR filter (up), or a plain conv."""
    x = x.reshape(1, -1, *x.shape[2:])
    if layer.up == 1:
        return F.conv2d(x, w, padding=layer.padding, groups=n)
    o, i, kh, kw = w.shape[0] // n, w.shape[1], *w.shape[2:]
    wt = w.reshape(n, o, i, kh, kw).transpose(1, 2).reshape(n * i, o, kh, kw)   # flip_weight is off for up
    x = F.conv_transpose2d(x, wt, stride=2, groups=n)
    fw, fh = filter_size(layer.resample_filter)
    p = layer.padding
    pad = [(fw + 1) // 2 + p - (kw - 1), (fw - 2) // 2 + p - (kw - 2),
           (fh + 1) // 2 + p - (kh - 1), (fh - 2) // 2 + p - (kh - 2)]
    return upfirdn2d_ref(x, layer.resample_filter, padding=pad, gain=4)


def sg2_layer_forward(self, x, w, noise_mode="const", gain=1.0):
    styles, n = self.affine(w), x.shape[0]
    x = _sg2_conv(self, x, grouped_modconv(x, self.weight, styles, True), n)
    x = x.reshape(n, -1, *x.shape[2:])
    if self.use_noise and noise_mode == "random":
        x = x + torch.randn(n, 1, self.resolution, self.resolution) * self.noise_strength
    elif self.use_noise and noise_mode == "const":
        x = x + self.noise_const * self.noise_strength
    clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
    return bias_act_ref(x, self.bias, act=self.activation, gain=self.act_gain * gain, clamp=clamp)


def sg2_torgb_forward(self, x, w):
    styles, n = self.affine(w) * self.weight_gain, x.shape[0]
    wg = grouped_modconv(x, self.weight, styles, False)
    x = F.conv2d(x.reshape(1, -1, *x.shape[2:]), wg, groups=n).reshape(n, -1, *x.shape[2:])
    return bias_act_ref(x, self.bias, clamp=self.conv_clamp)


def sg2_block_forward(self, x, img, ws, noise_mode="const"):
    w_iter = iter(ws.unbind(1))
    if self.in_channels == 0:
        x = self.conv1(self.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1), next(w_iter), noise_mode)
    elif self.skip is not None:
        y = self.skip(x, gain=math.sqrt(0.5))
        x = self.conv0(x, next(w_iter), noise_mode)
        x = y + self.conv1(x, next(w_iter), noise_mode, gain=math.sqrt(0.5))
    else:
        x = self.conv1(self.conv0(x, next(w_iter), noise_mode), next(w_iter), noise_mode)
    if img is not None:
        img = upfirdn2d_ref(img, self.resample_filter, up=2, padding=_up_pad(self.resample_filter), gain=4)
    if self.torgb is not None:
        y = self.torgb(x, next(w_iter))
        img = y if img is None else img + y
    return x, img


@contextlib.contextmanager
def reference_path():
    """Our SG2 / SG3 layer classes run the reference forwards while open."""
    swaps = [(sg3.SynthesisLayer, sg3_layer_forward), (sg2.SynthesisLayer, sg2_layer_forward),
             (sg2.ToRGBLayer, sg2_torgb_forward), (sg2.SynthesisBlock, sg2_block_forward)]
    saved = [(cls, cls.forward) for cls, _ in swaps]
    try:
        for cls, fn in swaps:
            cls.forward = fn
        yield
    finally:
        for cls, fn in saved:
            cls.forward = fn
