"""Typed configs: dataclasses built from dicts, where an unknown key is an error, not a silent default."""
from __future__ import annotations

import dataclasses
import typing
from typing import Any, TypeVar

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
        try:
            return cls(**d)  # type: ignore[call-arg]
        except (TypeError, ValueError) as exc:
            raise UserError(f"{cls.__name__}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]


# ------------------------------------------------------------------ the one table of defaults and help
#
# A Config field made with `option(...)` carries its help with it (torch-fidelity style: one table from which the
# Python API, the command line and the GUI's form are all built): `help` is the command line's, `tip` the GUI's
# tooltip, `cli` the facts only the command line needs (`required=True`: no default there; `flag=False`: no
# argument at all). `options_of(cls)` reads the table back; the CLI turns it into argparse arguments, the GUI
# into its boxes' starting values and tooltips.

def option(default: Any = dataclasses.MISSING, *, help: str | None = None, tip: str | None = None,  # noqa: A002
           default_factory: Any = dataclasses.MISSING, **cli: Any) -> Any:
    """A dataclass field with its default, its command-line help, its GUI tooltip and command-line facts."""
    return dataclasses.field(default=default, default_factory=default_factory,
                             metadata={"help": help, "tip": tip, "cli": cli})


@dataclasses.dataclass(frozen=True)
class OptionInfo:
    name: str
    default: Any                  # the field's default (a default_factory called once)
    type: type                    # int, float, str, bool or dict (None stripped from `X | None`)
    help: str | None              # command-line help (None: the command line shows none)
    tip: str | None               # GUI tooltip (None: the help, if any)
    cli: dict                     # e.g. {"required": True}

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
                                 f.metadata.get("tip"), dict(f.metadata.get("cli") or {}))
    return out
