"""Direction sets: K unit vectors in a generator's latent space (z, or w for style generators), saved as
one `.safetensors` file that names the generator it was made for.

    tensor  directions (K, latent_dim), rows unit vectors
    meta    {"kind": "directions", "method", "space", "generator_hash", "steps", "rca", "names", "starred",
             "hidden", "shift_scale", "layers", "presets", ...}

`layers` ({"3": [0, 3]}: direction 3 moves ws 0..2; end exclusive, see layers.py) are per-direction layer ranges of
w-space directions on a style generator; a direction not listed, and any file without the key, moves every layer.
`presets` are named sets of amounts (presets.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ...bundle import META_KEY, SCHEMA_VERSION, read_metadata, weights_hash
from ...errors import ModelFileError, UserError
from ...files import atomic_write
from ...models.codes import layout_of
from .layers import Range, check_ranges_fit, layer_masks, normalize_ranges, not_applicable, ranges_apply
from .presets import Preset


def latent_space(G) -> str:
    """Where directions live: w for style generators (num_ws > 1), z otherwise."""
    return "w" if getattr(G, "num_ws", 1) > 1 else "z"


def latent_dim(G, space: str) -> int:
    return G.w_dim if space == "w" else G.z_dim


@dataclass
class DirectionSet:
    directions: torch.Tensor                    # (K, latent_dim), unit rows
    method: str
    space: str = "z"
    generator_hash: str = ""
    steps: int = 0
    rca: float | None = None
    names: list[str] = field(default_factory=list)
    starred: list[int] = field(default_factory=list)
    hidden: list[int] = field(default_factory=list)
    shift_scale: float = 1.0                    # typical shift size the directions were discovered with
    layers: dict[int, Range] = field(default_factory=dict)   # direction -> (start, end) ws range, end exclusive
    presets: list[Preset] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        d = self.directions.detach().float().cpu()
        if d.ndim != 2 or d.shape[0] < 1:
            raise ValueError(f"directions must be (K, latent_dim), not {tuple(d.shape)}")
        norms = d.norm(dim=1, keepdim=True)
        # unit rows stay bit for bit (a saved and loaded set is the same set: presets check its hash)
        self.directions = d if (norms - 1).abs().max() <= 1e-5 else d / norms.clamp_min(1e-12)
        k = d.shape[0]
        self.names = (list(self.names) + [f"direction {i}" for i in range(len(self.names), k)])[:k]
        self.layers = normalize_ranges(self.layers, k, self.space)
        self.presets = [p if isinstance(p, Preset) else Preset.from_json(p, k) for p in (self.presets or [])]
        for p in self.presets:
            if p.layers and self.space != "w":
                raise ValueError(f"preset {p.name!r} has layer ranges, but these directions live in z")

    @property
    def k(self) -> int:
        return self.directions.shape[0]

    def check_generator(self, G) -> None:
        if latent_dim(G, self.space) != self.directions.shape[1]:
            raise UserError(f"these directions live in a {self.directions.shape[1]}-d {self.space} space; "
                            f"this generator's is {latent_dim(G, self.space)}-d")
        if self.generator_hash and self.generator_hash != weights_hash(G):
            raise UserError("these directions were made for another generator (its weights differ); "
                            "discover directions for this model instead")
        try:
            check_ranges_fit(self.layers, getattr(G, "num_ws", 1))
            for p in self.presets:
                check_ranges_fit(p.layers, getattr(G, "num_ws", 1), f"preset {p.name!r}: direction")
        except ValueError as exc:
            raise ModelFileError(str(exc)) from None

    def meta(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "kind": "directions", "method": self.method,
                "space": self.space, "generator_hash": self.generator_hash, "steps": self.steps,
                "rca": self.rca, "names": self.names, "starred": self.starred, "hidden": self.hidden,
                "shift_scale": self.shift_scale, "k": self.k, "latent_dim": self.directions.shape[1],
                "layers": {str(k): list(r) for k, r in self.layers.items()},
                "presets": [p.to_json() for p in self.presets], **self.extra}


def save_directions(path: str | Path, ds: DirectionSet) -> Path:
    from safetensors.torch import save_file
    tensors = {"directions": ds.directions.contiguous()}
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={META_KEY: json.dumps(ds.meta())}))


def load_directions(path: str | Path, G=None) -> DirectionSet:
    """Read a directions file; with G, also check it was made for that generator."""
    from safetensors.torch import load_file
    path = Path(path)
    meta = read_metadata(path)
    if meta.get("kind") != "directions":
        raise ModelFileError(f"{path.name} is a {meta.get('kind', 'unknown')} file, not directions")
    try:
        t = load_file(str(path))["directions"]
    except Exception as exc:
        raise ModelFileError(f"{path.name}: no readable 'directions' tensor ({str(exc).splitlines()[0]})") from None
    known = {"method", "space", "generator_hash", "steps", "rca", "names", "starred", "hidden", "shift_scale",
             "layers", "presets"}
    extra = {k: v for k, v in meta.items() if k not in known | {"schema_version", "kind", "k", "latent_dim"}}
    try:
        ds = DirectionSet(t, **{k: meta[k] for k in known if k in meta}, extra=extra)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path.name}: {exc}") from None
    if G is not None:
        try:
            ds.check_generator(G)
        except ModelFileError as exc:
            raise ModelFileError(f"{path.name}: {exc}") from None
    return ds


def apply_shifts(G, ds: DirectionSet, z: torch.Tensor | None = None, ws: torch.Tensor | None = None,
                 shifts: dict[int, float] | None = None, truncation_psi: float = 1.0,
                 layers: dict[int, Range] | None = None) -> tuple[str, torch.Tensor]:
    """Shift a latent along directions: returns ("z", z') for z-space directions given z, else ("ws", ws').

    A w-space direction with a layer range (ds.layers, or `layers`, which overrides it for this call) adds its
    shift to ws[:, start:end] only (end exclusive); the others move every layer."""
    shifts = shifts or {}
    for k in shifts:
        if not 0 <= k < ds.k:
            raise UserError(f"direction index {k} out of range 0..{ds.k - 1}")
    ranges = shift_ranges(G, ds, shifts, layers)
    delta = torch.zeros(ds.directions.shape[1])
    for k, eps in shifts.items():
        delta = delta + float(eps) * ds.directions[k]
    if ds.space == "z" and ws is None:
        return "z", z + delta.to(z.device)
    if ws is None:
        ws = G.mapping(z, truncation_psi=truncation_psi)
    if ds.space == "z" and getattr(G, "num_ws", 1) != 1:
        raise UserError("these directions live in z; this latent is already a w (a mix or edit)")
    if ds.space == "z":
        delta = z_shift_in_ws(G, delta)
    elif ranges:                                  # (num_ws, w_dim): each direction on its own layers
        ks = list(shifts)
        masks = layer_masks(ranges, ks, G.num_ws)                          # (len(ks), num_ws)
        eps = torch.tensor([float(shifts[k]) for k in ks])
        delta = torch.einsum("k,kl,kd->ld", eps, masks, ds.directions[ks])
    return "ws", ws + delta.to(ws.device)        # (non-style generators: ws is z itself, one layer)


def shift_ranges(G, ds: DirectionSet, shifts: dict[int, float], layers: dict[int, Range] | None = None
                 ) -> dict[int, Range]:
    """The layer ranges that restrict these shifts: the file's, overridden by `layers`; ranges that cover every
    layer are left out. UserError for an override where ranges do not apply, or a range that does not fit G."""
    layers = dict(layers or {})
    if layers and not ranges_apply(G, ds.space):
        raise UserError(not_applicable(G, ds.space))
    num_ws = getattr(G, "num_ws", 1)
    out = {}
    for k in shifts:
        r = layers.get(k, ds.layers.get(k))
        if r is None:
            continue
        try:
            check_ranges_fit({k: r}, num_ws)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if tuple(r) != (0, num_ws):
            out[k] = tuple(r)
    return out


def z_shift_in_ws(G, delta: torch.Tensor) -> torch.Tensor:
    """A shift of z (..., z_dim) as a shift of a one-layer generator's ws (..., w_dim): the same vector, except
    for a model with a class or InfoGAN codes, where ws = [noise, codes] and only the noise part moves, or a
    text-to-image model, where ws = [z, caption embedding] and the caption stays (a direction within a caption)."""
    layout = layout_of(G)
    if layout is None:
        extra = int(getattr(G, "w_dim", delta.shape[-1])) - delta.shape[-1]
        return delta if extra <= 0 else torch.cat([delta, delta.new_zeros(*delta.shape[:-1], extra)], -1)
    pad = delta.new_zeros(*delta.shape[:-1], layout.w_dim - layout.noise_dim)
    return torch.cat([delta[..., :layout.noise_dim], pad], -1)
