"""Record trees of an NVlabs StyleGAN3 (T or R) generator with random weights, for timing our implementation at the
official configs' sizes without NVIDIA's code. Names, plain attributes, tensor shapes and filters follow the
documented constructors of NVlabs/stylegan3 `training/networks_stylegan3.py` (geometric progression of cutoffs and
stopbands, sampling rates, margins, channel counts, up/down factors, filter taps, paddings) and `train.py` (cfg
stylegan3-t: channel_base 32768, channel_max 512, mapping 2; stylegan3-r: conv_kernel 1, channel_base and
channel_max doubled, radially symmetric down filters). The Kaiser-window FIR design is scipy's `firwin` and
`kaiser_atten` / `kaiser_beta` as documented, written here with numpy (scipy is not a dependency); the jinc filter
of the R config uses a Bessel J1 computed by the trapezoidal rule over its integral (exact to float precision).
tests/engine/test_nvlabs_records_sg3.py checks the result against the 32 px StyleGAN3-T fixture: the same tree
(classes, attributes, shapes) and the same filter values."""
from __future__ import annotations

import numpy as np
import torch

from gan_studio.engine.models.nvlabs.unpickle import PersistentRecord


def _rec(cls: str, attrs: dict, params: dict | None = None, buffers: dict | None = None,
         modules: dict | None = None) -> PersistentRecord:
    state = {"training": False, **attrs}
    state.update(_parameters=params or {}, _buffers=buffers or {}, _modules=modules or {})
    return PersistentRecord(cls, state)


def _fc(gen, n_in: int, n_out: int, activation: str = "linear", lr=1, bias_init=0.0, weight_init=1.0):
    w = torch.randn(n_out, n_in, generator=gen) * (weight_init / lr)
    b = torch.from_numpy(np.broadcast_to(np.asarray(bias_init, dtype=np.float32), [n_out]) / lr)
    return _rec("FullyConnectedLayer", {"in_features": n_in, "out_features": n_out, "activation": activation,
                                        "weight_gain": lr / np.sqrt(n_in), "bias_gain": lr}, {"weight": w, "bias": b})


def kaiser_beta(atten: float) -> float:
    if atten > 50:
        return 0.1102 * (atten - 8.7)
    if atten > 21:
        return 0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21)
    return 0.0


def kaiser_atten(numtaps: int, width: float) -> float:
    """width relative to Nyquist."""
    return 2.285 * (numtaps - 1) * np.pi * width + 7.95


def firwin(numtaps: int, cutoff: float, width: float, fs: float) -> np.ndarray:
    """A linear-phase low-pass FIR filter, Kaiser window (scipy.signal.firwin's documented design), unit DC gain."""
    nyq = fs / 2
    m = np.arange(numtaps) - (numtaps - 1) / 2
    h = (cutoff / nyq) * np.sinc((cutoff / nyq) * m)
    h *= np.kaiser(numtaps, kaiser_beta(kaiser_atten(numtaps, width / nyq)))
    return h / h.sum()


def bessel_j1(z: np.ndarray, points: int = 512) -> np.ndarray:
    """J1(z) = 1/(2 pi) * integral over a period of cos(t - z sin t): the trapezoidal rule is spectrally exact here."""
    t = np.linspace(-np.pi, np.pi, points, endpoint=False)
    return np.cos(t[None, :] - np.asarray(z).reshape(-1, 1) * np.sin(t)[None, :]).mean(1).reshape(np.shape(z))


def lowpass_filter(numtaps: int, cutoff: float, width: float, fs: float, radial: bool = False) -> torch.Tensor | None:
    """SynthesisLayer.design_lowpass_filter: None for one tap, a separable Kaiser filter, or a jinc-based radial one."""
    if numtaps == 1:
        return None
    if not radial:
        return torch.as_tensor(firwin(numtaps, cutoff, width, fs), dtype=torch.float32)
    x = (np.arange(numtaps) - (numtaps - 1) / 2) / fs
    r = np.hypot(*np.meshgrid(x, x))
    f = bessel_j1(2 * cutoff * (np.pi * r)) / (np.pi * r)
    w = np.kaiser(numtaps, kaiser_beta(kaiser_atten(numtaps, width / (fs / 2))))
    f *= np.outer(w, w)
    return torch.as_tensor(f / np.sum(f), dtype=torch.float32)


def _layer(gen, w_dim, is_torgb, critical, fp16, cin, cout, in_size, out_size, in_sr, out_sr, in_cut, out_cut,
           in_hw, out_hw, conv_kernel=3, filter_size=6, lrelu_upsampling=2, use_radial_filters=False,
           conv_clamp=256, magnitude_ema_beta=0.999) -> PersistentRecord:
    tmp_sr = max(in_sr, out_sr) * (1 if is_torgb else lrelu_upsampling)
    k = 1 if is_torgb else conv_kernel
    up, down = int(np.rint(tmp_sr / in_sr)), int(np.rint(tmp_sr / out_sr))
    up_taps = filter_size * up if up > 1 and not is_torgb else 1
    down_taps = filter_size * down if down > 1 and not is_torgb else 1
    down_radial = use_radial_filters and not critical
    total = (out_size - 1) * down + 1 - (in_size + k - 1) * up + up_taps + down_taps - 2
    lo = (total + up) // 2
    attrs = {"w_dim": w_dim, "is_torgb": is_torgb, "is_critically_sampled": critical, "use_fp16": fp16,
             "in_channels": cin, "out_channels": cout, "in_size": np.broadcast_to(np.asarray(in_size), [2]),
             "out_size": np.broadcast_to(np.asarray(out_size), [2]), "in_sampling_rate": in_sr,
             "out_sampling_rate": out_sr, "tmp_sampling_rate": tmp_sr, "in_cutoff": in_cut, "out_cutoff": out_cut,
             "in_half_width": in_hw, "out_half_width": out_hw, "conv_kernel": k, "conv_clamp": conv_clamp,
             "magnitude_ema_beta": magnitude_ema_beta, "up_factor": up, "up_taps": up_taps, "down_factor": down,
             "down_taps": down_taps, "down_radial": down_radial, "padding": [int(lo), int(total - lo)] * 2}
    params = {"weight": torch.randn(cout, cin, k, k, generator=gen), "bias": torch.randn(cout, generator=gen) * 0.1}
    buffers = {"magnitude_ema": torch.ones([]) + torch.rand([], generator=gen),
               "up_filter": lowpass_filter(up_taps, in_cut, in_hw * 2, tmp_sr),
               "down_filter": lowpass_filter(down_taps, out_cut, out_hw * 2, tmp_sr, radial=down_radial)}
    return _rec("SynthesisLayer", attrs, params, buffers, {"affine": _fc(gen, w_dim, cin, bias_init=1)})


def _input(gen, w_dim, channels, size, sampling_rate, bandwidth) -> PersistentRecord:
    freqs = torch.randn(channels, 2, generator=gen)
    radii = freqs.square().sum(1, keepdim=True).sqrt()
    freqs = freqs / (radii * radii.square().exp().pow(0.25)) * bandwidth
    attrs = {"w_dim": w_dim, "channels": channels, "size": np.broadcast_to(np.asarray(size), [2]),
             "sampling_rate": sampling_rate, "bandwidth": bandwidth}
    return _rec("SynthesisInput", attrs, {"weight": torch.randn(channels, channels, generator=gen)},
                {"transform": torch.eye(3), "freqs": freqs, "phases": torch.rand(channels, generator=gen) - 0.5},
                {"affine": _fc(gen, w_dim, 4, weight_init=0.1, bias_init=[1, 0, 0, 0])})


def _synthesis(gen, w_dim, img_resolution, img_channels, channel_base=32768, channel_max=512, num_layers=14,
               num_critical=2, first_cutoff=2, first_stopband=2 ** 2.1, last_stopband_rel=2 ** 0.3, margin_size=10,
               output_scale=0.25, num_fp16_res=4, **layer_kwargs) -> PersistentRecord:
    last_cutoff = img_resolution / 2
    exponents = np.minimum(np.arange(num_layers + 1) / (num_layers - num_critical), 1)
    cutoffs = first_cutoff * (last_cutoff / first_cutoff) ** exponents
    stopbands = first_stopband * (last_cutoff * last_stopband_rel / first_stopband) ** exponents
    rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, img_resolution))))
    half_widths = np.maximum(stopbands, rates / 2) - cutoffs
    sizes = rates + margin_size * 2
    sizes[-2:] = img_resolution
    channels = np.rint(np.minimum((channel_base / 2) / cutoffs, channel_max))
    channels[-1] = img_channels
    mods = {"input": _input(gen, w_dim, int(channels[0]), int(sizes[0]), rates[0], cutoffs[0])}
    names = []
    for i in range(num_layers + 1):
        p = max(i - 1, 0)
        layer = _layer(gen, w_dim, i == num_layers, i >= num_layers - num_critical,
                       rates[i] * 2 ** num_fp16_res > img_resolution, int(channels[p]), int(channels[i]),
                       int(sizes[p]), int(sizes[i]), int(rates[p]), int(rates[i]), cutoffs[p], cutoffs[i],
                       half_widths[p], half_widths[i], **layer_kwargs)
        names.append(f"L{i}_{int(sizes[i])}_{int(channels[i])}")
        mods[names[-1]] = layer
    attrs = {"w_dim": w_dim, "num_ws": num_layers + 2, "img_resolution": img_resolution, "img_channels": img_channels,
             "num_layers": num_layers, "num_critical": num_critical, "margin_size": margin_size,
             "output_scale": output_scale, "num_fp16_res": num_fp16_res, "layer_names": names}
    return _rec("SynthesisNetwork", attrs, modules=mods)


def stylegan3_record(img_resolution: int = 256, img_channels: int = 3, z_dim: int = 512, w_dim: int = 512,
                     c_dim: int = 0, mapping_kwargs: dict | None = None, seed: int = 0,
                     **synthesis_kwargs) -> PersistentRecord:
    """A Generator record (G_ema-like) with random weights from the Generator constructor's arguments (the
    fixture's index.json generator_kwargs fit as they are; unconditional only). Defaults: train.py's stylegan3-t."""
    if c_dim:
        raise ValueError("conditional StyleGAN3 records are not built here")
    gen = torch.Generator().manual_seed(seed)
    synth = _synthesis(gen, w_dim, img_resolution, img_channels, **synthesis_kwargs)
    num_ws = synth.state["num_ws"]
    mk = {"num_layers": 2, "lr_multiplier": 0.01, "w_avg_beta": 0.998, **(mapping_kwargs or {})}
    feats = [z_dim] + [w_dim] * mk["num_layers"]
    fcs = {f"fc{i}": _fc(gen, feats[i], feats[i + 1], "lrelu", lr=mk["lr_multiplier"])
           for i in range(mk["num_layers"])}
    mapping = _rec("MappingNetwork", {"z_dim": z_dim, "c_dim": 0, "w_dim": w_dim, "num_ws": num_ws,
                                      "num_layers": mk["num_layers"], "w_avg_beta": mk["w_avg_beta"], "embed": None},
                   buffers={"w_avg": torch.randn(w_dim, generator=gen) * 0.1}, modules=fcs)
    return _rec("Generator", {"z_dim": z_dim, "c_dim": 0, "w_dim": w_dim, "img_resolution": img_resolution,
                              "img_channels": img_channels, "num_ws": num_ws},
                modules={"synthesis": synth, "mapping": mapping})


def stylegan3_config(cfg: str, img_resolution: int = 256, batch: int = 32) -> dict:
    """stylegan3 train.py's generator kwargs for --cfg=stylegan3-t / stylegan3-r (defaults --cbase 32768,
    --cmax 512, mapping depth 2; magnitude_ema_beta from the batch size)."""
    kw = {"img_resolution": img_resolution, "channel_base": 32768, "channel_max": 512,
          "mapping_kwargs": {"num_layers": 2}, "magnitude_ema_beta": 0.5 ** (batch / (20 * 1e3))}
    if cfg == "stylegan3-r":
        kw.update(conv_kernel=1, channel_base=65536, channel_max=1024, use_radial_filters=True)
    elif cfg != "stylegan3-t":
        raise ValueError(f"unknown StyleGAN3 config {cfg!r}")
    return kw


def layer_table(rec: PersistentRecord) -> list[tuple]:
    """(name, in size, out size, channels in -> out, up, down, up taps, down taps (2-D for radial)) per layer."""
    synth = rec.child("synthesis")
    out = []
    for name in synth.state["layer_names"]:
        s = synth.child(name).state
        fd = synth.child(name).buffers["down_filter"]
        out.append((name, int(s["in_size"][0]), int(s["out_size"][0]), f"{s['in_channels']}->{s['out_channels']}",
                    s["up_factor"], s["down_factor"], s["up_taps"], "none" if fd is None else "x".join(
                        str(d) for d in fd.shape)))
    return out


if __name__ == "__main__":
    for cfg in ("stylegan3-t", "stylegan3-r"):
        print(cfg)
        for row in layer_table(stylegan3_record(**stylegan3_config(cfg))):
            print("  ", *row)
