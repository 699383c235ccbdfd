"""Spectral normalisation (Miyato et al. 2018) of a network's conv and linear layers, and its model-file format.

While training, each layer's weight is `torch.nn.utils.parametrizations.spectral_norm`'s W / sigma(W), with
sigma estimated by one power iteration per training forward pass. Model files hold *plain* weights: the
parametrisation is folded in (W / sigma with the current estimate), so a file trained with `--sn` loads into
the ordinary architecture everywhere in the app, and the critic computes exactly what it computed in training.
Resuming writes the plain weight back as the parametrisation's `original` and re-runs the power iteration on it
(sigma(W / sigma) = 1, so the layer starts where it stopped).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

SN_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
POWER_ITERATIONS_ON_LOAD = 15          # as many as spectral_norm runs when it is added


def _weight_key(layer: str) -> str:
    return f"{layer}.weight" if layer else "weight"


def sn_layers(net: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every spectrally normalised layer of `net`."""
    return [(n, m) for n, m in net.named_modules() if parametrize.is_parametrized(m, "weight")]


def add_spectral_norm(net: nn.Module) -> nn.Module:
    """Spectrally normalise every conv / linear weight of `net` in place; returns `net`."""
    for m in list(net.modules()):
        if isinstance(m, SN_LAYERS) and not parametrize.is_parametrized(m, "weight"):
            spectral_norm(m)
    return net


@torch.no_grad()
def plain_state_dict(net: nn.Module) -> dict[str, torch.Tensor]:
    """`net`'s state dict with every parametrised weight folded to a plain `<layer>.weight` (W / sigma, with the
    current power-iteration estimate, without advancing it)."""
    sd = {k: v for k, v in net.state_dict().items() if ".parametrizations." not in k}
    for name, m in sn_layers(net):
        was_training = m.training
        m.eval()                                          # eval: no power iteration, the current u and v
        sd[_weight_key(name)] = m.weight.detach().clone()
        m.train(was_training)
    return sd


@torch.no_grad()
def load_plain_state_dict(net: nn.Module, sd: dict[str, torch.Tensor]) -> None:
    """Load plain weights (as `plain_state_dict` writes them) into a spectrally normalised `net`, in place (the
    optimiser keeps its parameters), then converge each layer's power iteration on the loaded weight."""
    layers = dict(sn_layers(net))
    folded = {_weight_key(name) for name in layers}
    own = {k: v for k, v in sd.items() if k not in folded}
    missing, unexpected = net.load_state_dict(own, strict=False)
    missing = [k for k in missing if ".parametrizations." not in k]
    if missing or unexpected:
        raise RuntimeError(f"state dict does not fit: missing {missing}, unexpected {unexpected}")
    for name, m in layers.items():
        m.parametrizations.weight.original.copy_(sd[_weight_key(name)])
        was_training = m.training
        m.train()
        for _ in range(POWER_ITERATIONS_ON_LOAD):       # each training-mode access runs one power iteration
            _ = m.weight
        m.train(was_training)


@torch.no_grad()
def spectral_norms(net: nn.Module) -> dict[str, float]:
    """The largest singular value of each normalised layer's effective weight (reshaped to (out, -1))."""
    out = {}
    for name, m in sn_layers(net):
        w = m.weight
        if isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
            w = w.transpose(0, 1)
        out[name] = float(torch.linalg.matrix_norm(w.flatten(1), 2))
    return out
