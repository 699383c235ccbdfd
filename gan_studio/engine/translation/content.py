"""SRGAN's content loss in a feature space (Ledig et al. 2017 use VGG19's relu5_4, which cannot be downloaded here).

    lenet        the shipped lenet-mnist's deepest conv features (conv2 + ReLU: 64 maps at half the image size),
                 the network FID uses for digits (resources/lenet-mnist.safetensors); `lenet:PATH` another LeNet file
    vgg:PATH     a user's torchvision VGG state_dict (latent/vgg.py reads it): its last tap (relu5_3 for VGG16)
    pixel        the plain MSE (the loss is then SRResNet's)

The feature MSE is divided by the mean square of the real images' features, measured once on the first batch (the
paper rescales VGG's features by 1/12.75 for the same purpose: a content term of the order of the pixel MSE).
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..bundle import load_bundle
from ..errors import UserError
from ..paths import resources_dir

LENET_FILE = "lenet-mnist.safetensors"


class ContentLoss:
    def __init__(self, name: str, features: nn.Module | None):
        self.name, self.features = name, features
        self.scale: float | None = None

    def _phi(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def __call__(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        if self.features is None:
            return F.mse_loss(sr, hr)
        with torch.no_grad():
            target = self._phi(hr)
            if self.scale is None:
                self.scale = max(float(target.pow(2).mean()), 1e-8)
        return F.mse_loss(self._phi(sr), target) / self.scale


class _Gray(nn.Module):
    """Colour images as gray for a 1-channel feature network."""

    def __init__(self, body: nn.Module, channels: int):
        super().__init__()
        self.body, self.channels = body, channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != self.channels:
            x = x.mean(1, keepdim=True).expand(-1, self.channels, -1, -1)
        return self.body(x)


class _LastTap(nn.Module):
    def __init__(self, taps):
        super().__init__()
        self.taps = taps
        self.net = taps.net              # registered, so .to() and requires_grad_ reach it

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.taps(x)[-1]


def _lenet(path: Path) -> nn.Module:
    if not path.is_file():
        raise UserError(f"content lenet: the feature network {path} is missing")
    b = load_bundle(path)
    if "classifier" not in b.networks or b.meta.get("arch") != "lenet":
        raise UserError(f"content lenet: {path.name} is not a LeNet classifier file")
    net = b.networks["classifier"]
    return _Gray(net.body[:5], net.cfg.img_channels)          # conv1, ReLU, pool, conv2, ReLU


def content_loss(spec: str, device) -> ContentLoss:
    """The content loss named by `spec` (see the module's docstring), its network frozen on `device`."""
    name, _, path = spec.partition(":")
    if name == "pixel":
        return ContentLoss("pixel MSE", None)
    if name == "lenet":
        net = _lenet(Path(path).expanduser() if path else resources_dir() / LENET_FILE)
        label = f"lenet conv2 features ({Path(path).name if path else LENET_FILE})"
    elif name == "vgg" and path:
        from ..latent.vgg import load_vgg_taps
        net = _LastTap(load_vgg_taps(path, device=device))
        label = f"VGG last tap ({Path(path).name})"
    else:
        raise UserError(f"content must be lenet, lenet:PATH, vgg:PATH or pixel, not {spec!r}")
    net = net.to(device).eval().requires_grad_(False)
    return ContentLoss(label, net)
