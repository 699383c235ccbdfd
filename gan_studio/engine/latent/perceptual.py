"""Perceptual distances for projection, from networks we have offline (nothing is ever downloaded).

A distance compares the activations of a few layers ("taps") of a network, LPIPS-style without learned weights
(Zhang et al. 2018): each activation vector (over channels, at every position) is scaled to unit length, and the
distance is the squared difference summed over channels, averaged over positions, then averaged over the taps.
Every tap's distance lies in [0, 4]; 0 for identical images.

- "lenet-mnist": the ReLU outputs of the shipped MNIST LeNet (`resources/lenet-mnist.safetensors`; its two conv
  layers and its 128-d feature layer), images fitted to its 1 x 28 x 28 (32 px centre-cropped, colour made gray).
- "critic": the model's own critic (DCGAN critic, GAN Studio's StyleGAN2 critic, an NVlabs discriminator): the
  activations of every resolution block, before any minibatch statistic, so each image's distance depends on that
  image alone (projections of a batch stay independent); another critic with a `features` method: its features.
- "pixels": no perceptual term.
- a file: the user's own VGG weights (torchvision's vgg16 state_dict), optionally with LPIPS' linear layers
  (`lpips=` its vgg.pth): see vgg.py.

"auto" picks lenet-mnist for MNIST-like models (1 channel, at most 64 px), else the critic when the bundle has
one, else pixels.
"""
from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..bundle import load_bundle
from ..errors import UserError
from ..paths import resources_dir

FEATURES = ("auto", "lenet-mnist", "critic", "pixels")
LENET_FILE = "lenet-mnist.safetensors"
Taps = Callable[[torch.Tensor], list]


@functools.lru_cache(maxsize=2)
def _lenet(path: str) -> nn.Module:
    net = load_bundle(path).networks.get("classifier")
    if net is None or not hasattr(net, "body"):
        raise UserError(f"{path} holds no LeNet classifier")
    return net.eval().requires_grad_(False)


def lenet_network(path: str | Path | None = None) -> nn.Module:
    """The shipped MNIST LeNet (eval mode, frozen); a UserError when its file is missing."""
    p = Path(path) if path else resources_dir() / LENET_FILE
    if not p.is_file():
        raise UserError(f"the lenet-mnist network is missing ({p}); train it with `gan-studio train-classifier`")
    return _lenet(str(p))


def fit_lenet(x: torch.Tensor, resolution: int = 28) -> torch.Tensor:
    """[-1, 1] images (N, C, H, W) -> (N, 1, res, res): gray, centre-cropped by up to 8 px, else resized."""
    if x.shape[1] != 1:
        x = x.mean(1, keepdim=True)
    h = x.shape[-1]
    if 0 < h - resolution <= 8 and (h - resolution) % 2 == 0 and x.shape[-2] == h:
        p = (h - resolution) // 2
        return x[..., p:h - p, p:h - p]
    if 0 < resolution - h <= 8 and (resolution - h) % 2 == 0 and x.shape[-2] == h:
        p = (resolution - h) // 2
        return F.pad(x, (p, p, p, p), value=-1.0)
    if x.shape[-2:] != (resolution, resolution):
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", antialias=True, align_corners=False)
    return x


def lenet_taps(net: nn.Module) -> Taps:
    def taps(x: torch.Tensor) -> list:
        x = fit_lenet(x, net.cfg.img_resolution)
        out = []
        for layer in net.body:
            x = layer(x)
            if isinstance(layer, nn.ReLU):
                out.append(x)
        return out
    return taps


def critic_taps(critic: nn.Module) -> Taps | None:
    """Taps of a critic this module knows (see the module docstring), or None."""
    from ..models.dcgan import DCGANCritic
    from ..models.nvlabs.discriminator import NVLabsDiscriminator
    from ..models.stylegan import StyleGAN2Critic
    if isinstance(critic, DCGANCritic):
        def taps(x):
            out = []
            for layer in critic.net:
                x = layer(x)
                if isinstance(layer, nn.LeakyReLU):
                    out.append(x)
            return out
    elif isinstance(critic, StyleGAN2Critic):
        def taps(x):
            x = critic.from_rgb(x)
            out = [x]
            for block in critic.blocks:
                x = block(x)
                out.append(x)
            return out
    elif isinstance(critic, NVLabsDiscriminator):
        def taps(x):
            h, img, out = None, x.float(), []
            for block in critic.blocks.values():
                h, img = block(h, img)
                out.append(h)
            return out
    elif callable(getattr(critic, "features", None)):
        def taps(x):
            return [critic.features(x)]
    else:
        return None
    return taps


def _on(module: nn.Module, device) -> nn.Module:
    """The module itself when it is on `device` (or has no weights), else a copy there (the original stays put)."""
    p = next(iter(module.parameters()), None)
    if device is None or p is None or p.device == torch.device(device):
        return module
    return copy.deepcopy(module).to(device)


def is_weights_file(features: str) -> bool:
    """A --features value naming a weights file (VGG) rather than one of FEATURES."""
    return features not in FEATURES and Path(str(features)).suffix.lower() in (".pth", ".pt", ".safetensors", ".bin")


def choose_taps(G, features: str = "auto", critic: nn.Module | None = None,
                device=None, lpips: str | Path | None = None) -> tuple[str, Taps | None]:
    """(the name of the perceptual term used, its taps or None for pixels only), computed on `device`.
    `features` may name a VGG weights file (with `lpips`, LPIPS' linear weights for it)."""
    if is_weights_file(features):
        from .vgg import load_vgg_taps
        taps = load_vgg_taps(features, lpips, device)
        return ("lpips" if lpips else "vgg") + f" ({Path(features).name})", taps
    if lpips is not None:
        raise UserError("LPIPS weights go with a VGG weights file as the features (--features vgg16.pth)")
    if features not in FEATURES:
        raise UserError(f"unknown features {features!r} (choose from {', '.join(FEATURES)}, or a VGG weights "
                        f"file .pth / .safetensors)")
    c, h, w = G.image_shape
    if features == "auto":
        mnist_like = c == 1 and max(h, w) <= 64 and (resources_dir() / LENET_FILE).is_file()
        features = "lenet-mnist" if mnist_like else "critic" if critic_taps_or_none(critic) else "pixels"
    if features == "pixels":
        return "pixels", None
    if features == "lenet-mnist":
        return "lenet-mnist", lenet_taps(_on(lenet_network(), device))
    taps = critic_taps_or_none(None if critic is None else _on(critic, device))
    if taps is None:
        raise UserError("this model has no critic whose features projection can use: choose other features "
                        "(lenet-mnist or pixels)" if critic is None else
                        f"projection cannot read features from a {type(critic).__name__}: use lenet-mnist or pixels")
    return "critic", taps


def critic_taps_or_none(critic: nn.Module | None) -> Taps | None:
    return None if critic is None else critic_taps(critic)


def _unit(f: torch.Tensor) -> torch.Tensor:
    return f * (f.square().sum(1, keepdim=True) + 1e-10).rsqrt()


class TapDistance:
    """distance(images) -> (N,): the perceptual distance of each image to its target (fixed at construction)."""

    def __init__(self, taps: Taps, target: torch.Tensor):
        self.taps = taps
        self.weights = getattr(taps, "weights", None)   # LPIPS' channel weights per tap (vgg.py), or None
        with torch.no_grad():
            self.target = [_unit(t.float()).detach() for t in taps(target)]

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        total = images.new_zeros(images.shape[0])
        for k, (f, t) in enumerate(zip(self.taps(images), self.target)):
            d = self._channels((_unit(f.float()) - t).square(), k).sum(1)
            total = total + (d.flatten(1).mean(1) if d.ndim > 1 else d)
        return total / max(len(self.target), 1)

    def _channels(self, sq: torch.Tensor, k: int) -> torch.Tensor:
        """Squared differences (N, C, ...) weighted per channel by tap k's LPIPS weights, when there are any."""
        if self.weights is None:
            return sq
        w = self.weights[k]
        return sq * w.view(1, -1, *([1] * (sq.ndim - 2)))

    @torch.no_grad()
    def pairwise(self, images: torch.Tensor) -> torch.Tensor:
        """(N targets, K images): the distance of every image to every target."""
        feats = [_unit(f.float()) for f in self.taps(images)]
        out = images.new_zeros(self.target[0].shape[0], images.shape[0])
        for k, (f, t) in enumerate(zip(feats, self.target)):
            for n in range(t.shape[0]):
                d = self._channels((f - t[n:n + 1]).square(), k).sum(1)
                out[n] += d.flatten(1).mean(1) if d.ndim > 1 else d
        return out / max(len(self.target), 1)
