"""Name -> object registries for architectures, losses, regularisers, metrics and direction methods.

A registry validates names: an unknown name raises a `UserError` that lists the known ones.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import UserError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, what: str):
        self.what = what
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.what} {name!r} registered twice")
            self._items[name] = obj
            return obj
        return deco

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise UserError(f"unknown {self.what} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items


ARCHITECTURES: Registry = Registry("architecture")
LOSSES: Registry = Registry("loss")
REGULARIZERS: Registry = Registry("regulariser")
FEATURES: Registry = Registry("feature extractor")
