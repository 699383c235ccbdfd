"""The one validation layer for numbers a user types (command line, the GUI's forms, `--options` JSON) and for
numbers that flow out of a model: typed, ranged values, finite tensors, and size caps checked before anything
is allocated. Every failure is one `UserError` line that names the setting, what it must be and what it got.

    check_value("ema_beta", 1e10, float, Range(0, 1, hi_open=True))   # UserError: ema_beta must be ...
    nonfinite_tensors({"generator": G})                               # ["generator.fc.0.weight", ...]

`TrainConfig` (training/loop.py) checks its fields with these through its `option(..., bounds=Range(...))` table;
the CLI's argparse types (cli/args.py) call the same functions, so both say the same thing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .errors import UserError

# caps on what one command may allocate: far beyond any useful request, far below what takes a machine down
MAX_RENDER_BYTES = 4 << 30          # float32 images rendered at once (sample --n, walk --frames)
MAX_OUTPUT_PIXELS = 1 << 28         # one output picture (a PNG grid, a GIF / MP4 frame): 16384 x 16384
MAX_PARAMETERS = 500_000_000        # one network built for training (--arch-config): 2 GB of float32 weights


@dataclass(frozen=True)
class Range:
    """An interval lo..hi (either end None: unbounded); `lo_open` / `hi_open` exclude that end."""
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def contains(self, v: float) -> bool:
        if self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo):
            return False
        return not (self.hi is not None and (v >= self.hi if self.hi_open else v > self.hi))

    def describe(self, integer: bool = False) -> str:
        lo, hi = self.lo, self.hi
        if integer and lo is not None and self.lo_open:
            lo, lo_open = math.floor(lo) + 1, False
        else:
            lo_open = self.lo_open
        if integer and hi is not None and self.hi_open:
            hi, hi_open = math.ceil(hi) - 1, False
        else:
            hi_open = self.hi_open
        if lo == 0 and lo_open and hi is None:
            return "a positive number"
        if lo is not None and hi is not None:
            return f"in {'(' if lo_open else '['}{_num(lo)}, {_num(hi)}{')' if hi_open else ']'}"
        if lo is not None:
            return f"{'more than' if lo_open else 'at least'} {_num(lo)}"
        if hi is not None:
            return f"{'less than' if hi_open else 'at most'} {_num(hi)}"
        return "any value"


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


POSITIVE = Range(0, None, lo_open=True)
AT_LEAST_1 = Range(1)
NON_NEGATIVE = Range(0)
FRACTION = Range(0, 1)                # [0, 1]
DECAY = Range(0, 1, hi_open=True)     # [0, 1): an EMA decay, a momentum

_KIND_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false", dict: "a JSON object",
               list: "a list"}


def check_value(name: str, value: Any, kind: type, bounds: Range | None = None, optional: bool = False) -> Any:
    """`value` as a `kind` (int, float, str, bool, dict, list) within `bounds`, else UserError naming `name`.
    An int is a float too; a bool is neither an int nor a float; a float is finite (never NaN or infinity);
    None passes only when `optional`. Returns the value (an int given for a float comes back as a float)."""
    if value is None:
        if optional:
            return None
        raise UserError(f"{name} must be {_KIND_WORDS.get(kind, kind.__name__)}, not None")
    numeric = kind in (int, float)
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and (kind is float or isinstance(value, int))
          if numeric else isinstance(value, kind))
    if not ok:
        raise UserError(f"{name} must be {_KIND_WORDS.get(kind, kind.__name__)}, not {_shown(value)}")
    if kind is float:
        value = float(value)
        if not math.isfinite(value):
            raise UserError(f"{name} must be a finite number, not {value}")
    if numeric and bounds is not None and not bounds.contains(value):
        raise UserError(f"{name} must be {bounds.describe(kind is int)}, not {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_settings(what: str, values: dict, table: dict[str, tuple]) -> dict:
    """Recipe `--options` checked against `table` {key: (kind, bounds, optional)}: unknown keys, wrong types
    and out-of-range values are each one UserError (`what` names whose options they are)."""
    unknown = sorted(set(values) - set(table))
    if unknown:
        raise UserError(f"{what}: unknown option(s) {', '.join(unknown)} (known: {', '.join(sorted(table))})")
    out = {}
    for key, val in values.items():
        kind, bounds, optional = table[key]
        out[key] = check_value(f"{what} option {key}", val, kind, bounds, optional)
    return out


# ---------------------------------------------------------------- tensors that must be finite

def nonfinite_tensors(networks: dict) -> list[str]:
    """The names ("role.key") of every floating tensor (parameter or buffer) of `networks` {role: module} that
    holds a NaN or an infinity; [] when all are finite."""
    import torch
    bad = []
    for role, net in networks.items():
        for key, t in net.state_dict().items():
            if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                bad.append(f"{role}.{key}")
    return bad


def describe_names(names: list[str], most: int = 2) -> str:
    """'a, b and 3 more' for a message."""
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def require_finite_network(net, what: str) -> None:
    """UserError when the network `net` holds NaN or infinite weights (it would render NaN / black images)."""
    bad = nonfinite_tensors({"": net})
    if bad:
        names = [b.lstrip(".") for b in bad]
        raise UserError(f"{what} holds NaN or infinite weights ({describe_names(names)}): it cannot render "
                        f"images; use a checkpoint from before training diverged")


def require_finite_images(images, what: str = "the model") -> None:
    """UserError when rendered images hold NaN or infinity (nothing is written then)."""
    import torch
    if not bool(torch.isfinite(images).all()):
        raise UserError(f"{what} produced NaN or infinite pixels for these latents and settings (an extreme "
                        f"--truncation?); nothing was written")


# ---------------------------------------------------------------- sizes, before allocating

def _bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"


def check_render_size(count: int, image_shape, flag: str = "--n") -> None:
    """Refuse rendering `count` images of `image_shape` (C, H, W) when they would need more than
    MAX_RENDER_BYTES as float32 at once."""
    per = 4 * math.prod(int(s) for s in image_shape)
    if count * per > MAX_RENDER_BYTES:
        shape = "x".join(str(int(s)) for s in image_shape)
        raise UserError(f"{flag} {count} would render {_bytes(count * per)} of {shape} images at once (the cap is "
                        f"{_bytes(MAX_RENDER_BYTES)}, {MAX_RENDER_BYTES // per} images): ask for fewer")


def check_output_pixels(height: int, width: int, what: str = "the picture") -> None:
    """Refuse an output picture of more than MAX_OUTPUT_PIXELS (e.g. a huge --scale) before allocating it."""
    if height * width > MAX_OUTPUT_PIXELS:
        raise UserError(f"{what} would be {width} x {height} pixels, more than the cap of {MAX_OUTPUT_PIXELS:,} "
                        f"(16384 x 16384): lower --scale or the number of images")
