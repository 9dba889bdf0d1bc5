"""GET /api/v1/events/stream over a real socket: live events, resume with exactly the
missed ones, no gap or duplicate at the seam, recovery of lost messages, heartbeats,
and everything released when the client goes."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from orderly.config import Settings
from orderly.core.database import DATABASE
from orderly.events.relay import RELAY
from tests.conftest import make_settings
from tests.live.conftest import (
    container_of_app,
    hub_of,
    open_shop,
    publish,
    sse,
    wait_for,
)
from tests.support.api import add_api_key, add_user, key_headers
from tests.support.publisher import publish_pending, record_events
from tests.support.services import Backend

HEARTBEAT_SECONDS = 0.3
MAX_PENDING = 5


@pytest.fixture
def settings(backend: Backend) -> Settings:
    return make_settings(
        backend, live_heartbeat_seconds=HEARTBEAT_SECONDS, live_max_pending_events=MAX_PENDING
    )


async def test_an_event_published_while_connected_arrives_with_its_seq_and_type(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    await publish(app)
    async with sse(live_server, shop.owner.headers) as stream:
        await wait_for(lambda: hub_of(app).size == 1, "subscribed")
        order_id = await shop.order(client)
        await publish(app)
        event = await stream.next()
    assert (event.id, event.event) == ("2", "order.created")
    body = event.body
    assert (body["seq"], body["type"], body["data"]["id"]) == (2, "order.created", order_id)
    assert body["id"].startswith("evt_")


async def test_a_stream_without_after_starts_from_now_and_replays_nothing(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    await shop.order(client)
    await publish(app)
    async with sse(live_server, shop.owner.headers) as stream:
        await wait_for(lambda: hub_of(app).size == 1, "subscribed")
        await shop.order(client)
        await publish(app)
        assert (await stream.next()).id == "3"


async def test_a_client_that_reconnects_with_last_event_id_gets_exactly_the_missed_50_then_live(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    await publish(app)
    async with sse(live_server, shop.owner.headers, after=0) as stream:
        last_seen = (await stream.next()).id
    assert last_seen == "1"
    await wait_for(lambda: hub_of(app).size == 0, "the first stream released")
    placed = await asyncio.gather(*(shop.order(client) for _ in range(50)))
    await publish(app)
    headers = shop.owner.headers | {"Last-Event-ID": last_seen}
    async with sse(live_server, headers) as stream:
        missed = await stream.take(50)
        assert [int(e.id or 0) for e in missed] == list(range(2, 52))
        assert {e.body["data"]["id"] for e in missed} == set(placed)
        live_order = await shop.order(client)
        await publish(app)
        live = await stream.next()
    assert (live.id, live.body["data"]["id"]) == ("52", live_order)


async def test_no_gap_and_no_duplicate_at_the_seam_while_events_keep_coming(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    total = 60

    async def keep_publishing() -> None:
        for _ in range(total):
            await shop.order(client)
            await publish(app)

    publisher = asyncio.create_task(keep_publishing())
    try:
        # Connect while events are being published, resuming from an early one.
        assert hub_of(app).size == 0
        async with sse(live_server, shop.owner.headers, after=3) as stream:
            received = [int((await stream.next()).id or 0) for _ in range(total + 1 - 3)]
    finally:
        await publisher
    assert received == list(range(4, total + 2))


async def test_a_lost_pubsub_message_is_read_back_from_the_database_on_the_next_event(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    # The app's own relay would publish the order with its sinks: this test publishes.
    await container_of_app(app)[RELAY].stop()
    shop = await open_shop(client)
    await publish(app)
    async with sse(live_server, shop.owner.headers) as stream:
        await wait_for(lambda: hub_of(app).size == 1, "subscribed")
        lost = await shop.order(client)
        await publish_pending(container_of_app(app), sinks=False)  # never reaches the hub
        seen = await shop.order(client)
        await publish(app)
        events = await stream.take(2)
    assert [(e.id, e.body["data"]["id"]) for e in events] == [("2", lost), ("3", seen)]


async def test_a_burst_larger_than_the_queue_is_read_back_from_the_database_in_order(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    await publish(app)
    async with sse(live_server, shop.owner.headers) as stream:
        await wait_for(lambda: hub_of(app).size == 1, "subscribed")
        burst = MAX_PENDING * 4
        await record_events(container_of_app(app), shop.owner.tenant_id, "item.updated", burst)
        await publish(app)
        events = await stream.take(burst)
    assert [int(e.id or 0) for e in events] == list(range(2, burst + 2))


async def test_the_type_filter_and_member_visibility_apply_to_the_stream(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    member = await add_user(client, shop.owner, "member")
    await publish(app)
    async with (
        sse(live_server, member.headers) as members,
        sse(live_server, shop.owner.headers, type="item.*") as items,
    ):
        await wait_for(lambda: hub_of(app).size == 2, "subscribed")
        await shop.order(client)  # the owner's: not the member's to see
        own = await shop.order(client, member.headers)
        await record_events(container_of_app(app), shop.owner.tenant_id, "item.updated", 1)
        await publish(app)
        assert [(e.event, e.body["data"].get("id")) for e in await members.take(2)] == [
            ("order.created", own),
            ("item.updated", None),
        ]
        assert (await items.next()).event == "item.updated"


async def test_an_idle_stream_gets_heartbeat_comments_and_holds_no_database_connection(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    await publish(app)
    pool = container_of_app(app)[DATABASE].engine.pool
    async with sse(live_server, shop.owner.headers, after=0) as stream:
        await stream.next()  # the replay ran
        await wait_for(lambda: hub_of(app).size == 1, "subscribed")
        first, second = await stream.next_comment(), await stream.next_comment()
        assert first.startswith(": ping")
        assert second.startswith(": ping")
        assert pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_client_that_goes_away_releases_its_subscription_and_tasks(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    await publish(app)
    async with sse(live_server, shop.owner.headers):  # sse-starlette's one-time watcher
        await wait_for(lambda: hub_of(app).size == 1, "warm-up stream")
    await wait_for(lambda: hub_of(app).size == 0, "warm-up released")
    baseline = len(asyncio.all_tasks())
    async with sse(live_server, shop.owner.headers), sse(live_server, shop.owner.headers):
        await wait_for(lambda: hub_of(app).size == 2, "two subscriptions")
        assert len(asyncio.all_tasks()) > baseline
    await wait_for(lambda: hub_of(app).size == 0, "subscriptions released")
    await wait_for(lambda: len(asyncio.all_tasks()) <= baseline, "stream tasks ended")


async def test_a_key_that_may_see_no_event_is_refused_and_a_bad_last_event_id_is_422(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    key = key_headers((await add_api_key(client, shop.owner, ["write:orders"]))["key"])
    async with httpx.AsyncClient(base_url=live_server) as http:
        refused = await http.get("/api/v1/events/stream", headers=key)
        assert refused.status_code == 403
        assert refused.json()["code"] == "INSUFFICIENT_SCOPE"
        bad = await http.get(
            "/api/v1/events/stream", headers=shop.owner.headers | {"Last-Event-ID": "abc"}
        )
        assert bad.status_code == 422
        assert bad.json()["code"] == "INVALID_LAST_EVENT_ID"
        anonymous = await http.get("/api/v1/events/stream")
        assert anonymous.status_code == 401
    assert hub_of(app).size == 0
