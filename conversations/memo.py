"""Reads a daphne process may keep for a few seconds instead of asking the database for each socket.

Two thousand widgets reconnecting after a restart ask the same few things (their tenant, whether it is
open, how long its queue takes) within the same seconds; a stale answer for that long is harmless.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

# A process never needs more; past it the memo starts again (keys of past minutes pile up otherwise).
MAX_ENTRIES = 10_000


class ProcessMemo(Generic[T]):
    """Values of this process, each kept ``seconds`` after it was read. Safe from several threads."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._values: dict[Hashable, tuple[float, T]] = {}
        _MEMOS.add(self)

    def get(self, key: Hashable) -> T | None:
        """Return the value kept for the key, or None when there is none or it has expired."""
        kept = self._values.get(key)
        return kept[1] if kept is not None and kept[0] >= time.monotonic() else None

    def put(self, key: Hashable, value: T) -> T:
        """Keep the value for the key; return it."""
        if len(self._values) >= MAX_ENTRIES:
            self._values.clear()
        self._values[key] = (time.monotonic() + self.seconds, value)
        return value

    def get_or_read(self, key: Hashable, read: Callable[[], T]) -> T:
        """Return the value kept for the key (None too), or read it now and keep it."""
        kept = self._values.get(key)
        if kept is not None and kept[0] >= time.monotonic():
            return kept[1]
        return self.put(key, read())

    def forget(self, key: Hashable) -> None:
        """Drop what is kept for the key: the next read asks again."""
        self._values.pop(key, None)

    def clear(self) -> None:
        self._values.clear()


_MEMOS: weakref.WeakSet[ProcessMemo] = weakref.WeakSet()


def forget_everything() -> None:
    """Empty every memo of the process (for tests: a new test database hands out the same keys again)."""
    for memo in list(_MEMOS):
        memo.clear()
