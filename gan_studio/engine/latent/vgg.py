"""A user's own VGG weights as projection's perceptual term, with LPIPS' linear layers when given (never a
download: both are files the user already has).

- VGG: a torchvision `vgg11/13/16/19` state_dict (`features.N.weight`, `features.N.bias`, classifier keys
  ignored), or just its conv stack (`N.weight`). The layer sequence is read from the indices: torchvision
  numbers conv, ReLU, conv, ReLU, pool, ... so two convs 2 apart are joined by a ReLU and 3 apart by a ReLU and a
  max-pool. The taps are the ReLU outputs before each pool and the last one (for VGG16: relu1_2, relu2_2,
  relu3_3, relu4_3, relu5_3, LPIPS' layers). Batch-norm variants are refused (their keys say so).
- LPIPS (Zhang et al. 2018): its `vgg.pth` holds one 1x1 conv per tap (`lin{k}.model.1.weight`, shape
  (1, C_k, 1, 1), no bias): non-negative channel weights applied to the squared difference of the unit-normalised
  activations. Without it every channel weighs the same (the module's default distance).

Images enter in [-1, 1]: gray is repeated to three channels, LPIPS' input scaling is applied, and images
smaller than 64 px are resized up to 64 so that the deepest taps keep a few positions.
"""
from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UserError, not_a_file

LPIPS_SHIFT = (-0.030, -0.088, -0.188)
LPIPS_SCALE = (0.458, 0.448, 0.450)
MIN_SIDE = 64
MAX_VGG_PARAMETERS = 200_000_000


def _read(path: Path) -> dict:
    from ..torchload import load_weights
    if not path.is_file():
        raise UserError(not_a_file(path))
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file
        try:
            return load_file(str(path))
        except Exception as exc:
            raise UserError(f"{path.name}: not a readable safetensors file ({str(exc).splitlines()[0]})") from None
    obj = load_weights(str(path), path.name)
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise UserError(f"{path.name}: expected a state_dict (names -> tensors)")
    return obj


def vgg_from_state_dict(sd: dict, name: str = "the VGG file") -> tuple[nn.Sequential, list[int]]:
    """(the conv stack with the file's weights, frozen; the indices of its tap ReLUs)."""
    convs = {}
    for key, t in sd.items():
        m = re.fullmatch(r"(?:features\.)?(\d+)\.(weight|bias|running_mean|running_var)", key)
        if m is None:
            continue
        if m.group(2).startswith("running"):
            raise UserError(f"{name}: a batch-norm VGG; give the plain vgg11/13/16/19 weights")
        convs.setdefault(int(m.group(1)), {})[m.group(2)] = t
    if not convs:
        raise UserError(f"{name}: no VGG conv weights (features.N.weight) in it")
    idx = sorted(convs)
    if sum(convs[i]["weight"].numel() for i in idx if "weight" in convs[i]) > MAX_VGG_PARAMETERS:
        raise UserError(f"{name}: more than {MAX_VGG_PARAMETERS:,} conv weights; not a VGG")
    layers, taps, prev_c = [], [], 3
    for n, i in enumerate(idx):
        w, b = convs[i].get("weight"), convs[i].get("bias")
        if w is None or w.ndim != 4 or w.shape[1] != prev_c or w.shape[2] != w.shape[3] or \
                (b is not None and b.shape != (w.shape[0],)):
            raise UserError(f"{name}: features.{i} is not a conv layer following the one before "
                            f"(weight {tuple(w.shape) if w is not None else None}, expected {prev_c} input channels)")
        conv = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], padding=w.shape[2] // 2, bias=b is not None)
        with torch.no_grad():
            conv.weight.copy_(w.float())
            if b is not None:
                conv.bias.copy_(b.float())
        layers += [conv, nn.ReLU()]
        gap = (idx[n + 1] - i) if n + 1 < len(idx) else 3
        if gap not in (2, 3):
            raise UserError(f"{name}: the conv layers {i} and {idx[n + 1]} are not laid out as torchvision's VGG")
        if gap == 3:
            taps.append(len(layers) - 1)
            if n + 1 < len(idx):
                layers.append(nn.MaxPool2d(2, 2))
        prev_c = w.shape[0]
    return nn.Sequential(*layers).eval().requires_grad_(False), taps


def lpips_weights(sd: dict, channels: list[int], name: str = "the LPIPS file") -> list[torch.Tensor]:
    """LPIPS' per-tap channel weights (C_k,) from its `lin{k}.model.1.weight` tensors, checked against the taps."""
    out = []
    for k, c in enumerate(channels):
        w = sd.get(f"lin{k}.model.1.weight", sd.get(f"lin{k}.weight"))
        if w is None or w.numel() != c:
            got = None if w is None else tuple(w.shape)
            raise UserError(f"{name}: lin{k} must hold {c} channel weights for this VGG's tap {k}, not {got}")
        w = w.float().flatten()
        if not bool(torch.isfinite(w).all()) or bool((w < 0).any()):
            raise UserError(f"{name}: lin{k} weights must be finite and non-negative")
        out.append(w)
    return out


class VGGTaps:
    """taps(images) -> the tap activations; `weights` the LPIPS channel weights per tap, or None."""

    def __init__(self, net: nn.Sequential, taps: list[int], weights: list[torch.Tensor] | None = None):
        self.net, self.taps, self.weights = net, taps, weights
        self.shift = torch.tensor(LPIPS_SHIFT).view(1, 3, 1, 1)
        self.scale = torch.tensor(LPIPS_SCALE).view(1, 3, 1, 1)

    def to(self, device) -> VGGTaps:
        self.net.to(device)
        self.shift, self.scale = self.shift.to(device), self.scale.to(device)
        self.weights = None if self.weights is None else [w.to(device) for w in self.weights]
        return self

    def __call__(self, x: torch.Tensor) -> list:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        elif x.shape[1] != 3:
            x = x[:, :3] if x.shape[1] > 3 else x.mean(1, keepdim=True).expand(-1, 3, -1, -1)
        x = (x.float() - self.shift) / self.scale
        if min(x.shape[-2:]) < MIN_SIDE:
            f = MIN_SIDE / min(x.shape[-2:])
            x = F.interpolate(x, scale_factor=f, mode="bilinear", align_corners=False)
        out, last = [], self.taps[-1]
        for i, layer in enumerate(self.net):
            x = layer(x)
            if i in self.taps:
                out.append(x)
            if i == last:
                break
        return out


def load_vgg_taps(vgg_path: str | Path, lpips_path: str | Path | None = None, device=None) -> VGGTaps:
    """The taps of the VGG in `vgg_path`, with LPIPS' linear weights from `lpips_path` when given."""
    vgg_path = Path(vgg_path).expanduser()
    net, taps = vgg_from_state_dict(_read(vgg_path), vgg_path.name)
    weights = None
    if lpips_path is not None:
        lpips_path = Path(lpips_path).expanduser()
        channels = [net[i - 1].out_channels for i in taps]
        weights = lpips_weights(_read(lpips_path), channels, lpips_path.name)
    return VGGTaps(net, taps, weights).to(device or "cpu")
