"""The sweep of the SAQ engine (core/jobs_saq.py) against a real Redis: a job whose
worker died is put back, a job a live worker has just taken is not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from saq import Job, Status
from saq.utils import now

from orderly.core.jobs_saq import _WorkerQueue
from tests.support.services import delete_redis_prefix, require_redis


@pytest.fixture
async def queue() -> AsyncIterator[_WorkerQueue]:
    prefix = f"orderly_test_sweep_{uuid.uuid4().hex[:8]}:"
    client = Redis.from_url(require_redis())
    opened = _WorkerQueue(client, name=f"{prefix}jobs")
    try:
        yield opened
    finally:
        await opened.close_connections()
        delete_redis_prefix(prefix)


async def _sweep(queue: _WorkerQueue) -> list[str]:
    await queue.redis.delete(queue.namespace("sweep"))  # the lock of the previous sweep
    return await queue.sweep(lock=60, abort=0.1)


async def _taken(queue: _WorkerQueue, *, heartbeat: int = 0) -> Job:
    """A job moved to the active list, as a worker's dequeue leaves it."""
    await queue.enqueue(Job(function="probe", retries=3, heartbeat=heartbeat))
    job = await queue.dequeue(timeout=1)
    assert job is not None
    return job


async def test_a_job_just_taken_is_not_swept_once_its_worker_marks_it_active(
    queue: _WorkerQueue,
) -> None:
    job = await _taken(queue)
    assert await _sweep(queue) == []  # seen not yet active: only suspected
    job.started, job.attempts = now(), 1
    await job.update(status=Status.ACTIVE)  # what the live worker does a moment later
    assert await _sweep(queue) == []
    assert await queue.count("active") == 1


async def test_a_job_whose_worker_died_before_marking_it_active_is_put_back(
    queue: _WorkerQueue,
) -> None:
    job = await _taken(queue)
    assert await _sweep(queue) == []
    assert await _sweep(queue) == [job.id]  # still not active a sweep later: dead
    assert await queue.count("active") == 0
    assert await queue.count("queued") == 1
    stored = await queue.job(job.key)
    assert stored is not None
    assert stored.status == Status.QUEUED


async def test_a_running_job_whose_heartbeat_stopped_is_put_back(queue: _WorkerQueue) -> None:
    job = await _taken(queue, heartbeat=1)
    job.started, job.attempts = now(), 1
    await job.update(status=Status.ACTIVE)
    stale = await queue.job(job.key)
    assert stale is not None
    stale.touched = now() - 5_000  # its worker's last beat, 5 s ago
    await queue.redis.set(stale.id, queue.serialize(stale))
    assert await _sweep(queue) == [job.id]
    assert await queue.count("queued") == 1
