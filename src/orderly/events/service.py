"""Writing to the outbox. Call it inside the request's transaction, after the change."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.events.models import Event
from orderly.events.types import EventType


async def record_event(
    session: AsyncSession,
    *,
    tenant_id: str,
    event_type: EventType,
    subject_id: str,
    payload: BaseModel,
) -> Event:
    """``payload`` is the resource exactly as the API shows it (its read schema)."""
    event = Event(
        tenant_id=tenant_id,
        type=event_type.value,
        subject_id=subject_id,
        payload=payload.model_dump(mode="json"),
    )
    session.add(event)
    await session.flush()
    return event
