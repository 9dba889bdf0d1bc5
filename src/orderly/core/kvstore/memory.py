"""In-process store for embedded mode."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from orderly.core.kvstore.base import check_ttl

DEFAULT_MAX_ENTRIES = 100_000


class MemoryStore:
    """A dict with expiry times, bounded by LRU eviction.

    No locks: the store belongs to one event loop and no method awaits anything, so no
    other coroutine can run between a check and the write that follows it. That is
    what makes ``set_if_absent`` and ``incr`` atomic here.

    Expired entries are dropped when they are next touched (or evicted as the least
    recently used), so there is no sweeper task to start and stop.
    """

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._clock = clock
        # key -> (value, expires at on ``clock``); order = least recently used first.
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def _live(self, key: str) -> tuple[bytes, float] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def _put(self, key: str, value: bytes, expires_at: float) -> None:
        self._entries[key] = (value, expires_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def _expiry(self, ttl_ms: int) -> float:
        check_ttl(ttl_ms)
        return self._clock() + ttl_ms / 1000

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        return None if entry is None else entry[0]

    async def get_many(self, *keys: str) -> list[bytes | None]:
        return [None if (entry := self._live(key)) is None else entry[0] for key in keys]

    async def set(self, key: str, value: bytes, ttl_ms: int) -> None:
        self._put(key, value, self._expiry(ttl_ms))

    async def set_if_absent(self, key: str, value: bytes, ttl_ms: int) -> bool:
        expires_at = self._expiry(ttl_ms)
        if self._live(key) is not None:
            return False
        self._put(key, value, expires_at)
        return True

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._entries.pop(key, None)

    async def raise_to(self, key: str, value: int, ttl_ms: int) -> None:
        expires_at = self._expiry(ttl_ms)
        entry = self._live(key)
        if entry is not None:
            value = max(value, int(entry[0]))
            expires_at = max(expires_at, entry[1])
        self._put(key, str(value).encode(), expires_at)

    async def incr(self, key: str, ttl_ms: int) -> int:
        expires_at = self._expiry(ttl_ms)
        entry = self._live(key)
        if entry is None:
            count = 1
        else:
            # Same as Redis: the counter keeps the expiry it was created with.
            count, expires_at = int(entry[0]) + 1, entry[1]
        self._put(key, str(count).encode(), expires_at)
        return count
