"""Deliveries to a real receiver (uvicorn on 127.0.0.1) that verifies every request
with the ``standardwebhooks`` library. Events are handed to the sinks as the relay
hands them (``support.publish``)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from orderly.core.database import DATABASE
from orderly.events.models import Event
from orderly.webhooks.models import WebhookEndpoint
from tests.support.api import register
from tests.support.parts import part
from tests.webhooks.conftest import TIMEOUT_SECONDS
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import (
    attempts,
    create_endpoint,
    deliveries,
    event,
    eventually,
    publish,
    settled,
)


async def _set(app: FastAPI, endpoint_id: str, **values: object) -> None:
    async with part(app, DATABASE).session(write=True) as session:
        await session.execute(
            update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(**values)
        )
        await session.commit()


async def test_an_event_arrives_signed_with_the_standard_headers(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url, ["order.*"])
    receiver.trust(endpoint["secret"])
    placed = event(owner.tenant_id, "order.created")
    await publish(app, placed)
    (got,) = await receiver.wait_for(1)
    assert got.verified
    assert got.headers["webhook-id"] == placed.id
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"].startswith("Orderly-Webhooks/")
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 60
    assert got.headers["webhook-signature"].startswith("v1,")
    assert json.loads(got.body) == placed.as_object()
    (delivery,) = await settled(client, owner.headers, endpoint["id"])
    assert delivery["status"] == "succeeded"
    assert (delivery["event_id"], delivery["event_type"]) == (placed.id, "order.created")
    assert delivery["attempts"] == 1
    assert delivery["last_attempt"]["response_status"] == 200
    assert delivery["next_attempt_at"] is None


async def test_each_endpoint_gets_the_types_its_filters_match(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    filters = {"orders": ["order.*"], "low": ["item.stock_low"], "all": ["*"]}
    endpoints = {
        name: await create_endpoint(client, owner.headers, f"{receiver.url}/{name}", types)
        for name, types in filters.items()
    }
    off = await create_endpoint(client, owner.headers, f"{receiver.url}/off", ["*"])
    await client.patch(
        f"/api/v1/webhooks/{off['id']}", headers=owner.headers, json={"enabled": False}
    )
    receiver.trust(*(e["secret"] for e in endpoints.values()), off["secret"])
    other_tenant = await register(client, "Other")
    await publish(
        app,
        event(owner.tenant_id, "order.created"),
        event(owner.tenant_id, "item.stock_low"),
        event(owner.tenant_id, "item.created"),
        event(other_tenant.tenant_id, "order.created"),
    )
    got = await receiver.wait_for(5)
    await settled(client, owner.headers, endpoints["all"]["id"], count=3)
    by_path: dict[str, list[str]] = {}
    for request in receiver.received:
        assert request.verified
        by_path.setdefault(request.path, []).append(json.loads(request.body)["type"])
    assert len(got) == 5
    assert sorted(by_path) == ["/hook/all", "/hook/low", "/hook/orders"]
    assert by_path["/hook/orders"] == ["order.created"]
    assert by_path["/hook/low"] == ["item.stock_low"]
    assert sorted(by_path["/hook/all"]) == ["item.created", "item.stock_low", "order.created"]
    assert await deliveries(client, owner.headers, off["id"]) == []


async def test_a_500_then_a_200_sends_the_same_webhook_id_twice(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url)
    receiver.trust(endpoint["secret"])
    receiver.fail_next(500)
    placed = event(owner.tenant_id)
    await publish(app, placed)
    first, second = await receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == placed.id
    assert first.body == second.body
    (delivery,) = await settled(client, owner.headers, endpoint["id"])
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 2)
    log = await attempts(client, owner.headers, endpoint["id"], delivery["id"])
    assert [a["response_status"] for a in log] == [200, 500]  # newest first
    assert log[1]["error"] == "HTTP 500"
    assert log[0]["error"] is None
    assert all(a["duration_ms"] >= 0 for a in log)
    succeeded = await deliveries(client, owner.headers, endpoint["id"], status="succeeded")
    assert [d["id"] for d in succeeded] == [delivery["id"]]
    assert await deliveries(client, owner.headers, endpoint["id"], status="failed") == []
    assert await deliveries(client, owner.headers, endpoint["id"], event_type="item.created") == []


async def test_a_delivery_fails_for_good_after_the_schedule_and_recover_sends_it_again(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url)
    receiver.trust(endpoint["secret"])
    receiver.fail_next(503, times=4)  # the first try and the schedule's three retries
    before = datetime.now(UTC) - timedelta(seconds=1)
    await publish(app, event(owner.tenant_id))
    (failed,) = await settled(client, owner.headers, endpoint["id"], within_seconds=20)
    assert (failed["status"], failed["attempts"]) == ("failed", 4)
    assert failed["next_attempt_at"] is None
    assert len(receiver.received) == 4
    response = await client.post(
        f"/api/v1/webhooks/{endpoint['id']}/recover",
        headers=owner.headers,
        json={"since": before.isoformat()},
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"count": 1}
    await receiver.wait_for(5)
    (recovered,) = await settled(client, owner.headers, endpoint["id"])
    assert (recovered["status"], recovered["attempts"]) == ("succeeded", 5)
    later = await client.post(
        f"/api/v1/webhooks/{endpoint['id']}/recover",
        headers=owner.headers,
        json={"since": before.isoformat()},
    )
    assert later.json() == {"count": 0}


async def test_redeliver_sends_a_delivery_again(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url)
    receiver.trust(endpoint["secret"])
    await publish(app, event(owner.tenant_id))
    (delivery,) = await settled(client, owner.headers, endpoint["id"])
    response = await client.post(
        f"/api/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/redeliver",
        headers=owner.headers,
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    first, second = await receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]

    async def two_attempts() -> bool:
        (current,) = await deliveries(client, owner.headers, endpoint["id"])
        return bool(current["status"] == "succeeded" and current["attempts"] == 2)

    await eventually(two_attempts, what="the second attempt")
    unknown = await client.post(
        f"/api/v1/webhooks/{endpoint['id']}/deliveries/dlv_{'0' * 24}/redeliver",
        headers=owner.headers,
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "WEBHOOK_DELIVERY_NOT_FOUND"


async def test_a_receiver_that_hangs_holds_the_job_no_longer_than_the_timeout(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url)
    receiver.trust(endpoint["secret"])
    receiver.hold()
    started = time.monotonic()
    await publish(app, event(owner.tenant_id))
    await receiver.wait_for(1)

    async def attempted() -> bool:
        found = await deliveries(client, owner.headers, endpoint["id"])
        return bool(found) and found[0]["attempts"] == 1

    # Generous bound: it proves the send was cut off, not how fast the machine is.
    await eventually(attempted, within_seconds=TIMEOUT_SECONDS + 5, what="the timed-out attempt")
    elapsed = time.monotonic() - started
    receiver.release()
    (delivery,) = await deliveries(client, owner.headers, endpoint["id"])
    first = (await attempts(client, owner.headers, endpoint["id"], delivery["id"]))[-1]
    assert first["response_status"] is None
    assert "timed out" in first["error"]
    assert TIMEOUT_SECONDS * 1000 - 50 <= first["duration_ms"] < (TIMEOUT_SECONDS + 2) * 1000
    assert elapsed < TIMEOUT_SECONDS + 5


async def test_after_a_rotation_both_signatures_verify_until_the_overlap_ends(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url)
    old = endpoint["secret"]
    rotated = await client.post(
        f"/api/v1/webhooks/{endpoint['id']}/rotate-secret", headers=owner.headers
    )
    new = rotated.json()["secret"]
    receiver.trust(new)
    await publish(app, event(owner.tenant_id))
    (during,) = await receiver.wait_for(1)
    signatures = during.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert during.verifies_with(old)
    assert during.verifies_with(new)
    matched = set()
    for secret in (old, new):  # each signature is one secret's, and verifies alone
        alone = [
            signature
            for signature in signatures
            if replace(
                during, headers=during.headers | {"webhook-signature": signature}
            ).verifies_with(secret)
        ]
        assert len(alone) == 1
        matched.add(alone[0])
    assert matched == set(signatures)
    await _set(app, endpoint["id"], previous_secret_expires_at=datetime.now(UTC))
    await publish(app, event(owner.tenant_id))
    _, after = await receiver.wait_for(2)
    assert " " not in after.headers["webhook-signature"]
    assert after.verifies_with(new)
    assert not after.verifies_with(old)


@pytest.mark.parametrize(
    "history",
    [
        {"consecutive_failures": 49},
        {"failing_since": datetime.now(UTC) - timedelta(days=5, minutes=1)},
    ],
    ids=["50 in a row", "failing for 5 days"],
)
async def test_an_endpoint_that_keeps_failing_is_disabled(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver, history: dict[str, object]
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url)
    receiver.trust(endpoint["secret"])
    await _set(app, endpoint["id"], **history)
    receiver.fail_next(500, times=10)
    await publish(app, event(owner.tenant_id))
    path = f"/api/v1/webhooks/{endpoint['id']}"

    async def disabled() -> bool:
        return (await client.get(path, headers=owner.headers)).json()["enabled"] is False

    await eventually(disabled, what="auto-disable")
    body = (await client.get(path, headers=owner.headers)).json()
    assert body["disabled_reason"]
    (delivery,) = await settled(client, owner.headers, endpoint["id"])
    assert delivery["status"] == "failed"  # the retry found the endpoint disabled
    assert len(receiver.received) == 1
    enabled = await client.patch(path, headers=owner.headers, json={"enabled": True})
    assert (enabled.json()["enabled"], enabled.json()["disabled_reason"]) == (True, None)


async def test_a_healthy_endpoint_is_not_disabled_by_one_failure(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    endpoint = await create_endpoint(client, owner.headers, receiver.url)
    receiver.trust(endpoint["secret"])
    await _set(app, endpoint["id"], consecutive_failures=48)
    receiver.fail_next(500)
    await publish(app, event(owner.tenant_id))
    await settled(client, owner.headers, endpoint["id"])
    body = (await client.get(f"/api/v1/webhooks/{endpoint['id']}", headers=owner.headers)).json()
    assert (body["enabled"], body["disabled_reason"]) == (True, None)


async def test_the_test_event_goes_to_its_endpoint_only(
    app: FastAPI, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner = await register(client)
    tested = await create_endpoint(client, owner.headers, f"{receiver.url}/tested", ["order.*"])
    other = await create_endpoint(client, owner.headers, f"{receiver.url}/other", ["*"])
    receiver.trust(tested["secret"], other["secret"])
    response = await client.post(f"/api/v1/webhooks/{tested['id']}/test", headers=owner.headers)
    assert response.status_code == 202, response.text
    assert response.json() == {"endpoint_id": tested["id"], "event_type": "webhook.test"}
    recorded = await outbox_rows(app, "webhook.test")
    assert [(row.subject_id, row.payload["endpoint_id"]) for row in recorded] == [
        (tested["id"], tested["id"])
    ]
    # The app's relay publishes that row (a second, hand-made copy of it raced the
    # relay's own delivery: two arrivals where the test unpacked one).
    (got,) = await receiver.wait_for(1)
    assert got.path == "/hook/tested"
    assert json.loads(got.body)["type"] == "webhook.test"
    (delivery,) = await settled(client, owner.headers, tested["id"])
    assert delivery["event_type"] == "webhook.test"
    assert await deliveries(client, owner.headers, other["id"]) == []


async def outbox_rows(app: FastAPI, event_type: str) -> list[Event]:
    async with part(app, DATABASE).session(write=False) as session:
        result = await session.execute(select(Event).where(Event.type == event_type))
        return list(result.scalars())
