"""Concurrent orders never oversell, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from tests.support.api import add_item, place_order, register, stock_of
from tests.support.world import ALL_SCOPES, build_world

CONCURRENT_ORDERS = 200
STOCK = 50


async def test_two_hundred_concurrent_orders_take_exactly_the_stock(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    item = await add_item(client, owner.headers, stock=STOCK)
    responses = await asyncio.gather(
        *(place_order(client, owner.headers, [(item["id"], 1)]) for _ in range(CONCURRENT_ORDERS))
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
    responses = await asyncio.gather(
        *(client.post(f"/api/v1/orders/{order['id']}/cancel", headers=key) for _ in range(10))
    )
    assert sorted(r.status_code for r in responses) == [200] + [409] * 9
    assert await stock_of(client, world.owner.headers, item["id"]) == 10
