"""Idempotency-Key on the real order route: a retried POST never orders twice."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from fastapi.routing import APIRoute, iter_route_contexts

from orderly.config import Settings
from orderly.idempotency.dependencies import idempotency_guard
from orderly.main import create_app
from tests.support.api import add_item, register, stock_of


async def test_a_retried_order_is_replayed_not_placed_again(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    item = await add_item(client, owner.headers, stock=10)
    body = {"lines": [{"item_id": item["id"], "quantity": 2}]}
    headers = owner.headers | {"Idempotency-Key": "order-attempt-1"}
    first = await client.post("/api/v1/orders", headers=headers, json=body)
    retry = await client.post("/api/v1/orders", headers=headers, json=body)
    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["x-idempotent-replayed"] == "true"
    assert await stock_of(client, owner.headers, item["id"]) == 8
    changed = await client.post(
        "/api/v1/orders", headers=headers, json={"lines": [{"item_id": item["id"], "quantity": 3}]}
    )
    assert changed.status_code == 422
    assert changed.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await stock_of(client, owner.headers, item["id"]) == 8


async def test_ten_concurrent_posts_with_one_key_make_one_order(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    item = await add_item(client, owner.headers, stock=10)
    body = {"lines": [{"item_id": item["id"], "quantity": 1}]}
    headers = owner.headers | {"Idempotency-Key": "burst"}
    responses = await asyncio.gather(
        *(client.post("/api/v1/orders", headers=headers, json=body) for _ in range(10))
    )
    codes = Counter(r.status_code for r in responses)
    assert set(codes) <= {201, 409}
    conflicts = {r.json()["code"] for r in responses if r.status_code == 409}
    assert conflicts <= {"IDEMPOTENCY_IN_PROGRESS"}
    created_ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created_ids) == 1
    assert await stock_of(client, owner.headers, item["id"]) == 9
    listed = (await client.get("/api/v1/orders", headers=owner.headers)).json()["items"]
    assert len(listed) == 1


# Their responses carry secrets (tokens, the raw key, a webhook secret, a WebSocket
# ticket) that must not sit in a store: prefixes, and single routes.
NOT_IDEMPOTENT = {"/api/v1/auth/", "/api/v1/api-keys", "/api/v1/ws/tickets"}
NOT_IDEMPOTENT_ROUTES = {"/api/v1/webhooks", "/api/v1/webhooks/{endpoint_id}/rotate-secret"}


def test_every_other_api_post_and_patch_honours_idempotency_keys() -> None:
    """The guard is attached per write route, so a new POST/PATCH fails this test
    until it has the guard or is listed above with its reason."""
    app = create_app(Settings(_env_file=None))
    writes = [
        route
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        and (route.path or "").startswith("/api/v1")
        and {"POST", "PATCH"} & (route.methods or set())
    ]
    unguarded = {
        route.path
        for route in writes
        if not (route.path or "").startswith(tuple(NOT_IDEMPOTENT))
        and route.path not in NOT_IDEMPOTENT_ROUTES
        and not any(dep.dependency is idempotency_guard for dep in route.dependencies)
    }
    assert len(writes) >= 8
    assert unguarded == set()
