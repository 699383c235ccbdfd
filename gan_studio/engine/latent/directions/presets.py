"""Named presets of a direction set: a name + (direction index, amount, layer range) for each direction it uses,
with the names and stars of those directions, so that "smile +2.5 on the coarse layers, age −1" is one click.

Presets live in the directions file's metadata ({"presets": [preset, ...]}) and travel alone as a small JSON file:

    {"kind": "direction-preset", "schema_version": 1, "generator_hash": "…", "directions_hash": "…",
     "directions_file": "faces-voynov.safetensors", "method": "voynov", "space": "w", "k": 32,
     "preset": {"name": "smile", "shifts": [{"index": 3, "amount": 2.5, "layers": [0, 3]}, ...],
                "names": {"3": "smile"}, "starred": [3]}}

`layers` is a stored range (0-based, end exclusive; see layers.py), or null: every layer (a preset is a snapshot:
applying it sets its directions' ranges too, whatever the directions file says).
A standalone preset is refused for another generator or other directions (`directions_hash` is the SHA-256 of
the (K, dim) float32 direction tensor, which a save and load keep bit for bit).
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import ModelFileError, UserError, not_a_file
from ...files import atomic_write
from .layers import Range, as_index, as_range

PRESET_KIND = "direction-preset"
PRESET_SCHEMA = 1


@dataclass
class Preset:
    name: str
    shifts: dict[int, float]                               # direction index -> amount (ε)
    layers: dict[int, Range] = field(default_factory=dict)  # ranges of some of them (end exclusive); others: all
    names: dict[int, str] = field(default_factory=dict)     # the names of its directions when it was saved
    starred: list[int] = field(default_factory=list)        # which of its directions were starred

    def to_json(self) -> dict[str, Any]:
        shifts = [{"index": k, "amount": float(eps), "layers": list(self.layers[k]) if k in self.layers else None}
                  for k, eps in sorted(self.shifts.items())]
        return {"name": self.name, "shifts": shifts, "names": {str(k): v for k, v in sorted(self.names.items())},
                "starred": sorted(self.starred)}

    @classmethod
    def from_json(cls, raw, k: int) -> Preset:
        """A preset from JSON, for a set of k directions; ValueError (one clear sentence) when malformed."""
        if not isinstance(raw, Mapping):
            raise ValueError(f"a preset must be a JSON object, not {type(raw).__name__}")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a preset needs a non-empty 'name'")
        what = f"preset {name!r}"
        entries = raw.get("shifts")
        if not isinstance(entries, list):
            raise ValueError(f"{what}: 'shifts' must be a list of {{index, amount, layers}}")
        shifts, layers = {}, {}
        for e in entries:
            if not isinstance(e, Mapping) or "index" not in e or "amount" not in e:
                raise ValueError(f"{what}: each shift needs an 'index' and an 'amount', not {e!r}")
            i = as_index(e["index"], k, f"{what}: direction")
            amount = e["amount"]
            if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount):
                raise ValueError(f"{what}: the amount of direction {i} must be a finite number, not {amount!r}")
            shifts[i] = float(amount)
            if e.get("layers") is not None:
                layers[i] = as_range(e["layers"], f"{what}: the layer range of direction {i}")
        names = raw.get("names", {})
        starred = raw.get("starred", [])
        if not isinstance(names, Mapping) or not all(isinstance(v, str) for v in names.values()):
            raise ValueError(f"{what}: 'names' must map direction indices to names")
        if not isinstance(starred, list):
            raise ValueError(f"{what}: 'starred' must be a list of direction indices")
        return cls(name.strip(), shifts, layers, {as_index(i, k, f"{what}: direction"): v for i, v in names.items()},
                   sorted({as_index(i, k, f"{what}: direction") for i in starred}))


def make_preset(ds: Any, name: str, shifts: Mapping[int, float]) -> Preset:
    """A preset of the given amounts (e.g. the sliders' non-zero shifts) and the starred directions at their
    amount (0 unless shifted), with those directions' names, stars and current layer ranges."""
    name = str(name).strip()
    if not name:
        raise UserError("a preset needs a name")
    used = {int(k): float(v) for k, v in shifts.items() if v != 0.0}
    used.update({k: used.get(k, 0.0) for k in ds.starred})
    if not used:
        raise UserError("nothing to save: move a slider or star a direction first")
    return Preset(name, dict(sorted(used.items())), {k: ds.layers[k] for k in used if k in ds.layers},
                  {k: ds.names[k] for k in used}, sorted(k for k in used if k in ds.starred))


def add_preset(ds: Any, preset: Preset) -> None:
    """Add a preset to the set, replacing one of the same name (in place)."""
    ds.presets = [p for p in ds.presets if p.name != preset.name] + [preset]


def find_preset(ds: Any, name: str) -> Preset:
    for p in ds.presets:
        if p.name == name:
            return p
    have = ", ".join(repr(p.name) for p in ds.presets) or "none"
    raise UserError(f"no preset named {name!r} in these directions (presets: {have})")


def directions_hash(ds: Any) -> str:
    return hashlib.sha256(ds.directions.contiguous().numpy().tobytes()).hexdigest()[:16]


def export_preset(path: str | Path, ds: Any, preset: Preset, directions_file: str = "") -> Path:
    doc = {"kind": PRESET_KIND, "schema_version": PRESET_SCHEMA, "generator_hash": ds.generator_hash,
           "directions_hash": directions_hash(ds), "directions_file": Path(directions_file).name if directions_file
           else "", "method": ds.method, "space": ds.space, "k": ds.k, "preset": preset.to_json()}
    text = json.dumps(doc, indent=2)
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def read_preset_file(path: str | Path) -> tuple[dict[str, Any], dict]:
    """(header, raw preset) of a standalone preset file; ModelFileError (one line) for anything unreadable."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(not_a_file(path)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path.name}: not a readable preset file ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict) or doc.get("kind") != PRESET_KIND:
        kind = doc.get("kind", "unknown") if isinstance(doc, dict) else type(doc).__name__
        raise ModelFileError(f"{path.name} is not a direction preset (kind {kind!r})")
    ver = doc.get("schema_version")
    if not isinstance(ver, int) or ver > PRESET_SCHEMA:
        raise ModelFileError(f"{path.name}: preset schema version {ver!r} is not supported (this GAN Studio reads "
                             f"up to {PRESET_SCHEMA}); update GAN Studio")
    return doc, doc.get("preset")


def import_preset(path: str | Path, ds: Any) -> Preset:
    """The preset in a standalone file, checked to belong to these directions (UserError when not)."""
    path = Path(path)
    doc, raw = read_preset_file(path)
    made_for = doc.get("directions_file") or "another directions file"
    if ds.generator_hash and doc.get("generator_hash") and doc["generator_hash"] != ds.generator_hash:
        raise UserError(f"{path.name} is a preset for another generator (its directions file: {made_for}); "
                        f"open that model and its directions first")
    if doc.get("directions_hash") != directions_hash(ds):
        raise UserError(f"{path.name} is a preset for other directions ({made_for}, {doc.get('k', '?')} "
                        f"{doc.get('method', '?')} directions); load that directions file first")
    try:
        return Preset.from_json(raw, ds.k)
    except ValueError as exc:
        raise ModelFileError(f"{path.name}: {exc}") from None


def resolve_preset(ds: Any, text: str) -> Preset:
    """`--preset NAME` (one stored in the directions file) or `--preset FILE.json` (a standalone preset)."""
    p = Path(text)
    if p.suffix.lower() == ".json" or p.is_file():
        return import_preset(p, ds)
    return find_preset(ds, text)
