"""Latent walks as jobs, Qt-free: what walk to make (`WalkSpec`), its defaults, the one function that turns a
spec into the frames' ws (`walk_frames_ws`), the jobs the Walks tab's workers run, and a frame cache.

The Walks tab captures a `WalkSpec` on the UI thread from its controls; `compute_walk` and `export_walk` run
in TaskWorkers. The same spec also writes the equivalent `gan-studio walk` command line, whose defaults
(`DEFAULT_FPS`, `DEFAULT_SCALE`, …) are the tab's.
"""
from __future__ import annotations

import shlex
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from ..device import device_of
from ..errors import UserError
from ..export import export_frames
from ..latent.sampling import synthesize
from ..latent.state import Latent
from ..latent.walks import LOOPS, interpolate, random_loop, walk_ws

RANDOM_LOOPS = LOOPS          # ("circle", "noise")
DEFAULT_FRAMES = 120          # the Walks tab's starting length
DEFAULT_EASING = "linear"
DEFAULT_PSI = 1.0             # no truncation
DEFAULT_FPS = 24
DEFAULT_SCALE = 4
DEFAULT_OUT = "walk.gif"
HELP = {
    "frames": "Frames in the whole walk",
    "easing": "ease: slow in and out at every keyframe",
    "loop": "The walk ends where it began: the last frame leads back to the first keyframe",
    "random": "Walk through the keyframes, or a smooth random closed loop from a seed",
    "random_seed": "Seed of the random loop (a circle starts at this seed's latent)",
    "psi": "Truncation ψ for seed keyframes and random loops: 1 = none, 0 = average",
    "fps": "Frame rate of the exported GIF or MP4",
    "scale": "Nearest-neighbour upscale factor of exported frames",
}


@dataclass
class WalkSpec:
    keyframes: list[Latent]
    frames: int = DEFAULT_FRAMES
    method: str | None = None          # None: slerp for z keyframes, lerp once any keyframe is a ws
    loop: bool = False
    easing: str = DEFAULT_EASING
    psi: float = DEFAULT_PSI           # truncation ψ, for z keyframes and random loops
    random: str | None = None          # "circle" | "noise": a random closed walk from `random_seed` instead
    random_seed: int = 0
    space: str | None = None           # "w": interpolate plain z keyframes in w too (the CLI's --space w);
                                       # None or "z": in z when every keyframe is a plain z, else in w

    def problem(self) -> str:
        """Why no walk can be made from this ('' when one can)."""
        if self.random:
            return ""
        k = len(self.keyframes)
        if k == 0:
            return "Add keyframes: type seeds, or add the sample view's current sample"
        if k == 1:
            return "Add a second keyframe (a walk goes from one keyframe to the next)"
        return ""

    def ws(self, G) -> torch.Tensor:
        """(frames, num_ws, w_dim) on the CPU."""
        return walk_frames_ws(G, self)

    def seeds(self) -> list[int] | None:
        """The keyframes' seeds when every keyframe is a seed (then the CLI can make the same walk)."""
        seeds = [k.seed for k in self.keyframes]
        return seeds if seeds and all(s is not None for s in seeds) else None

    def describe(self) -> dict:
        """Where a walk frame comes from, for `Latent.info`."""
        if self.random:
            return {"loop": f"{self.random}, seed {self.random_seed}"}
        seeds = self.seeds()
        return {"seeds": ",".join(map(str, seeds))} if seeds else {"keyframes": len(self.keyframes)}

    def title(self) -> str:
        if self.random:
            return f"{self.random.capitalize()} loop · seed {self.random_seed}"
        seeds = self.seeds()
        if seeds and len(seeds) <= 8:
            return "Seeds " + " → ".join(map(str, seeds)) + (" → …" if self.loop else "")
        return f"{len(self.keyframes)} keyframes" + (", looped" if self.loop else "")

    def command(self, model_ref: str, out: str = DEFAULT_OUT, fps: float = DEFAULT_FPS,
                scale: int = DEFAULT_SCALE) -> str:
        """The `gan-studio walk` call that writes the same frames ('' when the keyframes are not all seeds)."""
        if self.random:
            cmd = f"gan-studio walk --model {model_ref} --seeds {self.random_seed} --random-loop {self.random}"
        else:
            seeds = self.seeds()
            if not seeds:
                return ""
            cmd = f"gan-studio walk --model {model_ref} --seeds {','.join(map(str, seeds))}"
            cmd += f" --method {self.method}" if self.method and self.method != "slerp" else ""
            cmd += " --space w" if self.space == "w" else ""
            cmd += f" --easing {self.easing}" if self.easing != DEFAULT_EASING else ""
            cmd += " --loop" if self.loop else ""
        cmd += f" --frames {self.frames}"
        cmd += f" --truncation {self.psi:g}" if self.psi != DEFAULT_PSI else ""
        cmd += f" --out {shlex.quote(out)}"
        cmd += f" --fps {fps:g}" if fps != DEFAULT_FPS and not out.endswith(".png") else ""
        return cmd + (f" --scale {scale}" if scale != DEFAULT_SCALE else "")


def seed_keyframes(seeds: list[int], z_dim: int) -> list[Latent]:
    """One z keyframe per seed (what `--seeds 1,2,3` and the Walks tab's typed seeds give)."""
    return [Latent.from_seed(s, z_dim) for s in seeds]


def z_keyframes(z: torch.Tensor) -> list[Latent]:
    """One z keyframe per row of z (K, z_dim), e.g. latents read from a .npy file."""
    return [Latent(z=z[i:i + 1], source="file", info={"row": i}) for i in range(z.shape[0])]


def walk_frames_ws(G, spec: WalkSpec) -> torch.Tensor:
    """The walk's ws (frames, num_ws, w_dim) on the CPU: what the Walks tab shows and `gan-studio walk` renders.

    A random loop maps `random_loop(spec.random_seed, …)` with truncation ψ; keyframes go through
    `latent.walks.walk_ws` (z interpolation when every keyframe is a plain z, w otherwise), or with
    `space="w"` are mapped first and interpolated in w even when they are all plain z."""
    dev = device_of(G)
    if spec.random:
        z = random_loop(spec.random_seed, G.z_dim, spec.frames, kind=spec.random)
        with torch.no_grad():
            return G.mapping(z.to(dev), truncation_psi=spec.psi).cpu()
    if spec.space not in (None, "z", "w"):
        raise UserError(f"unknown walk space {spec.space!r} (choose from z, w)")
    keys = spec.keyframes
    if spec.space == "w" and keys and all(k.z is not None and not k.codes for k in keys):
        with torch.no_grad():
            ws = G.mapping(torch.cat([k.z for k in keys]).to(dev), truncation_psi=spec.psi).cpu()
        return interpolate(ws, spec.frames, spec.method or "lerp", spec.loop, spec.easing)
    return walk_ws(G, keys, spec.frames, spec.method, spec.loop, spec.easing, spec.psi)


def compute_walk(seq: int, spec: WalkSpec, G) -> tuple[int, WalkSpec, torch.Tensor | None, str]:
    """Worker thread: (seq, spec, ws or None, error message). Never raises."""
    try:
        return seq, spec, spec.ws(G), ""
    except UserError as exc:
        return seq, spec, None, str(exc)
    except Exception as exc:                       # a bad walk must never take the app down
        first = str(exc).strip().splitlines()
        return seq, spec, None, f"{type(exc).__name__}: {first[0][:300] if first else ''}"


def export_walk(G, ws: torch.Tensor, out: str, fps: float, scale: int) -> Iterator[tuple[int, int]]:
    """Worker thread: render ws (frames, num_ws, w_dim) one frame at a time into `out`; yields (done, total).
    Closing the generator cancels it (the partial file is removed)."""
    yield from export_frames(lambda i: synthesize(G, ws[i:i + 1]), ws.shape[0], out, fps=fps, scale=scale)


class FrameCache:
    """Rendered frames by index, least recently used dropped beyond a byte budget."""

    def __init__(self, budget_bytes: int = 256 << 20) -> None:
        self._frames: OrderedDict[int, tuple[torch.Tensor, np.ndarray]] = OrderedDict()
        self._bytes, self._budget = 0, budget_bytes

    def get(self, i: int) -> tuple[torch.Tensor, np.ndarray] | None:
        hit = self._frames.get(i)
        if hit is not None:
            self._frames.move_to_end(i)
        return hit

    def put(self, i: int, image: torch.Tensor, pixels: np.ndarray) -> None:
        """image (C, H, W) float, pixels (H, W, C) uint8."""
        if i in self._frames:
            return
        self._frames[i] = (image, pixels)
        self._bytes += image.numel() * image.element_size() + pixels.nbytes
        while self._bytes > self._budget and len(self._frames) > 1:
            _, (im, px) = self._frames.popitem(last=False)
            self._bytes -= im.numel() * im.element_size() + px.nbytes

    def clear(self) -> None:
        self._frames.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._frames)

    def __contains__(self, i: int) -> bool:
        return i in self._frames
