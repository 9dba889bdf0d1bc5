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

When the store does not answer (SPEC: "the cache is bypassed"), reads are served from
the database and nothing is stored, and for a second no read asks the store at all: a
Redis that stopped answering would otherwise cost every read its socket timeout.
An invalidation that fails is counted and retried in the background with backoff, for
as long as an entry stored before the write can live (the entry TTL, after which the
TTL alone has healed it); it never fails the write, which is committed by then.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from orderly.core.container import Key
from orderly.core.failures import FailureCounts
from orderly.core.kvstore import KeyValueStore, StoreUnavailableError
from orderly.core.singleflight import SingleFlight

GENERATION_TTL_MS = 7 * 24 * 3600 * 1000
# After the store failed to answer, reads skip it for this long.
BYPASS_SECONDS = 1.0
# Retries of a failed invalidation: after 0.1 s, then twice as long each time, up to 5 s.
HEAL_FIRST_DELAY_SECONDS = 0.1
HEAL_MAX_DELAY_SECONDS = 5.0

logger = structlog.get_logger("orderly.cache")


@dataclass(frozen=True, slots=True)
class CachedBody:
    etag: str | None
    body: bytes


@dataclass(frozen=True, slots=True)
class Lookup:
    """A miss remembers the generation it saw, so the store goes under that one."""

    hit: CachedBody | None
    generation: bytes | None
    bypassed: bool = False  # the store did not answer: compute, store nothing


BYPASSED = Lookup(None, None, bypassed=True)


class ResponseCache:
    def __init__(
        self,
        kv: KeyValueStore,
        *,
        enabled: bool,
        ttl_seconds: int,
        failures: FailureCounts | None = None,
    ) -> None:
        self._kv = kv
        self.enabled = enabled
        self._ttl_ms = ttl_seconds * 1000
        self._misses: SingleFlight[tuple[str, bytes | None], CachedBody] = SingleFlight()
        self._failures = failures or FailureCounts()
        # time.monotonic() until which reads skip the store; 0.0 while it answers.
        self._bypass_until = 0.0
        # Namespaces whose invalidation failed -> until when it is worth retrying.
        self._healing: dict[tuple[str, str], float] = {}
        self._healers: set[asyncio.Task[None]] = set()

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
        if seen.bypassed:
            return await compute()

        async def compute_and_store() -> CachedBody:
            # Look again: a caller whose lookup missed while another's computation was
            # finishing arrives here after that flight has landed and left. The entry
            # is stored by then, and one more lookup is far cheaper than the query.
            again = await self.lookup(namespace, tenant_id, variant)
            if again.hit is not None:
                return again.hit
            value = await compute()
            if not again.bypassed:
                await self.store(namespace, tenant_id, variant, again, value)
            return value

        flight = (self._entry_key(namespace, tenant_id, variant), seen.generation)
        return await self._misses.run(flight, compute_and_store)

    def _bypassing(self) -> bool:
        # No clock read while the store answers: this runs on every cached read.
        return bool(self._bypass_until) and time.monotonic() < self._bypass_until

    def _unreachable(self, kind: str, error: StoreUnavailableError, **context: str) -> None:
        self._bypass_until = time.monotonic() + BYPASS_SECONDS
        self._failures.record(kind, error, **context)

    async def lookup(self, namespace: str, tenant_id: str, variant: str) -> Lookup:
        if self._bypassing():
            return BYPASSED
        try:
            generation, entry = await self._kv.get_many(
                self._generation_key(namespace, tenant_id),
                self._entry_key(namespace, tenant_id, variant),
            )
        except StoreUnavailableError as exc:
            self._unreachable("cache_unreachable", exc)
            return BYPASSED
        self._bypass_until = 0.0
        if generation is None or entry is None:
            return Lookup(None, generation)
        stored_generation, etag, body = entry.split(b"\n", 2)
        if stored_generation != generation:
            return Lookup(None, generation)
        return Lookup(CachedBody(etag.decode() or None, body), generation)

    async def store(
        self, namespace: str, tenant_id: str, variant: str, seen: Lookup, value: CachedBody
    ) -> None:
        try:
            await self._store(namespace, tenant_id, variant, seen, value)
        except StoreUnavailableError as exc:  # the read is answered anyway
            self._unreachable("cache_unreachable", exc)

    async def _store(
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
        """Every entry of the tenant's namespace is stale from now on. Runs after the
        write committed, so it never raises for an unreachable store: the failure is
        counted and the invalidation retried in the background."""
        if self._bypassing():
            # Unreachable a moment ago: do not make the writer wait on it again (nor
            # extend the bypass: only an attempt tells whether it answers again).
            self._failures.record(
                "cache_invalidation", StoreUnavailableError(), namespace=namespace
            )
            self._heal_later(namespace, tenant_id)
            return
        try:
            await self._replace_generation(namespace, tenant_id)
        except StoreUnavailableError as exc:
            self._unreachable("cache_invalidation", exc, namespace=namespace)
            self._heal_later(namespace, tenant_id)

    async def _replace_generation(self, namespace: str, tenant_id: str) -> None:
        await self._kv.set(
            self._generation_key(namespace, tenant_id),
            secrets.token_hex(8).encode(),
            GENERATION_TTL_MS,
        )

    def _heal_later(self, namespace: str, tenant_id: str) -> None:
        """Retry until the invalidation succeeds or an entry stored before it failed
        has expired anyway. One retrying task per namespace; a later failure only
        extends its deadline."""
        key = (namespace, tenant_id)
        pending = key in self._healing
        self._healing[key] = time.monotonic() + self._ttl_ms / 1000
        if pending:
            return
        task = asyncio.get_running_loop().create_task(self._heal(key))
        self._healers.add(task)
        task.add_done_callback(self._healers.discard)

    async def _heal(self, key: tuple[str, str]) -> None:
        delay = HEAL_FIRST_DELAY_SECONDS
        try:
            while time.monotonic() < self._healing[key]:
                await asyncio.sleep(delay)
                try:
                    await self._replace_generation(*key)
                except StoreUnavailableError:
                    delay = min(delay * 2, HEAL_MAX_DELAY_SECONDS)
                    continue
                logger.info("cache_invalidation_healed", namespace=key[0])
                return
            # Every entry stored before the write has expired: nothing left to heal.
            logger.info("cache_invalidation_outlived", namespace=key[0])
        finally:
            del self._healing[key]

    async def close(self) -> None:
        """Stop retrying invalidations (on shutdown: the entries expire on their own)."""
        for task in list(self._healers):
            task.cancel()
        await asyncio.gather(*self._healers, return_exceptions=True)


RESPONSE_CACHE: Key[ResponseCache] = Key("response_cache")
