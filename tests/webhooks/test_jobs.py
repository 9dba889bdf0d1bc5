"""The delivery job's guarantees: one sender per delivery (the lease), the SSRF guard
at every delivery against the very address connected to, the sweeper that finds
deliveries whose job was lost, and the purge of old logs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from orderly.config import Settings
from orderly.core.database import DATABASE, new_id, utcnow
from orderly.core.unit_of_work import unit_of_work
from orderly.events.sinks import EVENT_SINKS
from orderly.main import create_app
from orderly.webhooks.flows import DeliveryRun, Sweeper, purge_logs
from orderly.webhooks.models import WebhookAttempt, WebhookDelivery
from orderly.webhooks.policy import WEBHOOK_RESOLVER
from orderly.webhooks.repository import insert_deliveries
from tests.conftest import make_settings
from tests.support.api import register
from tests.support.database import empty_all_tables
from tests.support.parts import part
from tests.support.services import Backend
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import (
    ScriptedResolver,
    attempts,
    container_of,
    create_endpoint,
    deliveries,
    event,
    eventually,
    publish,
    settled,
)


async def _lost_delivery(
    app: FastAPI, tenant_id: str, endpoint_id: str, *, due: datetime, **values: object
) -> str:
    """A pending delivery whose job never ran (a lost queue message): a row, no job."""
    placed = event(tenant_id)
    delivery_id = new_id("dlv")
    row = {
        "id": delivery_id,
        "tenant_id": tenant_id,
        "endpoint_id": endpoint_id,
        "event_id": placed.id,
        "event_type": placed.type,
        "body": json.dumps(placed.as_object()),
        "status": "pending",
        "attempts": 0,
        "scheduled_attempts": 0,
        "next_attempt_at": due,
        "created_at": values.pop("created_at", utcnow()),
        "updated_at": utcnow(),
    } | values
    async with unit_of_work(container_of(app)) as uow:
        await insert_deliveries(uow.session, [row])
    return delivery_id


async def test_two_workers_never_send_one_delivery_at_once(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url)
    receiver.trust(endpoint["secret"])
    delivery_id = await _lost_delivery(app, owner.tenant_id, endpoint["id"], due=utcnow())
    run = DeliveryRun(container_of(app))
    await asyncio.gather(*(run.deliver(delivery_id) for _ in range(4)))
    assert len(receiver.received) == 1
    (delivery,) = await deliveries(client, owner.headers, endpoint["id"])
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 1)
    await run.deliver(delivery_id)  # at-least-once engines run a job twice: a no-op
    assert len(receiver.received) == 1


async def test_the_sweeper_requeues_a_delivery_whose_job_was_lost(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url)
    receiver.trust(endpoint["secret"])
    now = utcnow()
    lost = await _lost_delivery(
        app, owner.tenant_id, endpoint["id"], due=now - timedelta(minutes=2)
    )
    # Neither one whose time has not come, nor one a live worker holds, is touched.
    await _lost_delivery(app, owner.tenant_id, endpoint["id"], due=now + timedelta(minutes=5))
    await _lost_delivery(
        app,
        owner.tenant_id,
        endpoint["id"],
        due=now - timedelta(minutes=2),
        leased_until=now + timedelta(minutes=1),
        lease_token="held-by-a-live-worker",
    )
    sweeper = Sweeper(container_of(app), margin=timedelta(seconds=30))
    assert await sweeper.sweep() == 1
    (got,) = await receiver.wait_for(1)

    async def delivered() -> bool:
        found = {d["id"]: d for d in await deliveries(client, owner.headers, endpoint["id"])}
        return bool(found[lost]["status"] == "succeeded")

    await eventually(delivered, what="the swept delivery")
    assert got.verified


async def test_a_killed_workers_lease_runs_out_and_the_delivery_is_sent(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url)
    receiver.trust(endpoint["secret"])
    now = utcnow()
    delivery_id = await _lost_delivery(
        app,
        owner.tenant_id,
        endpoint["id"],
        due=now - timedelta(minutes=5),
        leased_until=now - timedelta(seconds=1),  # its worker died mid-send
        lease_token="dead-worker",
    )
    sweeper = Sweeper(container_of(app), margin=timedelta(seconds=30))
    assert await sweeper.sweep() == 1
    await receiver.wait_for(1)

    async def sent() -> bool:
        (found,) = await deliveries(client, owner.headers, endpoint["id"])
        return bool(found["id"] == delivery_id and found["status"] == "succeeded")

    await eventually(sent, what="the delivery after the lease ran out")


async def test_old_delivery_logs_are_purged(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url)
    receiver.trust(endpoint["secret"])
    await publish(app, event(owner.tenant_id))
    (recent,) = await settled(client, owner.headers, endpoint["id"])
    old_time = utcnow() - timedelta(days=31)
    old = await _lost_delivery(
        app, owner.tenant_id, endpoint["id"], due=old_time, created_at=old_time,
        status="succeeded",
    )  # fmt: skip
    async with unit_of_work(container_of(app)) as uow:
        uow.session.add(
            WebhookAttempt(
                id=new_id("wha"),
                tenant_id=owner.tenant_id,
                delivery_id=old,
                duration_ms=5,
                response_status=200,
                created_at=old_time,
                updated_at=old_time,
            )
        )
    assert await purge_logs(container_of(app)) == (1, 1)
    kept = await deliveries(client, owner.headers, endpoint["id"])
    assert [d["id"] for d in kept] == [recent["id"]]
    assert len(await attempts(client, owner.headers, endpoint["id"], recent["id"])) == 1


@pytest.fixture
async def guarded_app(backend: Backend) -> AsyncIterator[FastAPI]:
    """The SSRF guard on, as in production, with a resolver the test scripts."""
    settings: Settings = make_settings(
        backend,
        webhook_allow_private_networks=False,
        webhook_retry_schedule="1",
        webhook_timeout_seconds=2,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application
        await empty_all_tables(part(application, DATABASE).engine)


async def test_a_host_that_now_resolves_to_loopback_is_refused_at_delivery(
    guarded_app: FastAPI, receiver: Receiver
) -> None:
    container = container_of(guarded_app)
    container.replace(WEBHOOK_RESOLVER, ScriptedResolver({"hooks.example.test": ["8.8.8.8"]}))
    transport = httpx.ASGITransport(app=guarded_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        owner = await register(client)
        url = f"http://hooks.example.test:{receiver.port}/hook"
        endpoint = await create_endpoint(client, owner.headers, url)  # public at save
        receiver.trust(endpoint["secret"])
        # The DNS answer changes between the save and the delivery (rebinding).
        container.replace(
            WEBHOOK_RESOLVER, ScriptedResolver({"hooks.example.test": ["127.0.0.1"]})
        )
        await publish(guarded_app, event(owner.tenant_id))
        (delivery,) = await settled(client, owner.headers, endpoint["id"])
        log = await attempts(client, owner.headers, endpoint["id"], delivery["id"])
    assert (delivery["status"], delivery["attempts"]) == ("failed", 2)  # schedule "1"
    for attempt in log:
        assert attempt["response_status"] is None
        assert "127.0.0.1, a loopback address" in attempt["error"]
    assert receiver.received == []  # no traffic


async def test_the_delivery_connects_to_the_address_the_guard_checked(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    # "receiver.example.test" exists in no DNS: the request reaches the receiver only
    # because the connection goes to the checked (scripted) address, with the URL's
    # host kept in the Host header.
    container = container_of(app)
    container.replace(WEBHOOK_RESOLVER, ScriptedResolver({"receiver.example.test": ["127.0.0.1"]}))
    owner = await register(client)
    url = f"http://receiver.example.test:{receiver.port}/hook"
    endpoint = await create_endpoint(client, owner.headers, url)
    receiver.trust(endpoint["secret"])
    await publish(app, event(owner.tenant_id))
    (got,) = await receiver.wait_for(1)
    assert got.verified
    assert got.headers["host"] == f"receiver.example.test:{receiver.port}"


async def test_deliveries_exist_only_if_the_events_are_published(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url)
    receiver.trust(endpoint["secret"])
    container = container_of(app)

    class RelayFailedError(Exception):
        pass

    async def publish_then_fail() -> None:
        async with unit_of_work(container) as uow:
            for sink in container[EVENT_SINKS]:
                await sink(uow, [event(owner.tenant_id)])
            raise RelayFailedError

    with pytest.raises(RelayFailedError):
        await publish_then_fail()
    async with part(app, DATABASE).session(write=False) as session:
        count = (await session.execute(select(func.count()).select_from(WebhookDelivery))).scalar()
    assert count == 0


async def test_a_disabled_endpoints_pending_delivery_is_not_sent(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url)
    receiver.trust(endpoint["secret"])
    delivery_id = await _lost_delivery(app, owner.tenant_id, endpoint["id"], due=utcnow())
    await client.patch(
        f"/api/v1/webhooks/{endpoint['id']}", headers=owner.headers, json={"enabled": False}
    )
    await DeliveryRun(container_of(app)).deliver(delivery_id)
    (delivery,) = await deliveries(client, owner.headers, endpoint["id"])
    assert delivery["status"] == "failed"
    assert receiver.received == []
