"""A trusted TorchScript z -> image generator, wrapped in the common generator interface.

TorchScript is code: `load_scripted_generator` is only called when the user has said the file is trusted.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..errors import ModelFileError
from .base import ImageGenerator


class ScriptedGenerator(ImageGenerator):
    def __init__(self, module: torch.jit.ScriptModule, z_dim: int, image_shape: tuple[int, int, int]):
        super().__init__()
        self.module = module
        self.z_dim = self.w_dim = z_dim
        self.num_ws = 1
        self.img_channels, self.img_resolution = image_shape[0], image_shape[-1]

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        out = self.module(ws[:, 0])
        return out.float().clamp(-1, 1)


def _probe_z_dim(module) -> int | None:
    for attr in ("z_dim", "nz", "latent_dim"):
        v = getattr(module, attr, None)
        if isinstance(v, int) and v > 0:
            return v
    return None


def load_scripted_generator(path: Path, z_dim: int | None = None) -> ScriptedGenerator:
    """The TorchScript z -> image generator in `path` (z_dim probed from the module when not given), checked on
    one zero latent; a ModelFileError otherwise. Its model-file metadata is the caller's (bundle.py)."""
    try:
        module = torch.jit.load(str(path), map_location="cpu").eval()
    except Exception as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ModelFileError(f"{path.name}: not a loadable TorchScript module ({first})") from None
    z_dim = z_dim or _probe_z_dim(module)
    if z_dim is None:
        raise ModelFileError(f"{path.name}: cannot tell the latent size of this TorchScript model; "
                             f"give it with --z-dim")
    try:
        with torch.no_grad():
            out = module(torch.zeros(1, z_dim))
    except Exception as exc:
        raise ModelFileError(f"{path.name}: the TorchScript model failed on a ({1}, {z_dim}) latent "
                             f"({str(exc).splitlines()[0][:200]})") from None
    if not isinstance(out, torch.Tensor) or out.ndim != 4 or out.shape[1] not in (1, 3) or out.shape[2] != out.shape[3]:
        raise ModelFileError(f"{path.name}: the TorchScript model must map (N, {z_dim}) to square images "
                             f"(N, C, H, W); it returned {getattr(out, 'shape', type(out).__name__)}")
    return ScriptedGenerator(module, z_dim, tuple(out.shape[1:])).eval()
