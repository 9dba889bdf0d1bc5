"""The relay numbers committed events per tenant in commit order and hands them to the
sinks in its own transaction; it is woken by commits, survives a failing sink, and on
PostgreSQL two relays never give the same number.

The relay polls every 30 s here: whatever reaches a sink sooner was woken by a commit.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI

from orderly.app import open_container
from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.database import DATABASE
from orderly.core.failures import FAILURES
from orderly.core.unit_of_work import UNITS, UnitOfWork, unit_of_work
from orderly.events.relay import RELAY, Relay
from orderly.events.sinks import EVENT_SINKS, PublishedEvent
from orderly.tenants.service import TenantService
from tests.conftest import make_settings
from tests.events.helpers import (
    WAIT_SECONDS,
    all_published,
    container_of,
    count_events,
    published_after,
    record,
    wait_until_published,
)
from tests.support.api import add_item, place_order, register
from tests.support.database import empty_all_tables
from tests.support.services import Backend

POOL_SIZE = 10
IN_FLIGHT = 50
ORDERS = 1000
SLOW_POLL_SECONDS = 30.0


@pytest.fixture
def settings(backend: Backend) -> Settings:
    # The pool and its waits are explicit: these tests check rules, not the machine.
    return make_settings(
        backend,
        relay_poll_seconds=SLOW_POLL_SECONDS,
        db_pool_size=POOL_SIZE,
        db_max_overflow=0,
        db_pool_timeout=WAIT_SECONDS,
        sqlite_busy_timeout_ms=int(WAIT_SECONDS * 1000),
        redis_pool_timeout=WAIT_SECONDS,
    )


@dataclass
class RecordingSink:
    """A sink that keeps what it was given (and what of it committed), when, and can
    fail its first calls."""

    fail_first: int = 0
    calls: list[list[PublishedEvent]] = field(default_factory=list)
    committed: list[PublishedEvent] = field(default_factory=list)
    arrived_at: dict[str, float] = field(default_factory=dict)  # subject_id -> monotonic
    arrival: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, uow: UnitOfWork, events: Sequence[PublishedEvent]) -> None:
        self.calls.append(list(events))
        now = time.monotonic()
        for event in events:
            self.arrived_at.setdefault(event.subject_id, now)
        if len(self.calls) <= self.fail_first:
            raise RuntimeError("the sink is down")
        self.arrival.set()

        async def keep() -> None:
            self.committed.extend(events)

        uow.after_commit(keep, name="recording_sink")

    @property
    def seqs(self) -> list[int]:
        """The numbers of the events this sink saw published (committed)."""
        return [event.seq for event in self.committed]


async def at_most_in_flight(calls: list[Callable[[], Awaitable[httpx.Response]]]) -> list[int]:
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(call: Callable[[], Awaitable[httpx.Response]]) -> int:
        async with gate:
            return (await call()).status_code

    return await asyncio.gather(*(one(call) for call in calls))


async def follow(
    container: Container, tenant_id: str, done: asyncio.Event
) -> tuple[list[int], int]:
    """A consumer: reads ``seq > last seen`` again and again until ``done`` is set and
    a read that started after it found nothing more. Returns every seq it saw, in the
    order it saw them, and how many it saw before ``done``."""
    seen: list[int] = []
    before_done = 0
    while True:
        finished = done.is_set()
        batch = await published_after(container, tenant_id, seen[-1] if seen else 0, 200)
        seen.extend(event.seq for event in batch)
        if not finished:
            before_done += len(batch)
        elif not batch:
            return seen, before_done
        if not batch:
            await asyncio.sleep(0.01)  # nothing new: let the writers have the database


async def test_a_reader_following_seq_misses_nothing_while_a_thousand_orders_are_placed(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    container = container_of(app)
    owner = await register(client)
    item = await add_item(client, owner.headers, stock=ORDERS)
    done = asyncio.Event()
    reader = asyncio.create_task(follow(container, owner.tenant_id, done))
    try:
        statuses = await at_most_in_flight(
            [lambda: place_order(client, owner.headers, [(item["id"], 1)])] * ORDERS
        )
        await wait_until_published(container, owner.tenant_id)
        done.set()
        seen, before_done = await asyncio.wait_for(reader, WAIT_SECONDS)
    finally:
        reader.cancel()

    assert Counter(statuses) == {201: ORDERS}
    total = await count_events(container, owner.tenant_id, published=None)
    # Each event seen exactly once, in seq order, with no gap: a reader never moved
    # past a number that became visible only later.
    assert seen == list(range(1, total + 1))
    events = await all_published(container, owner.tenant_id)
    assert Counter(event.type for event in events)["order.created"] == ORDERS
    assert len({event.id for event in events}) == total
    assert all(event.id.startswith("evt_") for event in events)
    # The reader really ran alongside the orders, not only after them.
    assert before_done > 0


async def test_two_tenants_count_their_events_independently(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    container = container_of(app)
    first, second = await register(client, "First"), await register(client, "Second")
    for _ in range(3):
        await add_item(client, first.headers)
        await add_item(client, second.headers)
    await add_item(client, first.headers)
    await wait_until_published(container, first.tenant_id)
    await wait_until_published(container, second.tenant_id)

    firsts = await all_published(container, first.tenant_id)
    seconds = await all_published(container, second.tenant_id)
    assert [event.seq for event in firsts] == list(range(1, len(firsts) + 1))
    assert [event.seq for event in seconds] == list(range(1, len(seconds) + 1))
    assert len(firsts) == len(seconds) + 1
    assert {event.tenant_id for event in firsts} == {first.tenant_id}


async def test_a_commit_wakes_the_relay_and_the_event_reaches_a_sink_within_a_second(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    container = container_of(app)
    owner = await register(client)
    item = await add_item(client, owner.headers, stock=5)
    await wait_until_published(container, owner.tenant_id)  # idle from here on
    sink = RecordingSink()
    container[EVENT_SINKS].add(sink)
    committed_at: list[float] = []
    container[UNITS].on_events_committed(lambda: committed_at.append(time.monotonic()))

    response = await place_order(client, owner.headers, [(item["id"], 1)])
    assert response.status_code == 201
    await asyncio.wait_for(sink.arrival.wait(), WAIT_SECONDS)

    order_id = response.json()["id"]
    assert [e.type for e in sink.calls[0] if e.subject_id == order_id] == ["order.created"]
    # The relay polls every 30 s: only the wake-up explains an arrival this soon.
    assert sink.arrived_at[order_id] - committed_at[0] < 1.0


async def test_a_failing_sink_rolls_its_batch_back_and_the_retry_publishes_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    container = container_of(app)
    owner = await register(client)
    await wait_until_published(container, owner.tenant_id)
    before = await count_events(container, owner.tenant_id, published=True)
    sink = RecordingSink(fail_first=1)
    container[EVENT_SINKS].add(sink)

    await add_item(client, owner.headers)
    await asyncio.wait_for(sink.arrival.wait(), WAIT_SECONDS)
    await wait_until_published(container, owner.tenant_id)

    failed, retried = sink.calls[0], sink.calls[1]
    published = await all_published(container, owner.tenant_id)
    # The retry numbered the same events from the same counter: the failed attempt
    # left neither a number nor a counter behind.
    assert [(e.seq, e.type, e.subject_id) for e in failed] == [
        (e.seq, e.type, e.subject_id) for e in retried
    ]
    assert [e.seq for e in failed] == list(range(before + 1, before + len(failed) + 1))
    # What is published is the retry's batch; no id of the failed attempt survived.
    assert [e.id for e in published[before:]] == [e.id for e in retried]
    assert not {e.id for e in failed} & {e.id for e in published}
    assert container[FAILURES].counts["relay"] == 1


async def test_a_sink_that_keeps_failing_is_retried_with_backoff_by_a_loop_that_survives(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The same path as a database that is down: every failure waits longer (0.2 s,
    0.4 s, 0.8 s...), new commits do not hurry it, and the loop goes on."""
    container = container_of(app)
    owner = await register(client)
    await wait_until_published(container, owner.tenant_id)
    sink = RecordingSink(fail_first=1_000_000)
    container[EVENT_SINKS].add(sink)

    await add_item(client, owner.headers)
    await add_item(client, owner.headers)  # a commit during the backoff: no extra try
    await asyncio.sleep(2.0)  # an observation window, not a wait for an outcome
    attempts = len(sink.calls)
    sink.fail_first = 0
    await wait_until_published(container, owner.tenant_id)

    # Tries start 0, 0.2, 0.6 and 1.4 s after the first failure; a tight loop would
    # have made thousands. Timers never fire early, so the upper bound cannot flake.
    assert 2 <= attempts <= 5
    assert container[FAILURES].counts["relay"] == attempts
    assert len(sink.committed) == 2


async def _tenant(container: Container) -> str:
    async with unit_of_work(container) as uow:
        return (await TenantService(uow, container).create("Shared")).id


async def test_two_relays_on_one_postgresql_database_never_give_the_same_seq(
    backend: Backend,
) -> None:
    """Two processes' relays (two containers) publish one backlog in batches of three,
    at the same time: each waits for the other's lock, so they take turns."""
    if backend.name != "postgres":
        pytest.skip("SQLite serves one process: its writers are serialized by the file")
    settings = make_settings(
        backend, db_pool_timeout=WAIT_SECONDS, db_pool_size=POOL_SIZE, redis_pool_timeout=30
    )
    async with open_container(settings) as one, open_container(settings) as two:
        relays, sinks = [], []
        for container in (one, two):
            await container[RELAY].stop()  # replaced by one with small batches
            sinks.append(RecordingSink())
            container[EVENT_SINKS].add(sinks[-1])
            relays.append(
                Relay(
                    container,
                    sinks=container[EVENT_SINKS],
                    failures=container[FAILURES],
                    poll_seconds=SLOW_POLL_SECONDS,
                    batch_size=3,
                )
            )
        tenant = await _tenant(one)
        await asyncio.gather(*(record(c, tenant, 2) for _ in range(100) for c in (one, two)))

        async def drain(relay: Relay) -> None:
            while await relay.publish_once():
                pass

        await asyncio.gather(*(drain(relay) for relay in relays))
        total = await count_events(one, tenant, published=None)
        unpublished = await count_events(one, tenant, published=False)
        await empty_all_tables(one[DATABASE].engine)

    first, second = sinks[0].seqs, sinks[1].seqs
    assert (total, unpublished) == (400, 0)
    assert not set(first) & set(second)
    assert sorted(first + second) == list(range(1, total + 1))
    # Each relay published some: the two really raced for the numbers.
    assert first
    assert second
