"""Scale-out (PostgreSQL + Redis) with real `orderly serve` processes: an event reaches
the SSE and WebSocket clients of another process through Redis pub/sub, and one lost
to a Redis restart is read back from the database.

The relay (issue 13) is not on this branch: the test process plays it
(tests/support/publisher.py) with its own container on the same database and Redis,
so the event crosses processes exactly as a relay's would.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from orderly.app.container import open_container
from orderly.core.container import Container
from orderly.core.migrations import upgrade_to_head
from tests.conftest import TEST_SECRET, make_settings
from tests.live.conftest import WAIT_SECONDS, sse
from tests.support.api import PASSWORD, unique_email
from tests.support.publisher import publish_pending, record_events
from tests.support.server import running_process
from tests.support.services import (
    Backend,
    create_postgres_database,
    delete_redis_prefix,
    drop_postgres_database,
    postgres_url,
    require_redis,
)
from tests.support.throwaway import ThrowawayRedis

pytestmark = pytest.mark.xdist_group("servers")
# Starting `orderly serve` imports the whole app: over 30 s on a loaded 2-core machine.
START_SECONDS = 120


@pytest.fixture
def database() -> Iterator[str]:
    name = create_postgres_database()
    try:
        upgrade_to_head(postgres_url(name))
        yield name
    finally:
        drop_postgres_database(name)


def _env(backend: Backend) -> dict[str, str]:
    return {
        "APP_DATABASE_URL": backend.database_url,
        "APP_REDIS_URL": backend.redis_url or "",
        "APP_REDIS_PREFIX": backend.redis_prefix,
        "APP_SECRET_KEY": TEST_SECRET,
        "APP_PASSWORD_HASH_TIME_COST": "1",
        "APP_PASSWORD_HASH_MEMORY_KIB": "1024",
        "APP_LOG_LEVEL": "WARNING",
    }


@asynccontextmanager
async def relay(backend: Backend) -> AsyncIterator[Container]:
    """The stand-in relay's process: a container on the same database and Redis."""
    async with open_container(make_settings(backend)) as container:
        yield container


async def _owner(http: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    """The headers of a new tenant's owner, and the tenant's id."""
    email = unique_email("owner")
    registered = await http.post(
        "/api/v1/auth/register",
        json={"tenant_name": "Scale", "email": email, "password": PASSWORD, "full_name": "S"},
    )
    assert registered.status_code == 201, registered.text
    login = await http.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    return headers, registered.json()["tenant"]["id"]


async def _order(http: httpx.AsyncClient, headers: dict[str, str], item_id: str) -> str:
    placed = await http.post(
        "/api/v1/orders", headers=headers, json={"lines": [{"item_id": item_id, "quantity": 1}]}
    )
    assert placed.status_code == 201, placed.text
    order_id: str = placed.json()["id"]
    return order_id


async def test_an_order_placed_through_one_process_reaches_sse_and_websocket_clients_of_another(
    database: str, tmp_path: Path
) -> None:
    prefix = f"{database}:"
    backend = Backend("postgres", postgres_url(database), require_redis(), prefix)
    try:
        with (
            running_process(tmp_path, _env(backend), start_seconds=START_SECONDS) as (first, _),
            running_process(tmp_path, _env(backend), start_seconds=START_SECONDS) as (second, _),
        ):
            async with (
                httpx.AsyncClient(base_url=first, timeout=WAIT_SECONDS) as a,
                relay(backend) as relay_container,
            ):
                owner, _ = await _owner(a)
                item = await a.post(
                    "/api/v1/items",
                    headers=owner,
                    json={
                        "sku": "S-1",
                        "name": "W",
                        "price": "1.00",
                        "currency": "USD",
                        "stock": 100,
                    },
                )
                assert item.status_code == 201, item.text
                await publish_pending(relay_container)  # item.created: seq 1
                ws_url = second.replace("http://", "ws://") + "/api/v1/ws"
                async with (
                    sse(second, owner, after=0) as stream,
                    connect(ws_url, additional_headers=owner, proxy=None) as websocket,
                ):
                    await websocket.send(json.dumps({"type": "subscribe", "after": 0}))
                    # Replayed from the database: both clients are subscribed in B now.
                    assert (await stream.next()).id == "1"
                    assert json.loads(await websocket.recv())["seq"] == 1
                    order_id = await _order(a, owner, item.json()["id"])
                    await publish_pending(relay_container)
                    by_sse = await stream.next()
                    by_ws = json.loads(await websocket.recv())
        assert (by_sse.id, by_sse.event, by_sse.body["data"]["id"]) == (
            "2",
            "order.created",
            order_id,
        )
        assert (by_ws["seq"], by_ws["data"]["id"]) == (2, order_id)
    finally:
        delete_redis_prefix(prefix)


async def test_an_event_whose_message_a_redis_restart_lost_is_read_back_from_the_database(
    database: str, tmp_path: Path, throwaway_redis: ThrowawayRedis
) -> None:
    backend = Backend("postgres", postgres_url(database), throwaway_redis.url, "scale:")
    with running_process(tmp_path, _env(backend), start_seconds=START_SECONDS) as (server, _):
        async with (
            httpx.AsyncClient(base_url=server, timeout=WAIT_SECONDS) as http,
            relay(backend) as relay_container,
        ):
            owner, tenant_id = await _owner(http)
            await record_events(relay_container, tenant_id, "item.updated", 1)
            await publish_pending(relay_container)
            async with sse(server, owner, after=0) as stream:
                assert (await stream.next()).id == "1"  # subscribed in the server
                throwaway_redis.stop()
                await record_events(relay_container, tenant_id, "item.updated", 1)
                # Committed and numbered; the pub/sub message cannot be sent.
                await publish_pending(relay_container)
                throwaway_redis.start()
                # The server's hub resubscribes and its streams re-read the database.
                recovered = await stream.next()
    assert (recovered.id, recovered.event) == ("2", "item.updated")
