"""GET /api/v1/events: published events by seq, filtered by type and by what the caller
may see (SPEC "Events")."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from orderly.core.identity import Principal, Role, Scope
from orderly.live.filters import EventFilter, TypePatterns, visibility_of
from tests.live.conftest import container_of_app, open_shop, publish
from tests.support.api import add_api_key, add_user, key_headers, register
from tests.support.publisher import record_events

EVENTS = "/api/v1/events"


async def _events(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str | int
) -> list[dict[str, Any]]:
    response = await client.get(EVENTS, headers=headers, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_published_events_are_listed_in_seq_order_as_event_objects(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    shop = await open_shop(client)
    orders = [await shop.order(client) for _ in range(3)]
    await publish(app)
    items = await _events(client, shop.owner.headers)
    assert [e["seq"] for e in items] == [1, 2, 3, 4]
    assert [e["type"] for e in items] == ["item.created"] + ["order.created"] * 3
    assert [e["data"]["id"] for e in items[1:]] == orders
    first = items[1]
    assert set(first) == {"id", "seq", "type", "created_at", "data"}
    assert first["id"].startswith("evt_")
    assert first["data"]["status"] == "pending"


async def test_unpublished_events_are_not_listed_until_the_relay_numbers_them(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    shop = await open_shop(client)
    await publish(app)
    await shop.order(client)
    assert [e["seq"] for e in await _events(client, shop.owner.headers)] == [1]
    await publish(app)
    assert [e["seq"] for e in await _events(client, shop.owner.headers)] == [1, 2]


async def test_after_and_limit_page_through_the_events_and_the_last_page_says_so(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    shop = await open_shop(client)
    for _ in range(4):
        await shop.order(client)
    await publish(app)
    seen: list[int] = []
    after = 0
    for _ in range(5):
        response = await client.get(
            EVENTS, headers=shop.owner.headers, params={"after": after, "limit": 2}
        )
        body = response.json()
        seen += [e["seq"] for e in body["items"]]
        if body["next_cursor"] is None:
            break
        after = int(body["next_cursor"])
    assert seen == [1, 2, 3, 4, 5]
    assert body["next_cursor"] is None
    tail = await _events(client, shop.owner.headers, after=3)
    assert [e["seq"] for e in tail] == [4, 5]


async def test_the_type_filter_takes_exact_types_and_star_patterns(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    shop = await open_shop(client)
    await shop.order(client)
    await publish(app)
    headers = shop.owner.headers

    async def types(pattern: str) -> list[str]:
        return [e["type"] for e in await _events(client, headers, type=pattern)]

    assert await types("order.*") == ["order.created"]
    assert await types("item.created") == ["item.created"]
    assert await types("item.created, order.created") == ["item.created", "order.created"]
    assert await types("*") == ["item.created", "order.created"]
    assert await types("*.created") == ["item.created", "order.created"]
    assert await types("order.cancelled") == []


async def test_a_malformed_type_filter_or_bound_is_a_422_problem(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    for params in ({"type": "ORDER.*"}, {"type": "order..created"}, {"type": ","}):
        response = await client.get(EVENTS, headers=owner.headers, params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "INVALID_EVENT_TYPE_FILTER"
    for bounds in ({"limit": "0"}, {"limit": "101"}, {"after": "-1"}, {"after": "x"}):
        response = await client.get(EVENTS, headers=owner.headers, params=bounds)
        assert response.status_code == 422, bounds


async def test_a_member_sees_item_events_and_only_their_own_orders_events(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    shop = await open_shop(client)
    member = await add_user(client, shop.owner, "member")
    others = await shop.order(client)
    own = await shop.order(client, member.headers)
    await publish(app)
    member_view = await _events(client, member.headers)
    assert [(e["type"], e["data"]["id"]) for e in member_view if e["type"] != "item.created"] == [
        ("order.created", own)
    ]
    assert {e["data"]["id"] for e in await _events(client, shop.owner.headers)} >= {others, own}


async def test_api_keys_see_the_families_their_scopes_allow_and_none_is_403(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    shop = await open_shop(client)
    await shop.order(client)
    await publish(app)

    async def key(*scopes: str) -> dict[str, str]:
        return key_headers((await add_api_key(client, shop.owner, list(scopes)))["key"])

    items_only = await _events(client, await key("read:items"))
    assert [e["type"] for e in items_only] == ["item.created"]
    orders_only = await _events(client, await key("read:orders"))
    assert [e["type"] for e in orders_only] == ["order.created"]
    refused = await client.get(EVENTS, headers=await key("write:items", "manage:webhooks"))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "INSUFFICIENT_SCOPE"


async def test_tenant_and_webhook_events_are_shown_to_owners_and_admins_only(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    owner = await register(client)
    admin = await add_user(client, owner, "admin")
    member = await add_user(client, owner, "member")
    everything = key_headers((await add_api_key(client, owner, [s.value for s in Scope]))["key"])
    await record_events(container_of_app(app), owner.tenant_id, "tenant.plan_changed", 1)
    await record_events(container_of_app(app), owner.tenant_id, "webhook.test", 1)
    await publish(app)
    staff_types = ["tenant.plan_changed", "webhook.test"]
    assert [e["type"] for e in await _events(client, owner.headers)] == staff_types
    assert [e["type"] for e in await _events(client, admin.headers)] == staff_types
    assert await _events(client, member.headers) == []
    assert await _events(client, everything) == []


async def test_another_tenants_events_are_never_listed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    mine = await open_shop(client, "Mine")
    theirs = await open_shop(client, "Theirs")
    await theirs.order(client)
    await publish(app)
    listed = await _events(client, mine.owner.headers)
    assert [e["data"]["id"] for e in listed] == [mine.item_id]


async def test_the_sql_filter_agrees_with_the_in_memory_filter_of_live_streams(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """What a page shows (SQL) and what a live stream lets through (EventFilter.matches)
    are one rule written twice: compared here over every kind of caller and pattern."""
    shop = await open_shop(client)
    member = await add_user(client, shop.owner, "member")
    await shop.order(client)
    await shop.order(client, member.headers)
    await record_events(container_of_app(app), shop.owner.tenant_id, "tenant.plan_changed", 1)
    await publish(app)
    every_event = await _events(client, shop.owner.headers, limit=100)
    keys = {
        scopes: key_headers((await add_api_key(client, shop.owner, list(scopes)))["key"])
        for scopes in (("read:orders",), ("read:items", "read:orders"))
    }
    callers: list[tuple[Principal, dict[str, str]]] = [
        (
            Principal(shop.owner.tenant_id, user_id=shop.owner.user_id, role=Role.OWNER),
            shop.owner.headers,
        ),
        (
            Principal(shop.owner.tenant_id, user_id=member.user_id, role=Role.MEMBER),
            member.headers,
        ),
    ] + [
        (Principal(shop.owner.tenant_id, api_key_id="k", scopes=frozenset(map(Scope, s))), h)
        for s, h in keys.items()
    ]
    for principal, headers in callers:
        for pattern in (None, "order.*", "item.created,tenant.*", "*"):
            event_filter = EventFilter(visibility_of(principal), TypePatterns.parse(pattern))
            expected = [
                e["seq"]
                for e in every_event
                if event_filter.matches(e["type"], e["data"].get("user_id"))
            ]
            params: dict[str, str | int] = {"limit": 100}
            if pattern is not None:
                params["type"] = pattern
            shown = [e["seq"] for e in await _events(client, headers, **params)]
            assert shown == expected, (principal, pattern)
