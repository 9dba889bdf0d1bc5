"""Resolving ``X-API-Key`` on the hot path without a database query per request.

Resolutions are cached in-process for a short time, keyed by the key's SHA-256.
Revoking a key evicts it from every API process at once (``InvalidationBus``: local,
plus Redis pub/sub in scale-out), after the revocation has committed. A lookup that
read the key before the revocation committed and finishes after an eviction arrived
answers its own request but caches nothing: cached, the revoked key would have worked
for another ``CACHE_TTL_SECONDS``. The TTL still bounds what a lost pub/sub message
(Redis unreachable) leaves behind.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from orderly.api_keys.service import (
    KEY_PREFIX,
    LAST_USED_RESOLUTION,
    REVOKED_TOPIC,
    ApiKeyCredentials,
    principal_for_key,
)
from orderly.api_keys.tasks import RECORD_USE
from orderly.core.access import InvalidApiKeyError
from orderly.core.cache import INVALIDATION_BUS, LocalCache
from orderly.core.container import Container
from orderly.core.database import utcnow
from orderly.core.failures import FAILURES
from orderly.core.identity import Principal
from orderly.core.jobs import JOBS, Job
from orderly.core.security import hash_token
from orderly.core.singleflight import SingleFlight
from orderly.core.unit_of_work import unit_of_work

CACHE_TTL_SECONDS = 30.0
CACHE_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    principal: Principal
    digest: str
    expires_at: datetime | None
    last_used_at: datetime | None

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= utcnow()

    @property
    def use_unrecorded(self) -> bool:
        return self.last_used_at is None or self.last_used_at < utcnow() - LAST_USED_RESOLUTION


class ApiKeyResolver:
    """The ``core.access.API_KEYS`` authenticator."""

    def __init__(self, container: Container) -> None:
        self._container = container
        self._jobs = container[JOBS]
        self._failures = container[FAILURES]
        self._cache: LocalCache[ResolvedKey] = LocalCache(
            max_entries=CACHE_ENTRIES, ttl_seconds=CACHE_TTL_SECONDS
        )
        # A key's cache entry expires for every request using it at the same moment.
        self._lookups: SingleFlight[str, ResolvedKey | None] = SingleFlight()
        self._evictions = 0  # how many have arrived; a lookup compares before and after
        container[INVALIDATION_BUS].subscribe(REVOKED_TOPIC, self._evict)

    def _evict(self, digest: str) -> None:
        self._evictions += 1
        self._cache.discard(digest)

    async def authenticate(self, credential: str) -> Principal:
        resolved = await self.resolve(credential)
        if resolved is None:
            raise InvalidApiKeyError
        if self.claim_use(resolved):
            # In the background, in its own unit of work: a read request stays a read,
            # and this process writes it at most once a minute per key.
            await self._record_use(resolved.principal.id)
        return resolved.principal

    async def _record_use(self, key_id: str) -> None:
        """Best effort: with the job queue on Redis and Redis away, the key still
        works (it is resolved from the database); its last use is recorded late."""
        try:
            await self._jobs.enqueue(Job(RECORD_USE, {"key_id": key_id}))
        except Exception as exc:
            self._failures.record("enqueue_job", exc, job=RECORD_USE)

    async def expires_at(self, credential: str) -> float | None:
        resolved = await self.resolve(credential)
        if resolved is None or resolved.expires_at is None:
            return None
        return resolved.expires_at.timestamp()

    async def resolve(self, raw: str) -> ResolvedKey | None:
        if not raw.startswith(KEY_PREFIX):
            return None
        digest = hash_token(raw)
        resolved = self._cache.get(digest)
        if resolved is None:
            resolved = await self._lookups.run(digest, lambda: self._load(raw, digest))
            if resolved is None:
                return None
        if resolved.expired:
            self._cache.discard(digest)
            return None
        return resolved

    async def _load(self, raw: str, digest: str) -> ResolvedKey | None:
        # Its own short read, not the request's unit of work: authentication comes
        # before the route's dependencies.
        evictions = self._evictions
        async with unit_of_work(self._container, write=False) as uow:
            key = await ApiKeyCredentials(uow, self._container).live_key(raw)
            if key is None:
                return None
            resolved = ResolvedKey(
                principal_for_key(key), digest, key.expires_at, key.last_used_at
            )
        if self._evictions == evictions:  # else it may have been revoked meanwhile
            self._cache.set(digest, resolved)
        return resolved

    def claim_use(self, resolved: ResolvedKey) -> bool:
        """Whether this request should record the key's use: true at most once per
        interval in this process, however many requests resolved it concurrently (the
        check and the mark happen without an ``await`` between them)."""
        current = self._cache.get(resolved.digest)
        if current is None:
            # Not cached (evicted while it was looked up): record the use, but do not
            # put back an entry that a revocation has just removed.
            return resolved.use_unrecorded
        if not current.use_unrecorded:
            return False
        self._cache.set(resolved.digest, replace(current, last_used_at=utcnow()))
        return True
