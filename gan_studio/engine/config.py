"""Typed configs: dataclasses built from dicts, where an unknown key is an error, not a silent default."""
from __future__ import annotations

import dataclasses
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
