"""Reading published events of one tenant by ``seq`` (the events API, SSE and WebSocket
replays). Published rows only: an unpublished row (``seq IS NULL``) is not an event
yet. Served by the index ``(tenant_id, seq)``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.events.models import Event
from orderly.events.sinks import PublishedEvent
from orderly.live.filters import ORDER, EventFilter

_COLUMNS = (
    Event.public_id,
    Event.seq,
    Event.tenant_id,
    Event.type,
    Event.subject_id,
    Event.created_at,
    Event.payload,
)


def filter_clause(event_filter: EventFilter) -> ColumnElement[bool]:
    """``EventFilter.matches`` in SQL (keep the two in step)."""
    visibility = event_filter.visibility
    families: list[ColumnElement[bool]] = []
    for family in sorted(visibility.families):
        clause: ColumnElement[bool] = Event.type.like(f"{family}.%")
        if family == ORDER and visibility.orders_of is not None:
            owner = Event.payload["user_id"].as_string()
            clause = and_(clause, owner == visibility.orders_of)
        families.append(clause)
    visible = or_(*families) if families else false()
    if event_filter.patterns is None:
        return visible
    types = [
        Event.type.like(pattern, escape="\\") for pattern in event_filter.patterns.like_patterns()
    ]
    return and_(visible, or_(*types))


class EventFeedRepository:
    def __init__(self, session: AsyncSession, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def last_seq(self) -> int:
        """The highest published ``seq`` (0: none yet). Every smaller one is committed
        too: the relay numbers in commit order, one batch at a time."""
        stmt = select(func.max(Event.seq)).where(Event.tenant_id == self.tenant_id)
        value = (await self.session.execute(stmt)).scalar_one_or_none()
        return int(value or 0)

    async def after(
        self,
        where: ColumnElement[bool],
        *,
        after: int,
        limit: int,
        upto: int | None = None,
        since: datetime | None = None,
    ) -> list[PublishedEvent]:
        """Up to ``limit`` events with ``after < seq <= upto``, ascending."""
        stmt = select(*_COLUMNS).where(Event.tenant_id == self.tenant_id, Event.seq > after, where)
        if upto is not None:
            stmt = stmt.where(Event.seq <= upto)
        if since is not None:
            stmt = stmt.where(Event.created_at >= since)
        stmt = stmt.order_by(Event.seq).limit(limit)
        rows = (await self.session.execute(stmt)).all()
        return [
            PublishedEvent(
                id=str(public_id),
                seq=int(seq),
                tenant_id=tenant_id,
                type=event_type,
                subject_id=subject_id,
                created_at=created_at,
                data=payload,
            )
            for public_id, seq, tenant_id, event_type, subject_id, created_at, payload in rows
        ]
