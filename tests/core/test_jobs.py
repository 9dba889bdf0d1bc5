"""The job engines through the port (SPEC "Jobs and the worker"), on both backends:
embedded, the in-process engine; PostgreSQL + Redis, SAQ with its worker running inside
the test's process (APP_WORKER_IN_PROCESS=true). Same handlers, same answers."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from orderly.app.container import PROVIDERS, Provider, open_container, run_jobs_here
from orderly.config import Settings
from orderly.core.container import Container
from orderly.core.database import DATABASE, new_id
from orderly.core.failures import FAILURES
from orderly.core.jobs import JOBS, Job, JobArgs
from orderly.core.jobs_saq import cron_of, scheduled_at
from orderly.core.unit_of_work import unit_of_work
from orderly.tenants.models import Tenant
from tests.conftest import make_settings
from tests.support.database import empty_all_tables
from tests.support.eventually import eventually
from tests.support.services import Backend, delete_redis_prefix

RECORD = "test.record"
SEES_TENANT = "test.sees_tenant"
FAIL = "test.fail"
TICK = "test.tick"


@dataclass
class Calls:
    """What the test handlers saw, in the order they ran."""

    args: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    ticks: int = 0

    async def record(self, args: JobArgs) -> None:
        self.args.append(dict(args))
        self.times.append(time.time())

    async def tick(self, args: JobArgs) -> None:
        self.ticks += 1


def with_test_jobs(calls: Calls) -> tuple[Provider, ...]:
    async def provide(container: Container, settings: Settings) -> None:
        jobs = container[JOBS]
        jobs.register(RECORD, calls.record)
        jobs.register(FAIL, _fail)

        async def sees_tenant(args: JobArgs) -> None:
            async with unit_of_work(container, write=False) as uow:
                found = await uow.session.scalar(select(Tenant.id).where(Tenant.id == args["id"]))
            await calls.record({"seen": found is not None})

        jobs.register(SEES_TENANT, sees_tenant)
        jobs.register_periodic(TICK, calls.tick, every_seconds=1)

    # Before the runner starts: a SAQ worker knows the functions it was built with.
    return (*(p for p in PROVIDERS if p is not run_jobs_here), provide, run_jobs_here)


def _at_least(calls: Calls, count: int) -> bool:
    return len(calls.args) >= count


async def _fail(args: JobArgs) -> None:
    raise RuntimeError("this job always fails")


@pytest.fixture
def settings(backend: Backend) -> Iterator[Settings]:
    """A queue of the test's own: jobs (and periodic runs) a test leaves behind are not
    taken by the next test's worker, which does not know these handlers."""
    prefix = f"{backend.redis_prefix}{uuid.uuid4().hex[:8]}:"
    yield make_settings(backend, redis_prefix=prefix)
    if backend.redis_url is not None:
        delete_redis_prefix(prefix)


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
async def container(settings: Settings, calls: Calls) -> AsyncIterator[Container]:
    async with open_container(settings, with_test_jobs(calls)) as opened:
        yield opened
        await empty_all_tables(opened[DATABASE].engine)


async def test_a_job_queued_in_a_unit_of_work_runs_once_it_has_committed(
    container: Container, calls: Calls
) -> None:
    tenant_id = new_id("tnt")
    async with unit_of_work(container) as uow:
        uow.session.add(Tenant(id=tenant_id, slug=tenant_id, name="Jobs"))
        await uow.session.flush()
        uow.enqueue_job(SEES_TENANT, id=tenant_id)
    await eventually(lambda: calls.args, "the job ran")
    # It ran in a transaction of its own, and the row of the one that queued it was
    # already there: it was handed over after the commit.
    assert calls.args == [{"seen": True}]


async def test_a_job_queued_in_a_unit_that_rolls_back_never_runs(
    container: Container, calls: Calls
) -> None:

    async def failing_work() -> None:
        async with unit_of_work(container) as uow:
            uow.enqueue_job(RECORD, tag="rolled back")
            raise RuntimeError("the work failed")

    with pytest.raises(RuntimeError):
        await failing_work()
    for count, tag in enumerate(("first", "second"), start=1):
        # Two round trips after it: handed over first, it would have run by now.
        async with unit_of_work(container) as uow:
            uow.enqueue_job(RECORD, tag=tag)
        await eventually(partial(_at_least, calls, count), f"job {tag} ran")
    assert {"tag": "rolled back"} not in calls.args


async def test_a_delayed_job_runs_no_earlier_than_its_delay(
    container: Container, calls: Calls
) -> None:
    sent = time.time()
    await container[JOBS].enqueue(Job(RECORD, {"tag": "late"}, delay_seconds=1.5))
    await eventually(lambda: calls.args, "the delayed job ran")
    # 10 ms for the difference between the event loop's clock and the wall clock.
    assert calls.times[0] - sent >= 1.5 - 0.01


async def test_a_periodic_job_runs_again_and_again(container: Container, calls: Calls) -> None:
    await eventually(lambda: calls.ticks >= 3, "three runs of a job due every second")


async def test_a_failing_job_is_counted(container: Container) -> None:
    await container[JOBS].enqueue(Job(FAIL))
    failures = container[FAILURES]
    await eventually(lambda: failures.counts["job:test.fail"] >= 1, "the failure counted")


async def test_an_unknown_job_is_refused_and_nothing_of_the_batch_is_sent(
    container: Container, calls: Calls
) -> None:
    with pytest.raises(LookupError):
        await container[JOBS].enqueue(Job(RECORD, {"tag": "known"}), Job("no.such.job"))
    await container[JOBS].enqueue(Job(RECORD, {"tag": "after"}))
    await eventually(lambda: calls.args, "the job after ran")
    assert calls.args == [{"tag": "after"}]


async def test_arguments_that_are_not_json_are_refused(container: Container) -> None:
    with pytest.raises(TypeError):
        await container[JOBS].enqueue(Job(RECORD, {"when": object()}))


async def test_a_handler_gets_its_arguments_as_json_gives_them_back(
    container: Container, calls: Calls
) -> None:
    await container[JOBS].enqueue(Job(RECORD, {"ids": ("a", "b"), "n": 1}))
    await eventually(lambda: calls.args, "the job ran")
    assert calls.args == [{"ids": ["a", "b"], "n": 1}]  # a tuple comes back a list


async def test_closing_does_not_wait_for_a_job_due_later(settings: Settings, calls: Calls) -> None:
    started = time.monotonic()
    async with open_container(settings, with_test_jobs(calls)) as opened:
        await opened[JOBS].enqueue(Job(RECORD, {"tag": "in an hour"}, delay_seconds=3600))
    # Generous bound that still proves it: the in-process drain would wait 10 s.
    assert time.monotonic() - started < 8
    assert calls.args == []


@pytest.mark.parametrize(
    ("every_seconds", "cron"),
    [
        (1, "* * * * * */1"),
        (15, "* * * * * */15"),
        (60, "*/1 * * * *"),
        (300, "*/5 * * * *"),
        (3600, "0 */1 * * *"),
        (6 * 3600, "0 */6 * * *"),
        (86400, "0 */24 * * *"),
    ],
)
def test_a_period_becomes_a_cron_expression_on_the_clocks_boundaries(
    every_seconds: int, cron: str
) -> None:
    assert cron_of(every_seconds) == cron


@pytest.mark.parametrize("every_seconds", [0, 0.5, 7, 90, 7 * 60, 5 * 3600, 2 * 86400])
def test_a_period_that_does_not_divide_the_clock_is_refused(every_seconds: float) -> None:
    with pytest.raises(ValueError, match="every_seconds"):
        cron_of(every_seconds)


def test_a_delay_is_rounded_up_to_whole_seconds_never_down() -> None:
    assert scheduled_at(0) == 0
    assert scheduled_at(1.5, now=1000.2) == 1002
    assert scheduled_at(1, now=1000.0) == 1001
