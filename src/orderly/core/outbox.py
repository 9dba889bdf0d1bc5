"""The outbox port: an event row written in the transaction of the change it reports.

``UnitOfWork.record_event`` writes through it, so an event exists if and only if its
change committed. The events domain owns the table and provides the writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.container import Key


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """An event row not yet written: its table and its column values (bound the way a
    Core ``insert(table)`` binds them). A writer that folds the row into a statement of
    its own (an order placed in one round trip) writes it in its transaction."""

    table: Table
    values: dict[str, object]


class Outbox(Protocol):
    def row(
        self, *, tenant_id: str, event_type: str, subject_id: str, payload: BaseModel
    ) -> OutboxRow:
        """The row ``record`` would write, for a caller that writes it itself."""
        ...

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
