"""A stand-in for the relay (issue 13, another branch) until it lands: numbers the
committed outbox rows of each tenant in id order and hands them to every registered
sink inside one unit of work, as the relay does (``events.sinks``).

Tests call it where the relay would run; it publishes one batch at a time (callers do
not run two at once), so numbering by ``max(seq) + 1`` is gap-free here. The lead swaps
it for the real relay at merge.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select, update

from orderly.core.container import Container
from orderly.core.database import new_id, utcnow
from orderly.core.unit_of_work import unit_of_work
from orderly.events.models import Event
from orderly.events.sinks import EVENT_SINKS, PublishedEvent


async def publish_pending(container: Container, *, sinks: bool = True) -> list[PublishedEvent]:
    """Publish every unpublished row; ``sinks=False`` numbers them without telling the
    sinks (a pub/sub message lost on the way, as far as live listeners can tell)."""
    async with unit_of_work(container) as uow:
        session = uow.session
        rows = (
            await session.execute(select(Event).where(Event.seq.is_(None)).order_by(Event.id))
        ).scalars()
        by_tenant: dict[str, list[Event]] = defaultdict(list)
        for row in rows:
            by_tenant[row.tenant_id].append(row)
        published: list[PublishedEvent] = []
        now = utcnow()
        for tenant_id, events in by_tenant.items():
            last = await session.scalar(
                select(func.coalesce(func.max(Event.seq), 0)).where(Event.tenant_id == tenant_id)
            )
            for offset, row in enumerate(events, start=1):
                seq, public_id = int(last or 0) + offset, new_id("evt")
                await session.execute(
                    update(Event)
                    .where(Event.id == row.id)
                    .values(seq=seq, public_id=public_id, published_at=now)
                )
                published.append(
                    PublishedEvent(
                        id=public_id,
                        seq=seq,
                        tenant_id=tenant_id,
                        type=row.type,
                        subject_id=row.subject_id,
                        created_at=row.created_at,
                        data=row.payload,
                    )
                )
        if sinks and published:
            for sink in container[EVENT_SINKS]:
                await sink(uow, published)
    return published


class Payload(BaseModel):
    """A resource as an event carries it (tests that need many or large events)."""

    model_config = ConfigDict(extra="allow")


async def record_events(
    container: Container, tenant_id: str, event_type: str, count: int, **data: Any
) -> None:
    """Write ``count`` outbox rows of ``event_type`` for ``tenant_id`` in one unit."""
    async with unit_of_work(container) as uow:
        for number in range(count):
            await uow.record_event(
                event_type,
                tenant_id=tenant_id,
                subject_id=new_id("itm"),
                payload=Payload.model_validate({"number": number, **data}),
            )
