"""The job-queue port: work that runs later, elsewhere, at least once.

Code asks for a job by name with JSON arguments, through a unit of work
(``uow.enqueue_job``: sent only once the transaction has committed, dropped on
rollback) or directly (``JobQueue.enqueue``) when there is no transaction to wait for.
A domain registers the handlers of its jobs in its ``provide``. A handler opens its own
unit of work and must be idempotent: engines deliver at least once.

Two engines implement the port, and the same handlers run on both:

- ``InProcessJobQueue`` (embedded mode): each job runs as a task of this process
  (``TaskRunner``: held until done, drained at shutdown), periodic jobs as a loop each.
  A failure is logged and counted; there is no retry beyond what the handler does, and
  a job still waiting for its delay when the process stops is dropped (what must
  survive is a row that a periodic sweeper finds again).
- ``core.jobs_saq.SaqJobQueue`` (scale-out mode): SAQ on Redis, run by ``orderly
  worker`` processes (README "Jobs and the worker").

The part of an engine that runs jobs in this process is a ``JobRunner``: started by
the composition root once every domain has registered its handlers, stopped first.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from orderly.core.container import Key
from orderly.core.failures import FailureCounts
from orderly.core.tasks import TaskRunner

JobArgs = Mapping[str, Any]  # JSON values only: a real queue serializes them
JobHandler = Callable[[JobArgs], Coroutine[Any, Any, None]]

logger = structlog.get_logger("orderly.jobs")


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    args: JobArgs = field(default_factory=dict)
    # Run no earlier than this many seconds from now (a retry at a time).
    delay_seconds: float = 0.0


class JobQueue(Protocol):
    def register(self, name: str, handler: JobHandler) -> None:
        """Run ``handler`` for every job called ``name`` (one handler per name)."""
        ...

    def register_periodic(self, name: str, handler: JobHandler, *, every_seconds: float) -> None:
        """Run ``handler`` (no arguments) once per ``every_seconds`` across all workers."""
        ...

    async def enqueue(self, *jobs: Job) -> None:
        """Hand the jobs over; they run later. An unknown name is a ``LookupError``,
        arguments that are not JSON a ``TypeError`` (on every engine)."""
        ...


class JobRunner(Protocol):
    """Runs jobs in this process: started last, once every handler is registered, and
    stopped first (running jobs get the shutdown grace period)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def json_args(args: JobArgs) -> dict[str, Any]:
    """``args`` as a handler on Redis would get them: a JSON round trip, so embedded mode
    refuses what scale-out would, and a handler never shares the caller's objects."""
    copy: dict[str, Any] = json.loads(json.dumps(dict(args)))
    return copy


def failure_kind(name: str) -> str:
    """The ``FailureCounts`` kind of a failed job."""
    return f"job:{name}"


class InProcessJobQueue:
    def __init__(
        self, tasks: TaskRunner, failures: FailureCounts, *, grace_seconds: float = 25.0
    ) -> None:
        self._tasks = tasks
        self._failures = failures
        self._grace_seconds = grace_seconds
        self._handlers: dict[str, JobHandler] = {}
        self._periodic: dict[str, float] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    def register(self, name: str, handler: JobHandler) -> None:
        if name in self._handlers:
            raise ValueError(f"job {name!r} has a handler already")
        self._handlers[name] = handler

    def register_periodic(self, name: str, handler: JobHandler, *, every_seconds: float) -> None:
        if every_seconds <= 0:
            raise ValueError("every_seconds must be positive")
        self.register(name, handler)
        self._periodic[name] = every_seconds

    async def enqueue(self, *jobs: Job) -> None:
        # All known and all JSON, or none is started.
        runs = [(job, self._handler(job.name), json_args(job.args)) for job in jobs]
        for job, handler, args in runs:
            work = self._run_later(job.name, handler, args, job.delay_seconds)
            self._tasks.spawn(f"job:{job.name}", work)

    def _handler(self, name: str) -> JobHandler:
        try:
            return self._handlers[name]
        except KeyError:
            raise LookupError(f"no handler for job {name!r}") from None

    async def _run_later(
        self, name: str, handler: JobHandler, args: JobArgs, delay_seconds: float
    ) -> None:
        if delay_seconds > 0 and await self._stopped_within(delay_seconds):
            # Shutting down: holding the process up for a job due later helps nobody.
            logger.info("delayed_job_dropped_at_shutdown", job=name)
            return
        await self._run(name, handler, args)

    async def _run(self, name: str, handler: JobHandler, args: JobArgs) -> None:
        try:
            await handler(args)
        except Exception as exc:
            self._failures.count(failure_kind(name))
            logger.error("job_failed", job=name, exc_info=exc)

    async def _stopped_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def _every(self, name: str, every_seconds: float) -> None:
        # The first run comes one period after the start, not at it: an app (or a test)
        # that lives a few seconds does not pay for every maintenance job on its way up.
        handler = self._handlers[name]
        while not await self._stopped_within(every_seconds):
            await self._run(name, handler, {})

    async def start(self) -> None:
        self._stopping.clear()
        loop = asyncio.get_running_loop()
        for name, every_seconds in self._periodic.items():
            task = loop.create_task(self._every(name, every_seconds), name=f"periodic:{name}")
            self._loops.append(task)

    async def stop(self) -> None:
        """No new periodic run starts; one that is running gets the grace period."""
        self._stopping.set()
        loops, self._loops = self._loops, []
        if not loops:
            return
        _, late = await asyncio.wait(loops, timeout=self._grace_seconds)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)


JOBS: Key[JobQueue] = Key("jobs")
JOB_RUNNER: Key[JobRunner] = Key("jobs.runner")
