"""The bookkeeping of latest-wins scheduling (no Qt, no threads): `workers.RenderWorker` and `workers.LatestQueue`
both schedule with it."""
from __future__ import annotations

import itertools
from typing import Any


class LatestWins:
    """The bookkeeping of latest-wins scheduling, shared by `RenderWorker` and `LatestQueue`.

    Each key (a view's tag, a job's kind) holds at most one waiting request; a new request of that key replaces
    the waiting one and is queued at the end (after anything it may depend on). Every request gets a ticket;
    a result is current while its ticket is the newest of its key. Not thread-safe: callers hold their lock.
    """

    def __init__(self) -> None:
        self._waiting: dict[str, Any] = {}
        self._newest: dict[str, int] = {}
        self._tickets = itertools.count(1)

    def put(self, key: str, item: Any) -> int:
        """Queue `item` as the newest request of `key` (replacing a waiting one); returns its ticket."""
        ticket = next(self._tickets)
        self._waiting.pop(key, None)
        self._waiting[key] = (ticket, item)
        self._newest[key] = ticket
        return ticket

    def take(self) -> tuple[str, int, Any] | None:
        """The oldest waiting request as (key, ticket, item), or None: fair between keys."""
        if not self._waiting:
            return None
        key = next(iter(self._waiting))
        ticket, item = self._waiting.pop(key)
        return key, ticket, item

    def put_back(self, key: str, ticket: int, item: Any) -> bool:
        """Queue the rest of a request again under its own ticket, at the end (after every other key's waiting
        request); refused when a newer request of `key` came meanwhile."""
        if not self.is_current(key, ticket) or key in self._waiting:
            return False
        self._waiting[key] = (ticket, item)
        return True

    def cancel(self, key: str | None = None) -> None:
        """Forget the waiting request of `key` (every key: None) and make results in flight stale."""
        for k in list(self._newest) if key is None else [key]:
            self._waiting.pop(k, None)
            self._newest[k] = next(self._tickets)

    def clear(self) -> None:
        self._waiting.clear()

    def is_current(self, key: str, ticket: int) -> bool:
        return ticket == self._newest.get(key, 0)

    def newest(self, key: str) -> int:
        return self._newest.get(key, 0)

    def waiting(self, key: str | None = None) -> bool:
        return bool(self._waiting) if key is None else key in self._waiting
