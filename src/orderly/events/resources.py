"""What events adds to the container: the outbox every unit of work writes through,
the sinks the relay hands numbered events to, the purge job, and the relay itself."""

from __future__ import annotations

from functools import partial

from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.failures import FAILURES
from orderly.core.jobs import JOBS
from orderly.core.kvstore import REDIS
from orderly.core.outbox import OUTBOX
from orderly.core.unit_of_work import UNITS
from orderly.events import tasks
from orderly.events.relay import RELAY, Relay
from orderly.events.service import OutboxWriter
from orderly.events.sinks import EVENT_SINKS, EventSinks
from orderly.events.wakeups import (
    COMMIT_SIGNAL,
    WAKE_LISTENER,
    CommitSignal,
    WakeListener,
    wake_channel,
)


async def provide(container: Container, settings: Settings) -> None:
    container.add(OUTBOX, OutboxWriter())
    container.add(EVENT_SINKS, EventSinks())
    container[JOBS].register_periodic(
        tasks.PURGE, partial(tasks.purge, container), every_seconds=tasks.PURGE_EVERY_SECONDS
    )


def relays_elsewhere(settings: Settings) -> bool:
    """Whether ``orderly worker`` processes publish this process's events: scale-out with
    the jobs left to them. This process then signals its commits (``wakeups.py``) and
    its own relay only polls, in case no worker runs."""
    return settings.redis_url is not None and not settings.runs_jobs_in_process


def _relay(container: Container, settings: Settings) -> Relay:
    return Relay(
        container,
        sinks=container[EVENT_SINKS],
        failures=container[FAILURES],
        poll_seconds=settings.relay_poll_seconds,
    )


async def provide_relay(container: Container, settings: Settings) -> None:
    """Start the relay. Listed last in ``PROVIDERS``: its first pass publishes what
    waited while the process was down, so every sink must be registered by then; and,
    added last, it is closed first, while the database and the job queue are still open.
    """
    relay = _relay(container, settings)
    redis = container[REDIS]
    if relays_elsewhere(settings) and redis is not None:
        signal = CommitSignal(redis, channel=wake_channel(settings.redis_prefix))
        container[UNITS].on_events_committed(signal.wake)
        signal.start()
        container.add(COMMIT_SIGNAL, signal, close=signal.stop)
    else:
        container[UNITS].on_events_committed(relay.wake)
    relay.start()
    container.add(RELAY, relay, close=relay.stop)


async def provide_worker_relay(container: Container, settings: Settings) -> None:
    """``provide_relay`` of ``orderly worker``: its relay is woken by the commits the
    API processes signal (``wakeups.py``) and by its own, directly."""
    relay = _relay(container, settings)
    container[UNITS].on_events_committed(relay.wake)
    relay.start()
    container.add(RELAY, relay, close=relay.stop)
    redis = container[REDIS]
    if redis is not None:
        listener = WakeListener(
            redis, channel=wake_channel(settings.redis_prefix), wake=relay.wake
        )
        listener.start()
        container.add(WAKE_LISTENER, listener, close=listener.stop)
