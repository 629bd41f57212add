"""In-process copies bounded by the memory they take, not by their number.

A tree's document or graph grows with the tree: 64 small trees take a few megabytes, one tree of
100,000 skills hundreds. So each cache keeps the most recently used values whose sizes (in bytes,
exact for documents, estimated for graphs) add up to at most its budget, and never keeps a value
larger than the whole budget (that tree is then read from Redis or the database every time).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")

MB = 1024 * 1024


class MemoryCache(Generic[V]):
    """The most recently used values by key, within `budget` bytes in all; safe across threads.

    `size_of` gives a value's size in bytes; `replaces(kept, new)` says whether `new` may take
    the place of the value kept under the same key (default: always).
    """

    def __init__(
        self,
        budget: int,
        size_of: Callable[[V], int],
        replaces: Callable[[V, V], bool] = lambda kept, new: True,
    ) -> None:
        self._budget = budget
        self._size_of = size_of
        self._replaces = replaces
        self._values: OrderedDict[str, tuple[V, int]] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    @property
    def budget(self) -> int:
        """The bytes this cache may hold."""
        return self._budget

    @property
    def used(self) -> int:
        """The bytes the kept values take."""
        return self._used

    def resize(self, budget: int) -> None:
        """Hold at most `budget` bytes from now on (forgetting the least recently used)."""
        with self._lock:
            self._budget = budget
            self._shrink()

    def get(self, key: str) -> V | None:
        """The value kept under `key`, if any."""
        with self._lock:
            found = self._values.get(key)
            if found is None:
                return None
            self._values.move_to_end(key)
            return found[0]

    def put(self, key: str, value: V) -> None:
        """Keep `value` under `key` (unless the kept one may not be replaced by it, or it alone
        exceeds the budget), forgetting the least recently used beyond the budget."""
        size = self._size_of(value)
        with self._lock:
            kept = self._values.get(key)
            if kept is not None and not self._replaces(kept[0], value):
                self._values.move_to_end(key)
                return
            if kept is not None:
                del self._values[key]
                self._used -= kept[1]
            if size > self._budget:
                return
            self._values[key] = (value, size)
            self._used += size
            self._shrink()

    def recount(self, key: str, value: V) -> None:
        """Count `value`'s size again (it grew, e.g. by a compressed form), if it is still the
        value kept under `key`; forgetting the least recently used beyond the budget."""
        size = self._size_of(value)
        with self._lock:
            kept = self._values.get(key)
            if kept is None or kept[0] is not value:
                return
            self._used += size - kept[1]
            if size > self._budget:
                del self._values[key]
                self._used -= size
                return
            self._values[key] = (value, size)
            self._shrink()

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._values.clear()
            self._used = 0

    def _shrink(self) -> None:
        while self._used > self._budget:
            _, (_, size) = self._values.popitem(last=False)
            self._used -= size
