"""Reading what the relay published, as a consumer would, and waiting for it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import func, select

from orderly.core.container import Container
from orderly.core.unit_of_work import unit_of_work
from orderly.events.models import Event
from orderly.events.repository import EventRepository
from orderly.events.sinks import PublishedEvent

# A bound only a hang reaches (the whole suite on 2 cores may be slow), not a timing.
WAIT_SECONDS = 60.0


def container_of(app: FastAPI) -> Container:
    container: Container = app.state.container
    return container


async def published_after(
    container: Container,
    tenant_id: str,
    after_seq: int = 0,
    limit: int = 1000,
    types: Sequence[str] | None = None,
) -> list[PublishedEvent]:
    async with unit_of_work(container, write=False) as uow:
        return await EventRepository(uow.session).published_after(
            tenant_id, after_seq, limit, types
        )


async def all_published(container: Container, tenant_id: str) -> list[PublishedEvent]:
    events: list[PublishedEvent] = []
    while batch := await published_after(container, tenant_id, events[-1].seq if events else 0):
        events.extend(batch)
    return events


async def count_events(container: Container, tenant_id: str, *, published: bool | None) -> int:
    """The tenant's rows: all (None), only published (True) or only unpublished (False)."""
    stmt = select(func.count()).select_from(Event).where(Event.tenant_id == tenant_id)
    if published is not None:
        stmt = stmt.where(Event.seq.is_not(None) if published else Event.seq.is_(None))
    async with unit_of_work(container, write=False) as uow:
        return int((await uow.session.execute(stmt)).scalar_one())


async def wait_until_published(container: Container, tenant_id: str) -> None:
    """Until the tenant has no unpublished row (bounded by ``WAIT_SECONDS``)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while await count_events(container, tenant_id, published=False):
        assert time.monotonic() < deadline, "the relay did not publish everything"
        await asyncio.sleep(0.02)


class Note(BaseModel):
    """A payload for events recorded directly by a test."""

    text: str


async def record(container: Container, tenant_id: str, count: int = 1) -> None:
    """Commit ``count`` events of the tenant in one unit of work."""
    async with unit_of_work(container) as uow:
        for number in range(count):
            await uow.record_event(
                "webhook.test",
                tenant_id=tenant_id,
                subject_id="whk_test",
                payload=Note(text=f"note {number}"),
            )
