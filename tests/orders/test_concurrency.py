"""Concurrent orders never oversell, on SQLite and on PostgreSQL.

These tests check a rule (exact stock, no oversell), not the machine's speed: the pool,
its timeout and the number of requests in flight are set here, not inherited. More
requests are in flight than the pool has connections, so they queue for connections
and race for the item's row; the waits are generous, so a slow or busy machine (the
whole suite on 2 cores under ``-n auto``) makes them slower, never a 503.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial

import httpx
import pytest

from orderly.config import Settings
from tests.conftest import make_settings
from tests.support.api import add_item, place_order, register, stock_of
from tests.support.services import Backend
from tests.support.world import ALL_SCOPES, build_world

POOL_SIZE = 5
IN_FLIGHT = 4 * POOL_SIZE
# A wait that only a hang reaches: 200 orders through 5 connections take about a
# second alone, and the suite's other workers may slow that tenfold.
WAIT_SECONDS = 60.0
CONCURRENT_ORDERS = 200
STOCK = 50


@pytest.fixture
def settings(backend: Backend) -> Settings:
    return make_settings(
        backend,
        db_pool_size=POOL_SIZE,
        db_max_overflow=0,
        db_pool_timeout=WAIT_SECONDS,
        sqlite_busy_timeout_ms=int(WAIT_SECONDS * 1000),
        redis_pool_timeout=WAIT_SECONDS,
    )


async def at_most_in_flight(
    calls: list[Callable[[], Awaitable[httpx.Response]]],
) -> list[httpx.Response]:
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(call) for call in calls))


async def test_two_hundred_concurrent_orders_take_exactly_the_stock(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    item = await add_item(client, owner.headers, stock=STOCK)
    responses = await at_most_in_flight(
        [lambda: place_order(client, owner.headers, [(item["id"], 1)])] * CONCURRENT_ORDERS
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: STOCK, 409: CONCURRENT_ORDERS - STOCK}, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"INSUFFICIENT_STOCK"}
    assert await stock_of(client, owner.headers, item["id"]) == 0
    listed = (
        await client.get("/api/v1/orders", headers=owner.headers, params={"limit": 100})
    ).json()
    assert len(listed["items"]) == STOCK


async def test_concurrent_cancellations_restore_stock_once(client: httpx.AsyncClient) -> None:
    world = await build_world(client)
    key = await world.key_with(ALL_SCOPES)
    item = await add_item(client, world.owner.headers, stock=10)
    order = (await place_order(client, key, [(item["id"], 5)])).json()
    cancel = f"/api/v1/orders/{order['id']}/cancel"
    responses = await at_most_in_flight([lambda: client.post(cancel, headers=key)] * 10)
    assert sorted(r.status_code for r in responses) == [200] + [409] * 9
    assert await stock_of(client, world.owner.headers, item["id"]) == 10


async def test_concurrent_two_item_orders_take_both_items_exactly_without_deadlock(
    client: httpx.AsyncClient,
) -> None:
    """Orders naming the same two items, in either order, lock the rows in one sequence
    (by item id): no deadlock (a 500), and an order takes both items or neither."""
    owner = await register(client)
    first = await add_item(client, owner.headers, stock=STOCK)
    second = await add_item(client, owner.headers, stock=STOCK + 10)
    lines = [[(first["id"], 1), (second["id"], 1)], [(second["id"], 1), (first["id"], 1)]]
    calls: list[Callable[[], Awaitable[httpx.Response]]] = [
        partial(place_order, client, owner.headers, pair)
        for pair in lines * (CONCURRENT_ORDERS // 2)
    ]
    responses = await at_most_in_flight(calls)
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: STOCK, 409: CONCURRENT_ORDERS - STOCK}, statuses
    assert await stock_of(client, owner.headers, first["id"]) == 0
    assert await stock_of(client, owner.headers, second["id"]) == 10
