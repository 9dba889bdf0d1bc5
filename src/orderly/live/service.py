"""The events API and the streams: what a caller may see, read by ``seq``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta

import structlog

from orderly.core.container import Container, Key
from orderly.core.database import utcnow
from orderly.core.errors import AppError
from orderly.core.identity import Principal
from orderly.core.unit_of_work import UnitOfWork
from orderly.live.filters import EventFilter, TypePatterns, visibility_of
from orderly.live.hub import LIVE_HUB, Subscription
from orderly.live.repository import EventFeedRepository, filter_clause
from orderly.live.schemas import EventPage, EventRead
from orderly.live.stream import LiveFeed

logger = structlog.get_logger("orderly.live")

# SPEC: events are kept 30 days (a periodic job purges older rows).
RETENTION = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class LiveOptions:
    heartbeat_seconds: float = 15.0
    max_pending_events: int = 1000


LIVE_OPTIONS: Key[LiveOptions] = Key("live.options")


def event_filter(principal: Principal, types: TypePatterns | None) -> EventFilter:
    """The caller's filter; 403 ``INSUFFICIENT_SCOPE`` when no type is visible."""
    return EventFilter(visibility_of(principal), types)


class EventsService:
    def __init__(self, uow: UnitOfWork, container: Container) -> None:
        self.uow = uow

    async def list(self, *, after: int, types: str | None, limit: int) -> EventPage:
        principal = self.uow.principal
        where = filter_clause(event_filter(principal, TypePatterns.parse(types)))
        repository = EventFeedRepository(self.uow.session, principal.tenant_id)
        rows = await repository.after(
            where, after=after, limit=limit + 1, since=utcnow() - RETENTION
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return EventPage(
            items=[EventRead.model_validate(row.as_object()) for row in rows],
            next_cursor=str(rows[-1].seq) if more else None,
        )


class StreamService:
    """Built per request from the caller and the container, with no unit of work: a
    stream opens one only for each replay read (``LiveFeed``)."""

    def __init__(self, principal: Principal, container: Container) -> None:
        self.principal = principal
        self.container = container
        self.options = container[LIVE_OPTIONS]

    def feed(self, types: TypePatterns | None, *, overflow_is_fatal: bool = False) -> LiveFeed:
        """Checked at once (403 before any stream starts)."""
        return LiveFeed(
            self.container,
            self.principal,
            event_filter(self.principal, types),
            overflow_is_fatal=overflow_is_fatal,
        )

    def subscribe(self, feed: LiveFeed) -> AbstractContextManager[Subscription]:
        return self.container[LIVE_HUB].subscribe(self.principal.tenant_id, feed.wants)

    async def frames(self, feed: LiveFeed, after: int | None) -> AsyncIterator[bytes]:
        """SSE frames (``id:`` seq, ``event:`` type, ``data:`` the event JSON), the
        events that are ready together in one chunk. Subscribed before the replay."""
        try:
            start = await feed.start_after(after)
            with self.subscribe(feed) as subscription:
                async for batch in feed.batches(subscription, start):
                    yield b"".join(event.frame for event in batch)
        except AppError as exc:
            # The database failed a replay read (503 after the response started):
            # end the stream cleanly; the client reconnects with Last-Event-ID and
            # loses nothing, where an aborted body would look like a server crash.
            logger.warning("live_stream_ended", error=exc.code)
