"""The relay: committed outbox rows become numbered events, handed to every sink.

One pass (``Relay.publish_once``), in one unit of work:

1. take the relay lock (below);
2. read the committed rows with ``seq IS NULL``, in id order, at most a batch;
3. give each the next ``seq`` of its tenant (``event_counters``), a public id
   ("evt_…") and ``published_at``, and store them with the new counters;
4. call every sink of ``EVENT_SINKS`` with the batch, in this same unit: a sink writes
   its rows (webhook deliveries) or queues its jobs in the transaction that publishes;
5. commit. A sink that raises rolls the whole batch back: nothing of it is published,
   the failure is counted and logged, and the batch is tried again after a backoff.

Why ``seq`` grows in commit order. An outbox row's ``id`` is taken at INSERT, and
concurrent transactions commit out of id order; a number handed out inside them would
let a reader see 7 before 6 commits, move on, and never see 6. Here numbers are handed
out only to rows that have already committed, and by one relay at a time: a pass takes
the lock first, so it starts after the previous pass has committed (and released the
lock), reads the counters that pass wrote, and gives strictly greater numbers. So the
passes commit in the order of their numbers, and a pass's numbers become visible
together, in its one commit. A reader who has seen ``seq`` N has seen the commit of the
pass that published N, hence of every earlier pass: every smaller number is already
visible to it, and anything published later is greater than N. Reading ``seq > N``
again never misses an event. (On PostgreSQL the lock is released after the commit is
visible to new snapshots; on SQLite a transaction is one snapshot and writers are
serialized.)

The relay lock:

- PostgreSQL: ``pg_advisory_xact_lock`` on one key, held until the pass commits or
  rolls back, across every process on the database (advisory locks are per database).
  Rather than ``SELECT … FOR UPDATE SKIP LOCKED`` on the counter rows: that would let
  relays publish different tenants in parallel, but the rows to publish are only known
  after reading them, a tenant's first counter row does not exist yet to be locked, and
  both relays would still have to skip each other's event rows. One pass numbers
  hundreds of events in a few milliseconds, so one relay at a time is enough, and the
  argument above stays one paragraph long. A waiting relay blocks (it does not skip):
  when it gets the lock it sees everything committed before, including what woke it.
- SQLite: the write transaction (``BEGIN IMMEDIATE``) already serializes every writer
  of the file, across processes too; an ``asyncio.Lock`` keeps this process's passes
  from queuing on the busy timeout.

When it runs: a unit of work that recorded events wakes this process's relay as it
commits (``UnitsOfWork.on_events_committed``: an ``asyncio.Event`` set, no I/O on the
request path), so an idle relay publishes within milliseconds. Under load a pass
numbers many orders: a wake-up that comes after a pass that published something waits
``BATCH_WINDOW_SECONDS`` first, so the commits of that window share one pass (one
lock, one transaction, one commit, one queue round trip) instead of a pass each. In
scale-out with ``orderly worker`` the API processes do not run passes on their commits
at all: they signal the workers' relays through Redis (``wakeups.py``). Commits in
other processes are otherwise found by polling every ``poll_seconds``
(``APP_RELAY_POLL_SECONDS``). A full batch is followed at once by the next. A failure
(a sink, the database) backs off exponentially up to ``MAX_BACKOFF_SECONDS``; the loop
never ends but on ``stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sqlalchemy import Row, text

from orderly.core.container import Container, Key
from orderly.core.database import new_id, utcnow
from orderly.core.failures import FailureCounts
from orderly.core.unit_of_work import UnitOfWork, unit_of_work
from orderly.events.models import PUBLIC_ID_PREFIX
from orderly.events.repository import EventRepository
from orderly.events.sinks import EventSinks, PublishedEvent

BATCH_SIZE = 500
# A busy relay waits this long after a wake-up before its pass (see the docstring).
BATCH_WINDOW_SECONDS = 0.025
FIRST_BACKOFF_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 10.0
STOP_GRACE_SECONDS = 5.0
# One key for every relay of a database: b"ordrelay" as a signed 64-bit integer.
RELAY_LOCK_KEY = int.from_bytes(b"ordrelay", "big")
_RELAY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
# Execution option on the relay's connection: its statements are background work
# (tests that count a request's statements leave them out).
BACKGROUND = "orderly_background"


class Relay:
    def __init__(
        self,
        container: Container,
        *,
        sinks: EventSinks,
        failures: FailureCounts,
        poll_seconds: float,
        batch_size: int = BATCH_SIZE,
        batch_window_seconds: float = BATCH_WINDOW_SECONDS,
    ) -> None:
        self._container = container
        self._sinks = sinks
        self._failures = failures
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._batch_window = batch_window_seconds
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Publish soon: a unit of work in this process committed events."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="event-relay")

    async def stop(self) -> None:
        """Let the pass under way finish (bounded), then end the loop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        self._wake.set()
        done, _ = await asyncio.wait([task], timeout=STOP_GRACE_SECONDS)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def publish_once(self) -> int:
        """One pass: number and hand over at most a batch; how many were published."""
        async with self._lock, unit_of_work(self._container) as uow:
            await self._take_relay_lock(uow)
            events = await self._number_batch(EventRepository(uow.session))
            if events:
                for sink in self._sinks:
                    await sink(uow, events)
        return len(events)

    async def _run(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            # Cleared before the pass: a commit during it sets it again, so the events
            # that pass could not see are published by the next one, without a poll.
            self._wake.clear()
            try:
                published = await self.publish_once()
            except Exception as exc:
                self._failures.record("relay", exc, work="publish")
                backoff = min(max(2 * backoff, FIRST_BACKOFF_SECONDS), MAX_BACKOFF_SECONDS)
                # Not woken by commits: a failing database or sink is not retried faster
                # because more events arrive.
                await _wait(self._stop, backoff)
                continue
            backoff = 0.0
            if published >= self._batch_size:
                continue
            await _wait(self._wake, self._poll_seconds)
            if published and self._wake.is_set() and self._batch_window > 0:
                # Busy: the commits of the next few milliseconds join this wake-up's pass.
                await _wait(self._stop, self._batch_window)

    async def _take_relay_lock(self, uow: UnitOfWork) -> None:
        connection = await uow.session.connection(execution_options={BACKGROUND: True})
        if connection.dialect.name == "postgresql":
            await uow.session.execute(_RELAY_LOCK, {"key": RELAY_LOCK_KEY})

    async def _number_batch(self, events: EventRepository) -> list[PublishedEvent]:
        rows = await events.unpublished(self._batch_size)
        if not rows:
            return []
        tenants = sorted({row.tenant_id for row in rows})
        known = await events.last_seqs(tenants)
        last = dict(known)
        published = [_numbered(row, last) for row in rows]
        await events.mark_published([row.id for row in rows], published, utcnow())
        await events.save_last_seqs(last, known=set(known))
        return published


def _numbered(row: Row[Any], last: dict[str, int]) -> PublishedEvent:
    """``row`` as an event with its tenant's next ``seq`` (``last`` is updated)."""
    seq = last.get(row.tenant_id, 0) + 1
    last[row.tenant_id] = seq
    return PublishedEvent(
        id=new_id(PUBLIC_ID_PREFIX),
        seq=seq,
        tenant_id=row.tenant_id,
        type=row.type,
        subject_id=row.subject_id,
        created_at=row.created_at,
        data=row.payload,
    )


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)


RELAY: Key[Relay] = Key("event_relay")
