"""The key-value store of embedded mode: one process, in memory."""

from __future__ import annotations

import time
from collections.abc import Callable

from orderly.core.cache import ExpiringLru
from orderly.core.kvstore.base import check_ttl

DEFAULT_MAX_ENTRIES = 100_000


class MemoryStore:
    """``KeyValueStore`` on an ``ExpiringLru``: a time to live per key, bounded by LRU.

    No locks: the store belongs to one event loop and no method awaits anything, so no
    other coroutine can run between a check and the write that follows it. That is
    what makes ``set_if_absent`` and ``incr`` atomic here.
    """

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: ExpiringLru[bytes] = ExpiringLru(max_entries=max_entries, clock=clock)

    def __len__(self) -> int:
        return len(self._entries)

    def purge_expired(self) -> int:
        """Drop expired keys now (Redis does this on its own); how many."""
        return self._entries.purge_expired()

    def _expiry(self, ttl_ms: int) -> float:
        check_ttl(ttl_ms)
        return self._entries.clock() + ttl_ms / 1000

    async def get(self, key: str) -> bytes | None:
        return self._entries.get(key)

    async def get_many(self, *keys: str) -> list[bytes | None]:
        return [self._entries.get(key) for key in keys]

    async def set(self, key: str, value: bytes, ttl_ms: int) -> None:
        self._entries.set_until(key, value, self._expiry(ttl_ms))

    async def set_if_absent(self, key: str, value: bytes, ttl_ms: int) -> bool:
        expires_at = self._expiry(ttl_ms)
        if self._entries.entry(key) is not None:
            return False
        self._entries.set_until(key, value, expires_at)
        return True

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._entries.discard(key)

    async def raise_to(self, key: str, value: int, ttl_ms: int) -> None:
        expires_at = self._expiry(ttl_ms)
        entry = self._entries.entry(key)
        if entry is not None:
            value = max(value, int(entry[1]))
            expires_at = max(expires_at, entry[0])
        self._entries.set_until(key, str(value).encode(), expires_at)

    async def incr(self, key: str, ttl_ms: int) -> int:
        expires_at = self._expiry(ttl_ms)
        entry = self._entries.entry(key)
        if entry is None:
            count = 1
        else:
            # Same as Redis: the counter keeps the expiry it was created with.
            expires_at, count = entry[0], int(entry[1]) + 1
        self._entries.set_until(key, str(count).encode(), expires_at)
        return count
