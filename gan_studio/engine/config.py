"""Typed configs: dataclasses built from dicts, where an unknown key is an error, not a silent default."""
from __future__ import annotations

import dataclasses
import typing
from typing import Any, TypeVar

from .checks import _KIND_WORDS, Range, check_value
from .errors import UserError

C = TypeVar("C")


class Config:
    """Mixin for dataclasses: `from_dict` rejects unknown keys, `to_dict` round-trips."""

    @classmethod
    def from_dict(cls: type[C], d: dict[str, Any] | None) -> C:
        d = dict(d or {})
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(d) - names)
        if unknown:
            raise UserError(f"{cls.__name__}: unknown key(s) {', '.join(unknown)} "
                            f"(known: {', '.join(sorted(names))})")
        d = _typed(cls, d)
        try:
            return cls(**d)  # type: ignore[call-arg]
        except (TypeError, ValueError) as exc:
            raise UserError(f"{cls.__name__}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def check_fields(self) -> None:
        """Check every field against its `option` entry: its type (None only where the type allows it) and
        its `bounds`; one UserError naming the field otherwise (e.g. from a `__post_init__`)."""
        for o in options_of(type(self)).values():
            if o.type in (int, float, str, bool, dict, list):
                value = check_value(o.name, getattr(self, o.name), o.type, o.bounds, o.optional)
                object.__setattr__(self, o.name, value)      # an int given for a float field becomes a float


def _typed(cls: type, d: dict[str, Any]) -> dict[str, Any]:
    """d with its values of int, float, str and bool fields checked (one UserError naming the field: JSON's
    `"width": "64"` or `1.5` never reaches a network's constructor). Integral numbers pass for an int (numpy's
    too, made int), real ones for a float (made float), never a bool for a number."""
    import numbers
    try:
        hints = typing.get_type_hints(cls)
    except Exception:                       # pragma: no cover - an unresolvable annotation: leave it to the class
        return d
    out = dict(d)
    for name, value in d.items():
        args = typing.get_args(hints.get(name))
        plain = [a for a in args if a is not type(None)] if args else [hints.get(name)]
        kind = plain[0] if len(plain) == 1 else None
        if value is None and type(None) in args or kind not in (int, float, str, bool):
            continue
        number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if kind is float and number or kind is int and number and isinstance(value, numbers.Integral):
            out[name] = kind(value)
        elif kind in (int, float) or not isinstance(value, kind):
            raise UserError(f"{cls.__name__}: {name} must be {_KIND_WORDS[kind]}, not {value!r:.40}")
    return out


# ------------------------------------------------------------------ the one table of defaults and help
#
# A Config field made with `option(...)` carries its help with it (torch-fidelity style: one table from which the
# Python API, the command line and the GUI's form are all built): `help` is the command line's, `tip` the GUI's
# tooltip, `bounds` the `checks.Range` its value must lie in (`Config.check_fields` and the command line's types
# check it), `cli` the facts only the command line needs (`required=True`: no default there; `flag=False`: no
# argument at all). `options_of(cls)` reads the table back; the CLI turns it into argparse arguments, the GUI
# into its boxes' starting values and tooltips.

def option(default: Any = dataclasses.MISSING, *, help: str | None = None, tip: str | None = None,  # noqa: A002
           default_factory: Any = dataclasses.MISSING, bounds: Range | None = None, **cli: Any) -> Any:
    """A dataclass field with its default, its command-line help, its GUI tooltip, its bounds and command-line
    facts."""
    return dataclasses.field(default=default, default_factory=default_factory,
                             metadata={"help": help, "tip": tip, "cli": cli, "bounds": bounds})


@dataclasses.dataclass(frozen=True)
class OptionInfo:
    name: str
    default: Any                  # the field's default (a default_factory called once)
    type: type                    # int, float, str, bool or dict (None stripped from `X | None`)
    help: str | None              # command-line help (None: the command line shows none)
    tip: str | None               # GUI tooltip (None: the help, if any)
    cli: dict                     # e.g. {"required": True}
    bounds: Range | None = None   # the range a number must lie in (None: any)
    optional: bool = False        # None is a value (`X | None`)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def tooltip(self) -> str:
        return self.tip or self.help or ""


def _plain_type(hint: Any) -> type:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return _plain_type(args[0]) if len(args) == 1 else typing.get_origin(hint) or hint


def options_of(cls: type) -> dict[str, OptionInfo]:
    """Every field of the Config dataclass `cls`, in order: name -> its default, type, help, tip, CLI facts."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        out[f.name] = OptionInfo(f.name, default, _plain_type(hints[f.name]), f.metadata.get("help"),
                                 f.metadata.get("tip"), dict(f.metadata.get("cli") or {}), f.metadata.get("bounds"),
                                 type(None) in typing.get_args(hints[f.name]))
    return out
