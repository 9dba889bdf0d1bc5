"""What events adds to the container: the outbox every unit of work writes through,
the sinks the relay hands numbered events to, the purge job, and the relay itself."""

from __future__ import annotations

from functools import partial

from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.failures import FAILURES
from orderly.core.jobs import JOBS
from orderly.core.outbox import OUTBOX
from orderly.core.unit_of_work import UNITS
from orderly.events import tasks
from orderly.events.relay import RELAY, Relay
from orderly.events.service import OutboxWriter
from orderly.events.sinks import EVENT_SINKS, EventSinks


async def provide(container: Container, settings: Settings) -> None:
    container.add(OUTBOX, OutboxWriter())
    container.add(EVENT_SINKS, EventSinks())
    container[JOBS].register_periodic(
        tasks.PURGE, partial(tasks.purge, container), every_seconds=tasks.PURGE_EVERY_SECONDS
    )


async def provide_relay(container: Container, settings: Settings) -> None:
    """Start the relay. Listed last in ``PROVIDERS``: its first pass publishes what
    waited while the process was down, so every sink must be registered by then; and,
    added last, it is closed first, while the database and the job queue are still open.
    """
    relay = Relay(
        container,
        sinks=container[EVENT_SINKS],
        failures=container[FAILURES],
        poll_seconds=settings.relay_poll_seconds,
    )
    container[UNITS].on_events_committed(relay.wake)
    relay.start()
    container.add(RELAY, relay, close=relay.stop)
