"""One transaction, and what must happen once it has committed.

Every caller opens a unit of work the same way, with the principal it acts for (None
for anonymous work: a sign-up, a CLI command, a system job)::

    async with unit_of_work(container, principal) as uow:
        await SomeService(uow, container).do_something()

The request dependency (``core.dependencies.service``), a CLI command, a job handler
and tomorrow's GraphQL context or WebSocket handler all do exactly this. On a clean
exit the unit commits; on an exception it rolls back, unless the error is an
``AppError`` with ``persist_changes`` (a stolen refresh token's revocation must stick
although the request fails).

It holds:

- the ``session`` (services flush; only ``commit`` here commits: a test scans the code);
- the ``principal``;
- ``record_event``: the outbox row, written in this transaction (``core.outbox``);
  once it has committed, the ``on_events_committed`` listeners are told (the relay);
- work for after the commit, dropped on rollback: ``mark_changed`` (cached reads of a
  tenant's namespace go stale), ``after_commit(action)`` (say, evict a revoked key from
  every process) and ``enqueue_job`` (handed to the job queue). Done before the commit,
  a concurrent reader could cache the old rows again; done after a rollback, wrong.

Work after the commit is best-effort. The change is committed and the caller is told
so: a failure there is counted and logged (``core.failures``, kind ``after_commit``)
and never raised. What heals it: the response cache retries a failed invalidation
until its entries have expired anyway, evictions fall back on the in-process caches'
short TTL, session revocations are restored from the database, and anything that must
not be lost is a row in this transaction (the outbox), not a message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from types import TracebackType
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from orderly.core.container import Container, Key
from orderly.core.database import Database
from orderly.core.errors import AppError
from orderly.core.failures import FailureCounts
from orderly.core.identity import Principal
from orderly.core.jobs import Job, JobQueue
from orderly.core.outbox import Outbox, OutboxRow
from orderly.core.response_cache import ResponseCache

AfterCommit = Callable[[], Awaitable[object]]
# Told, without arguments and without I/O, that a unit which recorded events committed.
EventsCommitted = Callable[[], None]


class UnitsOfWork:
    """Opens units of work; one per container, holding what every unit shares."""

    def __init__(
        self,
        database: Database,
        *,
        cache: ResponseCache,
        outbox: Outbox,
        jobs: JobQueue,
        failures: FailureCounts,
    ) -> None:
        self.database = database
        self.cache = cache
        self.outbox = outbox
        self.jobs = jobs
        self.failures = failures
        self._events_committed: list[EventsCommitted] = []

    def on_events_committed(self, listener: EventsCommitted) -> None:
        """Call ``listener`` whenever a unit that recorded events has committed: the
        relay of this process wakes on it (a flag set, no I/O on the request path)."""
        self._events_committed.append(listener)

    def events_committed(self) -> None:
        for listener in self._events_committed:
            try:
                listener()
            except Exception as exc:  # committed: a listener's bug is not the caller's
                self.failures.record("after_commit", exc, work="events_committed")

    def open(self, principal: Principal | None = None, *, write: bool = True) -> UnitOfWork:
        """A unit for ``principal``; a read unit (``write=False``) refuses writes and, on
        PostgreSQL, runs without a transaction (``Database``)."""
        return UnitOfWork(self, self.database.session(write=write), principal)

    async def run_after_commit(self, what: str, action: AfterCommit) -> None:
        """Never raises: the transaction is committed, and turning that success into an
        error would make the client retry what is already done."""
        try:
            await action()
        except Exception as exc:
            self.failures.record("after_commit", exc, work=what)


UNITS: Key[UnitsOfWork] = Key("units_of_work")


def unit_of_work(
    container: Container, principal: Principal | None = None, *, write: bool = True
) -> UnitOfWork:
    """The one way to open a unit of work: ``async with unit_of_work(c, p) as uow``."""
    return container[UNITS].open(principal, write=write)


class NoPrincipalError(RuntimeError):
    """Work that needs a caller was opened without one: a bug, not bad input."""


class UnitOfWork:
    __slots__ = ("_actions", "_changed", "_events", "_jobs", "_principal", "_units", "session")

    def __init__(
        self, units: UnitsOfWork, session: AsyncSession, principal: Principal | None
    ) -> None:
        self._units = units
        self.session = session
        self._principal = principal
        # Created on first use: most units (every read) have nothing to do after commit.
        self._changed: set[tuple[str, str]] | None = None
        self._actions: list[tuple[str, AfterCommit]] | None = None
        self._jobs: list[Job] | None = None
        self._events = False

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            raise NoPrincipalError("this unit of work acts for no principal")
        return self._principal

    @property
    def caller(self) -> Principal | None:
        """The principal, or None for anonymous work."""
        return self._principal

    async def record_event(
        self, event_type: str, *, tenant_id: str, subject_id: str, payload: BaseModel
    ) -> None:
        """Write the outbox row of a change made in this unit (same transaction)."""
        self._events = True
        await self._units.outbox.record(
            self.session,
            tenant_id=tenant_id,
            event_type=str(event_type),
            subject_id=subject_id,
            payload=payload,
        )

    def event_row(
        self, event_type: str, *, tenant_id: str, subject_id: str, payload: BaseModel
    ) -> OutboxRow:
        """The outbox row of a change, for a repository that writes it in the same
        statement as the change (in this unit's transaction: a rollback drops both)."""
        self._events = True
        return self._units.outbox.row(
            tenant_id=tenant_id, event_type=str(event_type), subject_id=subject_id, payload=payload
        )

    def mark_changed(self, namespace: str, tenant_id: str) -> None:
        """Cached reads of ``namespace`` for this tenant are stale once this commits."""
        if self._changed is None:
            self._changed = set()
        self._changed.add((namespace, tenant_id))

    def after_commit(self, action: AfterCommit, *, name: str) -> None:
        """Run ``action`` once this unit has committed (never if it rolls back)."""
        if self._actions is None:
            self._actions = []
        self._actions.append((name, action))

    def enqueue_job(self, name: str, /, **args: Any) -> None:
        """Queue job ``name`` with JSON ``args`` once this unit has committed (``name``
        is positional-only, so a job may take an argument called ``name``)."""
        self.enqueue(Job(name, args))

    def enqueue(self, job: Job) -> None:
        """Queue ``job`` (say, one with a ``delay_seconds``) once this unit has committed."""
        if self._jobs is None:
            self._jobs = []
        self._jobs.append(job)

    async def commit(self) -> None:
        """Commit (if anything was done), then the work that waited for it."""
        if self.session.in_transaction():
            await self.session.commit()
        if self._events:
            self._events = False
            self._units.events_committed()
        if self._changed is None and self._actions is None and self._jobs is None:
            return
        changed, actions, jobs = self._changed or set(), self._actions or [], self._jobs or []
        self._changed = self._actions = self._jobs = None
        units = self._units
        for namespace, tenant_id in changed:
            invalidate = partial(units.cache.invalidate, namespace, tenant_id)
            await units.run_after_commit(f"invalidate:{namespace}", invalidate)
        for name, action in actions:
            await units.run_after_commit(name, action)
        if jobs:
            await units.run_after_commit("enqueue_jobs", partial(units.jobs.enqueue, *jobs))

    async def rollback(self) -> None:
        """Undo the transaction and forget the work that was waiting for its commit."""
        self._changed = self._actions = self._jobs = None
        self._events = False
        if self.session.in_transaction():
            await self.session.rollback()

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc is None or (isinstance(exc, AppError) and exc.persist_changes):
                await self.commit()
            else:
                await self.rollback()
        finally:
            # Commit and rollback already gave the connection back. Closing a session
            # that holds none only clears its identity map (garbage anyway) at the
            # price of a greenlet round trip.
            if self.session.in_transaction():
                await self.session.close()
