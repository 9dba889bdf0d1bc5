"""Where the relay runs, and how it is woken (events/wakeups.py, events/relay.py).

In scale-out with the jobs left to ``orderly worker``, an API process's commits wake
the workers' relays through Redis, and its own relay only polls; a busy relay lets the
commits of a short window share one pass. Relays here poll every 30 s unless a test
says otherwise: whatever is published sooner was woken.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from orderly.app import open_container
from orderly.app.container import PROVIDERS, WORKER_PROVIDERS
from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.database import DATABASE
from orderly.core.failures import FAILURES
from orderly.core.unit_of_work import UNITS, UnitOfWork, unit_of_work
from orderly.events import resources as events
from orderly.events.relay import RELAY, Relay
from orderly.events.sinks import EVENT_SINKS, PublishedEvent
from orderly.events.wakeups import COMMIT_SIGNAL, WAKE_LISTENER
from orderly.tenants.service import TenantService
from tests.conftest import make_settings
from tests.events.helpers import WAIT_SECONDS, count_events, record
from tests.support.database import empty_all_tables
from tests.support.services import Backend

SLOW_POLL_SECONDS = 30.0


class Arrivals:
    """A sink that notes when each batch reached it, and what was in it."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, list[PublishedEvent]]] = []
        self.arrival = asyncio.Event()

    async def __call__(self, uow: UnitOfWork, events: Sequence[PublishedEvent]) -> None:
        self.calls.append((time.monotonic(), list(events)))
        self.arrival.set()

    def of(self, tenant_id: str) -> list[list[PublishedEvent]]:
        """The batches, each cut to the tenant's events, leaving out those without."""
        cut = [[e for e in batch if e.tenant_id == tenant_id] for _, batch in self.calls]
        return [batch for batch in cut if batch]


async def _tenant(container: Container) -> str:
    async with unit_of_work(container) as uow:
        return (await TenantService(uow, container).create("Wakeups")).id


def _scale_out(backend: Backend, **overrides: object) -> Settings:
    if backend.name != "postgres":
        pytest.skip("the relay moves to `orderly worker` in scale-out mode only")
    values: dict[str, object] = {
        "worker_in_process": False,  # the jobs (and so the relay's work) are the worker's
        "relay_poll_seconds": SLOW_POLL_SECONDS,
        "db_pool_timeout": WAIT_SECONDS,
        "redis_pool_timeout": WAIT_SECONDS,
    }
    return make_settings(backend, **(values | overrides))


async def _wait_for(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), WAIT_SECONDS)


async def test_an_api_commit_is_published_by_the_workers_relay_woken_through_redis(
    backend: Backend,
) -> None:
    settings = _scale_out(backend)
    async with (
        open_container(settings) as api,
        open_container(settings, WORKER_PROVIDERS) as worker,
    ):
        assert COMMIT_SIGNAL in api
        assert WAKE_LISTENER not in api
        assert WAKE_LISTENER in worker
        await _wait_for(worker[WAKE_LISTENER].subscribed)
        at_api, at_worker = Arrivals(), Arrivals()
        api[EVENT_SINKS].add(at_api)
        worker[EVENT_SINKS].add(at_worker)
        tenant = await _tenant(api)
        committed_at: list[float] = []
        api[UNITS].on_events_committed(lambda: committed_at.append(time.monotonic()))

        await record(api, tenant, 2)
        await _wait_for(at_worker.arrival)
        await asyncio.sleep(0.2)  # time enough for a wrongly woken API relay to show
        await empty_all_tables(api[DATABASE].engine)

    # Both relays poll every 30 s: only the signal explains an arrival this soon.
    assert at_worker.calls[0][0] - committed_at[0] < 1.0
    assert [len(batch) for batch in at_worker.of(tenant)] == [2]
    assert at_api.of(tenant) == []  # the API process did not run the pass itself


async def test_without_a_worker_the_api_relay_still_publishes_by_polling(
    backend: Backend,
) -> None:
    """A lost signal, or no worker at all, delays events by a poll; it loses none."""
    settings = _scale_out(backend, relay_poll_seconds=0.2)
    async with open_container(settings) as api:
        tenant = await _tenant(api)
        await record(api, tenant, 3)
        deadline = time.monotonic() + WAIT_SECONDS
        while await count_events(api, tenant, published=False):
            assert time.monotonic() < deadline, "the polling relay never published"
            await asyncio.sleep(0.05)
        published = await count_events(api, tenant, published=True)
        await empty_all_tables(api[DATABASE].engine)
    assert published == 3


async def test_a_busy_relay_lets_the_commits_of_its_window_share_one_pass(
    backend: Backend,
) -> None:
    """After a pass that published, a wake-up waits the window: two commits a moment
    apart are numbered by one pass (one lock, one transaction, one queue round trip)."""
    settings = make_settings(
        backend, relay_poll_seconds=SLOW_POLL_SECONDS, db_pool_timeout=WAIT_SECONDS
    )
    # This test's relay has a long window; the container's own is left out.
    providers = tuple(p for p in PROVIDERS if p is not events.provide_relay)
    async with open_container(settings, providers) as container:
        arrivals = Arrivals()
        container[EVENT_SINKS].add(arrivals)
        relay = Relay(
            container,
            sinks=container[EVENT_SINKS],
            failures=container[FAILURES],
            poll_seconds=SLOW_POLL_SECONDS,
            batch_window_seconds=2.0,
        )
        container[UNITS].on_events_committed(relay.wake)
        tenant = await _tenant(container)
        relay.start()
        try:
            await record(container, tenant, 1)  # an idle relay: published at once
            await _wait_for(arrivals.arrival)
            arrivals.arrival.clear()
            await record(container, tenant, 1)  # wakes the relay, which now waits...
            await asyncio.sleep(0.5)  # (a relay without a window publishes it meanwhile)
            await record(container, tenant, 1)  # ... for this one too
            await _wait_for(arrivals.arrival)
        finally:
            await relay.stop()
            await empty_all_tables(container[DATABASE].engine)

    assert [len(batch) for batch in arrivals.of(tenant)] == [1, 2]
    assert RELAY not in container
