"""Writing to the outbox: the ``core.outbox.Outbox`` that ``UnitOfWork.record_event``
writes through, inside the unit's transaction, after the change.

A plain INSERT built once (no ORM object, no unit-of-work flush): events are written on
every order, and nothing reads the row back in the request that writes it.
"""

from __future__ import annotations

from typing import cast

from pydantic import BaseModel
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.database import utcnow
from orderly.core.outbox import OutboxRow
from orderly.events.models import Event

_EVENTS = cast(Table, Event.__table__)
_INSERT_EVENT = insert(_EVENTS)


class OutboxWriter:
    def row(
        self, *, tenant_id: str, event_type: str, subject_id: str, payload: BaseModel
    ) -> OutboxRow:
        """``payload`` is the resource exactly as the API shows it (its read schema)."""
        values: dict[str, object] = {
            "tenant_id": tenant_id,
            "type": event_type,
            "subject_id": subject_id,
            "payload": payload.model_dump(mode="json"),
            "created_at": utcnow(),
        }
        return OutboxRow(_EVENTS, values)

    async def record(
        self,
        session: AsyncSession,
        *,
        tenant_id: str,
        event_type: str,
        subject_id: str,
        payload: BaseModel,
    ) -> None:
        row = self.row(
            tenant_id=tenant_id, event_type=event_type, subject_id=subject_id, payload=payload
        )
        await session.execute(_INSERT_EVENT, row.values)
