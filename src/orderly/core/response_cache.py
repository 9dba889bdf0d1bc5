"""Cached response bodies of hot tenant reads, never shared across tenants.

Entries live in the key-value store (in-process LRU in embedded mode, Redis in
scale-out). Each namespace of each tenant has a *generation*, a random token; an entry
is valid only while it was stored under the current generation. A write replaces the
generation after its transaction commits (see ``unit_of_work``), which invalidates
every entry of that tenant's namespace at once, in every process:

- a reader that starts after the write's response sees the new generation;
- a reader that read the old rows and stores them late stores them under the old
  generation, where nobody will find them.

Lookups are one round trip (generation and entry together, Redis MGET). Concurrent
misses of one entry under one generation share one computation (``SingleFlight``), and
the caller that computes looks once more first, so an invalidation or an expiry under
load costs one query, not one per request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from orderly.core.container import Key
from orderly.core.kvstore import KeyValueStore
from orderly.core.singleflight import SingleFlight

GENERATION_TTL_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class CachedBody:
    etag: str | None
    body: bytes


@dataclass(frozen=True, slots=True)
class Lookup:
    """A miss remembers the generation it saw, so the store goes under that one."""

    hit: CachedBody | None
    generation: bytes | None


class ResponseCache:
    def __init__(self, kv: KeyValueStore, *, enabled: bool, ttl_seconds: int) -> None:
        self._kv = kv
        self.enabled = enabled
        self._ttl_ms = ttl_seconds * 1000
        self._misses: SingleFlight[tuple[str, bytes | None], CachedBody] = SingleFlight()

    @staticmethod
    def _generation_key(namespace: str, tenant_id: str) -> str:
        return f"cache-gen:{namespace}:{tenant_id}"

    @staticmethod
    def _entry_key(namespace: str, tenant_id: str, variant: str) -> str:
        digest = hashlib.sha256(variant.encode()).hexdigest()[:32]
        return f"cache:{namespace}:{tenant_id}:{digest}"

    async def fetch(
        self,
        namespace: str,
        tenant_id: str,
        variant: str,
        compute: Callable[[], Awaitable[CachedBody]],
    ) -> CachedBody:
        """The cached body, else ``compute()``'s, stored for the next reader."""
        if not self.enabled:
            return await compute()
        seen = await self.lookup(namespace, tenant_id, variant)
        if seen.hit is not None:
            return seen.hit

        async def compute_and_store() -> CachedBody:
            # Look again: a caller whose lookup missed while another's computation was
            # finishing arrives here after that flight has landed and left. The entry
            # is stored by then, and one more lookup is far cheaper than the query.
            again = await self.lookup(namespace, tenant_id, variant)
            if again.hit is not None:
                return again.hit
            value = await compute()
            await self.store(namespace, tenant_id, variant, again, value)
            return value

        flight = (self._entry_key(namespace, tenant_id, variant), seen.generation)
        return await self._misses.run(flight, compute_and_store)

    async def lookup(self, namespace: str, tenant_id: str, variant: str) -> Lookup:
        generation, entry = await self._kv.get_many(
            self._generation_key(namespace, tenant_id),
            self._entry_key(namespace, tenant_id, variant),
        )
        if generation is None or entry is None:
            return Lookup(None, generation)
        stored_generation, etag, body = entry.split(b"\n", 2)
        if stored_generation != generation:
            return Lookup(None, generation)
        return Lookup(CachedBody(etag.decode() or None, body), generation)

    async def store(
        self, namespace: str, tenant_id: str, variant: str, seen: Lookup, value: CachedBody
    ) -> None:
        generation = seen.generation
        if generation is None:
            # First read of this namespace: create a generation. If another request
            # (or a write) set one meanwhile, ours is not the current one: skip storing.
            generation = secrets.token_hex(8).encode()
            created = await self._kv.set_if_absent(
                self._generation_key(namespace, tenant_id), generation, GENERATION_TTL_MS
            )
            if not created:
                return
        entry = b"\n".join((generation, (value.etag or "").encode(), value.body))
        await self._kv.set(self._entry_key(namespace, tenant_id, variant), entry, self._ttl_ms)

    async def invalidate(self, namespace: str, tenant_id: str) -> None:
        await self._kv.set(
            self._generation_key(namespace, tenant_id),
            secrets.token_hex(8).encode(),
            GENERATION_TTL_MS,
        )


RESPONSE_CACHE: Key[ResponseCache] = Key("response_cache")
