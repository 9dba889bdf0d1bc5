"""A relay pass's deliveries to one endpoint travel as one job (``webhooks.deliver_batch``,
at most ``JOB_BATCH``): one queue round trip, one lease, one outcome transaction, yet
each delivery keeps its own attempt, outcome and retry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI

from orderly.core.jobs import Job
from orderly.core.unit_of_work import UNITS
from orderly.webhooks.flows import JOB_BATCH
from orderly.webhooks.policy import DELIVER_BATCH_JOB, DELIVER_JOB
from tests.support.api import register
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import (
    container_of,
    create_endpoint,
    deliveries,
    event,
    eventually,
    publish,
)

EVENTS = JOB_BATCH + 8


def _spy(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> list[Job]:
    """Every job the app's units of work hand to the queue."""
    jobs = container_of(app)[UNITS].jobs
    queued: list[Job] = []
    original: Callable[..., Awaitable[None]] = jobs.enqueue

    async def enqueue(*batch: Job) -> None:
        queued.extend(batch)
        await original(*batch)

    monkeypatch.setattr(jobs, "enqueue", enqueue)
    return queued


async def test_a_pass_of_many_events_is_one_job_per_endpoint_and_batch(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url)
    receiver.trust(endpoint["secret"])
    receiver.fail_next(500)  # one delivery of the batch fails: it alone is retried
    queued = _spy(app, monkeypatch)

    await publish(app, *(event(owner.tenant_id) for _ in range(EVENTS)))
    got = await receiver.wait_for(EVENTS + 1)

    batches = [job for job in queued if job.name == DELIVER_BATCH_JOB]
    assert [len(job.args["delivery_ids"]) for job in batches] == [JOB_BATCH, EVENTS - JOB_BATCH]
    retries = [job for job in queued if job.name == DELIVER_JOB]
    assert len(retries) == 1
    assert retries[0].delay_seconds > 0
    assert all(request.verified for request in got)
    assert len({request.headers["webhook-id"] for request in got}) == EVENTS
    found: list[dict[str, object]] = []

    async def all_settled() -> bool:
        nonlocal found
        found = await deliveries(client, owner.headers, endpoint["id"], limit="100")
        return all(d["status"] != "pending" for d in found)

    await eventually(all_settled, what="settling every delivery")
    assert len(found) == EVENTS
    assert sorted(int(str(d["attempts"])) for d in found) == [1] * (EVENTS - 1) + [2]
    assert {d["status"] for d in found} == {"succeeded"}
