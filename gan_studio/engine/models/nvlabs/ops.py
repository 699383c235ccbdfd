"""Plain-PyTorch building blocks for the NVlabs networks (CPU-friendly, no custom CUDA ops).

Written from the documented behaviour of stylegan2-ada-pytorch's `upfirdn2d`, `bias_act`, `conv2d_resample`
and `FullyConnectedLayer`: upsample by inserting zeros, pad (or crop), convolve with a FIR filter, keep every
`down`-th pixel; bias + activation + gain + clamp; resampling convolutions as transposed / strided convs
around a FIR filter. Every size and gain is read from the unpickled record, never assumed.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...errors import ModelFileError
from .unpickle import PersistentRecord

SQRT2 = math.sqrt(2.0)
ACT_GAINS = {"linear": 1.0, "lrelu": SQRT2, "relu": SQRT2}


def as_float(v) -> float:
    if isinstance(v, torch.Tensor | np.ndarray | np.generic):
        return float(np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v).reshape(-1)[0])
    return float(v)


def as_int_list(v) -> list[int]:
    if isinstance(v, torch.Tensor):
        v = v.tolist()
    return [int(x) for x in np.asarray(v).reshape(-1)]


def attr(rec: PersistentRecord, name: str, default=...):
    """A plain attribute of the record; a ModelFileError naming it when it is missing and has no default."""
    if name in rec.state:
        return rec.state[name]
    if default is ...:
        raise ModelFileError(f"a {rec.class_name} without {name!r}: not a network this reader knows")
    return default


def tensor(rec: PersistentRecord, name: str, required: bool = True) -> torch.Tensor | None:
    """A parameter or buffer, detached, float32 when it is floating point (fp16 layers run in fp32 here)."""
    t = rec.tensor(name)
    if t is None:
        if required:
            raise ModelFileError(f"a {rec.class_name} without its {name!r} tensor")
        return None
    if not isinstance(t, torch.Tensor):
        raise ModelFileError(f"{rec.class_name}.{name} is not a tensor")
    t = t.detach().clone()
    return t.float() if t.is_floating_point() else t


def child(rec: PersistentRecord, name: str) -> PersistentRecord:
    c = rec.child(name)
    if not isinstance(c, PersistentRecord):
        raise ModelFileError(f"a {rec.class_name} without its {name!r} layer")
    return c


def _pad4(padding) -> list[int]:
    if isinstance(padding, int):
        return [padding] * 4
    p = [int(x) for x in padding]
    return p * 2 if len(p) == 2 else p


def upfirdn2d(x: torch.Tensor, f: torch.Tensor | None, up: int = 1, down: int = 1, padding=0,
              gain: float = 1.0, flip_filter: bool = False) -> torch.Tensor:
    """Upsample (zeros), pad/crop [x0, x1, y0, y1], FIR filter (2-D, or 1-D applied separably), downsample.

    A 1-D filter (or none) runs one pass per axis (width, then height): upsample, pad, filter and downsample
    along that axis only (the same result as the 2-D sequence, at a fraction of the work); a 2-D filter runs as
    one strided conv. Either way only the kept samples are computed."""
    px0, px1, py0, py1 = _pad4(padding)
    if f is None or f.ndim == 1:
        k = None if f is None else _oriented(f.to(x.dtype) * gain ** 0.5, flip_filter)
        x = _fir_axis(_fir_axis(x, k, up, down, px0, px1, 3), k, up, down, py0, py1, 2)
        return x * gain if (f is None and gain != 1) else x
    c = x.shape[1]
    x = _fir_axis(_fir_axis(x, None, up, 1, px0, px1, 3), None, up, 1, py0, py1, 2)
    k = _oriented(f.to(x.dtype) * gain, flip_filter)
    return F.conv2d(x, k[None, None].expand(c, 1, *k.shape), stride=down, groups=c)


def _oriented(f: torch.Tensor, flip_filter: bool) -> torch.Tensor:
    """NVlabs' filters convolve unless flip_filter; conv2d correlates, so flip them for it."""
    return f if flip_filter else f.flip(list(range(f.ndim)))


def _fir_axis(x: torch.Tensor, k: torch.Tensor | None, up: int, down: int, p0: int, p1: int,
              dim: int) -> torch.Tensor:
    """Along one axis (3 = width, 2 = height): insert up-1 zeros after each sample, pad (negative: crop) by p0 / p1,
    correlate with the 1-D kernel k (None: identity), keep every down-th sample. With a kernel and up > 1 this
    is a window of the stride-`up` transposed conv (the zeros are never multiplied)."""
    n, c, h, w = x.shape
    if k is not None and up > 1:
        size, taps = x.shape[dim] * up + p0 + p1 - k.shape[0] + 1, k.shape[0]
        shape, stride = ((1, taps), (1, up)) if dim == 3 else ((taps, 1), (up, 1))
        x = F.conv_transpose2d(x, k.flip(0).reshape(1, 1, *shape).expand(c, 1, *shape), stride=stride, groups=c)
        x = _pad_axis(x, p0 - (taps - 1), size - (x.shape[dim] - (taps - 1 - p0)), dim)
        return x if down == 1 else (x[:, :, :, ::down] if dim == 3 else x[:, :, ::down, :])
    if up > 1:
        if dim == 3:
            x = F.pad(x.reshape(n, c, h, w, 1), [0, up - 1]).reshape(n, c, h, w * up)
        else:
            x = F.pad(x.reshape(n, c, h, 1, w), [0, 0, 0, up - 1]).reshape(n, c, h * up, w)
    x = _pad_axis(x, p0, p1, dim)
    if k is None:
        return x if down == 1 else (x[:, :, :, ::down] if dim == 3 else x[:, :, ::down, :])
    shape, stride = ((1, k.shape[0]), (1, down)) if dim == 3 else ((k.shape[0], 1), (down, 1))
    return F.conv2d(x, k.reshape(1, 1, *shape).expand(c, 1, *shape), stride=stride, groups=c)


def _pad_axis(x: torch.Tensor, p0: int, p1: int, dim: int) -> torch.Tensor:
    """Zero-pad one axis by p0 before and p1 after; a negative amount crops."""
    if p0 > 0 or p1 > 0:
        x = F.pad(x, [max(p0, 0), max(p1, 0)] if dim == 3 else [0, 0, max(p0, 0), max(p1, 0)])
    if p0 < 0 or p1 < 0:
        x = x.narrow(dim, max(-p0, 0), x.shape[dim] - max(-p0, 0) - max(-p1, 0))
    return x


def filter_size(f: torch.Tensor | None) -> tuple[int, int]:
    if f is None:
        return 1, 1
    return (int(f.shape[-1]), int(f.shape[0]))


def upsample2d(x: torch.Tensor, f: torch.Tensor, up: int = 2) -> torch.Tensor:
    fw, fh = filter_size(f)
    p = [(fw + up - 1) // 2, (fw - up) // 2, (fh + up - 1) // 2, (fh - up) // 2]
    return upfirdn2d(x, f, up=up, padding=p, gain=up * up)


def downsample2d(x: torch.Tensor, f: torch.Tensor, down: int = 2) -> torch.Tensor:
    fw, fh = filter_size(f)
    p = [(fw - down + 1) // 2, (fw - down) // 2, (fh - down + 1) // 2, (fh - down) // 2]
    return upfirdn2d(x, f, down=down, padding=p)


def bias_act(x: torch.Tensor, b: torch.Tensor | None, act: str = "linear", gain: float | None = None,
             clamp: float | None = None, alpha: float = 0.2, dim: int = 1) -> torch.Tensor:
    """x + b (broadcast on `dim`), activation, * gain (the activation's default when None), clamp to ±clamp."""
    if b is not None:
        x = x + b.reshape([-1 if i == dim else 1 for i in range(x.ndim)])
    if act == "lrelu":
        x = F.leaky_relu(x, alpha)
    elif act == "relu":
        x = F.relu(x)
    elif act != "linear":
        raise ModelFileError(f"activation {act!r} is not supported")
    gain = ACT_GAINS[act] if gain is None else gain
    if gain != 1:
        x = x * gain
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


def conv2d_resample(x: torch.Tensor, w: torch.Tensor, f: torch.Tensor | None = None, up: int = 1, down: int = 1,
                    padding: int = 0, groups: int = 1, flip_weight: bool = True,
                    owner: nn.Module | None = None) -> torch.Tensor:
    """A convolution with FIR up/down-sampling around it (the filter's padding folded into the conv's). The FIR
    passes run as depthwise convs (`fir_pass`), their kernels kept on `owner` when one is given."""
    cout, cin_g, kh, kw = w.shape
    fw, fh = filter_size(f)
    px0 = px1 = py0 = py1 = padding
    if up > 1:
        px0, px1 = px0 + (fw + up - 1) // 2, px1 + (fw - up) // 2
        py0, py1 = py0 + (fh + up - 1) // 2, py1 + (fh - up) // 2
    if down > 1:
        px0, px1 = px0 + (fw - down + 1) // 2, px1 + (fw - down) // 2
        py0, py1 = py0 + (fh - down + 1) // 2, py1 + (fh - down) // 2
    if not flip_weight and up == 1:
        w = w.flip([2, 3])
    pad = [px0, px1, py0, py1]
    if kw == 1 and kh == 1 and down > 1 and up == 1:
        return F.conv2d(fir_pass(x, f, 1, down, pad, 1, owner), w, groups=groups)
    if kw == 1 and kh == 1 and up > 1 and down == 1:
        x = F.conv2d(x, w if flip_weight else w.flip([2, 3]), groups=groups)
        return fir_pass(x, f, up, 1, pad, up * up, owner)
    if down > 1 and up == 1:
        return F.conv2d(fir_pass(x, f, 1, 1, pad, 1, owner), w, stride=down, groups=groups)
    if up > 1:
        return _conv_up(x, w, f, up, down, pad, groups, flip_weight, owner)
    if px0 == px1 and py0 == py1 and px0 >= 0 and py0 >= 0:
        return F.conv2d(x, w, padding=[py0, px0], groups=groups)
    x = upfirdn2d(x, None, padding=pad)
    return F.conv2d(x, w, groups=groups)


def _conv_up(x, w, f, up, down, pad, groups, flip_weight, owner):
    """Upsampling conv: a stride-`up` transposed conv, then the FIR filter with gain up²."""
    cout, cin_g, kh, kw = w.shape
    if groups == 1:
        w = w.transpose(0, 1)
    else:
        w = w.reshape(groups, cout // groups, cin_g, kh, kw).transpose(1, 2).reshape(groups * cin_g, cout // groups,
                                                                                      kh, kw)
    px0, px1, py0, py1 = pad[0] - (kw - 1), pad[1] - (kw - up), pad[2] - (kh - 1), pad[3] - (kh - up)
    pxt, pyt = max(min(-px0, -px1), 0), max(min(-py0, -py1), 0)
    if flip_weight:        # conv_transpose2d convolves; the caller asked for correlation
        w = w.flip([2, 3])
    x = F.conv_transpose2d(x, w, stride=up, padding=[pyt, pxt], groups=groups)
    x = fir_pass(x, f, 1, 1, [px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt], up * up, owner)
    return fir_pass(x, f, 1, down, 0, 1, owner) if down > 1 else x


def fir_pass(x: torch.Tensor, f: torch.Tensor | None, up: int, down: int, padding, gain: float,
             owner: nn.Module | None = None) -> torch.Tensor:
    """upfirdn2d(x, f, up, down, padding, gain) (up or down, not both) through depthwise (transposed) convs,
    the kernels kept on `owner` when given."""
    if f is None or (up > 1 and down > 1):
        return upfirdn2d(x, f, up=up, down=down, padding=padding, gain=gain)
    c, transposed = x.shape[1], up > 1

    def make():
        return fir_kernels(f, c, gain, transposed=transposed)
    ks = make() if owner is None else cached(owner, f"fir{c}x{gain}{'t' if transposed else ''}", (f,), make)
    return fir_up(x, ks, up, padding) if transposed else fir_down(x, ks, down, padding)


# ---------------------------------------------------------------- the fast path (inference)
#
# The same filters as `upfirdn2d`, as depthwise (transposed) convolutions that only compute kept samples and never
# multiply inserted zeros; in-place activations on the fresh tensors they make; weight-derived constants cached.

CHANNELS_LAST = torch.channels_last


def cached(owner: nn.Module, name: str, sources: tuple, make):
    """make() computed once and kept on `owner` until a source tensor changes (another storage, or an in-place write:
    load_state_dict, .to(), .data = ...). Never cached: while a source takes part in autograd, or is an inference
    tensor (no version counter). The kept value holds its sources' storages, so an address is never reused under it."""
    if any(t is not None and (t.is_inference() or (t.requires_grad and torch.is_grad_enabled())) for t in sources):
        return make()
    key = tuple(None if t is None else (t.data_ptr(), t._version, t.dtype, t.device, t.shape) for t in sources)
    store = owner.__dict__.setdefault("_derived", {})
    hit = store.get(name)
    if hit is not None and hit[0] == key:
        return hit[1]
    with torch.inference_mode(False):
        value = make()
    store[name] = (key, value, [None if t is None else t.detach() for t in sources])
    return value


def fresh(x: torch.Tensor) -> bool:
    """Whether ops may write into x (a tensor this code just made): not while autograd records it."""
    return not x.requires_grad


def fir_kernels(f: torch.Tensor, channels: int, gain: float = 1.0, transposed: bool = False,
                flip_filter: bool = False) -> list[torch.Tensor]:
    """Depthwise weights for a FIR filter `f` (1-D: [width pass, height pass]; 2-D: one (1, fh, fw) pass) times
    `gain`. NVlabs' filters convolve unless flip_filter: conv_transpose2d convolves, conv2d correlates."""
    f = f.float()
    if (not flip_filter) != transposed:
        f = f.flip(list(range(f.ndim)))
    if f.ndim == 1:
        k = f * (gain ** 0.5)
        return [k.reshape(1, 1, 1, -1).repeat(channels, 1, 1, 1), k.reshape(1, 1, -1, 1).repeat(channels, 1, 1, 1)]
    return [(f * gain).reshape(1, 1, *f.shape).repeat(channels, 1, 1, 1)]


def _crop(x: torch.Tensor, dim: int, start: int, end: int) -> torch.Tensor:
    """Drop `start` samples before and `end` after along dim (negative: zero-pad instead)."""
    if start > 0 or end > 0:
        x = x.narrow(dim, max(start, 0), x.shape[dim] - max(start, 0) - max(end, 0))
    if start < 0 or end < 0:
        p = [max(-start, 0), max(-end, 0)]
        x = F.pad(x, p if dim == 3 else [0, 0, *p])
    return x


def _conv_t(x: torch.Tensor, k: torch.Tensor, up: tuple[int, int], pads: tuple[int, int, int, int]) -> torch.Tensor:
    """Zero-insert by up = (uy, ux), pad [x0, x1, y0, y1] (negative crops), convolve with depthwise k: one
    stride-`up` conv_transpose2d, whose padding / output_padding do the crop wherever they can."""
    (uy, ux), (kh, kw) = up, k.shape[2:]
    starts = (kh - 1 - pads[2], kw - 1 - pads[0])
    ends = (kh - uy - pads[3], kw - ux - pads[1])
    pad, out_pad, crop = [0, 0], [0, 0], []
    for i, u in enumerate((uy, ux)):
        s, e = starts[i], ends[i]
        if s >= 0 and 0 <= s - e < u:
            pad[i], out_pad[i] = s, s - e
        else:
            crop.append((i + 2, s, e))
    x = F.conv_transpose2d(x, k, stride=(uy, ux), padding=pad, output_padding=out_pad, groups=x.shape[1])
    for dim, s, e in crop:
        x = _crop(x, dim, s, e)
    return x


def fir_up(x: torch.Tensor, ks: list[torch.Tensor], up: int, padding) -> torch.Tensor:
    """upfirdn2d(x, f, up=up, padding=padding) with kernels from fir_kernels(..., transposed=True)."""
    px0, px1, py0, py1 = _pad4(padding)
    if len(ks) == 1:
        return _conv_t(x, ks[0], (up, up), (px0, px1, py0, py1))
    x = _conv_t(x, ks[0], (1, up), (px0, px1, 0, 0))
    return _conv_t(x, ks[1], (up, 1), (0, 0, py0, py1))


def fir_down(x: torch.Tensor, ks: list[torch.Tensor], down: int, padding=0) -> torch.Tensor:
    """upfirdn2d(x, f, down=down, padding=padding) with kernels from fir_kernels(...): strided depthwise convs."""
    px0, px1, py0, py1 = _pad4(padding)
    if px0 != px1 or py0 != py1 or min(px0, py0) < 0:
        x, px0, py0 = upfirdn2d(x, None, padding=[px0, px1, py0, py1]), 0, 0
    c = x.shape[1]
    if len(ks) == 1:
        return F.conv2d(x, ks[0], stride=down, padding=[py0, px0], groups=c)
    x = F.conv2d(x, ks[0], stride=(1, down), padding=[0, px0], groups=c)
    return F.conv2d(x, ks[1], stride=(down, 1), padding=[py0, 0], groups=c)


def lrelu_clamp_(x: torch.Tensor, slope: float, clamp: float | None) -> torch.Tensor:
    """leaky ReLU (slope 1: none), then clamp to +-clamp (None: none), in place where x may be written."""
    if fresh(x):
        if slope != 1:
            F.leaky_relu_(x, slope)
        return x if clamp is None or clamp < 0 else x.clamp_(-clamp, clamp)
    x = x if slope == 1 else F.leaky_relu(x, slope)
    return x if clamp is None or clamp < 0 else x.clamp(-clamp, clamp)


class FullyConnected(nn.Module):
    """NVlabs' FullyConnectedLayer: x W^T * weight_gain + b * bias_gain, then the activation."""

    def __init__(self, rec: PersistentRecord):
        super().__init__()
        self.weight = nn.Parameter(tensor(rec, "weight"), requires_grad=False)
        b = tensor(rec, "bias", required=False)
        self.bias = None if b is None else nn.Parameter(b, requires_grad=False)
        self.activation = str(attr(rec, "activation", "linear"))
        self.weight_gain = as_float(attr(rec, "weight_gain", 1.0 / math.sqrt(self.weight.shape[1])))
        self.bias_gain = as_float(attr(rec, "bias_gain", 1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.weight_gain
        b = None if self.bias is None else (self.bias * self.bias_gain if self.bias_gain != 1 else self.bias)
        if self.activation == "linear" and b is not None:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return bias_act(x.matmul(w.t()), b, act=self.activation)


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    return x * (x.square().mean(1, keepdim=True) + eps).rsqrt()
