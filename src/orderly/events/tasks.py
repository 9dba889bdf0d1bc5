"""Background jobs of events: the purge of events past their 30 days."""

from __future__ import annotations

from datetime import datetime, timedelta

from orderly.core.container import Container
from orderly.core.database import utcnow
from orderly.core.jobs import JobArgs
from orderly.core.unit_of_work import unit_of_work
from orderly.events.repository import EventRepository

PURGE = "events.purge"
PURGE_EVERY_SECONDS = 3600.0
RETENTION = timedelta(days=30)
# Rows looked at per transaction: short transactions, short row locks.
PURGE_CHUNK = 1000


async def purge(container: Container, args: JobArgs) -> None:
    """Periodic job: delete the published events older than ``RETENTION``."""
    await purge_before(container, utcnow() - RETENTION)


async def purge_before(container: Container, cutoff: datetime) -> int:
    """Delete the published events created before ``cutoff``; how many were deleted.

    Walks the table from its oldest id, a chunk per transaction, and stops at the first
    chunk that holds a row as new as ``cutoff``: ids are taken at insert and
    ``created_at`` just before, so past that point every row is (all but) as new,
    and no index on ``created_at`` has to be kept up on every order for an hourly job.
    A row a moment out of order is deleted an hour later. Unpublished rows are kept:
    the relay has not handed them to anyone yet, so deleting one would lose an event.
    Idempotent: a second run finds nothing left to delete.
    """
    deleted, after_id = 0, 0
    while True:
        async with unit_of_work(container) as uow:
            events = EventRepository(uow.session)
            rows = await events.oldest_after(after_id, PURGE_CHUNK)
            old = [row for row in rows if row.created_at < cutoff]
            await events.delete([row.id for row in old if row.seq is not None])
        deleted += sum(1 for row in old if row.seq is not None)
        if len(old) < len(rows) or len(rows) < PURGE_CHUNK:
            return deleted
        after_id = rows[-1].id
