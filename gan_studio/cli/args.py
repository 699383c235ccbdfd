"""Typed, ranged command-line values, checked while parsing: one line and exit 2 for a bad one, never a traceback.

    sp.add_argument("--n", type=positive_int(cap=100_000), default=1)
    sp.add_argument("--scale", type=int_in(1, 1024), default=1)

The checks are the engine's (`engine.checks.check_value`), so `gan-studio train --lr nan` and a `TrainConfig` the
GUI builds say the same. `Parser` makes every parse error one stderr line and reads every `type=float` option
as a finite number (NaN and infinity are refused everywhere, whoever adds the option).
"""
from __future__ import annotations

import argparse
import sys

from ..engine.checks import Range, check_value
from ..engine.errors import UserError


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors ("gan-studio sample: error: argument --n: ...", exit 2) and finite floats."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register("type", float, finite_float)

    def error(self, message: str):
        print(f"{self.prog}: error: {message.splitlines()[0] if message else 'bad arguments'} "
              f"(see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def _typed(kind: type, bounds: Range | None, name: str):
    def convert(text: str):
        try:
            value = kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"must be {'an integer' if kind is int else 'a number'}, "
                                             f"not {text!r}") from None
        try:
            return check_value("the value", value, kind, bounds)
        except UserError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix("the value ")) from None
    convert.__name__ = name
    return convert


def finite_float(text: str) -> float:
    """A number that is neither NaN nor infinite."""
    return _typed(float, None, "finite_float")(text)


def int_in(lo: int | None = None, hi: int | None = None):
    """An integer in [lo, hi] (either end None: unbounded)."""
    return _typed(int, Range(lo, hi), "int")


def positive_int(cap: int | None = None):
    """An integer of at least 1 (and at most `cap`)."""
    return int_in(1, cap)


def float_in(bounds: Range):
    """A finite number within `bounds`."""
    return _typed(float, bounds, "float")


def positive_float(text: str) -> float:
    """A finite number above 0."""
    return _typed(float, Range(0, None, lo_open=True), "positive_float")(text)


def option_type(o):
    """The argparse type of a Config table entry (`engine.config.OptionInfo`): its kind and bounds."""
    return _typed(o.type, o.bounds, o.type.__name__)
