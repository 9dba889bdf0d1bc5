"""Resolving ``X-API-Key`` on the hot path without a database query per request.

Resolutions are cached in-process for a short time, keyed by the key's SHA-256.
Revoking a key evicts it from every API process at once (``InvalidationBus``: local,
plus Redis pub/sub in scale-out), after the revocation has committed. The TTL bounds
the one remaining race (a request that read the key just before the revocation
committed and cached it just after the eviction).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from orderly.api_keys.service import (
    KEY_PREFIX,
    LAST_USED_RESOLUTION,
    REVOKED_TOPIC,
    authenticate_api_key,
    principal_for_key,
)
from orderly.auth.principal import Principal
from orderly.auth.tokens import hash_token
from orderly.core.cache import InvalidationBus, LocalCache
from orderly.core.database import utcnow

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
    def __init__(self, bus: InvalidationBus) -> None:
        self._cache: LocalCache[ResolvedKey] = LocalCache(
            max_entries=CACHE_ENTRIES, ttl_seconds=CACHE_TTL_SECONDS
        )
        bus.subscribe(REVOKED_TOPIC, self._cache.discard)

    async def resolve(self, session: AsyncSession, raw: str) -> ResolvedKey | None:
        if not raw.startswith(KEY_PREFIX):
            return None
        digest = hash_token(raw)
        resolved = self._cache.get(digest)
        if resolved is None:
            key = await authenticate_api_key(session, raw)
            if key is None:
                return None
            resolved = ResolvedKey(
                principal_for_key(key), digest, key.expires_at, key.last_used_at
            )
            self._cache.set(digest, resolved)
        if resolved.expired:
            self._cache.discard(digest)
            return None
        return resolved

    def mark_used(self, resolved: ResolvedKey) -> None:
        """Remember locally that the use was recorded, so this process writes
        ``last_used_at`` at most once per interval."""
        self._cache.set(resolved.digest, replace(resolved, last_used_at=utcnow()))
