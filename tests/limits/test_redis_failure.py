"""Rate limits when Redis fails (SPEC "Plans and traffic protection", last bullet):
limits fail open (logged and counted, no 5xx, nothing waits past the Redis timeout),
while idempotency still fails closed. Both database backends, each with a throwaway
redis-server the test stops or freezes; limits on."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from orderly.config import Settings
from orderly.core.failures import FAILURES
from tests.conftest import make_settings
from tests.support.api import Account, add_api_key, add_item, key_headers, register
from tests.support.outages import REDIS_TIMEOUT, SLACK, orders_in_database, timed
from tests.support.parts import part
from tests.support.services import Backend
from tests.support.throwaway import ThrowawayRedis


@pytest.fixture
def settings(backend: Backend, throwaway_redis: ThrowawayRedis) -> Settings:
    return make_settings(
        backend,
        redis_url=throwaway_redis.url,
        redis_prefix="limits-outage:",
        redis_socket_timeout_seconds=REDIS_TIMEOUT,
        redis_connect_timeout_seconds=REDIS_TIMEOUT,
        rate_limit_enabled=True,
        plan_limits={"free": {"requests_per_minute": 1000}},
    )


@pytest.fixture
async def owner(client: httpx.AsyncClient) -> Account:
    return await register(client)


@pytest.fixture
async def integration(client: httpx.AsyncClient, owner: Account) -> dict[str, str]:
    """An API key: resolved without Redis (in-process cache, database on a miss)."""
    key = await add_api_key(client, owner, ["read:items", "write:items", "write:orders"])
    return key_headers(key["key"])


async def test_requests_are_served_unlimited_while_redis_is_stopped(
    app: FastAPI,
    client: httpx.AsyncClient,
    integration: dict[str, str],
    throwaway_redis: ThrowawayRedis,
) -> None:
    before = await client.get("/api/v1/items", headers=integration)
    assert "ratelimit" in before.headers  # counted in Redis while it answers

    throwaway_redis.stop()
    answers = [await timed(client.get("/api/v1/items", headers=integration)) for _ in range(20)]

    assert [answer.status_code for answer, _ in answers] == [200] * 20
    assert all("ratelimit" not in answer.headers for answer, _ in answers)
    assert max(waited for _, waited in answers) < REDIS_TIMEOUT + SLACK
    assert part(app, FAILURES).counts["rate_limit"] >= 1


async def test_a_frozen_redis_delays_a_limited_request_by_its_timeouts_at_most(
    client: httpx.AsyncClient,
    integration: dict[str, str],
    throwaway_redis: ThrowawayRedis,
) -> None:
    """SIGSTOP: the limiter's script and then the cache's look-up each give up after
    the socket timeout; the next requests skip the limiter for a second."""
    await client.get("/api/v1/items", headers=integration)
    with throwaway_redis.frozen():
        answers = [await timed(client.get("/api/v1/items", headers=integration)) for _ in range(3)]

    assert [answer.status_code for answer, _ in answers] == [200] * 3
    assert max(waited for _, waited in answers) < 2 * REDIS_TIMEOUT + SLACK


async def test_with_redis_stopped_an_idempotent_order_is_refused_503_and_never_placed(
    app: FastAPI,
    client: httpx.AsyncClient,
    owner: Account,
    integration: dict[str, str],
    throwaway_redis: ThrowawayRedis,
) -> None:
    item = await add_item(client, owner.headers, stock=20)
    throwaway_redis.stop()
    order = {"lines": [{"item_id": item["id"], "quantity": 1}]}
    headers = integration | {"Idempotency-Key": "limits-1"}

    answers = [await client.post("/api/v1/orders", headers=headers, json=order) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [503] * 3
    assert {answer.json()["code"] for answer in answers} == {"IDEMPOTENCY_UNAVAILABLE"}
    assert all(answer.headers["content-type"] == "application/problem+json" for answer in answers)
    assert await orders_in_database(app) == 0
