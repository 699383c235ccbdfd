"""Layer ranges of w-space directions on style generators, the GANSpace way (Härkönen et al. 2020): a shift of
direction k adds ε·d_k only to ws[:, start:end], so one direction can move the coarse layers (pose, shape) and
leave the fine ones (texture, stroke) alone.

Two spellings, one meaning:
    stored   (start, end)  0-based, end EXCLUSIVE, like a Python slice and GANSpace's layer_start/layer_end;
             the directions file keeps {"layers": {"3": [0, 3]}} for direction 3 on ws 0, 1, 2.
    typed    'all' | 'coarse' | 'middle' | 'fine' | 'I-J' | 'I'   0-based, INCLUSIVE (like `mix --layers`):
             '0-2' is (0, 3). Presets are the style-mixing bands of `mixing.preset_bands` (by resolution).
A direction without a range moves every layer. Ranges apply only to w-space directions on a generator with
num_ws > 1; z-space directions (and one-layer generators such as the DCGAN) move the single latent as a whole.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import torch

from ...errors import UserError
from ..mixing import preset_bands, ws_resolutions

RANGE_PRESETS = ("all", "coarse", "middle", "fine")
Range = tuple[int, int]


def ranges_apply(G, space: str) -> bool:
    """Whether directions in `space` can act on a layer range of G (w-space on a style generator)."""
    return space == "w" and getattr(G, "num_ws", 1) > 1


def not_applicable(G, space: str) -> str:
    """Why layer ranges do not apply here (for a UserError)."""
    if space != "w":
        return ("layer ranges (@LAYERS) are for w-space directions on a style generator; these directions live "
                "in z, where a shift moves the whole latent")
    return f"this generator has a single ws (num_ws = {getattr(G, 'num_ws', 1)}): layer ranges do not apply"


def range_presets(resolutions: Sequence[int]) -> dict[str, Range]:
    """{'all': (0, n), 'coarse': (s, e), ...}: the presets that exist for these ws resolutions (a band with no
    layer is left out). Bands are contiguous because resolutions only grow along the ws."""
    n = len(resolutions)
    out: dict[str, Range] = {"all": (0, n)}
    if n > 1:
        for name, idx in preset_bands(resolutions).items():
            if idx:
                out[name] = (min(idx), max(idx) + 1)
    return out


def parse_range(text: str, G) -> Range:
    """A typed range ('coarse', '0-4', '5'; inclusive) -> (start, end) with end exclusive. UserError if bad."""
    res = ws_resolutions(G)
    n = len(res)
    t = str(text).strip().lower().replace(" ", "")
    if t in RANGE_PRESETS:
        presets = range_presets(res)
        if t not in presets:
            raise UserError(f"a {max(res)} px generator has no {t} layers (ws by resolution: "
                            + ", ".join(f"{i}: {r} px" for i, r in enumerate(res)) + ")")
        return presets[t]
    m = re.fullmatch(r"(\d+)(?:-(\d+))?", t)
    if not m:
        raise UserError(f"bad layer range {text!r}: use all, coarse, middle, fine, or ws indices I-J "
                        f"(0-based, inclusive, e.g. 0-4)")
    lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
    if hi < lo:
        raise UserError(f"bad layer range {text!r}: the end is before the start")
    if hi >= n:
        raise UserError(f"layer {hi} is out of range: this generator has ws indices 0-{n - 1}")
    return lo, hi + 1


def format_range(r: Range, G=None, resolutions: Sequence[int] | None = None) -> str:
    """(0, 3) -> 'coarse' when that is the coarse preset, else '0-2' (inclusive); what parse_range reads back."""
    res = list(resolutions) if resolutions is not None else ws_resolutions(G) if G is not None else None
    if res is not None:
        for name, pr in range_presets(res).items():
            if tuple(r) == pr:
                return name
    s, e = r
    return f"{s}" if e == s + 1 else f"{s}-{e - 1}"


def as_range(value, what: str = "layer range") -> Range:
    """[start, end] from a file or a caller -> (start, end); ValueError unless 0 <= start < end (ints)."""
    if not isinstance(value, (list, tuple)) or len(value) != 2 or \
            not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ValueError(f"{what} must be [start, end] (two integers, end exclusive), not {value!r}")
    s, e = int(value[0]), int(value[1])
    if not 0 <= s < e:
        raise ValueError(f"{what} [{s}, {e}] is empty or negative (need 0 <= start < end, end exclusive)")
    return s, e


def as_index(key, k: int, what: str = "direction") -> int:
    """A direction index from a file ('3' as a JSON key, or 3) -> 3; ValueError outside 0..k-1."""
    try:
        i = int(key)
    except (TypeError, ValueError):
        raise ValueError(f"{what} index {key!r} is not an integer") from None
    if isinstance(key, bool) or isinstance(key, float) or not 0 <= i < k:
        raise ValueError(f"{what} index {key!r} out of range 0..{k - 1}")
    return i


def normalize_ranges(raw, k: int, space: str) -> dict[int, Range]:
    """{index: range} from a DirectionSet argument or a file's {"3": [0, 3]}; ValueError when malformed, and for
    z-space directions (which have no layers)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"layers must be a mapping {{direction index: [start, end]}}, not {type(raw).__name__}")
    out = {as_index(key, k): as_range(v, f"the layer range of direction {key}") for key, v in raw.items()}
    if out and space != "w":
        raise ValueError("layer ranges are given for z-space directions (they only apply to w-space directions)")
    return dict(sorted(out.items()))


def check_ranges_fit(ranges: Mapping[int, Range], num_ws: int, what: str = "direction") -> None:
    """ValueError when a range does not fit a generator with num_ws ws (or num_ws == 1)."""
    for k, (s, e) in ranges.items():
        if num_ws == 1:
            raise ValueError(f"{what} {k} has a layer range, but this generator has a single ws (num_ws = 1)")
        if e > num_ws:
            raise ValueError(f"{what} {k}'s layer range {s}-{e - 1} is beyond this generator's ws 0-{num_ws - 1}")


def layer_masks(ranges: Mapping[int, Range], ks: Iterable[int], num_ws: int) -> torch.Tensor:
    """(len(ks), num_ws) float: 1 where direction ks[i] acts (every layer when it has no range)."""
    ks = list(ks)
    masks = torch.ones(len(ks), num_ws)
    for i, k in enumerate(ks):
        if k in ranges:
            s, e = ranges[k]
            masks[i] = 0.0
            masks[i, s:e] = 1.0
    return masks
