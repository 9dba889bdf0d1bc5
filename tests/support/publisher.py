"""Publishing committed outbox rows on demand, with the relay's own code.

Every app runs its relay in the background (woken by each commit); tests that must
know that events have been published by a certain point call ``publish_pending``,
which drives a ``Relay`` over the same container until nothing is left. Both relays
serialize on the database (an advisory lock on PostgreSQL, the file's write lock on
SQLite), so they never hand out a ``seq`` twice.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from orderly.core.container import Container
from orderly.core.database import new_id
from orderly.core.failures import FAILURES
from orderly.core.unit_of_work import unit_of_work
from orderly.events.relay import Relay
from orderly.events.sinks import EVENT_SINKS, EventSinks


async def publish_pending(container: Container, *, sinks: bool = True) -> int:
    """Publish every unpublished row; ``sinks=False`` numbers them without telling the
    sinks (a pub/sub message lost on the way, as far as live listeners can tell: stop
    the app's own relay first, or it may publish them with its sinks)."""
    relay = Relay(
        container,
        sinks=container[EVENT_SINKS] if sinks else EventSinks(),
        failures=container[FAILURES],
        poll_seconds=3600,
    )
    published = 0
    while count := await relay.publish_once():
        published += count
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
