"""The job-queue port: work that runs later, elsewhere, at least once.

Code asks for a job by name with JSON arguments, through a unit of work
(``uow.enqueue_job``: sent only once the transaction has committed, dropped on
rollback) or directly (``JobQueue.enqueue``) when there is no transaction to wait for.
A domain registers the handlers of its jobs in its ``provide``. A handler opens its own
unit of work and must be idempotent: engines deliver at least once.

``InProcessJobQueue`` is today's engine: each job runs as a task of this process
(``TaskRunner``: held until done, failures logged, drained at shutdown). A job engine
on Redis (a later issue) implements the same port, so callers and handlers do not
change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from orderly.core.container import Key
from orderly.core.tasks import TaskRunner

JobArgs = Mapping[str, Any]  # JSON values only: a real queue serializes them
JobHandler = Callable[[JobArgs], Coroutine[Any, Any, None]]


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
        """Hand the jobs over; they run later. An unknown name is a ``LookupError``."""
        ...


class InProcessJobQueue:
    def __init__(self, tasks: TaskRunner) -> None:
        self._tasks = tasks
        self._handlers: dict[str, JobHandler] = {}
        self._periodic: dict[str, float] = {}

    def register(self, name: str, handler: JobHandler) -> None:
        if name in self._handlers:
            raise ValueError(f"job {name!r} has a handler already")
        self._handlers[name] = handler

    def register_periodic(self, name: str, handler: JobHandler, *, every_seconds: float) -> None:
        # Placeholder until the job-engine work: kept, not yet scheduled.
        self.register(name, handler)
        self._periodic[name] = every_seconds

    async def enqueue(self, *jobs: Job) -> None:
        handlers = [(job, self._handler(job.name)) for job in jobs]  # all known, or none
        for job, handler in handlers:
            self._tasks.spawn(f"job:{job.name}", _after(job.delay_seconds, handler(job.args)))

    def _handler(self, name: str) -> JobHandler:
        try:
            return self._handlers[name]
        except KeyError:
            raise LookupError(f"no handler for job {name!r}") from None


async def _after(delay_seconds: float, work: Coroutine[Any, Any, None]) -> None:
    if delay_seconds > 0:
        await asyncio.sleep(delay_seconds)
    await work


JOBS: Key[JobQueue] = Key("jobs")
