"""StyleGAN3 (T and R configs) synthesis network, rebuilt from an unpickled `SynthesisNetwork` record.

Written from the Alias-Free GAN paper (Karras et al. 2021) and the documented behaviour of NVlabs/stylegan3's
`training/networks_stylegan3.py` and `filtered_lrelu` reference op:

- `input` (SynthesisInput): Fourier features. An affine of w gives (r_c, r_s, t_x, t_y), normalised on the
  rotation part; the inverse rotation and translation, composed with the stored user `transform`, move the
  stored `freqs` / `phases`; frequencies beyond the band are faded out (amplitude cut-off between `bandwidth`
  and half the `sampling_rate`); sinusoids sampled on a `size` grid spanning size / sampling_rate units, then a
  learned channel mix (`weight` / sqrt(channels)).
- `L0_...` .. `L{n}_...` (SynthesisLayer): a modulated conv (weights and styles pre-normalised, demodulated,
  except the ToRGB layer, whose styles are scaled by 1 / sqrt(fan_in)), the input scaled by
  magnitude_ema^-1/2, `padding = conv_kernel - 1`; then the filtered leaky ReLU: + bias, upsample by
  `up_factor` through `up_filter` (gain up²) with the stored `padding`, lrelu (slope 0.2, gain sqrt 2; slope 1,
  gain 1 for ToRGB), clamp to ±conv_clamp, filter with `down_filter` and keep every `down_factor`-th sample.
  Filters are 1-D (separable, T config) or 2-D (radially symmetric, R config), or None (identity).
- the result times `output_scale`, unclamped. StyleGAN3 has no noise inputs; layers stored for fp16 run in
  float32 here (as the original does with force_fp32).

Everything `__init__` reads is a shape or a plain attribute; every tensor the forward pass uses is a
parameter or a persistent buffer, so a skeleton record (placeholder tensors) + `load_state_dict` rebuilds it.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...errors import ModelFileError
from .ops import (
    FullyConnected,
    as_float,
    as_int_list,
    attr,
    bias_act,
    cached,
    child,
    filter_size,
    fir_down,
    fir_kernels,
    fir_up,
    fresh,
    lrelu_clamp_,
    tensor,
    upfirdn2d,
)
from .unpickle import PersistentRecord


def _pair(v) -> list[int]:
    """A [width, height] size from an int, a 1- or 2-element array, list or tuple."""
    s = as_int_list(v)
    if len(s) == 1:
        s = s * 2
    if len(s) != 2:
        raise ModelFileError(f"a size of {len(s)} numbers where [width, height] was expected")
    return s


def _flag(v) -> bool:
    return bool(np.asarray(v).reshape(-1)[0]) if not isinstance(v, bool) else v


def _optional_buffer(module: nn.Module, rec: PersistentRecord, name: str) -> None:
    t = tensor(rec, name, required=False)
    if t is not None and t.ndim not in (1, 2):
        raise ModelFileError(f"{rec.class_name}.{name}: a {t.ndim}-D filter (1-D or 2-D expected)")
    module.register_buffer(name, t)


class SynthesisInput(nn.Module):
    """Fourier features of w's rotation / translation: (N, w_dim) -> (N, channels, size[1], size[0])."""

    def __init__(self, rec: PersistentRecord):
        super().__init__()
        self.affine = FullyConnected(child(rec, "affine"))
        self.weight = nn.Parameter(tensor(rec, "weight"), requires_grad=False)
        self.register_buffer("transform", tensor(rec, "transform"))
        self.register_buffer("freqs", tensor(rec, "freqs"))
        self.register_buffer("phases", tensor(rec, "phases"))
        self.channels = int(attr(rec, "channels", self.weight.shape[0]))
        self.size = _pair(attr(rec, "size"))
        self.sampling_rate = as_float(attr(rec, "sampling_rate"))
        self.bandwidth = as_float(attr(rec, "bandwidth"))
        if self.affine.weight.shape[0] != 4 or tuple(self.freqs.shape) != (self.channels, 2):
            raise ModelFileError("a SynthesisInput whose affine or freqs do not have the StyleGAN3 shapes")

    def _transforms(self, w: torch.Tensor) -> torch.Tensor:
        """(N, 3, 3): the inverse rotation, then the inverse translation, then the stored user transform."""
        t = self.affine(w)
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        rc, rs, tx, ty = t.unbind(1)
        one, zero = torch.ones_like(rc), torch.zeros_like(rc)
        m_r = torch.stack([rc, -rs, zero, rs, rc, zero, zero, zero, one], 1).reshape(-1, 3, 3)
        m_t = torch.stack([one, zero, -tx, zero, one, -ty, zero, zero, one], 1).reshape(-1, 3, 3)
        return m_r @ m_t @ self.transform.unsqueeze(0)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        tr = self._transforms(w)
        freqs = self.freqs.unsqueeze(0)                                            # (1, C, 2)
        phases = self.phases.unsqueeze(0) + (freqs @ tr[:, :2, 2:]).squeeze(2)     # (N, C)
        freqs = freqs @ tr[:, :2, :2]                                              # (N, C, 2)
        band = self.sampling_rate / 2 - self.bandwidth
        amplitudes = (1 - (freqs.norm(dim=2) - self.bandwidth) / band).clamp(0, 1)
        sw, sh = self.size
        theta = torch.tensor([[0.5 * sw / self.sampling_rate, 0, 0], [0, 0.5 * sh / self.sampling_rate, 0]],
                             dtype=w.dtype, device=w.device)
        grid = F.affine_grid(theta.unsqueeze(0), [1, 1, sh, sw], align_corners=False)[0]   # (H, W, 2): x, y
        x = torch.einsum("hwk,nck->nhwc", grid, freqs) + phases[:, None, None, :]
        x = torch.sin(x * (2 * math.pi)) * amplitudes[:, None, None, :]
        x = x @ (self.weight / math.sqrt(self.channels)).t()
        return x.permute(0, 3, 1, 2)


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, wsq: torch.Tensor | None, styles: torch.Tensor,
                     padding: int, input_gain: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The per-sample conv with weights W * s (demodulated when wsq, the pre-normalised weight's squares summed over
    the kernel, is given) on x * input_gain -> (conv output, the demodulation coefficients (N, O) still to apply,
    or None). Batched as (x * s) -> conv(W), d left to the caller; a single sample whose weight is smaller than
    its input folds s and d into the weight instead. Either way the result does not depend on the batch."""
    n = x.shape[0]
    dcoefs = None
    if wsq is not None:
        styles = styles * styles.square().mean(1, keepdim=True).rsqrt()
        dcoefs = (styles.square() @ wsq.t()).add_(1e-8).rsqrt_()                         # (N, O)
    styles = styles * input_gain
    if n == 1 and weight.numel() < x[0].numel():
        scale = styles if dcoefs is None else dcoefs.t() * styles                          # (1, I) or (O, I)
        return F.conv2d(x, weight * scale[:, :, None, None], padding=padding), None
    return F.conv2d(x * styles.reshape(n, -1, 1, 1), weight, padding=padding), dcoefs


def filtered_lrelu_reference(x: torch.Tensor, fu: torch.Tensor | None, fd: torch.Tensor | None, b: torch.Tensor,
                             up: int, down: int, padding: list[int], gain: float, slope: float,
                             clamp: float | None) -> torch.Tensor:
    """+ bias, upsample through fu (gain up²) with padding [x0, x1, y0, y1], lrelu * gain, clamp, fd, downsample."""
    x = bias_act(x, b)
    x = upfirdn2d(x, fu, up=up, padding=padding, gain=up * up)
    x = bias_act(x, None, act="lrelu", alpha=slope, gain=gain, clamp=clamp)
    return upfirdn2d(x, fd, down=down)


def add_bias(x: torch.Tensor, b: torch.Tensor, dcoefs: torch.Tensor | None) -> torch.Tensor:
    """x * dcoefs (per sample and channel, when given) + b (per channel): one pass, in place where allowed."""
    b = b.reshape(1, -1, 1, 1)
    if dcoefs is None:
        return x.add_(b) if fresh(x) else x + b
    d = dcoefs.reshape(x.shape[0], -1, 1, 1)
    return torch.addcmul(b, x, d, out=x) if fresh(x) else torch.addcmul(b, x, d)


CHUNK_BYTES = 4 << 20            # the filtered lrelu's upsampled intermediate per pass: about 4 MiB (cache-sized)


def _chunks(x: torch.Tensor, up: int) -> list[tuple[slice, slice]]:
    """(samples, channels) blocks of x for the filtered lrelu, a pass per block: its upsampled intermediate (the
    block's size times up²) kept near CHUNK_BYTES, so that it stays in cache and its memory is reused rather than
    faulted in afresh for every layer. Whole samples while one fits, else groups of channels (a multiple of 16, for
    the vector width; the op is depthwise, channels are independent)."""
    n, c = x.shape[:2]
    per_sample = x[0].numel() * x.element_size() * up * up
    if per_sample <= CHUNK_BYTES or c <= 16:
        step = max(1, CHUNK_BYTES // max(per_sample, 1))
        return [(slice(i, i + step), slice(0, c)) for i in range(0, n, step)]
    group = min(c, max(16, (c * CHUNK_BYTES // per_sample) // 16 * 16))
    return [(slice(i, i + 1), slice(j, j + group)) for i in range(n) for j in range(0, c, group)]


class SynthesisLayer(nn.Module):
    """(N, in_channels, in_size[1], in_size[0]), w -> (N, out_channels, out_size[1], out_size[0])."""

    def __init__(self, rec: PersistentRecord):
        super().__init__()
        self.affine = FullyConnected(child(rec, "affine"))
        self.weight = nn.Parameter(tensor(rec, "weight"), requires_grad=False)
        self.bias = nn.Parameter(tensor(rec, "bias"), requires_grad=False)
        self.register_buffer("magnitude_ema", tensor(rec, "magnitude_ema"))
        _optional_buffer(self, rec, "up_filter")
        _optional_buffer(self, rec, "down_filter")
        self.is_torgb = _flag(attr(rec, "is_torgb"))
        self.in_channels, self.out_channels = int(self.weight.shape[1]), int(self.weight.shape[0])
        self.conv_kernel = int(attr(rec, "conv_kernel", self.weight.shape[-1]))
        self.in_size, self.out_size = _pair(attr(rec, "in_size")), _pair(attr(rec, "out_size"))
        self.up_factor, self.down_factor = int(attr(rec, "up_factor")), int(attr(rec, "down_factor"))
        self.out_cutoff = as_float(attr(rec, "out_cutoff"))
        c = attr(rec, "conv_clamp", None)
        self.conv_clamp = None if c is None else as_float(c)
        p = attr(rec, "padding", None)
        self.padding = self._default_padding() if p is None else as_int_list(p)
        if len(self.padding) != 4 or tuple(self.weight.shape[2:]) != (self.conv_kernel, self.conv_kernel):
            raise ModelFileError(f"a SynthesisLayer with padding {self.padding} and a {tuple(self.weight.shape)} "
                                 f"weight for conv_kernel {self.conv_kernel}")
        self.weight_gain = 1.0 / math.sqrt(self.in_channels * self.conv_kernel ** 2)
        self.act_gain, self.slope = (1.0, 1.0) if self.is_torgb else (math.sqrt(2), 0.2)
        self._check_sizes()

    def _default_padding(self) -> list[int]:
        """The padding the original stores, from the sizes and the filters' tap counts (for records without it)."""
        (uw, uh), (dw, dh) = filter_size(self.up_filter), filter_size(self.down_filter)
        out = []
        for i, (ut, dt) in enumerate(((uw, dw), (uh, dh))):
            total = (self.out_size[i] - 1) * self.down_factor + 1
            total += ut + dt - 2 - (self.in_size[i] + self.conv_kernel - 1) * self.up_factor
            lo = (total + self.up_factor) // 2
            out += [lo, total - lo]
        return out

    def _check_sizes(self) -> None:
        (uw, uh), (dw, dh) = filter_size(self.up_filter), filter_size(self.down_filter)
        px0, px1, py0, py1 = self.padding
        k, up, down = self.conv_kernel, self.up_factor, self.down_factor
        ow = ((self.in_size[0] + k - 1) * up + px0 + px1 - (uw - 1) - (dw - 1) + down - 1) // down
        oh = ((self.in_size[1] + k - 1) * up + py0 + py1 - (uh - 1) - (dh - 1) + down - 1) // down
        if [ow, oh] != self.out_size:
            raise ModelFileError(f"a SynthesisLayer whose filters and padding give {ow}x{oh}, not its out_size "
                                 f"{self.out_size[0]}x{self.out_size[1]}")

    def _weights(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The conv weight pre-normalised per output channel and its squares summed over the kernel (demodulating
        layers), or the stored weight and None (ToRGB)."""
        if self.is_torgb:
            return self.weight, None
        w = self.weight * self.weight.square().mean([1, 2, 3], keepdim=True).rsqrt()
        return w, w.square().sum([2, 3])

    def _filters(self, channels: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Depthwise kernels of up_filter (gain up², times the activation gain: lrelu is positively homogeneous)
        and down_filter."""
        return (fir_kernels(self.up_filter, channels, self.up_factor ** 2 * self.act_gain, transposed=True),
                fir_kernels(self.down_filter, channels))

    def _fast(self) -> bool:
        """Both filters (every official non-ToRGB layer), or neither with no resampling and no padding (ToRGB)."""
        if self.up_filter is not None and self.down_filter is not None:
            return True
        return (self.up_filter is None and self.down_filter is None and self.up_factor == self.down_factor == 1
                and not any(self.padding))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """A batch whose samples are each larger than the conv weight and than a cache-sized block runs sample by
        sample: each then folds its styles into the weight (no x * s pass) and nothing is batched that would stay
        in cache anyway (the same result, as the layer is batch-independent)."""
        if x.shape[0] > 1 and self.weight.numel() < x[0].numel() and x[0].numel() * x.element_size() > CHUNK_BYTES:
            return torch.cat([self._forward(x[i:i + 1], w[i:i + 1]) for i in range(x.shape[0])])
        return self._forward(x, w)

    def _forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)
        if self.is_torgb:
            styles = styles * self.weight_gain
        weight, wsq = cached(self, "weights", (self.weight,), self._weights)
        x, dcoefs = modulated_conv2d(x, weight, wsq, styles, self.conv_kernel - 1, self.magnitude_ema.rsqrt())
        if not self._fast():
            if dcoefs is not None:
                x = x * dcoefs.reshape(x.shape[0], -1, 1, 1)
            return filtered_lrelu_reference(x, self.up_filter, self.down_filter, self.bias, self.up_factor,
                                            self.down_factor, self.padding, self.act_gain, self.slope, self.conv_clamp)
        x = add_bias(x, self.bias, dcoefs)
        if self.up_filter is None:
            return lrelu_clamp_(x * self.act_gain if self.act_gain != 1 else x, self.slope, self.conv_clamp)
        ku, kd = cached(self, "filters", (self.up_filter, self.down_filter), lambda: self._filters(self.out_channels))
        blocks = _chunks(x, self.up_factor)
        parts = [self._filtered(x[ns, cs], [k[cs] for k in ku], [k[cs] for k in kd]) for ns, cs in blocks]
        if len(parts) == 1:
            return parts[0]
        rows = [torch.cat([p for p, (ns, _) in zip(parts, blocks) if ns.start == i], 1)
                for i in sorted({ns.start for ns, _ in blocks})]
        return rows[0] if len(rows) == 1 else torch.cat(rows)

    def _filtered(self, x: torch.Tensor, ku: list[torch.Tensor], kd: list[torch.Tensor]) -> torch.Tensor:
        """Upsample (gains folded in), lrelu, clamp, downsample: the filtered lrelu after its bias."""
        x = lrelu_clamp_(fir_up(x, ku, self.up_factor, self.padding), self.slope, self.conv_clamp)
        return fir_down(x, kd, self.down_factor)


class SynthesisNetwork(nn.Module):
    """ws (N, num_ws, w_dim) -> images (N, C, R, R), not clamped. ws[:, 0] drives the Fourier input, ws[:, i + 1]
    the i-th layer of `layer_names`."""

    def __init__(self, rec: PersistentRecord):
        super().__init__()
        self.num_ws, self.w_dim = int(attr(rec, "num_ws")), int(attr(rec, "w_dim"))
        self.img_resolution, self.img_channels = int(attr(rec, "img_resolution")), int(attr(rec, "img_channels"))
        self.output_scale = as_float(attr(rec, "output_scale", 1.0))
        self.layer_names = [str(n) for n in attr(rec, "layer_names")]
        if self.num_ws != len(self.layer_names) + 1:
            raise ModelFileError(f"a StyleGAN3 synthesis network with {len(self.layer_names)} layers and "
                                 f"num_ws = {self.num_ws} (expected layers + 1)")
        self.input = SynthesisInput(child(rec, "input"))
        for name in self.layer_names:
            self.add_module(name, SynthesisLayer(child(rec, name)))
        last = self.layers()[-1]
        if last.out_channels != self.img_channels or last.out_size != [self.img_resolution] * 2:
            raise ModelFileError(f"the last StyleGAN3 layer makes {last.out_channels} x {last.out_size}, not "
                                 f"{self.img_channels} x {self.img_resolution}²")
        bands = [2 * self.input.bandwidth] + [2 * layer.out_cutoff for layer in self.layers()]
        self.ws_resolutions = [max(1, min(self.img_resolution, int(round(b)))) for b in bands]

    def layers(self) -> list[SynthesisLayer]:
        return [getattr(self, name) for name in self.layer_names]

    def forward(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """noise_mode is accepted for the common interface and ignored: StyleGAN3 has no noise inputs."""
        ws = ws.float()
        x = self.input(ws[:, 0])
        for i, layer in enumerate(self.layers()):
            x = layer(x, ws[:, i + 1])
        if self.output_scale != 1:
            x = x.mul_(self.output_scale) if fresh(x) else x * self.output_scale
        return x.contiguous()

    def style_affines(self) -> list[FullyConnected]:
        """Every affine that maps w: the input's (rotation / translation, 4 rows) and each layer's styles."""
        return [self.input.affine] + [layer.affine for layer in self.layers()]
