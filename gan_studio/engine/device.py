"""Device choice: CUDA, then Apple MPS, then CPU; overridable; a failing CUDA falls back to CPU."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import nn

from .errors import UserError

log = logging.getLogger(__name__)
CHOICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class DeviceChoice:
    device: torch.device
    message: str = ""  # non-empty when the request could not be honoured

    def __str__(self) -> str:
        return str(self.device)


def _cuda_works() -> str:
    """'' when CUDA can run a tiny kernel, else the reason it cannot."""
    if not torch.cuda.is_available():
        return "CUDA is not available"
    try:
        x = torch.ones(2, device="cuda")
        (x * 2).sum().item()
        return ""
    except Exception as exc:  # driver mismatch, out of memory, busy GPU ...
        return f"CUDA failed ({str(exc).splitlines()[0]})"


def _mps_works() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def available_devices() -> list[str]:
    out = ["cpu"]
    if torch.cuda.is_available():
        out.insert(0, "cuda")
    if _mps_works():
        out.insert(0, "mps")
    return out


def choose_device(request: str | None = "auto") -> DeviceChoice:
    """Resolve 'auto'/'cuda'/'cuda:1'/'mps'/'cpu' to a working device, falling back to CPU with a message."""
    req = (request or "auto").strip().lower()
    kind = req.split(":")[0]
    if kind not in CHOICES:
        raise UserError(f"unknown device {request!r} (choose from {', '.join(CHOICES)})")
    if kind == "cpu":
        return DeviceChoice(torch.device("cpu"))
    if kind in ("auto", "cuda"):
        why = _cuda_works()
        if not why:
            return DeviceChoice(torch.device(req if kind == "cuda" else "cuda"))
        if kind == "cuda":
            msg = f"{why}; using the CPU instead"
            log.warning(msg)
            return DeviceChoice(torch.device("cpu"), msg)
    if kind in ("auto", "mps"):
        if _mps_works():
            return DeviceChoice(torch.device("mps"))
        if kind == "mps":
            return DeviceChoice(torch.device("cpu"), "Apple MPS is not available; using the CPU instead")
    return DeviceChoice(torch.device("cpu"))


def device_of(module: nn.Module) -> torch.device:
    """The device a network is on: its first parameter's, else its first buffer's, else the CPU."""
    for p in module.parameters():
        return p.device
    for b in module.buffers():
        return b.device
    return torch.device("cpu")


def channels_last_copy(module: nn.Module, copy: bool = True) -> nn.Module:
    """The module with its 4-D weights in channels-last layout when it runs on the CPU, where oneDNN's small
    convolutions are faster that way (direction discovery's generator and reconstructor: about 30 % less time a
    step, bench/directions.py): a copy (copy=True, for a model shared with the app) or the module itself; the
    same module untouched on other devices. Outputs agree to float rounding."""
    params = list(module.parameters())
    if not params or params[0].device.type != "cpu" or not any(p.dim() == 4 for p in params):
        return module
    if copy:
        import copy as _copy
        module = _copy.deepcopy(module)
    return module.to(memory_format=torch.channels_last)
