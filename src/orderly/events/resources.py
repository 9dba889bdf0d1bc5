"""What events adds to the container: the outbox every unit of work writes through,
and the sinks the relay hands numbered events to."""

from __future__ import annotations

from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.outbox import OUTBOX
from orderly.events.service import OutboxWriter
from orderly.events.sinks import EVENT_SINKS, EventSinks


async def provide(container: Container, settings: Settings) -> None:
    container.add(OUTBOX, OutboxWriter())
    container.add(EVENT_SINKS, EventSinks())
