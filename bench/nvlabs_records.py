"""Record trees of an NVlabs StyleGAN2-ADA generator with random weights, for timing our implementation at the
official configs' sizes without NVIDIA's code. The layout (names, plain attributes, tensor shapes, gains) follows
the documented constructors of stylegan2-ada-pytorch `training/networks.py`; tests/engine/test_nvlabs_records.py
checks that the 32 px fixture's constructor arguments give exactly the fixture pickle's tree."""
from __future__ import annotations

import math

import numpy as np
import torch

from gan_studio.engine.models.nvlabs.unpickle import PersistentRecord

FILTER = torch.tensor([1.0, 3.0, 3.0, 1.0])


def _rec(cls: str, attrs: dict, params: dict | None = None, buffers: dict | None = None,
         modules: dict | None = None) -> PersistentRecord:
    state = dict(attrs, training=False)
    state.update(_parameters=params or {}, _buffers=buffers or {}, _modules=modules or {})
    return PersistentRecord(cls, state)


def _fc(gen, n_in: int, n_out: int, activation: str = "linear", lr: float = 1.0, bias_init: float = 0.0):
    w = torch.randn(n_out, n_in, generator=gen) / lr
    b = torch.full([n_out], float(bias_init))
    return _rec("FullyConnectedLayer", {"activation": activation, "weight_gain": np.float64(lr / math.sqrt(n_in)),
                                        "bias_gain": lr}, {"weight": w, "bias": b})


def _resample_filter() -> torch.Tensor:
    f = FILTER / FILTER.sum()
    return f.ger(f)


def _layer(gen, cin, cout, w_dim, res, up, clamp):
    return _rec("SynthesisLayer", {"resolution": res, "up": up, "use_noise": True, "activation": "lrelu",
                                   "conv_clamp": clamp, "padding": 1, "act_gain": np.float64(math.sqrt(2))},
                {"weight": torch.randn(cout, cin, 3, 3, generator=gen), "noise_strength": torch.zeros([]),
                 "bias": torch.zeros(cout)},
                {"resample_filter": _resample_filter(), "noise_const": torch.randn(res, res, generator=gen)},
                {"affine": _fc(gen, w_dim, cin, bias_init=1)})


def _torgb(gen, cin, img_channels, w_dim, clamp):
    return _rec("ToRGBLayer", {"conv_clamp": clamp, "weight_gain": np.float64(1 / math.sqrt(cin))},
                {"weight": torch.randn(img_channels, cin, 1, 1, generator=gen), "bias": torch.zeros(img_channels)},
                modules={"affine": _fc(gen, w_dim, cin, bias_init=1)})


def _block(gen, cin, cout, w_dim, res, img_channels, is_last, fp16, clamp):
    attrs = {"in_channels": cin, "w_dim": w_dim, "resolution": res, "img_channels": img_channels, "is_last": is_last,
             "architecture": "skip", "use_fp16": fp16, "channels_last": False,
             "num_conv": 1 if cin == 0 else 2, "num_torgb": 1}
    params = {"const": torch.randn(cout, res, res, generator=gen)} if cin == 0 else {}
    mods = {} if cin == 0 else {"conv0": _layer(gen, cin, cout, w_dim, res, 2, clamp)}
    mods["conv1"] = _layer(gen, cout, cout, w_dim, res, 1, clamp)
    mods["torgb"] = _torgb(gen, cout, img_channels, w_dim, clamp)
    return _rec("SynthesisBlock", attrs, params, {"resample_filter": _resample_filter()}, mods)


def stylegan2_record(img_resolution: int = 256, img_channels: int = 3, z_dim: int = 512, w_dim: int = 512,
                     num_layers: int = 8, channel_base: int = 16384, channel_max: int = 512, num_fp16_res: int = 4,
                     conv_clamp: float | None = 256, seed: int = 0) -> PersistentRecord:
    """A Generator record (G_ema-like) with random weights; the defaults are stylegan2-ada-pytorch's `paper256`
    config (map 8, fmaps 0.5: channel_base 16384, channel_max 512, 4 fp16 resolutions, conv_clamp 256)."""
    gen = torch.Generator().manual_seed(seed)
    log2 = int(math.log2(img_resolution))
    resolutions = [2 ** i for i in range(2, log2 + 1)]
    channels = {r: min(channel_base // r, channel_max) for r in resolutions}
    fp16_from = max(2 ** (log2 + 1 - num_fp16_res), 8)
    blocks, num_ws = {}, 0
    for r in resolutions:
        cin = channels[r // 2] if r > 4 else 0
        b = _block(gen, cin, channels[r], w_dim, r, img_channels, r == img_resolution, r >= fp16_from,
                   conv_clamp if r >= fp16_from else None)
        blocks[f"b{r}"] = b
        num_ws += b.state["num_conv"] + (b.state["num_torgb"] if r == img_resolution else 0)
    synth = _rec("SynthesisNetwork", {"w_dim": w_dim, "img_resolution": img_resolution, "img_resolution_log2": log2,
                                      "img_channels": img_channels, "block_resolutions": resolutions,
                                      "num_ws": num_ws}, modules=blocks)
    fcs = {f"fc{i}": _fc(gen, z_dim if i == 0 else w_dim, w_dim, "lrelu", lr=0.01) for i in range(num_layers)}
    mapping = _rec("MappingNetwork", {"z_dim": z_dim, "c_dim": 0, "w_dim": w_dim, "num_ws": num_ws,
                                      "num_layers": num_layers, "w_avg_beta": 0.995},
                   buffers={"w_avg": torch.randn(w_dim, generator=gen) * 0.1}, modules=fcs)
    return _rec("Generator", {"z_dim": z_dim, "c_dim": 0, "w_dim": w_dim, "img_resolution": img_resolution,
                              "img_channels": img_channels, "num_ws": num_ws},
                modules={"synthesis": synth, "mapping": mapping})
