"""When Redis fails (SPEC "Plans and traffic protection", last bullet; "Idempotency"):
the cache is bypassed, idempotency fails closed before any work, a committed write is
never answered with an error, and nothing waits past the Redis timeouts. Both
backends, each with a throwaway redis-server the test stops, restarts or freezes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from orderly.config import Settings
from orderly.core.failures import FAILURES
from tests.conftest import make_settings
from tests.support.api import Account, add_api_key, add_item, key_headers, place_order, register
from tests.support.outages import REDIS_TIMEOUT, SLACK, orders_in_database, timed
from tests.support.parts import part
from tests.support.services import Backend
from tests.support.throwaway import ThrowawayRedis


@pytest.fixture
def settings(backend: Backend, throwaway_redis: ThrowawayRedis) -> Settings:
    return make_settings(
        backend,
        redis_url=throwaway_redis.url,
        redis_prefix="outage:",
        redis_socket_timeout_seconds=REDIS_TIMEOUT,
        redis_connect_timeout_seconds=REDIS_TIMEOUT,
    )


@pytest.fixture
async def owner(client: httpx.AsyncClient) -> Account:
    return await register(client)


@pytest.fixture
async def integration(client: httpx.AsyncClient, owner: Account) -> dict[str, str]:
    """An API key: resolved without Redis (in-process cache, database on a miss)."""
    scopes = ["read:items", "write:items", "read:orders", "write:orders"]
    key = await add_api_key(client, owner, scopes)
    return key_headers(key["key"])


def _order(item: dict[str, Any], **headers: str) -> dict[str, Any]:
    return {"json": {"lines": [{"item_id": item["id"], "quantity": 1}]}, "headers": headers}


async def test_orders_placed_while_redis_is_down_are_201_and_each_one_is_committed(
    app: FastAPI,
    client: httpx.AsyncClient,
    owner: Account,
    integration: dict[str, str],
    throwaway_redis: ThrowawayRedis,
) -> None:
    """Placing an order invalidates the cached catalog after the commit; that failing
    must not turn the committed order into a 503 (a client would order again)."""
    item = await add_item(client, owner.headers, stock=20)
    throwaway_redis.stop()
    answers = [
        await client.post("/api/v1/orders", **_order(item, **integration)) for _ in range(5)
    ]
    assert [answer.status_code for answer in answers] == [201] * 5
    assert await orders_in_database(app) == 5


async def test_an_order_with_an_idempotency_key_while_redis_is_down_is_503_and_not_placed(
    app: FastAPI,
    client: httpx.AsyncClient,
    owner: Account,
    integration: dict[str, str],
    throwaway_redis: ThrowawayRedis,
) -> None:
    item = await add_item(client, owner.headers, stock=20)
    throwaway_redis.stop()
    answer = await client.post(
        "/api/v1/orders", **_order(item, **integration, **{"Idempotency-Key": "k-1"})
    )
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "IDEMPOTENCY_UNAVAILABLE"
    assert int(answer.headers["retry-after"]) >= 1
    assert await orders_in_database(app) == 0


async def test_once_redis_is_back_idempotency_keys_and_the_cache_work_again(
    client: httpx.AsyncClient,
    owner: Account,
    integration: dict[str, str],
    throwaway_redis: ThrowawayRedis,
) -> None:
    item = await add_item(client, owner.headers, stock=20)
    throwaway_redis.stop()
    await client.post("/api/v1/orders", **_order(item, **integration))
    throwaway_redis.start()
    keyed = _order(item, **integration, **{"Idempotency-Key": "k-2"})
    first = await client.post("/api/v1/orders", **keyed)
    again = await client.post("/api/v1/orders", **keyed)
    assert first.status_code == again.status_code == 201
    assert again.headers["x-idempotent-replayed"] == "true"
    read = await client.get(f"/api/v1/items/{item['id']}", headers=integration)
    assert read.json()["stock"] == 18


async def test_catalog_reads_bypass_the_cache_while_redis_is_down(
    client: httpx.AsyncClient,
    owner: Account,
    integration: dict[str, str],
    throwaway_redis: ThrowawayRedis,
) -> None:
    item = await add_item(client, owner.headers, stock=20, name="Lamp")
    throwaway_redis.stop()
    one = await client.get(f"/api/v1/items/{item['id']}", headers=integration)
    page = await client.get("/api/v1/items", headers=integration)
    assert one.status_code == page.status_code == 200
    assert one.json()["name"] == "Lamp"
    assert [i["id"] for i in page.json()["items"]] == [item["id"]]


async def test_an_access_token_is_refused_with_503_while_redis_is_down(
    client: httpx.AsyncClient, owner: Account, throwaway_redis: ThrowawayRedis
) -> None:
    """Fails closed: whether the token was revoked (a demoted admin's, say) is kept in
    Redis; accepting it unchecked would hand back revoked powers for the outage."""
    throwaway_redis.stop()
    answer = await client.get("/api/v1/items", headers=owner.headers)
    assert answer.status_code == 503
    assert answer.json()["code"] == "REDIS_UNAVAILABLE"
    assert int(answer.headers["retry-after"]) >= 1


async def test_a_frozen_redis_costs_a_request_at_most_its_timeouts(
    client: httpx.AsyncClient,
    owner: Account,
    integration: dict[str, str],
    throwaway_redis: ThrowawayRedis,
) -> None:
    """A host that stops answering (SIGSTOP): the cache lookup gives up after the
    socket timeout and the read is served from the database."""
    item = await add_item(client, owner.headers, stock=20)
    with throwaway_redis.frozen():
        read, waited = await timed(client.get(f"/api/v1/items/{item['id']}", headers=integration))
    assert read.status_code == 200
    assert waited < REDIS_TIMEOUT + SLACK


async def test_a_failed_invalidation_is_retried_until_redis_answers(
    app: FastAPI,
    client: httpx.AsyncClient,
    owner: Account,
    integration: dict[str, str],
    throwaway_redis: ThrowawayRedis,
) -> None:
    """Frozen, Redis keeps the cached item; the write's invalidation times out. Once
    Redis answers again the invalidation is retried, so the old entry is not served
    for the rest of its TTL."""
    item = await add_item(client, owner.headers, stock=20, name="Before")
    path = f"/api/v1/items/{item['id']}"
    assert (await client.get(path, headers=integration)).json()["name"] == "Before"
    with throwaway_redis.frozen():
        renamed = await client.patch(path, headers=integration, json={"name": "After"})
    assert renamed.status_code == 200
    await asyncio.sleep(1.0)  # the first retries back off by 0.1 s, 0.2 s, 0.4 s ...
    assert (await client.get(path, headers=integration)).json()["name"] == "After"
    assert part(app, FAILURES).counts["cache_invalidation"] >= 1


async def test_requests_after_a_redis_restart_do_not_fail_on_stale_pooled_connections(
    client: httpx.AsyncClient,
    owner: Account,
    integration: dict[str, str],
    throwaway_redis: ThrowawayRedis,
) -> None:
    """Every pooled connection of the old server is dead; each was failing one request
    with 503 (redis/redis-py#2727). A broken connection is retried once, fresh."""
    item = await add_item(client, owner.headers, stock=20)
    path = f"/api/v1/items/{item['id']}"
    warm = await asyncio.gather(*(client.get(path, headers=integration) for _ in range(16)))
    assert {answer.status_code for answer in warm} == {200}
    throwaway_redis.restart()
    reads = await asyncio.gather(*(client.get(path, headers=integration) for _ in range(16)))
    assert [answer.status_code for answer in reads] == [200] * 16
    logins = await asyncio.gather(*(client.get(path, headers=owner.headers) for _ in range(16)))
    assert [answer.status_code for answer in logins] == [200] * 16


async def test_an_order_is_placed_after_a_redis_restart(
    app: FastAPI,
    client: httpx.AsyncClient,
    owner: Account,
    integration: dict[str, str],
    throwaway_redis: ThrowawayRedis,
) -> None:
    item = await add_item(client, owner.headers, stock=20)
    assert (await place_order(client, integration, [(item["id"], 1)])).status_code == 201
    throwaway_redis.restart()
    answer = await client.post(
        "/api/v1/orders", **_order(item, **integration, **{"Idempotency-Key": "k-3"})
    )
    assert answer.status_code == 201, answer.text
    assert await orders_in_database(app) == 2
