"""GET /api/v1/ws over a real socket: authenticated before accept, subscribe / after /
ping, member isolation, 1013 for a client that cannot keep up, 4001 on expiry and on
revocation of the API key it acts for."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from orderly.auth.tokens import AccessTokenCodec
from orderly.config import Settings
from orderly.core.identity import Role
from orderly.live.credentials import KEY_WATCH
from tests.conftest import make_settings
from tests.live.conftest import (
    WAIT_SECONDS,
    container_of_app,
    hub_of,
    open_shop,
    publish,
    wait_for,
)
from tests.support.api import add_api_key, add_user, key_headers, place_order
from tests.support.publisher import record_events
from tests.support.services import Backend

MAX_PENDING = 20


@pytest.fixture
def settings(backend: Backend) -> Settings:
    return make_settings(backend, live_max_pending_events=MAX_PENDING)


def _ws_url(base: str, query: str = "") -> str:
    return base.replace("http://", "ws://") + "/api/v1/ws" + (f"?{query}" if query else "")


@asynccontextmanager
async def socket_to(
    base: str, headers: dict[str, str] | None = None, query: str = "", **options: Any
) -> AsyncIterator[ClientConnection]:
    async with connect(
        _ws_url(base, query), additional_headers=headers, proxy=None, **options
    ) as websocket:
        yield websocket


async def _receive(websocket: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(WAIT_SECONDS):
        message: dict[str, Any] = json.loads(await websocket.recv())
    return message


async def _close_code(websocket: ClientConnection) -> int | None:
    """Read (and drop) messages until the server closes; the code it closed with."""
    async with asyncio.timeout(WAIT_SECONDS):
        try:
            while True:
                await websocket.recv()
        except ConnectionClosed:
            pass
    return websocket.close_code


async def _refused(base: str, headers: dict[str, str] | None = None, query: str = "") -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with socket_to(base, headers, query):
            pass
    status: int = refused.value.response.status_code
    return status


async def _ticket(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.post("/api/v1/ws/tickets", headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["expires_in"] == 30
    assert response.headers["cache-control"] == "no-store"
    ticket: str = body["ticket"]
    return ticket


async def test_missing_bad_and_reused_credentials_are_refused_before_accept(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    assert await _refused(live_server) == 403
    assert await _refused(live_server, {"Authorization": "Bearer not-a-token"}) == 403
    assert await _refused(live_server, {"X-API-Key": "sk_unknown"}) == 403
    assert await _refused(live_server, query="ticket=wst_made-up") == 403
    ticket = await _ticket(client, shop.owner.headers)
    async with socket_to(live_server, query=f"ticket={ticket}") as websocket:
        await websocket.send('{"type": "ping"}')
        assert await _receive(websocket) == {"type": "pong"}
    assert await _refused(live_server, query=f"ticket={ticket}") == 403
    assert hub_of(app).size == 0


async def test_a_key_that_may_see_no_event_is_refused_before_accept(
    client: httpx.AsyncClient, live_server: str
) -> None:
    shop = await open_shop(client)
    key = (await add_api_key(client, shop.owner, ["write:orders"]))["key"]
    assert await _refused(live_server, key_headers(key)) == 403
    refused = await client.post("/api/v1/ws/tickets", headers=key_headers(key))
    assert refused.status_code == 403


async def test_subscribe_replays_after_then_streams_live_events_and_ping_is_answered(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    key = key_headers((await add_api_key(client, shop.owner, ["read:orders"]))["key"])
    first = await shop.order(client)
    second = await shop.order(client)
    await publish(app)
    async with socket_to(live_server, key) as websocket:
        await websocket.send(json.dumps({"type": "subscribe", "types": ["order.*"], "after": 2}))
        replayed = await _receive(websocket)
        assert (replayed["seq"], replayed["data"]["id"]) == (3, second)
        await websocket.send('{"type": "ping"}')
        assert await _receive(websocket) == {"type": "pong"}
        third = await shop.order(client)
        await publish(app)
        live = await _receive(websocket)
    assert set(live) == {"id", "seq", "type", "created_at", "data"}
    assert (live["seq"], live["type"], live["data"]["id"]) == (4, "order.created", third)
    assert first != third


async def test_a_members_socket_never_receives_another_members_order_events(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    alice = await add_user(client, shop.owner, "member")
    bob = await add_user(client, shop.owner, "member")
    await publish(app)
    async with socket_to(live_server, alice.headers) as websocket:
        await websocket.send(json.dumps({"type": "subscribe", "types": ["order.*"]}))
        await wait_for(lambda: hub_of(app).size == 1, "subscribed")
        bobs = [await shop.order(client, bob.headers) for _ in range(3)]
        owners = await shop.order(client)
        alices = await shop.order(client, alice.headers)
        await publish(app)
        # Alice's order is the newest: anything of Bob's or the owner's would come first.
        received = await _receive(websocket)
    assert received["data"]["id"] == alices
    assert received["data"]["user_id"] == alice.user_id
    assert alices not in (*bobs, owners)


async def test_a_bad_message_is_answered_with_an_error_and_the_socket_stays_open(
    client: httpx.AsyncClient, live_server: str
) -> None:
    shop = await open_shop(client)
    async with socket_to(live_server, shop.owner.headers) as websocket:
        for bad in (
            "not json",
            "[]",
            '{"type": "dance"}',
            '{"type": "subscribe", "types": "order.*"}',
            '{"type": "subscribe", "types": ["ORDER"]}',
            '{"type": "subscribe", "after": -1}',
        ):
            await websocket.send(bad)
            error = await _receive(websocket)
            assert error["type"] == "error", bad
            assert error["code"] in {"INVALID_MESSAGE", "INVALID_EVENT_TYPE_FILTER"}, bad
        await websocket.send('{"type": "ping"}')
        assert await _receive(websocket) == {"type": "pong"}


async def test_a_socket_is_closed_with_4001_when_its_access_token_expires(
    client: httpx.AsyncClient, app: FastAPI, live_server: str, settings: Settings
) -> None:
    shop = await open_shop(client)
    short = AccessTokenCodec(
        signing_key=settings.signing_key,
        verification_keys=settings.verification_keys,
        algorithm=settings.jwt_algorithm,
        ttl_seconds=3,
    ).issue(
        user_id=shop.owner.user_id, tenant_id=shop.owner.tenant_id, role=Role.OWNER, generation=0
    )
    async with socket_to(live_server, {"Authorization": f"Bearer {short}"}) as websocket:
        await websocket.send('{"type": "subscribe"}')
        assert await _close_code(websocket) == 4001
    await wait_for(lambda: hub_of(app).size == 0, "subscription released")


async def test_a_socket_is_closed_with_4001_when_its_api_key_expires(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    soon = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    created = await client.post(
        "/api/v1/api-keys",
        headers=shop.owner.headers,
        json={"name": "short", "scopes": ["read:orders"], "expires_at": soon},
    )
    assert created.status_code == 201, created.text
    async with socket_to(live_server, key_headers(created.json()["key"])) as websocket:
        await websocket.send('{"type": "subscribe"}')
        assert await _close_code(websocket) == 4001
    await wait_for(lambda: hub_of(app).size == 0, "subscription released")


async def _revoked_while_connected(
    client: httpx.AsyncClient, app: FastAPI, live_server: str, *, with_ticket: bool
) -> int | None:
    """Connect with a new API key (its header, or a ticket it asked for), subscribe,
    revoke the key; the close code the socket got."""
    shop = await open_shop(client)
    key = await add_api_key(client, shop.owner, ["read:orders"])
    headers: dict[str, str] | None = key_headers(key["key"])
    query = ""
    if with_ticket:
        query, headers = f"ticket={await _ticket(client, key_headers(key['key']))}", None
    key_watch = container_of_app(app)[KEY_WATCH]
    async with socket_to(live_server, headers, query) as websocket:
        await websocket.send('{"type": "subscribe"}')
        await wait_for(lambda: hub_of(app).size == 1, "subscribed")
        assert key_watch.size == 1
        revoked = await client.delete(f"/api/v1/api-keys/{key['id']}", headers=shop.owner.headers)
        assert revoked.status_code == 204, revoked.text
        code = await _close_code(websocket)
    await wait_for(lambda: hub_of(app).size == 0, "subscription released")
    assert key_watch.size == 0
    return code


async def test_a_socket_is_closed_with_4001_when_its_api_key_is_revoked(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    assert await _revoked_while_connected(client, app, live_server, with_ticket=False) == 4001


async def test_a_socket_opened_with_a_keys_ticket_is_closed_with_4001_when_the_key_is_revoked(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    assert await _revoked_while_connected(client, app, live_server, with_ticket=True) == 4001


async def test_revoking_another_key_leaves_the_socket_open(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    kept = await add_api_key(client, shop.owner, ["read:orders"], name="kept")
    other = await add_api_key(client, shop.owner, ["read:orders"], name="other")
    async with socket_to(live_server, key_headers(kept["key"])) as websocket:
        await websocket.send('{"type": "subscribe"}')
        await wait_for(lambda: hub_of(app).size == 1, "subscribed")
        revoked = await client.delete(
            f"/api/v1/api-keys/{other['id']}", headers=shop.owner.headers
        )
        assert revoked.status_code == 204, revoked.text
        await websocket.send('{"type": "ping"}')
        assert await _receive(websocket) == {"type": "pong"}
        placed = await place_order(client, shop.owner.headers, [(shop.item_id, 1)])
        assert placed.status_code == 201, placed.text
        await publish(app)
        assert (await _receive(websocket))["type"] == "order.created"


async def test_a_client_that_stops_reading_is_closed_with_1013_not_buffered(
    client: httpx.AsyncClient, app: FastAPI, live_server: str
) -> None:
    shop = await open_shop(client)
    await publish(app)
    # A small receive buffer and no compression: the server's writes back up quickly.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    port = int(live_server.rsplit(":", 1)[1])
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    async with socket_to(
        live_server, shop.owner.headers, sock=sock, compression=None, max_queue=1
    ) as websocket:
        await websocket.send('{"type": "subscribe", "types": ["item.*"]}')
        await wait_for(lambda: hub_of(app).size == 1, "subscribed")
        container = container_of_app(app)
        # Batches smaller than the bound: only a client that stops reading lets them pile
        # up (a bigger batch would overflow at once, read or not).
        for _ in range(300):  # at most 3,000 events of ~4 KiB
            await record_events(
                container, shop.owner.tenant_id, "item.updated", 10, blob="x" * 4000
            )
            await publish(app)
            if hub_of(app).size == 0:
                break
        assert hub_of(app).size == 0, "the slow socket was still subscribed"
        # Now read: what was sent, then the close frame.
        assert await _close_code(websocket) == 1013
