"""What events adds to the container: the outbox every unit of work writes through."""

from __future__ import annotations

from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.outbox import OUTBOX
from orderly.events.service import OutboxWriter


async def provide(container: Container, settings: Settings) -> None:
    container.add(OUTBOX, OutboxWriter())
