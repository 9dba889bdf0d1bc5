"""Unpaid orders expire (SPEC "Orders", "Payments"): after APP_ORDER_PAYMENT_TTL_SECONDS a
pending (or payment_failed) order becomes expired, its stock comes back and
``order.expired`` is recorded; nothing else is touched, and a concurrent cancel and
expiry restore the stock once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from orderly.core.container import Container
from orderly.core.database import DATABASE, utcnow
from orderly.events.models import Event
from orderly.orders.models import Order
from orderly.orders.service import OrderExpiry
from orderly.orders.states import OrderStatus
from tests.support.api import Account, add_item, place_order, register, stock_of
from tests.support.parts import part

TTL_SECONDS = 1800


@pytest.fixture
async def owner(client: httpx.AsyncClient) -> Account:
    return await register(client)


def expiry(app: FastAPI) -> OrderExpiry:
    container: Container = app.state.container
    return OrderExpiry(container, ttl_seconds=TTL_SECONDS)


async def _order(
    client: httpx.AsyncClient, owner: Account, item: dict[str, Any], quantity: int
) -> dict[str, Any]:
    response = await place_order(client, owner.headers, [(item["id"], quantity)])
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _age(
    app: FastAPI, order_id: str, seconds: int, status: OrderStatus | None = None
) -> None:
    """Make the order look placed ``seconds`` ago (and in ``status``)."""
    values: dict[str, Any] = {"created_at": utcnow() - timedelta(seconds=seconds)}
    if status is not None:
        values["status"] = status
    async with part(app, DATABASE).session(write=True) as session:
        await session.execute(update(Order).where(Order.id == order_id).values(**values))
        await session.commit()


async def _events(app: FastAPI, subject_id: str, event_type: str) -> list[dict[str, Any]]:
    async with part(app, DATABASE).session(write=False) as session:
        rows = await session.scalars(
            select(Event.payload).where(Event.subject_id == subject_id, Event.type == event_type)
        )
        return list(rows)


async def _status(client: httpx.AsyncClient, owner: Account, order_id: str) -> str:
    response = await client.get(f"/api/v1/orders/{order_id}", headers=owner.headers)
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


async def test_an_order_unpaid_past_its_window_expires_and_gives_its_stock_back(
    app: FastAPI, client: httpx.AsyncClient, owner: Account
) -> None:
    item = await add_item(client, owner.headers, stock=10)
    order = await _order(client, owner, item, 4)
    await _age(app, order["id"], TTL_SECONDS + 60)

    assert await expiry(app).run() == 1

    assert await _status(client, owner, order["id"]) == "expired"
    assert await stock_of(client, owner.headers, item["id"]) == 10
    [payload] = await _events(app, order["id"], "order.expired")
    assert payload["id"] == order["id"]
    assert payload["status"] == "expired"
    assert await expiry(app).run() == 0  # a second run finds nothing: idempotent


async def test_an_order_whose_payment_failed_expires_too(
    app: FastAPI, client: httpx.AsyncClient, owner: Account
) -> None:
    item = await add_item(client, owner.headers, stock=10)
    order = await _order(client, owner, item, 3)
    await _age(app, order["id"], TTL_SECONDS + 60, OrderStatus.PAYMENT_FAILED)

    assert await expiry(app).run() == 1
    assert await _status(client, owner, order["id"]) == "expired"
    assert await stock_of(client, owner.headers, item["id"]) == 10


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.FULFILLED])
async def test_a_paid_order_never_expires(
    app: FastAPI, client: httpx.AsyncClient, owner: Account, status: OrderStatus
) -> None:
    item = await add_item(client, owner.headers, stock=10)
    order = await _order(client, owner, item, 4)
    await _age(app, order["id"], TTL_SECONDS + 60, status)

    assert await expiry(app).run() == 0
    assert await _status(client, owner, order["id"]) == status.value
    assert await stock_of(client, owner.headers, item["id"]) == 6
    assert await _events(app, order["id"], "order.expired") == []


async def test_a_cancelled_order_is_left_alone(
    app: FastAPI, client: httpx.AsyncClient, owner: Account
) -> None:
    item = await add_item(client, owner.headers, stock=10)
    order = await _order(client, owner, item, 4)
    cancelled = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=owner.headers)
    assert cancelled.status_code == 200
    await _age(app, order["id"], TTL_SECONDS + 60)

    assert await expiry(app).run() == 0
    assert await _status(client, owner, order["id"]) == "cancelled"
    assert await stock_of(client, owner.headers, item["id"]) == 10  # restored once, not twice
    assert await _events(app, order["id"], "order.expired") == []


async def test_an_order_still_inside_its_window_stays_pending(
    app: FastAPI, client: httpx.AsyncClient, owner: Account
) -> None:
    item = await add_item(client, owner.headers, stock=10)
    order = await _order(client, owner, item, 4)
    await _age(app, order["id"], TTL_SECONDS - 60)

    assert await expiry(app).run() == 0
    assert await _status(client, owner, order["id"]) == "pending"
    assert await stock_of(client, owner.headers, item["id"]) == 6


async def test_every_due_order_of_every_tenant_expires_past_one_batch(
    app: FastAPI, client: httpx.AsyncClient, owner: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("orderly.orders.service.EXPIRY_BATCH", 2)  # several scans
    other = await register(client, tenant_name="Other")
    orders = []
    for account in (owner, other, owner, other, owner):
        item = await add_item(client, account.headers, stock=5)
        orders.append((account, item, await _order(client, account, item, 1)))
    for _, _, order in orders:
        await _age(app, order["id"], TTL_SECONDS + 60)

    assert await expiry(app).run() == 5
    for account, item, order in orders:
        assert await _status(client, account, order["id"]) == "expired"
        assert await stock_of(client, account.headers, item["id"]) == 5


async def test_a_cancel_racing_the_expiry_restores_the_stock_once(
    app: FastAPI, client: httpx.AsyncClient, owner: Account
) -> None:
    item = await add_item(client, owner.headers, stock=10)
    order = await _order(client, owner, item, 4)
    await _age(app, order["id"], TTL_SECONDS + 60)

    cancel, expired = await asyncio.gather(
        client.post(f"/api/v1/orders/{order['id']}/cancel", headers=owner.headers),
        expiry(app).run(),
    )

    # Exactly one of them moved the order, and said so with one event.
    assert (cancel.status_code, expired) in {(200, 0), (409, 1)}, cancel.text
    final = "cancelled" if cancel.status_code == 200 else "expired"
    assert await _status(client, owner, order["id"]) == final
    assert await stock_of(client, owner.headers, item["id"]) == 10
    cancelled_events = await _events(app, order["id"], "order.cancelled")
    expired_events = await _events(app, order["id"], "order.expired")
    assert len(cancelled_events) + len(expired_events) == 1
