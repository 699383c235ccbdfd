"""Rendering for interactive views, Qt-free and pure (after stylegan3's visualizer `Renderer`):

    render(RenderRequest(generator=G, latents=[...], truncation_psi=0.7)) -> RenderResult

A request says everything needed to draw; the result echoes its id and tag and carries either images
or an error message. `render` never raises: a bad request becomes `RenderResult.error`, so a GUI worker
can hand the result to the view as is. Latest-wins scheduling lives in the GUI worker, not here.

A big request renders in parts (`render_plan`: chunks within a memory budget, short ones for a slow model):
`Renderer.next_stop(req, start)` says where the next part ends, `slice_request` cuts it out, and the part's result
says where it lies (`start`, `total`); `merge_results` joins the parts. Every render measures the generator's
speed (`Renderer.seconds_per_image`).
"""
from __future__ import annotations

import copy
import dataclasses
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .device import device_of
from .errors import UserError
from .imaging import to_uint8
from .latent.codes import apply_row_codes
from .latent.sampling import synthesize
from .latent.state import Latent
from .render_plan import SpeedBook, chunk_size


@dataclass
class RenderRequest:
    """What to draw. Give `latents`, or a `z` (N, z_dim) tensor, or a `ws` (N, num_ws, w_dim) tensor."""
    generator: Any                                  # an ImageGenerator (mapping/synthesis interface)
    latents: Sequence[Latent] | None = None
    z: torch.Tensor | None = None
    ws: torch.Tensor | None = None
    truncation_psi: float = 1.0                     # applies to z latents only
    truncation_cutoff: int | None = None
    noise_mode: str = "const"
    device: str | torch.device | None = None        # None: wherever the generator is
    request_id: int = 0
    tag: str = ""                                   # which view asked (e.g. "sampling.grid"); echoed
    want_pixels: bool = True                        # also return (N, H, W, C) uint8
    progressive: bool = False                       # the GUI worker emits each part as it lands (else one result)


@dataclass
class RenderResult:
    request_id: int = 0
    tag: str = ""
    images: torch.Tensor | None = None              # (N, C, H, W) float32 in [-1, 1] on the CPU
    pixels: np.ndarray | None = None                # (N, H, W, C) uint8
    error: str = ""
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)
    start: int = 0                                  # a part: where its images lie in the whole request
    total: int = 0                                  # images in the whole request (0: just these)

    @property
    def ok(self) -> bool:
        return not self.error and self.images is not None

    @property
    def count(self) -> int:
        return 0 if self.images is None else int(self.images.shape[0])

    @property
    def stop(self) -> int:
        return self.start + self.count

    @property
    def done(self) -> bool:
        """The last part of its request (or a failed one: nothing more comes)."""
        return bool(self.error) or self.stop >= self.total

    @property
    def seconds_per_image(self) -> float | None:
        return self.seconds / self.count if self.count else None


class Renderer:
    """Renders requests; keeps a small cache of generators copied onto other devices."""

    def __init__(self, cache_size: int = 2) -> None:
        self._placed: OrderedDict[tuple[int, str], tuple[Any, Any]] = OrderedDict()
        self._cache_size = cache_size
        self.speeds = SpeedBook()

    def seconds_per_image(self, G, device=None) -> float | None:
        """G's measured render time per image on `device` (None: where G is), or None before its first render."""
        return self.speeds.get(G, _device_key(G, device))

    def next_stop(self, req: RenderRequest, start: int = 0) -> int:
        """Where the part of `req` that starts at `start` should end (render_plan.chunk_size)."""
        n = request_size(req)
        shape = getattr(req.generator, "image_shape", None)
        if n <= start + 1 or shape is None:
            return max(n, start + 1)
        return start + chunk_size(n - start, shape, self.seconds_per_image(req.generator, req.device))

    def place(self, G, device) -> Any:
        """G itself when it already lives on `device`, else a cached copy moved there."""
        if device is None:
            return G
        device = torch.device(device)
        if device_of(G) == device:
            return G
        key = (id(G), str(device))
        hit = self._placed.get(key)
        if hit is not None and hit[0] is G:       # identity check: ids of dead objects get reused
            self._placed.move_to_end(key)
            return hit[1]
        moved = copy.deepcopy(G).to(device).eval()
        self._placed[key] = (G, moved)
        while len(self._placed) > self._cache_size:
            self._placed.popitem(last=False)
        return moved

    def render(self, req: RenderRequest) -> RenderResult:
        t0 = time.perf_counter()
        out = RenderResult(request_id=req.request_id, tag=req.tag)
        try:
            G = self.place(req.generator, req.device)
            images = _synthesize_request(G, req)
            out.images = images
            if req.want_pixels:
                out.pixels = to_uint8(images)
        except UserError as exc:
            out.error = str(exc)
        except Exception as exc:  # a render must never take the app down: report it instead
            first = str(exc).strip().splitlines()
            out.error = f"render failed: {type(exc).__name__}: {first[0][:300] if first else ''}"
        out.seconds = time.perf_counter() - t0
        out.total = out.count
        if out.ok:
            self.speeds.record(req.generator, _device_key(req.generator, req.device), out.count, out.seconds)
        return out


def _device_key(G, device) -> str:
    try:
        return str(torch.device(device) if device is not None else device_of(G))
    except Exception:                     # no such device, or not a module: the render reports it
        return str(device)


def request_size(req: RenderRequest) -> int:
    """How many images the request asks for (1 for a malformed one: its render reports the problem)."""
    given = [x for x in (req.latents, req.z, req.ws) if x is not None]
    if len(given) != 1:
        return 1
    x = given[0]
    return len(x) if not isinstance(x, torch.Tensor) else (int(x.shape[0]) if x.ndim else 1)


def slice_request(req: RenderRequest, start: int, stop: int) -> RenderRequest:
    """The same request for images start..stop-1 only (the whole request when it has no such part)."""
    if (start, stop) == (0, request_size(req)):
        return req
    if req.latents is not None:
        return dataclasses.replace(req, latents=list(req.latents)[start:stop])
    if req.z is not None:
        return dataclasses.replace(req, z=req.z[start:stop])
    return dataclasses.replace(req, ws=req.ws[start:stop])


def merge_results(parts: Sequence[RenderResult]) -> RenderResult:
    """One result from the parts of a request, in order (the first failed part's error when one failed)."""
    last = parts[-1]
    out = RenderResult(request_id=last.request_id, tag=last.tag, seconds=sum(p.seconds for p in parts),
                       extra={k: v for p in parts for k, v in p.extra.items()})
    failed = next((p for p in parts if p.error), None)
    if failed is not None:
        out.error = failed.error
        return out
    out.images = torch.cat([p.images for p in parts], 0) if len(parts) > 1 else last.images
    if all(p.pixels is not None for p in parts):
        out.pixels = np.concatenate([p.pixels for p in parts], 0) if len(parts) > 1 else last.pixels
    out.total = out.count
    return out


@torch.no_grad()
def request_ws(G, req: RenderRequest) -> torch.Tensor:
    """The request's latents as ws (N, num_ws, w_dim) on G's device, truncation applied to z latents."""
    dev = device_of(G)
    given = [x is not None for x in (req.latents, req.z, req.ws)]
    if sum(given) != 1:
        raise UserError("a render request needs exactly one of latents, z and ws")
    psi, cutoff = float(req.truncation_psi), req.truncation_cutoff
    if req.ws is not None:
        return _check_ws(G, req.ws).to(dev)
    if req.z is not None:
        return G.mapping(_check_z(G, req.z).to(dev), truncation_psi=psi, truncation_cutoff=cutoff)
    latents = list(req.latents)
    if not latents:
        raise UserError("nothing to render (no latents)")
    zs = [lat.z for lat in latents]
    if all(z is not None for z in zs):           # all z: one mapping call, exactly like `generate`
        z = _check_z(G, torch.cat(zs, 0))
        ws = G.mapping(z.to(dev), truncation_psi=psi, truncation_cutoff=cutoff)
        return apply_row_codes(G, ws, [lat.codes for lat in latents])
    rows = []
    for lat in latents:
        if lat.z is not None:
            _check_z(G, lat.z)
        else:
            _check_ws(G, lat.ws)
        rows.append(lat.to_ws(G, truncation_psi=psi, truncation_cutoff=cutoff).to(dev))
    return torch.cat(rows, 0)


def _check_z(G, z: torch.Tensor) -> torch.Tensor:
    if z.ndim != 2 or z.shape[1] != G.z_dim:
        raise UserError(f"latents must have shape (N, {G.z_dim}) for this model, not {tuple(z.shape)}")
    return z.float()


def _check_ws(G, ws: torch.Tensor) -> torch.Tensor:
    if ws.ndim != 3 or ws.shape[1:] != (G.num_ws, G.w_dim):
        raise UserError(f"ws must have shape (N, {G.num_ws}, {G.w_dim}) for this model, not {tuple(ws.shape)}")
    return ws.float()


def _synthesize_request(G, req: RenderRequest) -> torch.Tensor:
    ws = request_ws(G, req)
    return synthesize(G, ws, noise_mode=req.noise_mode)


_default = Renderer()


def render(request: RenderRequest) -> RenderResult:
    """Render one request with a module-level Renderer. Never raises."""
    return _default.render(request)


def warm_up() -> None:
    """One tiny torch op, so the first real render does not pay torch's first-call stall."""
    with torch.no_grad():
        (torch.ones(4, 4) @ torch.ones(4, 4)).sum().item()
