"""The outbox port: an event row written in the transaction of the change it reports.

``UnitOfWork.record_event`` writes through it, so an event exists if and only if its
change committed. The events domain owns the table and provides the writer.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.container import Key


class Outbox(Protocol):
    async def record(
        self,
        session: AsyncSession,
        *,
        tenant_id: str,
        event_type: str,
        subject_id: str,
        payload: BaseModel,
    ) -> None:
        """Add the event to ``session``'s transaction. ``payload`` is the resource as
        the API shows it (its read schema)."""
        ...


OUTBOX: Key[Outbox] = Key("outbox")
