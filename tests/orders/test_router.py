"""Orders (SPEC "Orders"): placing, reading, cancelling; nothing changes on bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from orderly.core.database import DATABASE
from orderly.events.models import Event
from orderly.orders.models import Order
from orderly.orders.schemas import MAX_LINES
from tests.support.api import Account, add_item, add_user, place_order, register, stock_of
from tests.support.parts import part


@pytest.fixture
async def owner(client: httpx.AsyncClient) -> Account:
    return await register(client)


async def _count(app: FastAPI, model: Any, **where: str) -> int:
    async with part(app, DATABASE).session(write=False) as session:
        stmt = select(func.count()).select_from(model)
        for column, value in where.items():
            stmt = stmt.where(getattr(model, column) == value)
        return int((await session.execute(stmt)).scalar_one())


async def test_placing_an_order_takes_stock_and_snapshots_prices(
    client: httpx.AsyncClient, owner: Account
) -> None:
    item = await add_item(client, owner.headers, stock=10, price="12.50")
    response = await place_order(client, owner.headers, [(item["id"], 3)])
    assert response.status_code == 201, response.text
    order = response.json()
    assert response.headers["location"] == f"/api/v1/orders/{order['id']}"
    assert order["id"].startswith("ord_")
    assert order["status"] == "pending"
    assert order["total"] == "37.50"
    assert order["currency"] == "USD"
    assert order["user_id"] == owner.user_id
    assert order["lines"] == [
        {
            "item_id": item["id"],
            "sku": item["sku"],
            "name": "Widget",
            "quantity": 3,
            "unit_price": "12.50",
        }
    ]
    assert await stock_of(client, owner.headers, item["id"]) == 7
    await client.patch(
        f"/api/v1/items/{item['id']}",
        headers=owner.headers,
        json={"name": "Renamed", "price": "99.00"},
    )
    again = (await client.get(f"/api/v1/orders/{order['id']}", headers=owner.headers)).json()
    assert again["lines"][0]["name"] == "Widget"
    assert again["lines"][0]["unit_price"] == "12.50"
    assert again["total"] == "37.50"


async def test_duplicate_lines_are_merged(client: httpx.AsyncClient, owner: Account) -> None:
    item = await add_item(client, owner.headers, stock=10)
    response = await place_order(client, owner.headers, [(item["id"], 2), (item["id"], 3)])
    assert response.status_code == 201
    assert [line["quantity"] for line in response.json()["lines"]] == [5]
    assert await stock_of(client, owner.headers, item["id"]) == 5


async def test_a_multi_currency_total_is_exact(client: httpx.AsyncClient, owner: Account) -> None:
    cheap = await add_item(client, owner.headers, price="0.10")
    dear = await add_item(client, owner.headers, price="0.20")
    response = await place_order(client, owner.headers, [(cheap["id"], 1), (dear["id"], 1)])
    assert response.json()["total"] == "0.30"


async def _assert_rejected(
    app: FastAPI,
    client: httpx.AsyncClient,
    owner: Account,
    lines: list[tuple[str, int]],
    status: int,
    code: str,
    stocks: dict[str, int],
) -> dict[str, Any]:
    response = await place_order(client, owner.headers, lines)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    for item_id, expected in stocks.items():
        assert await stock_of(client, owner.headers, item_id) == expected
    assert await _count(app, Order, tenant_id=owner.tenant_id) == 0
    assert await _count(app, Event, tenant_id=owner.tenant_id, type="order.created") == 0
    return body


async def test_bad_orders_change_nothing(
    app: FastAPI, client: httpx.AsyncClient, owner: Account
) -> None:
    a = await add_item(client, owner.headers, stock=5)
    b = await add_item(client, owner.headers, stock=5)
    euro = await add_item(client, owner.headers, stock=5, currency="EUR")
    archived = await add_item(client, owner.headers, stock=5)
    await client.delete(f"/api/v1/items/{archived['id']}", headers=owner.headers)
    stocks = {a["id"]: 5, b["id"]: 5, euro["id"]: 5}

    body = await _assert_rejected(
        app, client, owner, [(a["id"], 2), (b["id"], 6)], 409, "INSUFFICIENT_STOCK", stocks
    )
    assert b["sku"] in body["detail"]
    body = await _assert_rejected(
        app, client, owner, [(a["id"], 1), ("itm_nope", 1)], 422, "ITEM_NOT_ORDERABLE", stocks
    )
    assert [e["field"] for e in body["errors"]] == ["body.lines.1.item_id"]
    await _assert_rejected(
        app, client, owner, [(archived["id"], 1)], 422, "ITEM_NOT_ORDERABLE", stocks
    )
    body = await _assert_rejected(
        app, client, owner, [(a["id"], 1), (euro["id"], 1)], 422, "MIXED_CURRENCIES", stocks
    )
    assert body["errors"][0]["field"] == "body.lines.1.item_id"
    body = await _assert_rejected(
        app, client, owner, [(a["id"], 101)], 422, "BUSINESS_RULE_MAX_ORDER_QUANTITY", stocks
    )
    assert body["errors"][0]["field"] == "body.lines.0.quantity"
    await _assert_rejected(
        app,
        client,
        owner,
        [(b["id"], 1), (a["id"], 60), (a["id"], 41)],
        422,
        "BUSINESS_RULE_MAX_ORDER_QUANTITY",
        stocks,
    )
    body = await _assert_rejected(
        app, client, owner, [(a["id"], 0)], 422, "VALIDATION_ERROR", stocks
    )
    assert body["errors"][0]["field"] == "body.lines.0.quantity"
    await _assert_rejected(app, client, owner, [], 422, "VALIDATION_ERROR", stocks)


@pytest.mark.parametrize("quantity", ["1", True, 1e2, 1.0, None, "1e2"])
async def test_a_quantity_that_is_not_a_json_integer_is_422_and_takes_nothing(
    app: FastAPI, client: httpx.AsyncClient, owner: Account, quantity: object
) -> None:
    item = await add_item(client, owner.headers, stock=500)
    response = await client.post(
        "/api/v1/orders",
        headers=owner.headers,
        json={"lines": [{"item_id": item["id"], "quantity": quantity}]},
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert response.json()["errors"][0]["field"] == "body.lines.0.quantity"
    assert await stock_of(client, owner.headers, item["id"]) == 500
    assert await _count(app, Order, tenant_id=owner.tenant_id) == 0


@pytest.mark.parametrize("quantity", [2**31, 2**63, 10**30, 10**4000])
async def test_a_huge_quantity_is_the_business_rule_not_an_overflow(
    app: FastAPI, client: httpx.AsyncClient, owner: Account, quantity: int
) -> None:
    item = await add_item(client, owner.headers, stock=10)
    stocks = {item["id"]: 10}
    body = await _assert_rejected(
        app,
        client,
        owner,
        [(item["id"], quantity)],
        422,
        "BUSINESS_RULE_MAX_ORDER_QUANTITY",
        stocks,
    )
    assert body["errors"][0]["field"] == "body.lines.0.quantity"


async def test_the_largest_order_totals_exactly(client: httpx.AsyncClient, owner: Account) -> None:
    # 50 lines of 100 at the largest price of a 4-decimal currency: 5 * 10**16 minor
    # units, within BIGINT on both databases.
    items = [
        await add_item(client, owner.headers, stock=100, price="1000000000", currency="CLF")
        for _ in range(MAX_LINES)
    ]
    response = await place_order(client, owner.headers, [(i["id"], 100) for i in items])
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["total"] == "5000000000000.0000"
    again = await client.get(f"/api/v1/orders/{order['id']}", headers=owner.headers)
    assert again.json()["total"] == order["total"]


async def test_another_tenants_item_looks_like_no_item(
    client: httpx.AsyncClient, owner: Account
) -> None:
    other = await register(client, "Other")
    foreign = await add_item(client, other.headers, stock=5)
    response = await place_order(client, owner.headers, [(foreign["id"], 1)])
    unknown = await place_order(client, owner.headers, [("itm_doesnotexist", 1)])
    assert response.status_code == unknown.status_code == 422
    assert response.json()["errors"][0]["message"] == unknown.json()["errors"][0][
        "message"
    ].replace("itm_doesnotexist", foreign["id"])
    assert await stock_of(client, other.headers, foreign["id"]) == 5


async def test_cancel_restores_stock_once(
    app: FastAPI, client: httpx.AsyncClient, owner: Account
) -> None:
    item = await add_item(client, owner.headers, stock=10)
    order = (await place_order(client, owner.headers, [(item["id"], 4)])).json()
    cancelled = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=owner.headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert await stock_of(client, owner.headers, item["id"]) == 10
    again = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=owner.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "INVALID_ORDER_STATE"
    assert await stock_of(client, owner.headers, item["id"]) == 10
    assert await _count(app, Event, subject_id=order["id"], type="order.cancelled") == 1


async def test_a_paid_order_cannot_be_cancelled(
    app: FastAPI, client: httpx.AsyncClient, owner: Account
) -> None:
    item = await add_item(client, owner.headers, stock=10)
    order = (await place_order(client, owner.headers, [(item["id"], 1)])).json()
    async with part(app, DATABASE).session(write=True) as session:
        await session.execute(update(Order).where(Order.id == order["id"]).values(status="paid"))
        await session.commit()
    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=owner.headers)
    assert response.status_code == 409
    assert response.json()["code"] == "INVALID_ORDER_STATE"
    assert await stock_of(client, owner.headers, item["id"]) == 9


async def test_members_see_and_change_only_their_own_orders(
    client: httpx.AsyncClient, owner: Account
) -> None:
    alice = await add_user(client, owner, "member")
    bob = await add_user(client, owner, "member")
    item = await add_item(client, owner.headers, stock=10)
    mine = (await place_order(client, alice.headers, [(item["id"], 1)])).json()
    theirs = (await place_order(client, bob.headers, [(item["id"], 1)])).json()
    listed = (await client.get("/api/v1/orders", headers=alice.headers)).json()["items"]
    assert [o["id"] for o in listed] == [mine["id"]]
    for method, path in (("GET", ""), ("POST", "/cancel")):
        response = await client.request(
            method, f"/api/v1/orders/{theirs['id']}{path}", headers=alice.headers
        )
        assert response.status_code == 404
    everything = (await client.get("/api/v1/orders", headers=owner.headers)).json()["items"]
    assert {o["id"] for o in everything} == {mine["id"], theirs["id"]}


async def test_orders_filter_by_status(client: httpx.AsyncClient, owner: Account) -> None:
    item = await add_item(client, owner.headers, stock=10)
    keep = (await place_order(client, owner.headers, [(item["id"], 1)])).json()
    drop = (await place_order(client, owner.headers, [(item["id"], 1)])).json()
    await client.post(f"/api/v1/orders/{drop['id']}/cancel", headers=owner.headers)
    pending = (
        await client.get("/api/v1/orders", headers=owner.headers, params={"status": "pending"})
    ).json()["items"]
    assert [o["id"] for o in pending] == [keep["id"]]
    bad = await client.get("/api/v1/orders", headers=owner.headers, params={"status": "lost"})
    assert bad.status_code == 422


async def test_an_order_that_crosses_the_low_stock_line_records_it_after_the_order(
    app: FastAPI, client: httpx.AsyncClient, owner: Account
) -> None:
    """``item.stock_low`` (threshold 5) follows ``order.created`` of the order that
    crossed it, once: the next order, already below, records no second one."""
    item = await add_item(client, owner.headers, stock=7)
    first = (await place_order(client, owner.headers, [(item["id"], 3)])).json()
    await place_order(client, owner.headers, [(item["id"], 1)])
    async with part(app, DATABASE).session(write=False) as session:
        events = (
            await session.execute(
                select(Event.type, Event.subject_id, Event.payload)
                .where(Event.tenant_id == owner.tenant_id, Event.type != "item.created")
                .order_by(Event.id)
            )
        ).all()
    assert [(kind, subject) for kind, subject, _ in events][:2] == [
        ("order.created", first["id"]),
        ("item.stock_low", item["id"]),
    ]
    assert [kind for kind, _, _ in events].count("item.stock_low") == 1
    assert events[1][2]["stock"] == 4


async def test_an_order_writes_its_event_in_the_same_transaction(
    app: FastAPI, client: httpx.AsyncClient, owner: Account
) -> None:
    item = await add_item(client, owner.headers, stock=10)
    order = (await place_order(client, owner.headers, [(item["id"], 2)])).json()
    async with part(app, DATABASE).session(write=False) as session:
        event = (
            await session.execute(select(Event).where(Event.subject_id == order["id"]))
        ).scalar_one()
    assert event.type == "order.created"
    assert event.tenant_id == owner.tenant_id
    assert event.payload == order
