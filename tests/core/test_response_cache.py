"""ResponseCache: one computation per miss, even when lookups and flights interleave."""

from __future__ import annotations

import asyncio

from orderly.core.kvstore.memory import MemoryStore
from orderly.core.response_cache import CachedBody, ResponseCache


class SlowFirstRead(MemoryStore):
    """The first ``get_many`` reads at once but answers only when ``answer`` is set: a
    reply still on the wire while the store changes (as with Redis under load)."""

    def __init__(self) -> None:
        super().__init__(max_entries=100)
        self.answer = asyncio.Event()
        self._first = True

    async def get_many(self, *keys: str) -> list[bytes | None]:
        values = await super().get_many(*keys)
        if self._first:
            self._first = False
            await self.answer.wait()
        return values


async def test_a_miss_answered_after_the_flight_landed_does_not_query_again() -> None:
    kv = SlowFirstRead()
    cache = ResponseCache(kv, enabled=True, ttl_seconds=60)
    await cache.invalidate("catalog", "ten_1")  # a generation exists, as after any write
    computed = 0

    async def compute() -> CachedBody:
        nonlocal computed
        computed += 1
        return CachedBody('"v1"', b"page")

    late = asyncio.create_task(cache.fetch("catalog", "ten_1", "/items", compute))
    await asyncio.sleep(0)  # its lookup has read "miss" and is waiting to be answered
    first = await cache.fetch("catalog", "ten_1", "/items", compute)  # computes, stores
    kv.answer.set()
    assert await late == first == CachedBody('"v1"', b"page")
    assert computed == 1
