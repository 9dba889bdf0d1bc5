"""The queries on events and their per-tenant counters.

Not a ``TenantRepository``: the relay and the purge work across tenants, and the one
tenant-scoped read (``published_after``) takes its tenant explicitly, from a caller
that has already decided what its principal may see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, bindparam, delete, false, insert, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.events.models import Event, EventCounter
from orderly.events.sinks import PublishedEvent

_EVENTS = cast(Table, Event.__table__)
_COUNTERS = cast(Table, EventCounter.__table__)

# Bound parameters of the executemany statements (not column names: SQLAlchemy
# reserves those in the SET clause of an UPDATE).
_MARK_PUBLISHED = (
    sql_update(_EVENTS)
    .where(_EVENTS.c.id == bindparam("row_id"))
    .values(
        seq=bindparam("row_seq"),
        public_id=bindparam("row_public_id"),
        published_at=bindparam("row_published_at"),
    )
)
_UPDATE_COUNTER = (
    sql_update(_COUNTERS)
    .where(_COUNTERS.c.tenant_id == bindparam("counter_tenant"))
    .values(last_seq=bindparam("counter_last"))
)
_UNPUBLISHED_COLUMNS = (
    Event.id,
    Event.tenant_id,
    Event.type,
    Event.subject_id,
    Event.payload,
    Event.created_at,
)


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def unpublished(self, limit: int) -> Sequence[Row[Any]]:
        """Committed rows the relay has not numbered yet, oldest id first (the partial
        index ``ix_events_unpublished``)."""
        stmt = (
            select(*_UNPUBLISHED_COLUMNS)
            .where(Event.seq.is_(None))
            .order_by(Event.id)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).all()

    async def last_seqs(self, tenant_ids: Sequence[str]) -> dict[str, int]:
        """Each tenant's last ``seq``; a tenant that has none yet is left out."""
        stmt = select(EventCounter.tenant_id, EventCounter.last_seq).where(
            EventCounter.tenant_id.in_(tenant_ids)
        )
        rows = await self.session.execute(stmt)
        return {tenant_id: last for tenant_id, last in rows}

    async def save_last_seqs(self, last: Mapping[str, int], *, known: set[str]) -> None:
        """Store the new counters: an UPDATE for the ``known`` tenants, an INSERT for the
        others. Only the relay that holds the relay lock writes here; were two to race,
        the primary key would refuse the second insert and its batch would roll back."""
        updates = [
            {"counter_tenant": tenant, "counter_last": seq}
            for tenant, seq in last.items()
            if tenant in known
        ]
        inserts = [
            {"tenant_id": tenant, "last_seq": seq}
            for tenant, seq in last.items()
            if tenant not in known
        ]
        if updates:
            await self.session.execute(_UPDATE_COUNTER, updates)
        if inserts:
            await self.session.execute(insert(_COUNTERS), inserts)

    async def mark_published(
        self, rows: Sequence[int], events: Sequence[PublishedEvent], published_at: datetime
    ) -> None:
        """Give row ``rows[i]`` the number and id of ``events[i]``."""
        await self.session.execute(
            _MARK_PUBLISHED,
            [
                {
                    "row_id": row_id,
                    "row_seq": event.seq,
                    "row_public_id": event.id,
                    "row_published_at": published_at,
                }
                for row_id, event in zip(rows, events, strict=True)
            ],
        )

    async def published_after(
        self,
        tenant_id: str,
        after_seq: int,
        limit: int,
        types: Sequence[str] | None = None,
    ) -> list[PublishedEvent]:
        """The tenant's published events with ``seq > after_seq``, ascending, at most
        ``limit``. ``types``: exact types or ``*`` patterns (``order.*``, ``*``); None
        for every type, an empty sequence for none."""
        stmt = (
            select(Event)
            .where(Event.tenant_id == tenant_id, Event.seq > after_seq)
            .order_by(Event.seq)
            .limit(limit)
        )
        if types is not None:
            stmt = stmt.where(type_filter(types))
        rows = (await self.session.scalars(stmt)).all()
        return [published_event(row) for row in rows]

    async def oldest_after(
        self, after_id: int, limit: int
    ) -> Sequence[Row[int, datetime, int | None]]:
        """``(id, created_at, seq)`` of the rows after ``after_id``, in id order."""
        stmt = (
            select(Event.id, Event.created_at, Event.seq)
            .where(Event.id > after_id)
            .order_by(Event.id)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).all()

    async def delete(self, row_ids: Sequence[int]) -> None:
        if row_ids:
            await self.session.execute(delete(Event).where(Event.id.in_(row_ids)))


def type_filter(types: Sequence[str]) -> ColumnElement[bool]:
    """Exact types, or ``prefix*`` patterns (``*`` alone matches every type)."""
    clauses: list[ColumnElement[bool]] = []
    for pattern in types:
        if pattern.endswith("*"):
            prefix = pattern[:-1]
            if not prefix:
                return Event.type.is_not(None)
            clauses.append(Event.type.startswith(prefix, autoescape=True))
        else:
            clauses.append(Event.type == pattern)
    return or_(*clauses) if clauses else false()


def published_event(row: Event) -> PublishedEvent:
    if row.seq is None or row.public_id is None:
        raise ValueError(f"event {row.id} is not published")
    return PublishedEvent(
        id=row.public_id,
        seq=row.seq,
        tenant_id=row.tenant_id,
        type=row.type,
        subject_id=row.subject_id,
        created_at=row.created_at,
        data=row.payload,
    )
