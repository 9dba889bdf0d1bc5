"""Ending a user's sessions: every API process refuses their earlier tokens at once, and
for good.

Each user has a session generation (``users.session_generation``), incremented in the
same transaction as the change that ends their sessions (a demotion, a deactivation).
Access and refresh tokens carry the generation they were issued under. Refresh tokens
are checked against the user's row when used. Access tokens are checked without a
database query: the key-value store (Redis in scale-out, memory in embedded mode) holds,
for each user whose sessions ended recently, the lowest generation still valid.

Why a generation and not a "revoked before" time: it only ever grows (the database
increments it, and the store keeps the larger of two writes, ``raise_to``), so nothing
that happens to the user later (reactivation, a promotion back, two revocations whose
writes arrive out of order) can lower it; and it compares numbers the database assigned,
not the clocks of different processes.

Why the store can be trusted when it says nothing: it is only a copy of the database,
and the epoch key says the copy is complete. A store that comes back empty (a Redis
restart, a new embedded process) has no epoch, and the first check restores every
marker still needed from the database before it answers. Markers are written after the
generation's commit; if that write fails, this process restores before its next check.
Redis must not evict keys (``maxmemory-policy noeviction``, its default).

A marker lives one access-token lifetime plus ``MARKER_MARGIN_SECONDS`` (clock skew
between processes) after the sessions ended: by then every token it refuses has expired
(``AccessTokenCodec`` caps a token's life at the configured lifetime, whatever its
``exp`` says).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from orderly.core.container import Key
from orderly.core.database import utcnow
from orderly.core.kvstore import KeyValueStore
from orderly.core.singleflight import SingleFlight

MARKER_MARGIN_SECONDS = 60
EPOCH_KEY = "auth:sessions:epoch"
# The epoch only has to outlive the store's own lifetime; when it lapses, one restore.
EPOCH_TTL_MS = 24 * 3600 * 1000

logger = structlog.get_logger("orderly.sessions")


@dataclass(frozen=True, slots=True)
class EndedSessions:
    """A user's tokens below ``generation`` are revoked (since ``ended_at``)."""

    user_id: str
    generation: int
    ended_at: datetime


# Every user whose sessions ended after the given moment, as the database has it.
RecentEnds = Callable[[datetime], Awaitable[list[EndedSessions]]]


def marker_key(user_id: str) -> str:
    return f"auth:sessions:min-generation:{user_id}"


class SessionRevocations:
    def __init__(
        self, store: KeyValueStore, recent_ends: RecentEnds, *, access_ttl_seconds: int
    ) -> None:
        self._store = store
        self._recent_ends = recent_ends
        self._marker_life = timedelta(seconds=access_ttl_seconds + MARKER_MARGIN_SECONDS)
        self._restores: SingleFlight[str, None] = SingleFlight()
        # Marker writes that failed, and how many of them a finished restore covered.
        self._failed_writes = 0
        self._restored_writes = 0

    async def is_revoked(self, user_id: str, generation: int) -> bool:
        """One store round trip (the marker and the epoch together) per check."""
        if self._failed_writes > self._restored_writes:
            await self.restore()
        marker, epoch = await self._store.get_many(marker_key(user_id), EPOCH_KEY)
        if epoch is None:
            await self.restore()
            marker = await self._store.get(marker_key(user_id))
        return marker is not None and generation < int(marker)

    async def record(self, ended: EndedSessions) -> None:
        """Publish an end of sessions once its generation is committed. A failure here
        must not turn the committed change into an error: it is logged, and this
        process restores every marker from the database before its next check."""
        try:
            await self._write(ended, utcnow())
        except Exception as exc:  # the store is unreachable; the database has it
            self._failed_writes += 1
            logger.warning(
                "session_revocation_not_stored", user_id=ended.user_id, error=type(exc).__name__
            )

    async def restore(self) -> None:
        """Copy every marker still needed from the database, then mark the copy complete
        (in that order: a process that sees the epoch sees the markers)."""
        await self._restores.run(EPOCH_KEY, self._restore)

    async def _restore(self) -> None:
        # A write that failed before this point had committed before it: the query below
        # sees its generation. One that fails later asks for another restore.
        failed_writes = self._failed_writes
        now = utcnow()
        ended = await self._recent_ends(now - self._marker_life)
        for each in ended:
            await self._write(each, now)
        await self._store.set(EPOCH_KEY, b"1", ttl_ms=EPOCH_TTL_MS)
        self._restored_writes = max(self._restored_writes, failed_writes)
        logger.info("session_revocations_restored", users=len(ended))

    async def _write(self, ended: EndedSessions, now: datetime) -> None:
        left = ended.ended_at + self._marker_life - now
        ttl_ms = int(left.total_seconds() * 1000)
        if ttl_ms > 0:
            await self._store.raise_to(marker_key(ended.user_id), ended.generation, ttl_ms)


SESSION_REVOCATIONS: Key[SessionRevocations] = Key("sessions.revocations")
